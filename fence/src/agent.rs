//! Runs ClusterLabs fence agents (`fence_ipmilan`, `fence_redfish`, `fence_apc`, …) the way
//! Pacemaker's fencer does: no arguments, `key=value` lines on stdin, `action=` always given
//! (an agent without one defaults to reboot). The password travels on stdin only, never on the
//! command line, and is scrubbed from anything the agent prints before it is reported.
//!
//! Exit codes: `off`/`on`/`reboot` 0 = done and verified, anything else failed; `status`
//! 0 = on, 2 = off, anything else = cannot tell.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lifeboat_core::config::Secret;
use lifeboat_core::fencing::{PowerAction, PowerState};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::ipmi::PowerOutcome;

/// One parameter from an agent's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentParameter {
    /// Its stdin name.
    pub name: String,
    /// Whether the agent requires it.
    pub required: bool,
    /// The older name it replaces, if any.
    pub obsoletes: Option<String>,
    /// For `select` parameters, the accepted values.
    pub choices: Vec<String>,
}

/// What an agent's `metadata` action says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentMetadata {
    /// The agent's name.
    pub name: String,
    /// Its parameters.
    pub parameters: Vec<AgentParameter>,
    /// Its actions.
    pub actions: Vec<String>,
}

/// Why an agent's metadata could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// It is not XML.
    #[error("{0}")]
    ParseXml(#[from] roxmltree::Error),
    /// It is XML, but not an agent's metadata.
    #[error("the root element is <{root}>, not <resource-agent>")]
    NotAgentMetadata {
        /// The root element's name.
        root: String,
    },
}

impl AgentMetadata {
    /// Parses the XML of `action=metadata`.
    pub fn parse(xml: &str) -> Result<Self, MetadataError> {
        let doc = roxmltree::Document::parse(xml)?;
        let root = doc.root_element();
        if root.tag_name().name() != "resource-agent" {
            return Err(MetadataError::NotAgentMetadata {
                root: root.tag_name().name().to_owned(),
            });
        }
        let parameters = root
            .descendants()
            .filter(|n| n.has_tag_name("parameter"))
            .filter_map(|p| {
                Some(AgentParameter {
                    name: p.attribute("name")?.to_owned(),
                    required: p.attribute("required") == Some("1"),
                    obsoletes: p.attribute("obsoletes").map(str::to_owned),
                    choices: p
                        .descendants()
                        .filter(|n| n.has_tag_name("option"))
                        .filter_map(|o| o.attribute("value").map(str::to_owned))
                        .collect(),
                })
            })
            .collect();
        let actions = root
            .descendants()
            .filter(|n| n.has_tag_name("action"))
            .filter_map(|a| a.attribute("name").map(str::to_owned))
            .collect();
        Ok(Self {
            name: root.attribute("name").unwrap_or_default().to_owned(),
            parameters,
            actions,
        })
    }

    fn parameter(&self, name: &str) -> Option<&AgentParameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// Whether the agent takes parameter `name`.
    pub fn knows(&self, name: &str) -> bool {
        self.parameter(name).is_some()
    }

    /// Checks the parameter names (and `select` values) a device would send; `action` is
    /// always set by the runner.
    pub fn check(&self, params: &[(String, String)]) -> Result<(), AgentError> {
        for (key, value) in params {
            let Some(p) = self.parameter(key) else {
                return Err(AgentError::UnknownParameter {
                    agent: self.name.clone(),
                    parameter: key.clone(),
                });
            };
            if !p.choices.is_empty() && !p.choices.contains(value) {
                return Err(AgentError::InvalidValue {
                    agent: self.name.clone(),
                    parameter: key.clone(),
                    choices: p.choices.join(", "),
                });
            }
        }
        for p in self.parameters.iter().filter(|p| p.required) {
            let given = params
                .iter()
                .any(|(k, _)| k == &p.name || p.obsoletes.as_deref() == Some(k.as_str()));
            if p.name != "action" && !given {
                return Err(AgentError::MissingParameter {
                    agent: self.name.clone(),
                    parameter: p.name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Why a fence agent call failed.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// No such agent in the agent directory.
    #[error("fence agent {agent} is not installed in {dir}")]
    NotInstalled {
        /// The agent.
        agent: String,
        /// Where it was looked for.
        dir: String,
    },
    /// The agent could not be started.
    #[error("starting fence agent {agent} failed")]
    Spawn {
        /// The agent.
        agent: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The agent ran too long and was killed.
    #[error("fence agent {agent} did not finish {action} within {after:?} and was killed")]
    Timeout {
        /// The agent.
        agent: String,
        /// The action.
        action: &'static str,
        /// The limit.
        after: Duration,
    },
    /// Its metadata does not parse.
    #[error("reading the metadata of fence agent {agent} failed: {reason}")]
    ReadMetadata {
        /// The agent.
        agent: String,
        /// Why.
        reason: String,
    },
    /// A parameter the agent does not have.
    #[error("fence agent {agent} has no parameter '{parameter}'")]
    UnknownParameter {
        /// The agent.
        agent: String,
        /// The parameter.
        parameter: String,
    },
    /// A required parameter is missing.
    #[error("fence agent {agent} requires parameter '{parameter}'")]
    MissingParameter {
        /// The agent.
        agent: String,
        /// The parameter.
        parameter: String,
    },
    /// A `select` parameter with a value outside its choices.
    #[error("fence agent {agent}: parameter '{parameter}' must be one of {choices}")]
    InvalidValue {
        /// The agent.
        agent: String,
        /// The parameter.
        parameter: String,
        /// The accepted values.
        choices: String,
    },
    /// The agent reported failure.
    #[error("fence agent {agent} failed to {action} (exit code {code}): {output}")]
    Failed {
        /// The agent.
        agent: String,
        /// The action.
        action: &'static str,
        /// Its exit code (-1: killed by a signal).
        code: i32,
        /// What it printed last (password scrubbed).
        output: String,
    },
}

/// A fence agent invocation's parameters (everything but `action` and the password).
#[derive(Debug, Clone)]
pub struct AgentCall<'a> {
    /// The agent's program name.
    pub agent: &'a str,
    /// Parameters, in order.
    pub params: &'a [(String, String)],
    /// The password, sent as `password=` on stdin.
    pub password: Option<&'a Secret>,
}

/// Runs fence agents from one directory, with a time limit, caching their metadata.
#[derive(Debug)]
pub struct AgentRunner {
    dir: PathBuf,
    timeout: Duration,
    metadata: Mutex<HashMap<String, Arc<AgentMetadata>>>,
}

impl AgentRunner {
    /// A runner for the agents in `dir` (normally `/usr/sbin`).
    pub fn new(dir: impl Into<PathBuf>, timeout: Duration) -> Self {
        Self {
            dir: dir.into(),
            timeout,
            metadata: Mutex::new(HashMap::new()),
        }
    }

    fn program(&self, agent: &str) -> Result<PathBuf, AgentError> {
        let path = self.dir.join(agent);
        let plain_name = !agent.is_empty() && !agent.contains('/') && agent.starts_with("fence_");
        if plain_name && path.is_file() {
            Ok(path)
        } else {
            Err(AgentError::NotInstalled {
                agent: agent.to_owned(),
                dir: self.dir.display().to_string(),
            })
        }
    }

    /// The agent's metadata (asked once per agent, then remembered).
    pub async fn metadata(&self, agent: &str) -> Result<Arc<AgentMetadata>, AgentError> {
        if let Some(m) = self.cached(agent) {
            return Ok(m);
        }
        let (code, stdout, _) = self.exec(agent, "metadata", &[], None).await?;
        let parsed = AgentMetadata::parse(&stdout).map_err(|e| AgentError::ReadMetadata {
            agent: agent.to_owned(),
            reason: if code == 0 {
                e.to_string()
            } else {
                format!("exit code {code}: {e}")
            },
        })?;
        let parsed = Arc::new(parsed);
        if let Ok(mut cache) = self.metadata.lock() {
            cache.insert(agent.to_owned(), parsed.clone());
        }
        Ok(parsed)
    }

    fn cached(&self, agent: &str) -> Option<Arc<AgentMetadata>> {
        self.metadata.lock().ok()?.get(agent).cloned()
    }

    /// Checks a call's parameters against the agent's metadata.
    pub async fn validate(&self, call: &AgentCall<'_>) -> Result<(), AgentError> {
        let metadata = self.metadata(call.agent).await?;
        let mut params = call.params.to_vec();
        if call.password.is_some() {
            params.push(("password".to_owned(), String::new()));
        }
        metadata.check(&params)
    }

    /// Runs `action`; `Ok` means the agent reported success (for `status`: it could tell).
    pub async fn run(
        &self,
        call: &AgentCall<'_>,
        action: PowerAction,
    ) -> Result<PowerOutcome, AgentError> {
        self.validate(call).await?;
        let name = action.as_str();
        let (code, stdout, stderr) = self
            .exec(call.agent, name, call.params, call.password)
            .await?;
        let state = match (action, code) {
            (PowerAction::Status, 0) => Some(PowerState::On),
            (PowerAction::Status, 2) => Some(PowerState::Off),
            (PowerAction::Off, 0) => Some(PowerState::Off),
            (PowerAction::On | PowerAction::Reboot, 0) => Some(PowerState::On),
            _ => None,
        };
        let output = summary(&stdout, &stderr, call.password);
        match state {
            Some(state) => Ok(PowerOutcome {
                state,
                message: format!("{}: {output}", call.agent),
            }),
            None => Err(AgentError::Failed {
                agent: call.agent.to_owned(),
                action: name,
                code,
                output,
            }),
        }
    }

    /// Runs the agent once; returns its exit code, stdout and stderr.
    async fn exec(
        &self,
        agent: &str,
        action: &'static str,
        params: &[(String, String)],
        password: Option<&Secret>,
    ) -> Result<(i32, String, String), AgentError> {
        let program = self.program(agent)?;
        let mut stdin_text = format!("action={action}\n");
        for (k, v) in params {
            stdin_text.push_str(&format!("{k}={v}\n"));
        }
        if let Some(p) = password {
            stdin_text.push_str(&format!("password={}\n", p.expose()));
        }
        let run = async {
            let mut child = Command::new(&program)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|source| AgentError::Spawn {
                    agent: agent.to_owned(),
                    source,
                })?;
            if let Some(mut stdin) = child.stdin.take() {
                // An agent that exits without reading stdin is judged by its exit code.
                let _ = stdin.write_all(stdin_text.as_bytes()).await;
            }
            child
                .wait_with_output()
                .await
                .map_err(|source| AgentError::Spawn {
                    agent: agent.to_owned(),
                    source,
                })
        };
        let output = tokio::time::timeout(self.timeout, run)
            .await
            .map_err(|_| AgentError::Timeout {
                agent: agent.to_owned(),
                action,
                after: self.timeout,
            })??;
        Ok((
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }

    /// The directory agents are run from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// The last meaningful lines an agent printed, password replaced by `***`. Python's warnings
/// about the agent's own imports are noise.
fn summary(stdout: &str, stderr: &str, password: Option<&Secret>) -> String {
    let lines: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter(|l| !l.contains("DeprecationWarning") && !l.starts_with("from pipes import"))
        .collect();
    let tail = lines[lines.len().saturating_sub(3)..].join(" / ");
    let text = if tail.is_empty() {
        "no output".to_owned()
    } else {
        tail
    };
    match password.map(Secret::expose).filter(|p| !p.is_empty()) {
        Some(p) => text.replace(p, "***"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0" ?>
<resource-agent name="fence_demo" shortdesc="Demo">
<parameters>
  <parameter name="action" unique="0" required="1"><content type="string" default="reboot"/></parameter>
  <parameter name="ip" unique="0" required="1" obsoletes="ipaddr"><content type="string"/></parameter>
  <parameter name="ipaddr" unique="0" required="0" deprecated="1"><content type="string"/></parameter>
  <parameter name="auth" unique="0" required="0"><content type="select"><option value="md5"/><option value="none"/></content></parameter>
  <parameter name="password" unique="0" required="0"><content type="string"/></parameter>
</parameters>
<actions><action name="on"/><action name="off"/><action name="status"/><action name="metadata"/></actions>
</resource-agent>"#;

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn metadata_parses_and_checks_parameters() {
        let m = AgentMetadata::parse(XML).unwrap();
        assert_eq!(m.name, "fence_demo");
        assert_eq!(m.actions, vec!["on", "off", "status", "metadata"]);
        assert!(m.check(&[p("ip", "10.0.0.1"), p("auth", "md5")]).is_ok());
        assert!(
            m.check(&[p("ipaddr", "10.0.0.1")]).is_ok(),
            "an obsoleted name satisfies the requirement"
        );
        assert!(matches!(
            m.check(&[p("ip", "x"), p("colour", "red")]),
            Err(AgentError::UnknownParameter { parameter, .. }) if parameter == "colour"
        ));
        assert!(matches!(
            m.check(&[]),
            Err(AgentError::MissingParameter { parameter, .. }) if parameter == "ip"
        ));
        assert!(matches!(
            m.check(&[p("ip", "x"), p("auth", "sha1")]),
            Err(AgentError::InvalidValue { .. })
        ));
        assert_eq!(
            AgentMetadata::parse("<other/>"),
            Err(MetadataError::NotAgentMetadata {
                root: "other".into()
            })
        );
        assert!(matches!(
            AgentMetadata::parse("not xml"),
            Err(MetadataError::ParseXml(_))
        ));
    }

    #[test]
    fn output_summaries_hide_the_password_and_python_noise() {
        let secret = Secret::new("hunter2");
        let text = summary(
            "Success: Powered OFF\n",
            "/usr/sbin/fence_x:5: DeprecationWarning: 'pipes' is deprecated\n  from pipes import quote\nran ipmitool -P hunter2\n",
            Some(&secret),
        );
        assert_eq!(text, "Success: Powered OFF / ran ipmitool -P ***");
        assert_eq!(summary("", "", None), "no output");
    }
}

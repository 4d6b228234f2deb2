//! The executor: one action of one resource on this node, from the request to a typed result.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lifeboat_crm::model::{Attrs, OpDef, Primitive};

use crate::agent::{Action, Agent, AgentDirs, AgentSpec, ResolveError};
use crate::env::{NotifyVars, base_environment, ocf_environment};
use crate::metadata::{Metadata, MetadataError, effective_timeout};
use crate::outcome::{OcfRc, OpResult, OpStatus, exit_reason};
use crate::process::{self, Exit, Limits};
use crate::systemd;

/// How the executor runs agents on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorConfig {
    /// Where agents are.
    pub dirs: AgentDirs,
    /// `HA_SBIN_DIR`: a directory of `crm_attribute`, `crm_master` and `crm_node` links to
    /// the `lifeboat` binary (first on the agents' `PATH` too).
    pub sbin_dir: PathBuf,
    /// The node attribute store those tools write (`LIFEBOAT_CRM_ATTRIBUTES`).
    pub attributes_dir: PathBuf,
    /// This node's name (`OCF_RESKEY_CRM_meta_on_node`, `LIFEBOAT_CRM_NODE`).
    pub node: String,
    /// This node's id (`OCF_RESKEY_CRM_meta_on_node_uuid`), when known.
    pub node_uuid: Option<String>,
    /// `HA_RSCTMP`, when the agents' state directory is not their default
    /// (`/run/resource-agents`).
    pub rsc_tmp: Option<PathBuf>,
    /// Bytes kept of each of an agent's stdout and stderr.
    pub output_limit: usize,
    /// Between SIGTERM and SIGKILL to a timed-out agent's process group.
    pub kill_grace: Duration,
}

impl ExecutorConfig {
    /// The standard directories, 64 KiB of output, 2 s between SIGTERM and SIGKILL.
    pub fn new(
        node: impl Into<String>,
        sbin_dir: impl Into<PathBuf>,
        attributes_dir: impl Into<PathBuf>,
    ) -> Self {
        Self {
            dirs: AgentDirs::standard(),
            sbin_dir: sbin_dir.into(),
            attributes_dir: attributes_dir.into(),
            node: node.into(),
            node_uuid: None,
            rsc_tmp: None,
            output_limit: 64 * 1024,
            kill_grace: Duration::from_secs(2),
        }
    }
}

/// One action to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpRequest {
    /// The resource instance (`rsc`, or `rsc:N` for a clone instance).
    pub resource: String,
    /// Its agent.
    pub agent: AgentSpec,
    /// The action.
    pub action: Action,
    /// The operation's interval in ms (0: a one-off, or a probe).
    pub interval_ms: u64,
    /// The operation's timeout in ms, when configured (op, or op defaults).
    pub timeout_ms: Option<u64>,
    /// Instance attributes (`OCF_RESKEY_<name>`).
    pub params: Attrs,
    /// Meta attributes of the resource and the operation (`OCF_RESKEY_CRM_meta_<name>`).
    pub meta: Attrs,
    /// A clone notification's lists.
    pub notify: Option<NotifyVars>,
    /// `OCF_CHECK_LEVEL` (a monitor's depth).
    pub check_level: Option<u32>,
}

impl OpRequest {
    /// `action` on `resource`, with nothing else set.
    pub fn new(resource: impl Into<String>, agent: AgentSpec, action: Action) -> Self {
        Self {
            resource: resource.into(),
            agent,
            action,
            interval_ms: 0,
            timeout_ms: None,
            params: Attrs::new(),
            meta: Attrs::new(),
            notify: None,
            check_level: None,
        }
    }

    /// `action` of `instance` (`rsc` or `rsc:N`) of a primitive of the model: its agent and
    /// instance attributes, the resource's meta attributes (`meta`, merged with
    /// `rsc_defaults` by the caller), and the configured operation's interval, timeout,
    /// on-fail and role when there is one.
    pub fn from_model(
        instance: impl Into<String>,
        primitive: &Primitive,
        meta: &Attrs,
        action: Action,
        op: Option<&OpDef>,
    ) -> Self {
        let mut request = Self::new(instance, AgentSpec::of(primitive), action);
        request.params = primitive.params.clone();
        request.meta = meta.clone();
        if let Some(op) = op {
            request.interval_ms = op.interval_ms;
            request.timeout_ms = op.timeout_ms;
            if let Some(on_fail) = &op.on_fail {
                request.meta.insert("on_fail".to_owned(), on_fail.clone());
            }
            if let Some(role) = op.role {
                request
                    .meta
                    .insert("role".to_owned(), role.text().to_owned());
            }
        }
        request
    }
}

/// Why an action could not be run at all (an agent that ran and failed is an [`OpResult`]).
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The agent does not resolve.
    #[error("run {action} on {resource}: {source}")]
    ResolveAgent {
        /// The resource.
        resource: String,
        /// The action.
        action: Action,
        /// Why.
        #[source]
        source: ResolveError,
    },
    /// A stonith resource: the fence crate runs those.
    #[error(
        "run {action} on {resource}: stonith device {agent} runs through the fence crate, not the executor"
    )]
    RunStonith {
        /// The resource.
        resource: String,
        /// The action.
        action: Action,
        /// Its fence agent.
        agent: String,
    },
    /// Only OCF agents have meta-data.
    #[error("fetch meta-data of {agent}: only OCF agents have meta-data")]
    FetchMetadata {
        /// The agent.
        agent: String,
    },
    /// `meta-data` did not succeed.
    #[error("run meta-data of {agent}: {status:?}, rc {rc}: {reason}")]
    RunMetadata {
        /// The agent.
        agent: String,
        /// How the action ended.
        status: OpStatus,
        /// Its rc.
        rc: i32,
        /// The exit reason, or what it printed.
        reason: String,
    },
    /// `meta-data` printed something that is not meta-data.
    #[error("read meta-data of {agent}: {source}")]
    ReadMetadata {
        /// The agent.
        agent: String,
        /// Why.
        #[source]
        source: MetadataError,
    },
}

/// Runs agents on this node, remembering each OCF agent's meta-data once read.
#[derive(Debug)]
pub struct Executor {
    config: ExecutorConfig,
    metadata: Mutex<HashMap<PathBuf, Arc<Metadata>>>,
}

impl Executor {
    /// An executor with `config`.
    pub fn new(config: ExecutorConfig) -> Self {
        Self {
            config,
            metadata: Mutex::new(HashMap::new()),
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &ExecutorConfig {
        &self.config
    }

    /// Runs `request`'s action. Its timeout is the configured one, else the agent's
    /// meta-data default for it, else 20 s.
    pub async fn execute(&self, request: &OpRequest) -> Result<OpResult, ExecError> {
        let agent =
            self.config
                .dirs
                .resolve(&request.agent)
                .map_err(|source| ExecError::ResolveAgent {
                    resource: request.resource.clone(),
                    action: request.action,
                    source,
                })?;
        let result = match &agent {
            Agent::Ocf { path, provider, .. } => {
                let timeout = self.timeout(request, path).await;
                self.run_ocf(request, path, provider, timeout).await
            }
            Agent::Lsb { path } => {
                let timeout = effective_timeout(request.timeout_ms, None, request.action, 0);
                let env = base_environment(&self.config);
                // An init script's monitor is its `status`.
                let name = match request.action {
                    Action::Monitor => "status",
                    other => other.as_str(),
                };
                let action = request.action;
                self.spawn(path, &[name], &env, timeout, |code| {
                    OcfRc::from_lsb_exit(action, code)
                })
                .await
            }
            Agent::Systemd { unit } => {
                let timeout = effective_timeout(request.timeout_ms, None, request.action, 0);
                systemd::execute(unit, request.action, timeout, self.limits(timeout)).await
            }
            Agent::Stonith { agent } => {
                return Err(ExecError::RunStonith {
                    resource: request.resource.clone(),
                    action: request.action,
                    agent: agent.clone(),
                });
            }
        };
        let duration_ms = result.duration.as_millis() as u64;
        if result.status == OpStatus::Timeout {
            tracing::warn!(
                resource = %request.resource,
                action = %request.action,
                duration_ms,
                "agent action timed out; its process group was killed"
            );
        } else {
            tracing::debug!(
                resource = %request.resource,
                action = %request.action,
                rc = result.rc.code(),
                status = ?result.status,
                duration_ms,
                "agent action finished"
            );
        }
        Ok(result)
    }

    /// The meta-data of `spec`'s agent (OCF agents; asked once, then remembered).
    pub async fn metadata(&self, spec: &AgentSpec) -> Result<Arc<Metadata>, ExecError> {
        let request = OpRequest::new(spec.kind.clone(), spec.clone(), Action::MetaData);
        let agent = self
            .config
            .dirs
            .resolve(spec)
            .map_err(|source| ExecError::ResolveAgent {
                resource: spec.kind.clone(),
                action: Action::MetaData,
                source,
            })?;
        let Agent::Ocf { path, provider, .. } = &agent else {
            return Err(ExecError::FetchMetadata {
                agent: spec.to_string(),
            });
        };
        if let Some(known) = self.cached(path) {
            return Ok(known);
        }
        let timeout = effective_timeout(None, None, Action::MetaData, 0);
        let result = self.run_ocf(&request, path, provider, timeout).await;
        if !result.succeeded() {
            let reason = result
                .exit_reason
                .clone()
                .unwrap_or_else(|| result.stderr.trim().to_owned());
            return Err(ExecError::RunMetadata {
                agent: spec.to_string(),
                status: result.status,
                rc: result.rc.code(),
                reason,
            });
        }
        let parsed = Metadata::parse(&result.stdout).map_err(|source| ExecError::ReadMetadata {
            agent: spec.to_string(),
            source,
        })?;
        let parsed = Arc::new(parsed);
        if let Ok(mut cache) = self.metadata.lock() {
            cache.insert(path.clone(), parsed.clone());
        }
        Ok(parsed)
    }

    async fn run_ocf(
        &self,
        request: &OpRequest,
        path: &Path,
        provider: &str,
        timeout: Duration,
    ) -> OpResult {
        let env = ocf_environment(request, provider, &self.config, timeout);
        let args = [request.action.as_str()];
        self.spawn(path, &args, &env, timeout, OcfRc::from_ocf_exit)
            .await
    }

    fn cached(&self, path: &Path) -> Option<Arc<Metadata>> {
        self.metadata.lock().ok()?.get(path).cloned()
    }

    async fn timeout(&self, request: &OpRequest, path: &Path) -> Duration {
        if request.timeout_ms.is_some() || request.action == Action::MetaData {
            // meta-data itself runs under the configured (or the default) timeout.
            return effective_timeout(request.timeout_ms, None, request.action, 0);
        }
        let metadata = match self.cached(path) {
            Some(m) => Some(m),
            // An agent whose meta-data cannot be read still runs, under the default.
            None => self.metadata(&request.agent).await.ok(),
        };
        effective_timeout(
            None,
            metadata.as_deref(),
            request.action,
            request.interval_ms,
        )
    }

    fn limits(&self, timeout: Duration) -> Limits {
        Limits {
            timeout,
            kill_grace: self.config.kill_grace,
            output: self.config.output_limit,
        }
    }

    async fn spawn(
        &self,
        path: &Path,
        args: &[&str],
        env: &BTreeMap<String, String>,
        timeout: Duration,
        map: impl Fn(i32) -> OcfRc,
    ) -> OpResult {
        let not_done = |rc: OcfRc, status: OpStatus, reason: String| OpResult {
            rc,
            status,
            exit_code: None,
            exit_reason: Some(reason),
            stdout: String::new(),
            stderr: String::new(),
            truncated: false,
            duration: Duration::ZERO,
            timeout,
        };
        if !path.is_file() {
            let reason = format!("{} is not installed", path.display());
            return not_done(OcfRc::NotInstalled, OpStatus::NotInstalled, reason);
        }
        let finished = match process::run(path, args, env, self.limits(timeout)).await {
            Ok(finished) => finished,
            Err(e) => return spawn_failure(e, path, not_done),
        };
        let (rc, status, exit_code, reason) = match finished.exit {
            Exit::Code(code) => (map(code), OpStatus::Done, Some(code), None),
            Exit::TimedOut => (
                OcfRc::Generic,
                OpStatus::Timeout,
                None,
                Some(format!(
                    "did not finish within {timeout:?}; its process group was killed"
                )),
            ),
            Exit::Signal => (
                OcfRc::Generic,
                OpStatus::Error,
                None,
                Some("ended by a signal".to_owned()),
            ),
        };
        OpResult {
            rc,
            status,
            exit_code,
            exit_reason: reason.or_else(|| exit_reason(&finished.stderr)),
            stdout: finished.stdout,
            stderr: finished.stderr,
            truncated: finished.truncated,
            duration: finished.duration,
            timeout,
        }
    }
}

/// A program that cannot be started, mapped as Pacemaker maps `execve`'s errors.
fn spawn_failure(
    error: std::io::Error,
    path: &Path,
    not_done: impl Fn(OcfRc, OpStatus, String) -> OpResult,
) -> OpResult {
    use std::io::ErrorKind;
    let reason = format!("starting {} failed: {error}", path.display());
    match error.kind() {
        ErrorKind::NotFound | ErrorKind::IsADirectory | ErrorKind::NotADirectory => {
            not_done(OcfRc::NotInstalled, OpStatus::NotInstalled, reason)
        }
        ErrorKind::PermissionDenied => not_done(OcfRc::Perm, OpStatus::Error, reason),
        // ENOEXEC: not a program (no #! line, wrong format).
        _ if error.raw_os_error() == Some(8) => {
            not_done(OcfRc::NotInstalled, OpStatus::NotInstalled, reason)
        }
        _ => not_done(OcfRc::Generic, OpStatus::Error, reason),
    }
}

#[cfg(test)]
mod tests {
    use lifeboat_crm::model::Role;

    use super::*;

    #[test]
    fn a_request_is_made_from_the_models_primitive_and_operation() {
        let primitive = Primitive {
            class: "ocf".into(),
            provider: Some("pacemaker".into()),
            agent: "Stateful".into(),
            params: Attrs::from([("state".into(), "/run/s".into())]),
            ops: Vec::new(),
        };
        let op = OpDef {
            id: "db-monitor-10s".into(),
            name: "monitor".into(),
            interval_ms: 10_000,
            timeout_ms: Some(15_000),
            role: Some(Role::Promoted),
            on_fail: Some("restart".into()),
            enabled: true,
        };
        let meta = Attrs::from([("clone-max".into(), "3".into())]);
        let r = OpRequest::from_model("db:1", &primitive, &meta, Action::Monitor, Some(&op));
        assert_eq!(r.agent.to_string(), "ocf:pacemaker:Stateful");
        assert_eq!((r.interval_ms, r.timeout_ms), (10_000, Some(15_000)));
        assert_eq!(r.params["state"], "/run/s");
        assert_eq!(r.meta["clone-max"], "3");
        assert_eq!(r.meta["on_fail"], "restart");
        assert_eq!(r.meta["role"], "Promoted");
        let plain = OpRequest::from_model("db:1", &primitive, &meta, Action::Start, None);
        assert_eq!((plain.interval_ms, plain.timeout_ms), (0, None));
    }
}

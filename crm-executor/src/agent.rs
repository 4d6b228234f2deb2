//! Which program an action runs: a primitive's `class:provider:type` resolved to an OCF
//! agent under `OCF_ROOT`, an LSB init script, a systemd unit, or a stonith device (which the
//! fence crate runs, not this one).

use std::fmt;
use std::path::{Path, PathBuf};

use lifeboat_crm::model::Primitive;

/// An agent action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `start`.
    Start,
    /// `stop`.
    Stop,
    /// `monitor` (`status` for LSB scripts).
    Monitor,
    /// `promote`.
    Promote,
    /// `demote`.
    Demote,
    /// `notify`.
    Notify,
    /// `meta-data`.
    MetaData,
    /// `validate-all`.
    ValidateAll,
    /// `migrate_to` (on the source node).
    MigrateTo,
    /// `migrate_from` (on the target node).
    MigrateFrom,
    /// `reload`.
    Reload,
    /// `reload-agent`.
    ReloadAgent,
}

impl Action {
    /// Every action, for parsing.
    pub const ALL: [Self; 12] = [
        Self::Start,
        Self::Stop,
        Self::Monitor,
        Self::Promote,
        Self::Demote,
        Self::Notify,
        Self::MetaData,
        Self::ValidateAll,
        Self::MigrateTo,
        Self::MigrateFrom,
        Self::Reload,
        Self::ReloadAgent,
    ];

    /// The name agents are called with.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Monitor => "monitor",
            Self::Promote => "promote",
            Self::Demote => "demote",
            Self::Notify => "notify",
            Self::MetaData => "meta-data",
            Self::ValidateAll => "validate-all",
            Self::MigrateTo => "migrate_to",
            Self::MigrateFrom => "migrate_from",
            Self::Reload => "reload",
            Self::ReloadAgent => "reload-agent",
        }
    }

    /// The action named `name` (as an operation's `name` attribute spells it).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A primitive's agent as configured: `class`, `provider`, `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSpec {
    /// ocf, lsb, systemd, service, stonith.
    pub class: String,
    /// The OCF provider.
    pub provider: Option<String>,
    /// The agent's name (`type`).
    pub kind: String,
}

impl AgentSpec {
    /// The agent of a primitive of the model.
    pub fn of(primitive: &Primitive) -> Self {
        Self {
            class: primitive.class.clone(),
            provider: primitive.provider.clone(),
            kind: primitive.agent.clone(),
        }
    }
}

impl fmt::Display for AgentSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.provider {
            Some(p) => write!(f, "{}:{p}:{}", self.class, self.kind),
            None => write!(f, "{}:{}", self.class, self.kind),
        }
    }
}

/// A resolved agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Agent {
    /// An OCF resource agent script.
    Ocf {
        /// `$OCF_ROOT/resource.d/<provider>/<type>`.
        path: PathBuf,
        /// The provider.
        provider: String,
        /// The type.
        kind: String,
    },
    /// An LSB init script.
    Lsb {
        /// `/etc/init.d/<type>` (or the absolute path configured).
        path: PathBuf,
    },
    /// A systemd unit, driven through `systemctl`.
    Systemd {
        /// The unit, with its suffix (`.service` added when the type has none).
        unit: String,
    },
    /// A fence device: it runs through the `fence/` crate, never through the executor.
    Stonith {
        /// The fence agent (`fence_ipmilan`, …).
        agent: String,
    },
}

/// Why an agent cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// A class the executor does not know.
    #[error(
        "resolve agent {spec}: class '{class}' is not one of ocf, lsb, systemd, service, stonith"
    )]
    UnknownClass {
        /// The agent as configured.
        spec: String,
        /// The class.
        class: String,
    },
    /// An OCF agent without a provider.
    #[error("resolve agent {spec}: an ocf agent needs a provider")]
    MissingProvider {
        /// The agent as configured.
        spec: String,
    },
    /// A provider or type that is not a plain file name.
    #[error(
        "resolve agent {spec}: {field} '{value}' is not a plain name (empty, '.', '..' or with '/')"
    )]
    BadName {
        /// The agent as configured.
        spec: String,
        /// provider or type.
        field: &'static str,
        /// The value.
        value: String,
    },
    /// A systemd unit on a machine where systemd is not PID 1.
    #[error(
        "resolve agent {spec}: systemd is not running as PID 1 on this node, so systemd units cannot be managed here"
    )]
    SystemdNotRunning {
        /// The agent as configured.
        spec: String,
    },
}

/// Where agents live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentDirs {
    /// `OCF_ROOT` (`/usr/lib/ocf`).
    pub ocf_root: PathBuf,
    /// The LSB init scripts (`/etc/init.d`).
    pub lsb_dir: PathBuf,
    /// Whether systemd runs as PID 1 here (see [`systemd_is_pid1`]).
    pub systemd: bool,
}

impl AgentDirs {
    /// The standard places, with systemd as this machine has it.
    pub fn standard() -> Self {
        Self {
            ocf_root: PathBuf::from("/usr/lib/ocf"),
            lsb_dir: PathBuf::from("/etc/init.d"),
            systemd: systemd_is_pid1(),
        }
    }

    /// Resolves an agent (no file is looked at: a missing script is the action's
    /// "not installed" result, as in Pacemaker).
    pub fn resolve(&self, spec: &AgentSpec) -> Result<Agent, ResolveError> {
        let shown = spec.to_string();
        let plain = |field: &'static str, value: &str| {
            if value.is_empty() || value == "." || value == ".." || value.contains('/') {
                Err(ResolveError::BadName {
                    spec: shown.clone(),
                    field,
                    value: value.to_owned(),
                })
            } else {
                Ok(())
            }
        };
        match spec.class.to_ascii_lowercase().as_str() {
            "ocf" => {
                let provider =
                    spec.provider
                        .as_deref()
                        .ok_or_else(|| ResolveError::MissingProvider {
                            spec: shown.clone(),
                        })?;
                plain("provider", provider)?;
                plain("type", &spec.kind)?;
                Ok(Agent::Ocf {
                    path: self
                        .ocf_root
                        .join("resource.d")
                        .join(provider)
                        .join(&spec.kind),
                    provider: provider.to_owned(),
                    kind: spec.kind.clone(),
                })
            }
            "lsb" => self.lsb(spec, &shown),
            "systemd" => self.systemd(spec, &shown),
            // Pacemaker's `service` is systemd where it runs, else LSB.
            "service" if self.systemd => self.systemd(spec, &shown),
            "service" => self.lsb(spec, &shown),
            "stonith" => {
                plain("type", &spec.kind)?;
                Ok(Agent::Stonith {
                    agent: spec.kind.clone(),
                })
            }
            _ => Err(ResolveError::UnknownClass {
                spec: shown.clone(),
                class: spec.class.clone(),
            }),
        }
    }

    fn lsb(&self, spec: &AgentSpec, shown: &str) -> Result<Agent, ResolveError> {
        let kind = Path::new(&spec.kind);
        if kind.is_absolute() {
            return Ok(Agent::Lsb {
                path: kind.to_path_buf(),
            });
        }
        if spec.kind.is_empty() || spec.kind.contains('/') || spec.kind.starts_with('.') {
            return Err(ResolveError::BadName {
                spec: shown.to_owned(),
                field: "type",
                value: spec.kind.clone(),
            });
        }
        Ok(Agent::Lsb {
            path: self.lsb_dir.join(&spec.kind),
        })
    }

    fn systemd(&self, spec: &AgentSpec, shown: &str) -> Result<Agent, ResolveError> {
        if !self.systemd {
            return Err(ResolveError::SystemdNotRunning {
                spec: shown.to_owned(),
            });
        }
        if spec.kind.is_empty() || spec.kind.contains('/') {
            return Err(ResolveError::BadName {
                spec: shown.to_owned(),
                field: "type",
                value: spec.kind.clone(),
            });
        }
        let has_suffix = [
            ".service", ".socket", ".mount", ".timer", ".target", ".path",
        ]
        .iter()
        .any(|s| spec.kind.ends_with(s));
        let unit = if has_suffix {
            spec.kind.clone()
        } else {
            format!("{}.service", spec.kind)
        };
        Ok(Agent::Systemd { unit })
    }
}

/// Whether systemd is this machine's init (PID 1's name is `systemd`).
pub fn systemd_is_pid1() -> bool {
    std::fs::read_to_string("/proc/1/comm").is_ok_and(|name| name.trim() == "systemd")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(class: &str, provider: Option<&str>, kind: &str) -> AgentSpec {
        AgentSpec {
            class: class.into(),
            provider: provider.map(Into::into),
            kind: kind.into(),
        }
    }

    fn dirs(systemd: bool) -> AgentDirs {
        AgentDirs {
            ocf_root: "/x/ocf".into(),
            lsb_dir: "/x/init.d".into(),
            systemd,
        }
    }

    #[test]
    fn classes_resolve_to_their_programs() {
        let d = dirs(false);
        assert_eq!(
            d.resolve(&spec("ocf", Some("heartbeat"), "Dummy")),
            Ok(Agent::Ocf {
                path: "/x/ocf/resource.d/heartbeat/Dummy".into(),
                provider: "heartbeat".into(),
                kind: "Dummy".into()
            })
        );
        assert_eq!(
            d.resolve(&spec("lsb", None, "ntp")),
            Ok(Agent::Lsb {
                path: "/x/init.d/ntp".into()
            })
        );
        assert_eq!(
            d.resolve(&spec("lsb", None, "/opt/svc/init")),
            Ok(Agent::Lsb {
                path: "/opt/svc/init".into()
            })
        );
        assert_eq!(
            d.resolve(&spec("service", None, "ntp")),
            Ok(Agent::Lsb {
                path: "/x/init.d/ntp".into()
            })
        );
        assert_eq!(
            d.resolve(&spec("stonith", None, "fence_ipmilan")),
            Ok(Agent::Stonith {
                agent: "fence_ipmilan".into()
            })
        );
        let s = dirs(true);
        assert_eq!(
            s.resolve(&spec("systemd", None, "haproxy")),
            Ok(Agent::Systemd {
                unit: "haproxy.service".into()
            })
        );
        assert_eq!(
            s.resolve(&spec("service", None, "x.socket")),
            Ok(Agent::Systemd {
                unit: "x.socket".into()
            })
        );
    }

    #[test]
    fn unusable_agents_are_refused_with_what_is_wrong() {
        let d = dirs(false);
        let e = d.resolve(&spec("systemd", None, "haproxy")).unwrap_err();
        assert!(matches!(e, ResolveError::SystemdNotRunning { .. }));
        assert!(e.to_string().contains("systemd is not running as PID 1"));
        assert!(matches!(
            d.resolve(&spec("ocf", None, "Dummy")),
            Err(ResolveError::MissingProvider { .. })
        ));
        assert!(matches!(
            d.resolve(&spec("ocf", Some(".."), "Dummy")),
            Err(ResolveError::BadName {
                field: "provider",
                ..
            })
        ));
        assert!(matches!(
            d.resolve(&spec("ocf", Some("heartbeat"), "../../bin/sh")),
            Err(ResolveError::BadName { field: "type", .. })
        ));
        let e = d.resolve(&spec("nagios", None, "check")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "resolve agent nagios:check: class 'nagios' is not one of ocf, lsb, systemd, service, stonith"
        );
    }

    #[test]
    fn actions_round_trip_their_names() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(Action::parse("status"), None);
    }
}

//! The agents' configuration: masakari-monitors' sections and option names (a
//! masakarimonitors.conf works as is), plus Lifeboat's `[outbox]`, `[peer]` and `[metrics]`.

use std::net::SocketAddr;
use std::path::PathBuf;

use lifeboat_core::config::{
    ConfigError, LoggingSection, RawConfig, Seconds, Secret, SectionSpec, read_sources,
    render_sample, unknown_option_warnings,
};
use lifeboat_core::config_section;

config_section! {
    /// Options every agent reads (masakari-monitors' `[DEFAULT]`).
    pub struct AgentDefaultSection in "DEFAULT" {
        /// Name of this compute node as registered in the segment (Nova's service host).
        /// Empty: the system host name.
        pub hostname: Option<String> = "", aliases = ["host"];
        /// Accepted for compatibility (masakari-monitors' scratch directory).
        pub tempdir: Option<String> = "";
        /// Log at debug level.
        pub debug: bool = "false";
        /// Seconds a shutdown (SIGTERM, SIGINT) waits for the agents to finish what they are
        /// doing before it stops them (oslo.service's option; 0: at once). A second signal
        /// exits at once.
        pub graceful_shutdown_timeout: Seconds = "30";
    }
}

config_section! {
    /// How agents reach the API (masakari-monitors' `[api]`, keystoneauth option names).
    pub struct ApiSection in "api" {
        /// `password` (Keystone), `none` (no authentication; `endpoint` required) or
        /// `admin_token` / `token` (a static token sent as X-Auth-Token; `endpoint` and `token`
        /// required).
        pub auth_type: String = "password";
        /// API URL (e.g. `http://ha:15868/v1`); overrides the catalog lookup.
        pub endpoint: Option<String> = "";
        /// Static token for `auth_type = admin_token`.
        pub token: Option<Secret> = "";
        /// Keystone URL.
        pub auth_url: Option<String> = "";
        /// Keystone user.
        pub username: Option<String> = "";
        /// Keystone password.
        pub password: Option<Secret> = "";
        /// Project to scope the token to.
        pub project_name: Option<String> = "";
        /// The user's domain (name).
        pub user_domain_name: String = "Default", aliases = ["user_domain_id"];
        /// The project's domain (name).
        pub project_domain_name: String = "Default", aliases = ["project_domain_id"];
        /// Region of the `instance-ha` catalog endpoint.
        pub region: String = "RegionOne";
        /// Catalog interface: public, internal or admin.
        pub api_interface: String = "public";
        /// Accepted for compatibility (unused, as in masakari-monitors).
        pub api_version: String = "v1";
        /// Skip TLS verification.
        pub insecure: bool = "false";
        /// CA bundle for the API's and Keystone's certificates.
        pub cafile: Option<String> = "";
        /// Seconds per request.
        pub timeout: Seconds = "30";
    }
}

config_section! {
    /// The durable outbox every agent delivers through (Lifeboat's addition: masakari-monitors
    /// drops a report after `api_retry_max` tries).
    pub struct OutboxSection in "outbox" {
        /// Directory of pending reports (one subdirectory per agent). Empty:
        /// `/var/lib/lifeboat/outbox`.
        pub path: Option<String> = "";
        /// Most reports kept waiting; when full, new reports are refused (and logged as errors)
        /// so that the oldest, which describe the first failure, are kept.
        pub max_reports: u32 = "1000";
        /// Seconds before the first retry of a failed delivery; doubles per failure, with jitter.
        pub retry_initial: Seconds = "1";
        /// Longest wait between two delivery attempts, in seconds.
        pub retry_max: Seconds = "30";
    }
}

config_section! {
    /// Each agent's optional Prometheus listener (Lifeboat's addition), serving only
    /// `GET /metrics` (OpenMetrics text, unauthenticated: bind it to an address only the
    /// scraper reaches). The agents read one file, so each has its own address; `lifeboat
    /// monitors` serves every one that is set. Empty: no listener.
    pub struct MetricsSection in "metrics" {
        /// `address:port` of the hostmonitor's metrics (e.g. `127.0.0.1:9105`).
        pub hostmonitor_listen: Option<String> = "";
        /// `address:port` of the processmonitor's metrics (e.g. `127.0.0.1:9106`).
        pub processmonitor_listen: Option<String> = "";
        /// `address:port` of the instancemonitor's metrics (e.g. `127.0.0.1:9107`).
        pub instancemonitor_listen: Option<String> = "";
    }
}

config_section! {
    /// The hostmonitor (masakari-monitors' `[host]`).
    pub struct HostSection in "host" {
        /// `peer` (Lifeboat's heartbeats; see `[peer]`), or `default` / `simple` / `pacemaker`
        /// (membership and quorum from Pacemaker).
        pub monitoring_driver: String = "default";
        /// Seconds between two looks at the cluster (pacemaker driver).
        pub monitoring_interval: Seconds = "60";
        /// Equal consecutive samples needed before a change counts (pacemaker driver).
        pub monitoring_samples: u32 = "1";
        /// Accepted for compatibility; the outbox retries until delivered.
        pub api_retry_max: u32 = "12";
        /// Accepted for compatibility; see `[outbox]`.
        pub api_retry_interval: Seconds = "10";
        /// Report STOPPED hosts with host_status NORMAL without reading their power state
        /// (otherwise it is read through the API's fence devices, microversion 1.5: compute
        /// nodes hold no BMC password).
        pub disable_ipmi_check: bool = "false";
        /// Watch Pacemaker remote nodes only (compute nodes as pacemaker_remote).
        pub restrict_to_remotes: bool = "false";
        /// Seconds per power-status query (one API call; the API asks the BMC).
        pub ipmi_timeout: Seconds = "5";
        /// Power-status retries after the first query.
        pub ipmi_retry_max: u32 = "3";
        /// Seconds between power-status queries.
        pub ipmi_retry_interval: Seconds = "10";
        /// Accepted for compatibility (Lifeboat does not sniff corosync traffic).
        pub stonith_wait: Seconds = "30";
        /// Accepted for compatibility.
        pub tcpdump_timeout: Seconds = "5";
        /// Accepted for compatibility.
        pub corosync_multicast_interfaces: Vec<String> = "";
        /// Accepted for compatibility.
        pub corosync_multicast_ports: Vec<String> = "";
        /// Accepted for compatibility: `autodetect`, `cluster` or `remote`.
        pub pacemaker_node_type: String = "autodetect";
        /// `crm_mon` program (pacemaker driver).
        pub crm_mon_path: String = "crm_mon";
    }
}

config_section! {
    /// The `peer` hostmonitor driver: the agents of a segment heartbeat each other over UDP on
    /// one to three networks, and a host is reported when a majority of the segment's agents
    /// have stopped hearing it.
    pub struct PeerSection in "peer" {
        /// Every agent of the segment on the management network, as `name=address` pairs
        /// (`compute-1=192.0.2.11, compute-2=192.0.2.12, …`), this node included.
        pub manage: Vec<String> = "";
        /// The same agents' addresses on the tenant network (optional).
        pub tenant: Vec<String> = "";
        /// The same agents' addresses on the storage network (optional).
        pub storage: Vec<String> = "";
        /// UDP port of the heartbeats (the same on every network).
        pub port: u16 = "4950";
        /// Seconds between two heartbeats.
        pub heartbeat_interval: Seconds = "0.5";
        /// Seconds of silence after which a host counts as down on a network.
        pub dead_after: Seconds = "2.5";
        /// Seconds after start before hosts never heard count as silent (cold starts).
        pub startup_grace: Seconds = "60";
        /// The Consul driver's matrix file (YAML `sequence` and `matrix`), saying what a
        /// combination of down networks means. Empty: a host is recovered only when it is down
        /// on every configured network.
        pub matrix_config_file: Option<String> = "";
    }
}

config_section! {
    /// The processmonitor (masakari-monitors' `[process]`).
    pub struct ProcessSection in "process" {
        /// Seconds between two looks at the process table.
        pub check_interval: Seconds = "5";
        /// Restart attempts after the first one before the process is reported.
        pub restart_retries: u32 = "3";
        /// Seconds between two restart attempts (and how long a restarted process has to
        /// appear).
        pub restart_interval: Seconds = "5";
        /// Accepted for compatibility; the outbox retries until delivered.
        pub api_retry_max: u32 = "12";
        /// Accepted for compatibility; see `[outbox]`.
        pub api_retry_interval: Seconds = "10";
        /// The process list (masakari-monitors' YAML format).
        pub process_list_path: String = "/etc/masakarimonitors/process_list.yaml";
    }
}

config_section! {
    /// Instancemonitor delivery (masakari-monitors' `[callback]`).
    pub struct CallbackSection in "callback" {
        /// Accepted for compatibility; the outbox retries until delivered.
        pub retry_max: u32 = "12";
        /// Accepted for compatibility; see `[outbox]`.
        pub retry_interval: Seconds = "10";
        /// Seconds within which equal events of one domain are reported once (bursts).
        pub coalesce_window: Seconds = "5";
    }
}

config_section! {
    /// libvirt (masakari-monitors' `[libvirt]`).
    pub struct LibvirtSection in "libvirt" {
        /// Connection URI: `qemu:///system`, `test:///default`, or with
        /// `?socket=/path` to name the daemon's socket.
        pub connection_uri: String = "qemu:///system";
        /// Seconds between reconnection attempts when libvirtd is away.
        pub reconnect_interval: Seconds = "3";
    }
}

config_section! {
    /// The QEMU guest-agent heartbeat of masakari's introspectiveinstancemonitor, run by the
    /// instancemonitor when enabled: running domains with a guest-agent channel are sent
    /// `guest-ping` through libvirt (read-write socket), and a guest whose agent answered
    /// once and then fails `guest_monitoring_failure_threshold` consecutive pings is reported
    /// (QEMU_GUEST_AGENT_ERROR / STOPPED_FAILED). Guests that never answered are not reported.
    pub struct IntrospectiveSection in "introspectiveinstancemonitor" {
        /// Run the heartbeat in the instancemonitor (Lifeboat's switch: masakari-monitors runs
        /// it as a separate daemon).
        pub enabled: bool = "false";
        /// Seconds between two pings of a domain.
        pub guest_monitoring_interval: Seconds = "10";
        /// Seconds libvirt waits for the agent's answer (whole seconds, at least 1).
        pub guest_monitoring_timeout: Seconds = "2";
        /// Consecutive failed pings that report a guest (at least 1): the guest is reported
        /// between (threshold - 1) and threshold intervals after it stopped answering.
        pub guest_monitoring_failure_threshold: u32 = "3";
        /// Domains are watched when a channel's bind-mode socket path matches this regex (from
        /// its start; Nova's agent sockets by default). Empty: every domain with an
        /// `org.qemu.guest_agent.0` channel.
        pub qemu_guest_agent_sock_path: String = r"/var/lib/libvirt/qemu/org\.qemu\.guest_agent\..*\.instance-.*\.sock";
    }
}

/// Everything the agents read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MonitorsConfig {
    /// `[DEFAULT]`.
    pub default: AgentDefaultSection,
    /// Where to log, in `[DEFAULT]`.
    pub logging: LoggingSection,
    /// `[api]`.
    pub api: ApiSection,
    /// `[outbox]`.
    pub outbox: OutboxSection,
    /// `[metrics]`.
    pub metrics: MetricsSection,
    /// `[host]`.
    pub host: HostSection,
    /// `[peer]`.
    pub peer: PeerSection,
    /// `[process]`.
    pub process: ProcessSection,
    /// `[callback]`.
    pub callback: CallbackSection,
    /// `[libvirt]`.
    pub libvirt: LibvirtSection,
    /// `[introspectiveinstancemonitor]`.
    pub introspective: IntrospectiveSection,
}

/// A loaded configuration and the warnings to log once tracing is up.
#[derive(Debug, Clone)]
pub struct LoadedMonitors {
    /// The configuration.
    pub config: MonitorsConfig,
    /// Unknown options.
    pub warnings: Vec<String>,
}

/// Sections of masakari-monitors that are accepted without being used.
const ACCEPTED_SECTIONS: &[SectionSpec] = &[
    SectionSpec {
        name: "consul",
        help: "",
        options: &[],
    },
    SectionSpec {
        name: "kubernetes",
        help: "",
        options: &[],
    },
    SectionSpec {
        name: "masakarimonitors_privileged",
        help: "",
        options: &[],
    },
];

impl MonitorsConfig {
    /// Every section, in sample order.
    pub const SECTIONS: &'static [SectionSpec] = &[
        AgentDefaultSection::SPEC,
        LoggingSection::SPEC,
        ApiSection::SPEC,
        OutboxSection::SPEC,
        MetricsSection::SPEC,
        HostSection::SPEC,
        PeerSection::SPEC,
        ProcessSection::SPEC,
        CallbackSection::SPEC,
        LibvirtSection::SPEC,
        IntrospectiveSection::SPEC,
    ];

    /// Reads `files` then `LIFEBOAT__SECTION__OPTION` overrides from `env`, and validates.
    pub fn load(
        files: &[PathBuf],
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<LoadedMonitors, Vec<ConfigError>> {
        let raw = read_sources(files, env, Self::SECTIONS).map_err(|e| vec![e])?;
        let mut errors = Vec::new();
        let config = Self::from_raw(&raw, &mut errors);
        errors.extend(config.validate());
        if !errors.is_empty() {
            return Err(errors);
        }
        let known: Vec<SectionSpec> = Self::SECTIONS
            .iter()
            .chain(ACCEPTED_SECTIONS)
            .copied()
            .collect();
        let warnings = unknown_option_warnings(&raw, &known)
            .into_iter()
            .filter(|w| {
                // Options of accepted sections (and oslo.log's) are not worth a warning each.
                !ACCEPTED_SECTIONS
                    .iter()
                    .any(|s| w.contains(&format!("[{}]", s.name)))
            })
            .collect();
        Ok(LoadedMonitors { config, warnings })
    }

    /// Builds the typed configuration from raw values.
    pub fn from_raw(raw: &RawConfig, errors: &mut Vec<ConfigError>) -> Self {
        Self {
            default: AgentDefaultSection::from_raw(raw, errors),
            logging: LoggingSection::from_raw(raw, errors),
            api: ApiSection::from_raw(raw, errors),
            outbox: OutboxSection::from_raw(raw, errors),
            metrics: MetricsSection::from_raw(raw, errors),
            host: HostSection::from_raw(raw, errors),
            peer: PeerSection::from_raw(raw, errors),
            process: ProcessSection::from_raw(raw, errors),
            callback: CallbackSection::from_raw(raw, errors),
            libvirt: LibvirtSection::from_raw(raw, errors),
            introspective: IntrospectiveSection::from_raw(raw, errors),
        }
    }

    /// Cross-option checks.
    pub fn validate(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let api = &self.api;
        match api.auth_type.as_str() {
            "none" | "noauth" => {
                if api.endpoint.is_none() {
                    errors.push(ConfigError::Inconsistent(
                        "[api] auth_type = none needs [api] endpoint".to_owned(),
                    ));
                }
            }
            "admin_token" | "token" => {
                if api.endpoint.is_none() || api.token.is_none() {
                    errors.push(ConfigError::Inconsistent(format!(
                        "[api] auth_type = {} needs [api] endpoint and token",
                        api.auth_type
                    )));
                }
            }
            "password" => {
                let missing: Vec<&str> = [
                    ("auth_url", api.auth_url.is_none()),
                    ("username", api.username.is_none()),
                    ("password", api.password.is_none()),
                ]
                .into_iter()
                .filter_map(|(n, absent)| absent.then_some(n))
                .collect();
                if !missing.is_empty() {
                    errors.push(ConfigError::Inconsistent(format!(
                        "[api] auth_type = password needs [api] {} (or auth_type = none with an \
                         endpoint)",
                        missing.join(", ")
                    )));
                }
            }
            other => errors.push(ConfigError::Inconsistent(format!(
                "[api] auth_type = {other}: must be password, none or admin_token"
            ))),
        }
        if !["public", "internal", "admin"].contains(&api.api_interface.as_str()) {
            errors.push(ConfigError::Inconsistent(format!(
                "[api] api_interface = {}: must be public, internal or admin",
                api.api_interface
            )));
        }
        let guest = &self.introspective;
        if guest.guest_monitoring_failure_threshold == 0 {
            errors.push(ConfigError::Inconsistent(
                "[introspectiveinstancemonitor] guest_monitoring_failure_threshold must be at \
                 least 1"
                    .to_owned(),
            ));
        }
        if guest.guest_monitoring_interval.0.is_zero() {
            errors.push(ConfigError::Inconsistent(
                "[introspectiveinstancemonitor] guest_monitoring_interval must be positive"
                    .to_owned(),
            ));
        }
        // Compiled only when used: the regex engine costs every other agent ~1.5 MiB of RSS.
        if guest.enabled
            && let Err(e) = crate::instance::agent_channels(&guest.qemu_guest_agent_sock_path)
        {
            errors.push(ConfigError::Inconsistent(format!(
                "[introspectiveinstancemonitor] qemu_guest_agent_sock_path is not a valid \
                 regex: {e}"
            )));
        }
        if self.outbox.max_reports == 0 {
            errors.push(ConfigError::Inconsistent(
                "[outbox] max_reports must be at least 1".to_owned(),
            ));
        }
        errors.extend(self.metrics_errors());
        errors
    }

    /// The `[metrics]` options, by agent.
    fn metrics_options(&self) -> [(&'static str, Option<&str>); 3] {
        let m = &self.metrics;
        [
            ("hostmonitor", m.hostmonitor_listen.as_deref()),
            ("processmonitor", m.processmonitor_listen.as_deref()),
            ("instancemonitor", m.instancemonitor_listen.as_deref()),
        ]
    }

    /// Listen addresses that are not `address:port`, or that two agents share.
    fn metrics_errors(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let mut seen: Vec<(&str, SocketAddr)> = Vec::new();
        for (agent, text) in self.metrics_options() {
            let Some(text) = text else { continue };
            match text.trim().parse::<SocketAddr>() {
                Ok(address) => {
                    if let Some((other, _)) = seen.iter().find(|(_, a)| *a == address) {
                        errors.push(ConfigError::Inconsistent(format!(
                            "[metrics] {agent}_listen = {text}: {other}_listen has it already"
                        )));
                    }
                    seen.push((agent, address));
                }
                Err(_) => errors.push(ConfigError::Inconsistent(format!(
                    "[metrics] {agent}_listen = {text}: not an address:port (e.g. \
                     127.0.0.1:9105; [::1]:9105 for IPv6)"
                ))),
            }
        }
        errors
    }

    /// Where `agent` (`hostmonitor`, …) serves its metrics; none unless `[metrics]` says.
    pub fn metrics_listen(&self, agent: &str) -> Option<SocketAddr> {
        let (_, text) = self
            .metrics_options()
            .into_iter()
            .find(|(a, _)| *a == agent)?;
        text?.trim().parse().ok()
    }

    /// This node's name: `[DEFAULT] hostname`, else the kernel's host name.
    pub fn hostname(&self) -> String {
        self.default
            .hostname
            .clone()
            .unwrap_or_else(system_hostname)
    }

    /// The outbox directory of one agent (`processmonitor`, …).
    pub fn outbox_dir(&self, agent: &str) -> PathBuf {
        PathBuf::from(
            self.outbox
                .path
                .as_deref()
                .unwrap_or("/var/lib/lifeboat/outbox"),
        )
        .join(agent)
    }

    /// The sample file of the agents' options.
    pub fn sample() -> String {
        render_sample(Self::SECTIONS)
    }
}

/// The kernel's host name (what `socket.gethostname()` gives masakari-monitors).
pub fn system_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned())
}

#[cfg(test)]
mod tests;

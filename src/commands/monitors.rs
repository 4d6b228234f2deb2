//! `lifeboat hostmonitor | processmonitor | instancemonitor | monitors`: the agents of a
//! compute node, reading masakari-monitors' configuration.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use lifeboat_core::clock::SystemClock;
use lifeboat_metrics::{AgentMetrics, OutboxMetrics, PeerMetrics};
use lifeboat_monitors::config::MonitorsConfig;
use lifeboat_monitors::delivery::{
    ApiAnswer, ApiCallError, ApiMethod, ApiRequests, NotificationApi, Outbox, OutboxSettings,
};
use lifeboat_monitors::host::PowerCheck;
use lifeboat_monitors::host::api_power::ApiPowerStatus;
use lifeboat_monitors::host::pacemaker::{CrmMon, PacemakerMonitor, PacemakerSettings};
use lifeboat_monitors::host::peer::{PeerMonitor, PeerSettings};
use lifeboat_monitors::instance::{
    HeartbeatSettings, InstanceMonitor, InstanceMonitorSettings, agent_channels,
};
use lifeboat_monitors::process::{ProcFs, ProcessMonitor, ProcessMonitorSettings};
use lifeboat_openstack::{Credentials, HaAuth, HaClient, KeystoneSession};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::cli::ConfigArgs;
use crate::{signals, telemetry, wiring};

/// Which agents run in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agents {
    host: bool,
    process: bool,
    instance: bool,
}

impl Agents {
    /// The hostmonitor.
    pub const HOST: Self = Self {
        host: true,
        process: false,
        instance: false,
    };
    /// The processmonitor.
    pub const PROCESS: Self = Self {
        host: false,
        process: true,
        instance: false,
    };
    /// The instancemonitor.
    pub const INSTANCE: Self = Self {
        host: false,
        process: false,
        instance: true,
    };
    /// All three.
    pub const ALL: Self = Self {
        host: true,
        process: true,
        instance: true,
    };
}

/// The API client as the outbox sees it.
#[derive(Debug)]
struct HaApi(HaClient);

#[async_trait::async_trait]
impl ApiRequests for HaApi {
    async fn request(
        &self,
        method: ApiMethod,
        path: &str,
        microversion: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> Result<ApiAnswer, ApiCallError> {
        let method = match method {
            ApiMethod::Get => reqwest::Method::GET,
            ApiMethod::Post => reqwest::Method::POST,
        };
        self.0
            .request(method, path, microversion, body)
            .await
            .map(|(status, body)| ApiAnswer { status, body })
            .map_err(ApiCallError::call)
    }
}

#[async_trait::async_trait]
impl NotificationApi for HaApi {
    async fn post_notification(&self, body: &serde_json::Value) -> Result<ApiAnswer, ApiCallError> {
        self.request(ApiMethod::Post, "/notifications", None, Some(body))
            .await
    }
}

fn api_client(config: &MonitorsConfig) -> Result<HaClient> {
    let api = &config.api;
    let http = lifeboat_openstack::http_client(api.timeout.0, api.insecure, api.cafile.as_deref())
        .map_err(anyhow::Error::msg)?;
    let auth = match api.auth_type.as_str() {
        "none" | "noauth" => HaAuth::None,
        "admin_token" | "token" => HaAuth::Token(
            api.token
                .clone()
                .context("[api] token is required for admin_token")?,
        ),
        _ => {
            // validate() has checked these are present for the password plugin.
            let (Some(auth_url), Some(username), Some(password)) =
                (&api.auth_url, &api.username, &api.password)
            else {
                anyhow::bail!("[api] auth_url, username and password are required");
            };
            HaAuth::Keystone {
                session: Box::new(KeystoneSession::new(
                    http.clone(),
                    Credentials {
                        auth_url: auth_url.clone(),
                        username: username.clone(),
                        password: password.clone(),
                        user_domain_name: domain_name(&api.user_domain_name),
                        project_name: api.project_name.clone(),
                        project_domain_name: domain_name(&api.project_domain_name),
                        system_scope: None,
                    },
                    Arc::new(SystemClock),
                )),
                interface: api.api_interface.clone(),
                region: Some(api.region.clone()),
            }
        }
    };
    Ok(HaClient::new(http, api.endpoint.clone(), auth))
}

/// masakari-monitors' configs often say `user_domain_id = default`: Keystone's default domain,
/// whose name is `Default`.
fn domain_name(value: &str) -> String {
    if value == "default" {
        "Default".to_owned()
    } else {
        value.to_owned()
    }
}

fn outbox(config: &MonitorsConfig, agent: &str, metrics: OutboxMetrics) -> Result<Arc<Outbox>> {
    let o = &config.outbox;
    let settings = OutboxSettings {
        max_reports: usize::try_from(o.max_reports).unwrap_or(usize::MAX),
        retry_initial: o.retry_initial.0,
        retry_max: o.retry_max.0.max(o.retry_initial.0),
    };
    Outbox::open(&config.outbox_dir(agent), settings, agent, metrics).map_err(anyhow::Error::from)
}

type AgentTask = Box<
    dyn FnOnce(
            CancellationToken,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send>>
        + Send,
>;

/// How failed hosts' power is checked: through the API's fence devices (the API reads the
/// BMC; compute nodes hold no BMC password), unless `[host] disable_ipmi_check`.
fn power_check(config: &MonitorsConfig, api: &Arc<HaApi>) -> PowerCheck {
    let h = &config.host;
    if h.disable_ipmi_check {
        return PowerCheck::disabled();
    }
    PowerCheck {
        reader: Some(Arc::new(ApiPowerStatus::new(api.clone()))),
        retries: h.ipmi_retry_max,
        interval: h.ipmi_retry_interval.0,
        timeout: h.ipmi_timeout.0,
    }
}

/// The hostmonitor of `[host] monitoring_driver`.
fn host_monitor(
    config: &MonitorsConfig,
    hostname: &str,
    outbox: Arc<Outbox>,
    metrics: PeerMetrics,
    api: &Arc<HaApi>,
) -> Result<AgentTask> {
    match config.host.monitoring_driver.as_str() {
        "peer" => {
            let p = &config.peer;
            let matrix = p
                .matrix_config_file
                .as_ref()
                .map(|path| {
                    std::fs::read_to_string(path)
                        .with_context(|| format!("reading [peer] matrix_config_file {path}"))
                })
                .transpose()?;
            let settings = PeerSettings::from_lists(
                hostname,
                [&p.manage, &p.tenant, &p.storage],
                p.port,
                p.heartbeat_interval.0,
                p.dead_after.0,
                p.startup_grace.0,
                matrix.as_deref(),
            )?;
            let monitor = PeerMonitor::new(
                settings,
                outbox,
                Arc::new(SystemClock),
                power_check(config, api),
            )
            .with_metrics(metrics);
            Ok(Box::new(move |cancel| {
                Box::pin(async move { monitor.run(cancel).await.context("peer hostmonitor") })
            }))
        }
        "default" | "simple" | "pacemaker" => {
            let h = &config.host;
            let monitor = PacemakerMonitor::new(
                PacemakerSettings {
                    hostname: hostname.to_owned(),
                    monitoring_interval: h.monitoring_interval.0,
                    monitoring_samples: h.monitoring_samples,
                    restrict_to_remotes: h.restrict_to_remotes,
                },
                Arc::new(CrmMon {
                    program: h.crm_mon_path.clone(),
                }),
                outbox,
                Arc::new(SystemClock),
                power_check(config, api),
            );
            Ok(Box::new(move |cancel| {
                Box::pin(async move {
                    monitor.run(cancel).await;
                    Ok(())
                })
            }))
        }
        other => anyhow::bail!(
            "[host] monitoring_driver = {other}: must be peer, or default/simple/pacemaker"
        ),
    }
}

/// Runs the chosen agents until SIGINT or SIGTERM (or until one fails).
pub async fn run(args: &ConfigArgs, agents: Agents) -> Result<ExitCode> {
    let files = match wiring::config_files(args) {
        Ok(files) => files,
        Err(e) => return Ok(super::config_failure(&[format!("{e:#}")])),
    };
    let loaded = match MonitorsConfig::load(&files, std::env::vars()) {
        Ok(loaded) => loaded,
        Err(errors) => {
            let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
            return Ok(super::config_failure(&errors));
        }
    };
    let config = loaded.config;
    telemetry::init_daemon(config.default.debug, &config.logging)?;
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let hostname = config.hostname();
    let client = Arc::new(HaApi(api_client(&config)?));
    let api: Arc<dyn NotificationApi> = client.clone();
    let shutdown = CancellationToken::new();
    let mut hangups = signals::install(shutdown.clone());
    // Nothing of the agents is reloaded; a SIGHUP (logrotate) only reopens the log.
    tokio::spawn(async move {
        loop {
            hangups.recv().await;
            tracing::info!(signal = "SIGHUP", "reopening the log");
            telemetry::reopen();
        }
    });
    let mut tasks: JoinSet<Result<()>> = JoinSet::new();
    let mut deliveries: JoinSet<()> = JoinSet::new();
    // Each agent's outbox and delivery loop, its metrics and their listener when configured.
    let mut deliver = |agent: &str| -> Result<(Arc<Outbox>, AgentMetrics)> {
        let metrics = if agent == "hostmonitor" && config.host.monitoring_driver == "peer" {
            AgentMetrics::with_peer(agent)
        } else {
            AgentMetrics::new(agent)
        };
        if let Some(address) = config.metrics_listen(agent) {
            let listener = super::agent_metrics::bind(agent, address)?;
            let serve =
                super::agent_metrics::serve(listener, metrics.clone(), shutdown.child_token());
            deliveries.spawn(serve);
        }
        let outbox = outbox(&config, agent, metrics.outbox.clone())?;
        deliveries.spawn(outbox.clone().run(api.clone(), shutdown.child_token()));
        Ok((outbox, metrics))
    };
    if agents.process {
        let p = &config.process;
        let monitor = ProcessMonitor::new(
            ProcessMonitorSettings {
                hostname: hostname.clone(),
                process_list_path: p.process_list_path.clone().into(),
                check_interval: p.check_interval.0,
                restart_retries: p.restart_retries,
                restart_interval: p.restart_interval.0,
            },
            Arc::new(ProcFs::default()),
            deliver("processmonitor")?.0,
            Arc::new(SystemClock),
        );
        let cancel = shutdown.child_token();
        tasks.spawn(async move { monitor.run(cancel).await.context("processmonitor") });
    }
    if agents.host {
        let (outbox, metrics) = deliver("hostmonitor")?;
        let cancel = shutdown.child_token();
        let task = host_monitor(&config, &hostname, outbox, metrics.peer, &client)?;
        tasks.spawn(async move { task(cancel).await });
    }
    if agents.instance {
        let mut monitor = InstanceMonitor::new(
            InstanceMonitorSettings {
                hostname: hostname.clone(),
                connection_uri: config.libvirt.connection_uri.clone(),
                reconnect_interval: config.libvirt.reconnect_interval.0,
                coalesce_window: config.callback.coalesce_window.0,
            },
            deliver("instancemonitor")?.0,
            Arc::new(SystemClock),
        );
        let g = &config.introspective;
        if g.enabled {
            monitor = monitor.with_heartbeat(HeartbeatSettings {
                hostname: hostname.clone(),
                connection_uri: config.libvirt.connection_uri.clone(),
                reconnect_interval: config.libvirt.reconnect_interval.0,
                interval: g.guest_monitoring_interval.0,
                timeout: g.guest_monitoring_timeout.0,
                threshold: g.guest_monitoring_failure_threshold,
                // validate() has compiled it once already.
                channels: agent_channels(&g.qemu_guest_agent_sock_path)
                    .map_err(anyhow::Error::msg)?,
            });
        }
        let cancel = shutdown.child_token();
        tasks.spawn(async move {
            monitor.run(cancel).await;
            Ok(())
        });
    }
    tracing::info!(host.name = %hostname, "Lifeboat monitors running");
    crate::systemd::ready("monitoring");
    crate::systemd::supervise(shutdown.clone());
    let mut failed = false;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            done = tasks.join_next() => match done {
                None => break,
                Some(Ok(Ok(()))) => {}
                Some(Ok(Err(e))) => {
                    tracing::error!("{e:#}");
                    failed = true;
                    shutdown.cancel();
                }
                Some(Err(e)) => {
                    tracing::error!("a monitor task failed: {e}");
                    failed = true;
                    shutdown.cancel();
                }
            },
        }
    }
    shutdown.cancel();
    let grace = config.default.graceful_shutdown_timeout.0;
    let drain = async {
        while tasks.join_next().await.is_some() {}
        while deliveries.join_next().await.is_some() {}
    };
    if tokio::time::timeout(grace, drain).await.is_err() {
        tracing::warn!("stopping the agents still busy after the grace period");
    }
    tracing::info!("Lifeboat monitors stopped");
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

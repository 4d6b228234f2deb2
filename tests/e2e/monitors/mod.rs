//! The monitor agents end to end: the real `lifeboat` binary as agents and as the API.
//! Network cases run agents in network namespaces made here (root and iproute2 needed:
//! `scripts/setup/monitors.sh`).

mod guest_agent;
mod instance;
mod lab;
mod metrics;
mod pacemaker;
mod peer;
mod process;
mod stock_masakari;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::clock::{Clock, SystemClock};
use lifeboat_core::model::{NewHost, NewSegment, Notification, RecoveryMethod};
use lifeboat_core::store::{ListQuery, NotificationFilter, Store};
use lifeboat_core::validation::{Description, HostType, Name};
use serde_json::json;
use tokio::process::Child;

use crate::support::{exit_within, lifeboat_under, spawn_logged};

/// A running agent (`lifeboat <command>`), killed when dropped.
pub struct Agent {
    pub log: PathBuf,
    child: Child,
}

impl Agent {
    /// Starts `lifeboat <command> --config-file <conf>`, inside `netns` when given.
    pub fn start(command: &str, conf: &Path, netns: Option<&str>) -> Self {
        match netns {
            Some(ns) => Self::start_under(command, conf, &["ip", "netns", "exec", ns]),
            None => Self::start_under(command, conf, &[]),
        }
    }

    /// Starts `lifeboat <command> --config-file <conf>` as the last argument of `wrapper` (a
    /// program that enters namespaces and executes its arguments, such as `nsenter -t PID -m
    /// -n`); directly when `wrapper` is empty.
    pub fn start_under(command: &str, conf: &Path, wrapper: &[&str]) -> Self {
        Self::start_filtered(command, conf, wrapper, "info")
    }

    /// [`Agent::start_under`] with `log_filter` as `RUST_LOG`.
    pub fn start_filtered(command: &str, conf: &Path, wrapper: &[&str], log_filter: &str) -> Self {
        let log = conf.with_extension(format!("{command}.log"));
        let mut cmd = lifeboat_under(wrapper);
        cmd.arg(command).arg("--config-file").arg(conf);
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("LIFEBOAT__")) {
            cmd.env_remove(key);
        }
        cmd.env("RUST_LOG", log_filter);
        let child = spawn_logged(&mut cmd, &log);
        Self { log, child }
    }

    /// What the agent logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process id (to send it signals).
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the agent has not been reaped")
    }

    /// Waits up to `timeout` for the agent to exit: how it exited, or `None` if it still runs.
    pub async fn exit_within(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        exit_within(&mut self.child, timeout).await
    }

    /// Kills the agent at once (no clean shutdown), as a crash would.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Registers `hosts` in a new segment.
pub async fn register(store: &Arc<dyn Store>, segment: &str, hosts: &[&str]) {
    let seg = store
        .create_segment(
            NewSegment {
                name: Name::parse("name", &json!(segment)).unwrap(),
                description: None,
                recovery_method: RecoveryMethod::Auto,
                service_type: Name::parse("service_type", &json!("COMPUTE")).unwrap(),
                enabled: true,
            },
            SystemClock.now(),
        )
        .await
        .unwrap();
    for host in hosts {
        store
            .create_host(
                seg.uuid,
                NewHost {
                    name: Name::parse("name", &json!(host)).unwrap(),
                    host_type: HostType::parse("type", &json!("COMPUTE")).unwrap(),
                    control_attributes: Description::parse("control_attributes", &json!("SSH"))
                        .unwrap(),
                    reserved: false,
                    on_maintenance: false,
                },
                SystemClock.now(),
            )
            .await
            .unwrap();
    }
}

/// Every notification the API accepted.
pub async fn notifications(store: &Arc<dyn Store>) -> Vec<Notification> {
    store
        .list_notifications(&ListQuery::<NotificationFilter>::default())
        .await
        .unwrap()
}

/// Notifications about host `name` (by its source host).
pub async fn notifications_of(store: &Arc<dyn Store>, name: &str) -> Vec<Notification> {
    let Some(host) = store.get_host_by_name(name).await.unwrap() else {
        return Vec::new();
    };
    notifications(store)
        .await
        .into_iter()
        .filter(|n| n.source_host_uuid == host.uuid)
        .collect()
}

/// Polls `check` every 100 ms until it is true or `timeout` passes; true if it became true.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `[api]` and `[outbox]` lines of an agent talking to `endpoint` without authentication.
pub fn agent_conf(hostname: &str, endpoint: &str, outbox: &Path) -> String {
    format!(
        "[DEFAULT]\nhostname = {hostname}\n[api]\nauth_type = none\nendpoint = {endpoint}\ntimeout = 5\n\
         [outbox]\npath = {}\nretry_initial = 0.2\nretry_max = 1\n",
        outbox.display()
    )
}

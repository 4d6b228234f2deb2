//! systemd units, driven through `systemctl` (only where systemd is PID 1: the agent does
//! not resolve elsewhere). `start`/`stop` wait for systemd's job; `monitor` reads the unit's
//! `ActiveState` as Pacemaker does: active or reloading is running, activating or
//! deactivating is asked again until the timeout, anything else is not running. As
//! Pacemaker does, `start` first gives the unit a runtime drop-in (removed at `stop`) that
//! orders it before the cluster daemon, so that a shutdown stops it while the cluster still
//! runs, and for services sets `Restart=no`, so that systemd does not restart behind the
//! cluster's back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

use crate::Action;
use crate::outcome::{OcfRc, OpResult, OpStatus};
use crate::process::{self, Exit, Limits};

const SYSTEMCTL: &str = "/usr/bin/systemctl";
/// Where runtime drop-ins go (gone at reboot, as the cluster's hold on a unit is).
const RUNTIME_UNITS: &str = "/run/systemd/system";
/// The cluster daemon's unit, which cluster-managed units are ordered before.
pub const DAEMON_UNIT: &str = "lifeboat-crm.service";

/// The drop-in's path for `unit`.
pub fn drop_in_path(unit: &str) -> PathBuf {
    Path::new(RUNTIME_UNITS)
        .join(format!("{unit}.d"))
        .join("50-lifeboat.conf")
}

/// The drop-in's text for `unit`.
pub fn drop_in_text(unit: &str) -> String {
    let mut text = format!("[Unit]\nDescription=Cluster Controlled {unit}\nBefore={DAEMON_UNIT}\n");
    if unit.ends_with(".service") {
        text.push_str("\n[Service]\nRestart=no\n");
    }
    text
}

/// Writes or removes the drop-in, then has systemd reread its units.
async fn set_drop_in(unit: &str, present: bool, limits: Limits) -> Result<(), String> {
    let path = drop_in_path(unit);
    let changed = if present {
        let dir = path.parent().unwrap_or(Path::new(RUNTIME_UNITS));
        let written = match tokio::fs::create_dir_all(dir).await {
            Ok(()) => tokio::fs::write(&path, drop_in_text(unit)).await,
            Err(e) => Err(e),
        };
        written.map_err(|e| format!("writing {} failed: {e}", path.display()))?;
        true
    } else {
        tokio::fs::remove_file(&path).await.is_ok()
    };
    if changed {
        match systemctl(&["daemon-reload"], limits).await {
            Ok((Exit::Code(0), _)) => {}
            Ok((_, stderr)) => {
                return Err(format!("systemctl daemon-reload failed: {}", stderr.trim()));
            }
            Err(e) => return Err(format!("{SYSTEMCTL} could not be run: {e}")),
        }
    }
    Ok(())
}

/// What an `ActiveState` means to a monitor: an rc, or "ask again" (None).
pub fn active_state_rc(state: &str) -> Option<OcfRc> {
    match state.trim() {
        "active" | "reloading" => Some(OcfRc::Ok),
        "activating" | "deactivating" => None,
        _ => Some(OcfRc::NotRunning),
    }
}

/// Runs `action` on `unit`.
pub async fn execute(unit: &str, action: Action, timeout: Duration, limits: Limits) -> OpResult {
    let started = Instant::now();
    let verb = match action {
        Action::Start => "start",
        Action::Stop => "stop",
        Action::Reload => "reload",
        Action::Monitor => return monitor(unit, started, limits).await,
        _ => {
            return result(
                OcfRc::Unimplemented,
                OpStatus::Done,
                started,
                timeout,
                Some(format!("systemd units have no {action} action")),
            );
        }
    };
    if action == Action::Start
        && let Err(reason) = set_drop_in(unit, true, limits).await
    {
        return failed(started, timeout, reason);
    }
    let outcome = systemctl(&[verb, unit], limits).await;
    if action == Action::Stop
        && matches!(outcome, Ok((Exit::Code(0), _)))
        && let Err(reason) = set_drop_in(unit, false, limits).await
    {
        return failed(started, timeout, reason);
    }
    match outcome {
        Ok((Exit::Code(0), _)) => result(OcfRc::Ok, OpStatus::Done, started, timeout, None),
        Ok((Exit::Code(code), stderr)) => result(
            OcfRc::Generic,
            OpStatus::Done,
            started,
            timeout,
            Some(format!(
                "systemctl {verb} {unit} exited {code}: {}",
                stderr.trim()
            )),
        ),
        Ok((Exit::TimedOut, _)) => timed_out(started, timeout),
        Ok((Exit::Signal, _)) | Err(_) => failed_to_run(started, timeout),
    }
}

async fn monitor(unit: &str, started: Instant, limits: Limits) -> OpResult {
    let timeout = limits.timeout;
    loop {
        let left = timeout.saturating_sub(started.elapsed());
        let once = Limits {
            timeout: left,
            ..limits
        };
        match systemctl(&["show", "--property=ActiveState", "--value", unit], once).await {
            Ok((Exit::Code(0), state)) => {
                if let Some(rc) = active_state_rc(&state) {
                    return result(rc, OpStatus::Done, started, timeout, None);
                }
            }
            Ok((Exit::Code(_), _)) => {
                return result(OcfRc::NotRunning, OpStatus::Done, started, timeout, None);
            }
            Ok((Exit::TimedOut, _)) => return timed_out(started, timeout),
            Ok((Exit::Signal, _)) | Err(_) => return failed_to_run(started, timeout),
        }
        if started.elapsed() + Duration::from_millis(200) >= timeout {
            return timed_out(started, timeout);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs systemctl; returns how it ended and its stdout (the state) or stderr (the reason).
async fn systemctl(args: &[&str], limits: Limits) -> std::io::Result<(Exit, String)> {
    let env = BTreeMap::from([
        (
            "PATH".to_owned(),
            "/usr/sbin:/usr/bin:/sbin:/bin".to_owned(),
        ),
        ("LC_ALL".to_owned(), "C".to_owned()),
    ]);
    let done = process::run(Path::new(SYSTEMCTL), args, &env, limits).await?;
    let text = if done.exit == Exit::Code(0) {
        done.stdout
    } else {
        done.stderr
    };
    Ok((done.exit, text))
}

fn result(
    rc: OcfRc,
    status: OpStatus,
    started: Instant,
    timeout: Duration,
    reason: Option<String>,
) -> OpResult {
    OpResult {
        rc,
        status,
        exit_code: None,
        exit_reason: reason,
        stdout: String::new(),
        stderr: String::new(),
        truncated: false,
        duration: started.elapsed(),
        timeout,
    }
}

fn timed_out(started: Instant, timeout: Duration) -> OpResult {
    let reason = format!("systemd did not finish within {timeout:?}");
    result(
        OcfRc::Generic,
        OpStatus::Timeout,
        started,
        timeout,
        Some(reason),
    )
}

fn failed(started: Instant, timeout: Duration, reason: String) -> OpResult {
    result(
        OcfRc::Generic,
        OpStatus::Error,
        started,
        timeout,
        Some(reason),
    )
}

fn failed_to_run(started: Instant, timeout: Duration) -> OpResult {
    failed(started, timeout, format!("{SYSTEMCTL} could not be run"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_states_map_as_pacemaker_maps_them() {
        assert_eq!(active_state_rc("active\n"), Some(OcfRc::Ok));
        assert_eq!(active_state_rc("reloading"), Some(OcfRc::Ok));
        assert_eq!(active_state_rc("activating"), None);
        assert_eq!(active_state_rc("deactivating"), None);
        assert_eq!(active_state_rc("inactive"), Some(OcfRc::NotRunning));
        assert_eq!(active_state_rc("failed"), Some(OcfRc::NotRunning));
    }

    #[test]
    fn cluster_units_get_pacemakers_kind_of_drop_in() {
        assert_eq!(
            drop_in_path("haproxy.service"),
            Path::new("/run/systemd/system/haproxy.service.d/50-lifeboat.conf")
        );
        assert_eq!(
            drop_in_text("haproxy.service"),
            "[Unit]\nDescription=Cluster Controlled haproxy.service\nBefore=lifeboat-crm.service\n\n[Service]\nRestart=no\n"
        );
        assert!(
            !drop_in_text("x.socket").contains("Restart"),
            "only services restart"
        );
    }
}

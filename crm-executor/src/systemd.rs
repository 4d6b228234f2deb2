//! systemd units, driven through `systemctl` (only where systemd is PID 1: the agent does
//! not resolve elsewhere). `start`/`stop` wait for systemd's job; `monitor` reads the unit's
//! `ActiveState` as Pacemaker does: active or reloading is running, activating or
//! deactivating is asked again until the timeout, anything else is not running.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;

use crate::Action;
use crate::outcome::{OcfRc, OpResult, OpStatus};
use crate::process::{self, Exit, Limits};

const SYSTEMCTL: &str = "/usr/bin/systemctl";

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
    match systemctl(&[verb, unit], limits).await {
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

fn failed_to_run(started: Instant, timeout: Duration) -> OpResult {
    let reason = format!("{SYSTEMCTL} could not be run");
    result(
        OcfRc::Generic,
        OpStatus::Error,
        started,
        timeout,
        Some(reason),
    )
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
}

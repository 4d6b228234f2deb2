//! systemd's service protocol (`Type=notify`, `WatchdogSec=`): readiness, stopping and the
//! watchdog, as datagrams to the socket systemd names in `NOTIFY_SOCKET`. Not under systemd
//! (no `NOTIFY_SOCKET`) every call does nothing.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// The notification socket's address; `@name` is an abstract socket.
fn socket_address(value: &OsString) -> Option<SocketAddr> {
    let bytes = value.as_bytes();
    if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        SocketAddr::from_abstract_name(name).ok()
    } else {
        SocketAddr::from_pathname(value).ok()
    }
}

/// Sends `state` (`READY=1`, …) to systemd; false when not under systemd or the send failed.
fn notify(state: &str) -> bool {
    let Some(address) = std::env::var_os("NOTIFY_SOCKET").and_then(|v| socket_address(&v)) else {
        return false;
    };
    let sent = UnixDatagram::unbound().and_then(|s| s.send_to_addr(state.as_bytes(), &address));
    if let Err(e) = &sent {
        tracing::warn!(error = %e, "telling systemd {state:?} failed");
    }
    sent.is_ok()
}

/// The process serves: systemd considers the unit started.
pub fn ready(status: &str) {
    notify(&format!("READY=1\nSTATUS={status}"));
}

/// How often systemd wants a watchdog ping (half its timeout), if it wants them from this
/// process at all.
fn watchdog_period() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.parse::<u32>().ok()? != std::process::id()
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

/// Until `shutdown`, pings the watchdog (from a runtime task, so a wedged runtime stops the
/// pings and systemd restarts the process); then says STOPPING=1.
pub fn supervise(shutdown: CancellationToken) {
    let period = watchdog_period();
    tokio::spawn(async move {
        let Some(period) = period else {
            shutdown.cancelled().await;
            notify("STOPPING=1");
            return;
        };
        let mut tick = tokio::time::interval(period);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = tick.tick() => {
                    notify("WATCHDOG=1");
                }
            }
        }
        notify("STOPPING=1");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abstract_and_path_sockets_are_told_apart() {
        let path = socket_address(&OsString::from("/run/systemd/notify")).unwrap();
        assert_eq!(
            path.as_pathname(),
            Some(std::path::Path::new("/run/systemd/notify"))
        );
        use std::os::linux::net::SocketAddrExt;
        let abstract_name = socket_address(&OsString::from("@/org/freedesktop/notify")).unwrap();
        assert_eq!(
            abstract_name.as_abstract_name(),
            Some(&b"/org/freedesktop/notify"[..])
        );
    }
}

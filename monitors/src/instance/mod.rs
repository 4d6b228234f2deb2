//! The instancemonitor: libvirt domain events (lifecycle, reboot, watchdog, I/O errors,
//! control errors) reported as VM notifications, as masakari-monitors' instancemonitor does.
//!
//! Lifeboat speaks libvirt's RPC protocol itself ([`rpc`]); it reconnects when libvirtd
//! restarts, and reports a burst of equal events of one domain once per `coalesce_window`.

mod events;
mod rpc;
mod xdr;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::clock::Clock;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use events::{DomainEvent, notification_for};
pub use rpc::{Connection, Incoming, LibvirtError, socket_for};

use crate::delivery::{Outbox, Report};

/// Between two keepalive pings.
const PING_EVERY: Duration = Duration::from_secs(5);
/// A daemon that answered pings before and is silent this long is gone.
const SILENT_LIMIT: Duration = Duration::from_secs(15);

/// Instancemonitor settings.
#[derive(Debug, Clone)]
pub struct InstanceMonitorSettings {
    /// This node's name.
    pub hostname: String,
    /// `[libvirt] connection_uri`.
    pub connection_uri: String,
    /// Between two connection attempts.
    pub reconnect_interval: Duration,
    /// Equal events of one domain within this window are reported once.
    pub coalesce_window: Duration,
}

/// Drops an event equal to one reported less than `window` ago.
#[derive(Debug, Default)]
pub struct Coalescer {
    window: Duration,
    last: HashMap<(String, &'static str, &'static str), Instant>,
}

impl Coalescer {
    /// A coalescer over `window`.
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            last: HashMap::new(),
        }
    }

    /// Whether the event is new enough to report (and remembers it if so).
    pub fn admit(
        &mut self,
        uuid: &str,
        event: &'static str,
        detail: &'static str,
        now: Instant,
    ) -> bool {
        self.last
            .retain(|_, at| now.saturating_duration_since(*at) < self.window);
        let key = (uuid.to_owned(), event, detail);
        if self.last.contains_key(&key) {
            return false;
        }
        self.last.insert(key, now);
        true
    }
}

/// The instancemonitor.
#[derive(Debug)]
pub struct InstanceMonitor {
    settings: InstanceMonitorSettings,
    outbox: Arc<Outbox>,
    clock: Arc<dyn Clock>,
}

impl InstanceMonitor {
    /// A monitor reporting through `outbox`.
    pub fn new(
        settings: InstanceMonitorSettings,
        outbox: Arc<Outbox>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            settings,
            outbox,
            clock,
        }
    }

    /// Connects, reports, and reconnects until `cancel`.
    pub async fn run(self, cancel: CancellationToken) {
        let (path, name) = socket_for(&self.settings.connection_uri);
        let mut coalescer = Coalescer::new(self.settings.coalesce_window);
        let mut warned = false;
        loop {
            let opened = tokio::select! {
                c = Connection::open(&path, &name) => c,
                () = cancel.cancelled() => return,
            };
            match opened {
                Ok(conn) => {
                    tracing::info!(libvirt.uri = %name, libvirt.socket = %path.display(), "instancemonitor connected to libvirt; watching domain events");
                    warned = false;
                    match self.watch(conn, &mut coalescer, &cancel).await {
                        None => return,
                        Some(e) => {
                            tracing::warn!(error = %e, "lost the libvirt connection; reconnecting")
                        }
                    }
                }
                Err(e) if !warned => {
                    tracing::warn!(error = %e, "cannot reach libvirt; retrying every {:?}", self.settings.reconnect_interval);
                    warned = true;
                }
                Err(e) => tracing::debug!(error = %e, "libvirt still unreachable"),
            }
            tokio::select! {
                () = tokio::time::sleep(self.settings.reconnect_interval) => {}
                () = cancel.cancelled() => return,
            }
        }
    }

    /// Reports events until the connection fails (`Some(error)`) or `cancel` (`None`).
    async fn watch(
        &self,
        mut conn: Connection,
        coalescer: &mut Coalescer,
        cancel: &CancellationToken,
    ) -> Option<LibvirtError> {
        let mut ping = tokio::time::interval(PING_EVERY);
        let mut last_heard = Instant::now();
        let mut answers_pings = false;
        loop {
            tokio::select! {
                () = cancel.cancelled() => return None,
                _ = ping.tick() => {
                    // Only a daemon known to answer pings is judged by its silence.
                    if answers_pings && last_heard.elapsed() > SILENT_LIMIT {
                        return Some(LibvirtError::Closed);
                    }
                    if let Err(e) = conn.ping().await {
                        return Some(e);
                    }
                }
                incoming = conn.next() => {
                    last_heard = Instant::now();
                    match incoming {
                        Err(e) => return Some(e),
                        Ok(Incoming::Ping) => {
                            if let Err(e) = conn.pong().await {
                                return Some(e);
                            }
                        }
                        Ok(Incoming::Pong) => answers_pings = true,
                        Ok(Incoming::Other) => {}
                        Ok(Incoming::Event(e)) => self.handle(&e, coalescer).await,
                    }
                }
            }
        }
    }

    async fn handle(&self, e: &DomainEvent, coalescer: &mut Coalescer) {
        let Some((event, detail)) = notification_for(e) else {
            tracing::debug!(domain = %e.domain, event_id = e.event_id, kind = e.kind, detail = e.detail, "domain event not reported");
            return;
        };
        if !coalescer.admit(&e.uuid, event, detail, Instant::now()) {
            tracing::debug!(domain = %e.domain, instance.uuid = %e.uuid, event, detail, "repeated domain event coalesced");
            return;
        }
        tracing::info!(domain = %e.domain, instance.uuid = %e.uuid, event, vir_domain_event = detail, "domain event");
        let report = Report::vm(
            &self.settings.hostname,
            &e.uuid,
            event,
            detail,
            self.clock.now(),
        );
        let _ = self.outbox.push(&report).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_equal_events_is_reported_once_per_window() {
        let mut c = Coalescer::new(Duration::from_secs(5));
        let t = Instant::now();
        assert!(c.admit("u", "IO_ERROR", "IO_ERROR_REPORT", t));
        assert!(!c.admit(
            "u",
            "IO_ERROR",
            "IO_ERROR_REPORT",
            t + Duration::from_secs(1)
        ));
        assert!(c.admit(
            "u",
            "IO_ERROR",
            "IO_ERROR_PAUSE",
            t + Duration::from_secs(1)
        ));
        assert!(c.admit(
            "v",
            "IO_ERROR",
            "IO_ERROR_REPORT",
            t + Duration::from_secs(1)
        ));
        assert!(c.admit(
            "u",
            "IO_ERROR",
            "IO_ERROR_REPORT",
            t + Duration::from_secs(6)
        ));
    }
}

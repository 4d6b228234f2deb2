//! The instancemonitor: libvirt domain events (lifecycle, reboot, watchdog, I/O errors,
//! control errors) reported as VM notifications, as masakari-monitors' instancemonitor does.
//!
//! Lifeboat speaks libvirt's RPC protocol itself ([`rpc`]); it reconnects when libvirtd
//! restarts, and reports a burst of equal events of one domain once per `coalesce_window`.
//! Optionally it also runs the QEMU guest-agent heartbeat ([`heartbeat`]) of masakari's
//! introspectiveinstancemonitor, fed with the boots the event loop sees.

mod events;
pub mod guest;
pub mod heartbeat;
mod rpc;
mod xdr;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::clock::Clock;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use events::{DomainEvent, is_boot, notification_for};
pub use heartbeat::{AgentChannels, GuestHeartbeat, HeartbeatSettings, agent_channels};
pub use rpc::{Client, Connection, DomainRef, Incoming, LibvirtError, rw_socket_for, socket_for};
use tokio::sync::mpsc;

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

/// Logs an unreachable libvirtd once per outage, and waits between connection attempts.
#[derive(Debug)]
struct Reconnect {
    who: &'static str,
    interval: Duration,
    warned: bool,
}

impl Reconnect {
    fn new(who: &'static str, interval: Duration) -> Self {
        Self {
            who,
            interval,
            warned: false,
        }
    }

    /// Opens a connection with `open`, retrying; `None` when cancelled first.
    async fn open<C, F>(&mut self, open: impl Fn() -> F, cancel: &CancellationToken) -> Option<C>
    where
        F: std::future::Future<Output = Result<C, LibvirtError>>,
    {
        loop {
            let opened = tokio::select! {
                c = open() => c,
                () = cancel.cancelled() => return None,
            };
            match opened {
                Ok(c) => {
                    self.warned = false;
                    return Some(c);
                }
                Err(e) => self.unreachable(&e),
            }
            if !self.pause(cancel).await {
                return None;
            }
        }
    }

    fn lost(&self, e: &LibvirtError) {
        tracing::warn!(agent = self.who, error = %e, "lost the libvirt connection; reconnecting");
    }

    fn unreachable(&mut self, e: &LibvirtError) {
        if self.warned {
            tracing::debug!(agent = self.who, error = %e, "libvirt still unreachable");
        } else {
            tracing::warn!(agent = self.who, error = %e, "cannot reach libvirt; retrying every {:?}", self.interval);
            self.warned = true;
        }
    }

    /// Waits before the next attempt; false when cancelled.
    async fn pause(&self, cancel: &CancellationToken) -> bool {
        tokio::select! {
            () = tokio::time::sleep(self.interval) => true,
            () = cancel.cancelled() => false,
        }
    }
}

/// The instancemonitor.
#[derive(Debug)]
pub struct InstanceMonitor {
    settings: InstanceMonitorSettings,
    outbox: Arc<Outbox>,
    clock: Arc<dyn Clock>,
    heartbeat: Option<HeartbeatSettings>,
    /// Boots, to the heartbeat (unbounded: the event loop never waits on it).
    boots: Option<mpsc::UnboundedSender<String>>,
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
            heartbeat: None,
            boots: None,
        }
    }

    /// Also runs the guest-agent heartbeat, reporting through the same outbox.
    pub fn with_heartbeat(mut self, heartbeat: HeartbeatSettings) -> Self {
        self.heartbeat = Some(heartbeat);
        self
    }

    /// Connects, reports, and reconnects until `cancel`.
    pub async fn run(mut self, cancel: CancellationToken) {
        if let Some(settings) = self.heartbeat.take() {
            let (tx, rx) = mpsc::unbounded_channel();
            self.boots = Some(tx);
            let heartbeat =
                GuestHeartbeat::new(settings, self.outbox.clone(), self.clock.clone(), rx);
            tokio::spawn(heartbeat.run(cancel.child_token()));
        }
        let (path, name) = socket_for(&self.settings.connection_uri);
        let mut coalescer = Coalescer::new(self.settings.coalesce_window);
        let mut retry = Reconnect::new("instancemonitor", self.settings.reconnect_interval);
        loop {
            let Some(conn) = retry.open(|| Connection::open(&path, &name), &cancel).await else {
                return;
            };
            tracing::info!(libvirt.uri = %name, libvirt.socket = %path.display(), "instancemonitor connected to libvirt; watching domain events");
            match self.watch(conn, &mut coalescer, &cancel).await {
                None => return,
                Some(e) => retry.lost(&e),
            }
            if !retry.pause(&cancel).await {
                return;
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
        if let Some(boots) = self.boots.as_ref().filter(|_| is_boot(e)) {
            let _ = boots.send(e.uuid.clone());
        }
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

//! The QEMU guest-agent heartbeat (masakari's introspectiveinstancemonitor): every
//! `interval`, each running domain with a guest-agent channel is sent `guest-ping` through
//! libvirt; a guest whose agent answered and then stops answering is reported as
//! `QEMU_GUEST_AGENT_ERROR` / `STOPPED_FAILED` (see [`super::guest`] for exactly when).
//!
//! It runs beside the event loop, on its own read-write connection (guest-agent commands are
//! refused on a read-only one); pings of different domains run concurrently, each bounded by a
//! timeout, so one hung guest delays neither the others nor the lifecycle events.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::clock::Clock;
use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Reconnect;
use super::guest::{Decision, GuestHealth, Ping};
use super::rpc::{Client, DomainRef, LibvirtError, rw_socket_for};
use crate::delivery::{Outbox, Report};

/// What is sent to the agent.
const GUEST_PING: &str = r#"{"execute": "guest-ping"}"#;
/// The guest agent's channel name (what Nova and virt-install give it).
const AGENT_CHANNEL: &str = "org.qemu.guest_agent.0";
/// Pings in flight at once: below libvirtd's default `max_client_requests` (5), so pings queue
/// here, where their timeout does not run yet, rather than in the daemon.
const CONCURRENT_PINGS: usize = 4;
/// Beyond libvirt's own ping timeout, how long an answer from libvirtd may take.
const DAEMON_MARGIN: Duration = Duration::from_secs(5);
/// Listing domains and reading their XML.
const CALL_LIMIT: Duration = Duration::from_secs(30);
/// libvirt error codes (`virErrorNumber`).
const VIR_ERR_OPERATION_DENIED: i32 = 29;
const VIR_ERR_NO_DOMAIN: i32 = 42;
const VIR_ERR_OPERATION_INVALID: i32 = 55;
const VIR_ERR_ACCESS_DENIED: i32 = 88;

/// Guest-agent heartbeat settings (`[introspectiveinstancemonitor]`).
#[derive(Debug, Clone)]
pub struct HeartbeatSettings {
    /// This node's name.
    pub hostname: String,
    /// `[libvirt] connection_uri`.
    pub connection_uri: String,
    /// Between two connection attempts.
    pub reconnect_interval: Duration,
    /// Between two pings of a domain.
    pub interval: Duration,
    /// libvirt's timeout for one ping (whole seconds, at least 1).
    pub timeout: Duration,
    /// Consecutive failed pings that report a guest.
    pub threshold: u32,
    /// Which domains are watched.
    pub channels: AgentChannels,
}

/// Which domains are watched: those with a guest-agent channel matching this.
#[derive(Debug, Clone)]
pub enum AgentChannels {
    /// A channel whose bind-mode source path matches (from its start) this regex:
    /// masakari's `qemu_guest_agent_sock_path` rule (Nova's agent sockets).
    SocketPath(Regex),
    /// Any channel named `org.qemu.guest_agent.0`, wherever its socket is.
    AnyAgent,
}

/// `qemu_guest_agent_sock_path` is not a regular expression.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CompileSockPathError(Box<regex_automata::meta::BuildError>);

/// `qemu_guest_agent_sock_path` compiled; empty means [`AgentChannels::AnyAgent`].
pub fn agent_channels(sock_path: &str) -> Result<AgentChannels, CompileSockPathError> {
    if sock_path.is_empty() {
        return Ok(AgentChannels::AnyAgent);
    }
    Regex::new(sock_path)
        .map(AgentChannels::SocketPath)
        .map_err(|e| CompileSockPathError(Box::new(e)))
}

/// Whether the domain `xml` has a guest-agent channel that `channels` selects.
pub fn has_agent_channel(xml: &str, channels: &AgentChannels) -> bool {
    let Ok(doc) = roxmltree::Document::parse(xml) else {
        return false;
    };
    doc.descendants()
        .filter(|n| {
            n.has_tag_name("channel") && n.parent().is_some_and(|p| p.has_tag_name("devices"))
        })
        .any(|channel| {
            let child = |tag: &str| channel.children().find(|c| c.has_tag_name(tag));
            match channels {
                AgentChannels::AnyAgent => child("target")
                    .and_then(|t| t.attribute("name"))
                    .is_some_and(|name| name == AGENT_CHANNEL),
                AgentChannels::SocketPath(re) => child("source")
                    .filter(|s| s.attribute("mode") == Some("bind"))
                    .and_then(|s| s.attribute("path"))
                    .is_some_and(|path| re.is_match(Input::new(path).anchored(Anchored::Yes))),
            }
        })
}

/// What one ping's answer from libvirt means.
#[derive(Debug)]
pub enum Outcome {
    /// The guest's agent is judged by it.
    Guest(Ping, Option<String>),
    /// The domain stopped or vanished meanwhile: not the guest's failure.
    NotRunning,
    /// libvirt refuses the command to this connection (read-only socket, ACL): a setup error.
    Denied(String),
    /// The connection to libvirtd failed: reconnect.
    Connection(LibvirtError),
}

/// Classifies a ping's result. Any refusal about the agent (not connected, timed out, agent
/// error) is a failed ping, as in masakari; a stopped domain and a refusal of the connection
/// itself are not.
pub fn classify(result: Result<Option<String>, LibvirtError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Guest(Ping::Answered, None),
        Err(LibvirtError::Refused { code, message, .. }) => match code {
            VIR_ERR_NO_DOMAIN | VIR_ERR_OPERATION_INVALID => Outcome::NotRunning,
            VIR_ERR_OPERATION_DENIED | VIR_ERR_ACCESS_DENIED => Outcome::Denied(message),
            _ => Outcome::Guest(Ping::Failed, Some(format!("{message} (code {code})"))),
        },
        Err(e @ LibvirtError::Unanswered { .. }) => {
            Outcome::Guest(Ping::Failed, Some(e.to_string()))
        }
        Err(e) => Outcome::Connection(e),
    }
}

#[derive(Debug)]
struct Tracked {
    domain: DomainRef,
    watched: bool,
    health: GuestHealth,
    /// Whether the unproven guest's silence was logged already.
    noted: bool,
}

/// The heartbeat task.
#[derive(Debug)]
pub struct GuestHeartbeat {
    settings: HeartbeatSettings,
    outbox: Arc<Outbox>,
    clock: Arc<dyn Clock>,
    resets: mpsc::UnboundedReceiver<String>,
}

impl GuestHeartbeat {
    /// A heartbeat reporting through `outbox`; `resets` carries the UUIDs of domains that
    /// started or rebooted (from the event loop).
    pub fn new(
        settings: HeartbeatSettings,
        outbox: Arc<Outbox>,
        clock: Arc<dyn Clock>,
        resets: mpsc::UnboundedReceiver<String>,
    ) -> Self {
        Self {
            settings,
            outbox,
            clock,
            resets,
        }
    }

    /// Pings, reports and reconnects until `cancel`.
    pub async fn run(mut self, cancel: CancellationToken) {
        let (path, name) = rw_socket_for(&self.settings.connection_uri);
        let mut tracked: HashMap<String, Tracked> = HashMap::new();
        let mut retry = Reconnect::new("guest-agent heartbeat", self.settings.reconnect_interval);
        let open = || async {
            tokio::time::timeout(CALL_LIMIT, Client::open(&path, &name))
                .await
                .unwrap_or(Err(LibvirtError::Unanswered {
                    call: "connect_open",
                }))
        };
        loop {
            let Some(client) = retry.open(open, &cancel).await else {
                return;
            };
            tracing::info!(libvirt.uri = %name, libvirt.socket = %path.display(), interval = ?self.settings.interval, threshold = self.settings.threshold, "guest-agent heartbeat connected to libvirt");
            match self.watch(&Arc::new(client), &mut tracked, &cancel).await {
                None => return,
                Some(e) => retry.lost(&e),
            }
            if !retry.pause(&cancel).await {
                return;
            }
        }
    }

    /// Runs rounds until the connection fails (`Some(error)`) or `cancel` (`None`).
    async fn watch(
        &mut self,
        client: &Arc<Client>,
        tracked: &mut HashMap<String, Tracked>,
        cancel: &CancellationToken,
    ) -> Option<LibvirtError> {
        let mut tick = tokio::time::interval(self.settings.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut denied_logged = false;
        loop {
            tokio::select! {
                () = cancel.cancelled() => return None,
                Some(uuid) = self.resets.recv() => {
                    if let Some(t) = tracked.get_mut(&uuid) {
                        tracing::debug!(instance.uuid = %uuid, "domain started or rebooted; its agent must answer again");
                        t.health.reset();
                        t.noted = false;
                    }
                }
                _ = tick.tick() => {
                    let round = tokio::select! {
                        r = self.round(client, tracked, &mut denied_logged) => r,
                        () = cancel.cancelled() => return None,
                    };
                    if let Err(e) = round {
                        return Some(e);
                    }
                }
            }
        }
    }

    /// Refreshes the watched domains and pings each once.
    async fn round(
        &self,
        client: &Arc<Client>,
        tracked: &mut HashMap<String, Tracked>,
        denied_logged: &mut bool,
    ) -> Result<(), LibvirtError> {
        let running = limited("connect_list_all_domains", client.running_domains()).await?;
        let mut listed = HashSet::with_capacity(running.len());
        for domain in running {
            let uuid = domain.uuid_string();
            listed.insert(uuid.clone());
            // A new domain id means the domain was started again: a fresh judgement.
            if tracked.get(&uuid).is_some_and(|t| t.domain.id == domain.id) {
                continue;
            }
            let xml = match limited("domain_get_xml_desc", client.domain_xml(&domain)).await {
                Ok(xml) => xml,
                // Gone between the listing and now.
                Err(LibvirtError::Refused { .. }) => continue,
                Err(e) => return Err(e),
            };
            let watched = has_agent_channel(&xml, &self.settings.channels);
            if watched {
                tracing::info!(domain = %domain.name, instance.uuid = %uuid, "watching the domain's QEMU guest agent");
            }
            tracked.insert(
                uuid,
                Tracked {
                    domain,
                    watched,
                    health: GuestHealth::default(),
                    noted: false,
                },
            );
        }
        tracked.retain(|uuid, _| listed.contains(uuid));

        let libvirt_timeout = i32::try_from(self.settings.timeout.as_secs().max(1)).unwrap_or(60);
        let limit = self.settings.timeout.max(Duration::from_secs(1)) + DAEMON_MARGIN;
        let slots = Arc::new(Semaphore::new(CONCURRENT_PINGS));
        let mut pings = JoinSet::new();
        for (uuid, t) in tracked.iter().filter(|(_, t)| t.watched) {
            let (client, slots, domain, uuid) = (
                client.clone(),
                slots.clone(),
                t.domain.clone(),
                uuid.clone(),
            );
            pings.spawn(async move {
                let _slot = slots.acquire_owned().await;
                let answer = tokio::time::timeout(
                    limit,
                    client.agent_command(&domain, GUEST_PING, libvirt_timeout),
                )
                .await
                .unwrap_or(Err(LibvirtError::Unanswered {
                    call: "qemu_domain_agent_command",
                }));
                (uuid, answer)
            });
        }
        let mut lost = None;
        while let Some(done) = pings.join_next().await {
            let Ok((uuid, answer)) = done else { continue };
            match classify(answer) {
                Outcome::Guest(ping, why) => self.judge(tracked, &uuid, ping, why).await,
                Outcome::NotRunning => {
                    tracked.remove(&uuid);
                }
                Outcome::Denied(message) => {
                    if !*denied_logged {
                        tracing::error!(libvirt.error = %message, "libvirt refuses guest-agent commands to this connection; the guest-agent heartbeat needs libvirtd's read-write socket (root, or [libvirt] connection_uri with ?socket=/run/libvirt/libvirt-sock)");
                        *denied_logged = true;
                    }
                }
                Outcome::Connection(e) => lost = Some(e),
            }
        }
        lost.map_or(Ok(()), Err)
    }

    async fn judge(
        &self,
        tracked: &mut HashMap<String, Tracked>,
        uuid: &str,
        ping: Ping,
        why: Option<String>,
    ) {
        let Some(t) = tracked.get_mut(uuid) else {
            return;
        };
        let was_unproven = t.health.phase == super::guest::Phase::Unproven;
        let decision = t
            .health
            .observe(ping, self.settings.threshold, Instant::now());
        let name = &t.domain.name;
        let why = why.unwrap_or_default();
        match decision {
            Decision::Nothing if was_unproven && !t.noted => {
                tracing::info!(domain = %name, instance.uuid = %uuid, error = %why, "guest-agent ping failed; the guest has never answered, so it is not judged until it does");
                t.noted = true;
            }
            Decision::Nothing if ping == Ping::Failed => {
                tracing::debug!(domain = %name, instance.uuid = %uuid, error = %why, phase = ?t.health.phase, "guest-agent ping failed");
            }
            Decision::Nothing => {}
            Decision::Proven => {
                tracing::info!(domain = %name, instance.uuid = %uuid, "the guest agent answers; the domain is protected by the heartbeat");
            }
            Decision::Recovered => {
                tracing::info!(domain = %name, instance.uuid = %uuid, "the guest agent answers again");
            }
            Decision::Report(silent) => {
                tracing::warn!(domain = %name, instance.uuid = %uuid, error = %why, silent_for = ?silent, failures = self.settings.threshold, "the guest agent stopped answering; reporting QEMU_GUEST_AGENT_ERROR");
                let report = Report::vm(
                    &self.settings.hostname,
                    uuid,
                    "QEMU_GUEST_AGENT_ERROR",
                    "STOPPED_FAILED",
                    self.clock.now(),
                );
                let _ = self.outbox.push(&report).await;
            }
        }
    }
}

/// `call` bounded by [`CALL_LIMIT`].
async fn limited<T>(
    call: &'static str,
    f: impl std::future::Future<Output = Result<T, LibvirtError>>,
) -> Result<T, LibvirtError> {
    tokio::time::timeout(CALL_LIMIT, f)
        .await
        .unwrap_or(Err(LibvirtError::Unanswered { call }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOVA_REGEX: &str = r"/var/lib/libvirt/qemu/org\.qemu\.guest_agent\..*\.instance-.*\.sock";

    fn domain_xml(channel: &str) -> String {
        format!(
            "<domain type='kvm'><name>instance-0000000a</name><devices>\
             <channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>\
             {channel}</devices></domain>"
        )
    }

    #[test]
    fn nova_agent_channels_are_selected_by_the_socket_path_regex() {
        let nova = agent_channels(NOVA_REGEX).unwrap();
        let any = agent_channels("").unwrap();
        let nova_channel = domain_xml(
            "<channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/org.qemu.guest_agent.0.instance-0000000a.sock'/>\
             <target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
        );
        let auto_path = domain_xml(
            "<channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/channel/target/domain-3-vm/org.qemu.guest_agent.0'/>\
             <target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
        );
        // Anchored at the start, as masakari's re.match.
        let elsewhere = domain_xml(
            "<channel type='unix'><source mode='bind' path='/tmp/var/lib/libvirt/qemu/org.qemu.guest_agent.0.instance-1.sock'/>\
             <target type='virtio' name='other'/></channel>",
        );
        let connect_mode = domain_xml(
            "<channel type='unix'><source mode='connect' path='/var/lib/libvirt/qemu/org.qemu.guest_agent.0.instance-1.sock'/>\
             <target type='virtio' name='x'/></channel>",
        );
        assert!(has_agent_channel(&nova_channel, &nova));
        assert!(!has_agent_channel(&auto_path, &nova));
        assert!(!has_agent_channel(&elsewhere, &nova));
        assert!(!has_agent_channel(&connect_mode, &nova));
        assert!(!has_agent_channel(&domain_xml(""), &nova));
        assert!(has_agent_channel(&nova_channel, &any));
        assert!(has_agent_channel(&auto_path, &any));
        assert!(!has_agent_channel(&elsewhere, &any));
        assert!(!has_agent_channel("not xml", &any));
        assert!(agent_channels("(").is_err());
    }

    fn refused(code: i32, message: &str) -> Result<Option<String>, LibvirtError> {
        Err(LibvirtError::Refused {
            call: "qemu_domain_agent_command",
            code,
            message: message.into(),
        })
    }

    #[test]
    fn agent_refusals_are_failed_pings_and_a_stopped_domain_is_not() {
        assert!(matches!(
            classify(Ok(Some(r#"{"return":{}}"#.into()))),
            Outcome::Guest(Ping::Answered, None)
        ));
        for (code, message) in [
            (
                86,
                "Guest agent is not responding: QEMU guest agent is not connected",
            ),
            (
                86,
                "Guest agent is not responding: Guest agent not available for now",
            ),
            (1, "internal error: unable to execute QEMU agent command"),
        ] {
            assert!(
                matches!(classify(refused(code, message)), Outcome::Guest(Ping::Failed, Some(ref m)) if m.contains(message)),
                "{code}"
            );
        }
        assert!(matches!(
            classify(Err(LibvirtError::Unanswered { call: "x" })),
            Outcome::Guest(Ping::Failed, _)
        ));
        assert!(matches!(
            classify(refused(
                55,
                "Requested operation is not valid: domain is not running"
            )),
            Outcome::NotRunning
        ));
        assert!(matches!(
            classify(refused(42, "no domain")),
            Outcome::NotRunning
        ));
        assert!(matches!(
            classify(refused(
                29,
                "operation forbidden: read only access prevents virDomainQemuAgentCommand"
            )),
            Outcome::Denied(_)
        ));
        assert!(matches!(
            classify(Err(LibvirtError::Closed)),
            Outcome::Connection(_)
        ));
    }
}

//! The `peer` driver: UDP heartbeats between the agents of a segment on one to three networks
//! (management, tenant, storage, as the Consul driver's matrix names them).
//!
//! Every `heartbeat_interval` each agent sends every other agent, on every network, a datagram
//! with the hosts it hears per network; it sends one at once when that view changes, so that
//! agreement on a silent host takes one message, not one interval. See [`view`] for how a
//! host is judged and [`matrix`] for what a judgement means.

mod matrix;
mod view;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::clock::Clock;
use lifeboat_core::model::HostEvent;
use lifeboat_metrics::PeerMetrics;
use serde::{Deserialize, Serialize};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use matrix::{Matrix, MatrixRow, NETWORKS};
pub use view::{Heard, Segment, Verdict, Views};

use super::PowerCheck;
use crate::delivery::{Outbox, Report};

/// Largest heartbeat accepted.
const MAX_DATAGRAM: usize = 8192;
/// How often the views are judged.
const JUDGE_EVERY: Duration = Duration::from_millis(100);

/// Why the driver cannot run.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The `[peer]` options are inconsistent.
    #[error("[peer] {0}")]
    Config(String),
    /// A heartbeat socket could not be bound.
    #[error("binding the {network} heartbeat socket {address} failed: {source}")]
    Bind {
        /// Network name.
        network: String,
        /// Address.
        address: SocketAddr,
        /// OS error.
        #[source]
        source: std::io::Error,
    },
}

/// The driver's settings.
#[derive(Debug, Clone)]
pub struct PeerSettings {
    /// The segment: this agent, all agents, networks, `dead_after`.
    pub segment: Segment,
    /// Network names, in index order.
    pub network_names: Vec<String>,
    /// Per network, every agent's address.
    pub addresses: Vec<HashMap<String, IpAddr>>,
    /// UDP port.
    pub port: u16,
    /// Between two heartbeats.
    pub heartbeat_interval: Duration,
    /// Before hosts never heard count as silent.
    pub startup_grace: Duration,
    /// What down networks mean.
    pub matrix: Matrix,
}

impl PeerSettings {
    /// Builds the settings from `[peer]`'s `name=address` lists (management first; tenant and
    /// storage optional, each naming the same hosts).
    pub fn from_lists(
        me: &str,
        lists: [&[String]; 3],
        port: u16,
        heartbeat_interval: Duration,
        dead_after: Duration,
        startup_grace: Duration,
        matrix_text: Option<&str>,
    ) -> Result<Self, PeerError> {
        let mut network_names = Vec::new();
        let mut addresses = Vec::new();
        for (name, list) in NETWORKS.iter().zip(lists) {
            if list.is_empty() {
                continue;
            }
            let mut map = HashMap::new();
            for item in list {
                let (host, addr) = item.split_once('=').ok_or_else(|| {
                    PeerError::Config(format!("{name}: {item:?} is not name=address"))
                })?;
                let ip: IpAddr = addr.trim().parse().map_err(|_| {
                    PeerError::Config(format!("{name}: {addr:?} is not an IP address"))
                })?;
                map.insert(host.trim().to_owned(), ip);
            }
            network_names.push((*name).to_owned());
            addresses.push(map);
        }
        let Some(first) = addresses.first() else {
            return Err(PeerError::Config("manage: no agents are listed".to_owned()));
        };
        let mut hosts: Vec<String> = first.keys().cloned().collect();
        hosts.sort();
        for (name, map) in network_names.iter().zip(&addresses) {
            let mut these: Vec<&String> = map.keys().collect();
            these.sort();
            if these != hosts.iter().collect::<Vec<_>>() {
                return Err(PeerError::Config(format!(
                    "{name}: the hosts differ from the manage network's"
                )));
            }
        }
        if !hosts.iter().any(|h| h == me) {
            return Err(PeerError::Config(format!(
                "this host ({me}) is not in the list of agents; set [DEFAULT] hostname"
            )));
        }
        if hosts.len() < 3 {
            return Err(PeerError::Config(format!(
                "{} agents listed: at least 3 are needed for a majority to outvote one",
                hosts.len()
            )));
        }
        let names: Vec<&str> = network_names.iter().map(String::as_str).collect();
        let matrix = match matrix_text {
            Some(text) => Matrix::parse(text)
                .map_err(|e| PeerError::Config(format!("matrix_config_file: {e}")))?,
            None => Matrix::all_down(&names),
        };
        if let Some(net) = matrix
            .sequence
            .iter()
            .find(|n| !names.contains(&n.as_str()))
        {
            return Err(PeerError::Config(format!(
                "matrix_config_file names network {net}, which has no addresses"
            )));
        }
        Ok(Self {
            segment: Segment {
                me: me.to_owned(),
                hosts,
                networks: addresses.len(),
                dead_after,
            },
            network_names,
            addresses,
            port,
            heartbeat_interval,
            startup_grace,
            matrix,
        })
    }
}

/// The datagram.
#[derive(Debug, Serialize, Deserialize)]
struct Heartbeat {
    /// Sender.
    from: String,
    /// Sender's sequence number (for logs).
    seq: u64,
    /// Hosts the sender hears, per network bit.
    view: HashMap<String, Heard>,
}

/// What the agent remembers of a host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Tracked {
    stopped: bool,
    down: Vec<bool>,
    /// This agent has queued the STOPPED report of the current outage.
    reported: bool,
}

/// What a verdict asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// Report STOPPED.
    Stopped,
    /// Report STARTED.
    Started,
    /// Down somewhere, but the matrix says no recovery.
    Degraded,
}

/// The transition for one host: pure, so every combination is a table test.
fn transition(tracked: &Tracked, down: &[bool], recovery: bool) -> Option<Change> {
    let any_down = down.iter().any(|d| *d);
    if !any_down {
        return tracked.stopped.then_some(Change::Started);
    }
    if recovery {
        return (!tracked.stopped).then_some(Change::Stopped);
    }
    (tracked.down != down && !tracked.stopped).then_some(Change::Degraded)
}

/// The driver.
#[derive(Debug)]
pub struct PeerMonitor {
    settings: PeerSettings,
    outbox: Arc<Outbox>,
    clock: Arc<dyn Clock>,
    power: PowerCheck,
    metrics: PeerMetrics,
}

impl PeerMonitor {
    /// A driver reporting through `outbox`.
    pub fn new(
        settings: PeerSettings,
        outbox: Arc<Outbox>,
        clock: Arc<dyn Clock>,
        power: PowerCheck,
    ) -> Self {
        Self {
            settings,
            outbox,
            clock,
            power,
            metrics: PeerMetrics::default(),
        }
    }

    /// The driver counting heartbeats, silences and its judgements in `metrics`.
    pub fn with_metrics(mut self, metrics: PeerMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Heartbeats and judges until `cancel`.
    pub async fn run(self, cancel: CancellationToken) -> Result<(), PeerError> {
        let s = &self.settings;
        let me = s.segment.me.clone();
        let mut sockets = Vec::new();
        for (net, map) in s.addresses.iter().enumerate() {
            let ip = map
                .get(&me)
                .copied()
                .ok_or_else(|| PeerError::Config("no own address".into()))?;
            let address = SocketAddr::new(ip, s.port);
            let socket = UdpSocket::bind(address)
                .await
                .map_err(|source| PeerError::Bind {
                    network: s.network_names[net].clone(),
                    address,
                    source,
                })?;
            sockets.push(Arc::new(socket));
        }
        let (tx, mut rx) = tokio::sync::mpsc::channel::<(usize, Vec<u8>, SocketAddr)>(1024);
        for (net, socket) in sockets.iter().enumerate() {
            let (socket, tx, cancel) = (socket.clone(), tx.clone(), cancel.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; MAX_DATAGRAM];
                loop {
                    tokio::select! {
                        r = socket.recv_from(&mut buf) => match r {
                            Ok((n, from)) => {
                                if tx.send((net, buf[..n].to_vec(), from)).await.is_err() {
                                    return;
                                }
                            }
                            Err(e) => {
                                tracing::debug!(error = %e, "heartbeat receive failed");
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        },
                        () = cancel.cancelled() => return,
                    }
                }
            });
        }
        let start = Instant::now();
        let seed = (start + s.startup_grace)
            .checked_sub(s.segment.dead_after)
            .unwrap_or(start);
        let mut views = Views::new(s.segment.clone(), seed);
        let mut tracked: HashMap<String, Tracked> = HashMap::new();
        // Each host's last report on its way to the outbox (reports of a host stay in order).
        let mut queued: HashMap<String, JoinHandle<()>> = HashMap::new();
        let mut seq: u64 = 0;
        let mut sent_view: HashMap<String, Heard> = HashMap::new();
        let mut beat = tokio::time::interval(s.heartbeat_interval);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut judge = tokio::time::interval(JUDGE_EVERY);
        let mut quorate = true;
        tracing::info!(
            host.name = %me,
            agents = s.segment.hosts.len(),
            networks = %s.network_names.join(","),
            "peer hostmonitor running"
        );
        loop {
            tokio::select! {
                () = cancel.cancelled() => {
                    finish_reports(queued).await;
                    return Ok(());
                }
                _ = beat.tick() => {
                    let view = views.mine(Instant::now());
                    seq += 1;
                    self.send(&sockets, seq, &view).await;
                    sent_view = view;
                }
                Some((net, bytes, from)) = rx.recv() => {
                    let Ok(hb) = serde_json::from_slice::<Heartbeat>(&bytes) else {
                        tracing::debug!(from = %from, "ignoring a datagram that is not a heartbeat");
                        continue;
                    };
                    // Only the configured address of a host speaks for it on a network.
                    if s.addresses[net].get(&hb.from).is_none_or(|ip| *ip != from.ip()) {
                        tracing::debug!(from = %from, claimed = %hb.from, "ignoring a heartbeat from an unexpected address");
                        continue;
                    }
                    self.metrics.heartbeat(&hb.from, &s.network_names[net]);
                    views.heard(&hb.from, net, hb.view, Instant::now());
                }
                _ = judge.tick() => {
                    let now = Instant::now();
                    let view = views.mine(now);
                    self.count_heard(&view);
                    if view != sent_view {
                        seq += 1;
                        self.send(&sockets, seq, &view).await;
                        sent_view = view;
                    }
                    let Some(verdicts) = views.verdicts(now) else {
                        self.metrics.set_quorum(false);
                        if quorate {
                            tracing::warn!(host.name = %me, live = ?views.live(now), agents = s.segment.hosts.len(), "this agent sees a minority of the segment: judging nobody");
                            quorate = false;
                        }
                        continue;
                    };
                    self.metrics.set_quorum(true);
                    if !quorate {
                        tracing::info!(host.name = %me, "this agent sees a majority of the segment again");
                        quorate = true;
                    }
                    for verdict in verdicts {
                        self.apply(&mut tracked, &mut queued, &verdict);
                    }
                    self.metrics.set_hosts_down(tracked.values().filter(|t| t.stopped).count());
                }
            }
        }
    }

    /// Tells the metrics which peers this agent hears on which network.
    fn count_heard(&self, view: &HashMap<String, Heard>) {
        let s = &self.settings;
        for (host, bits) in view.iter().filter(|(h, _)| **h != s.segment.me) {
            for (net, name) in s.network_names.iter().enumerate() {
                self.metrics.set_heard(host, name, bits & (1 << net) != 0);
            }
        }
    }

    async fn send(&self, sockets: &[Arc<UdpSocket>], seq: u64, view: &HashMap<String, Heard>) {
        let s = &self.settings;
        let hb = Heartbeat {
            from: s.segment.me.clone(),
            seq,
            view: view.clone(),
        };
        let Ok(bytes) = serde_json::to_vec(&hb) else {
            return;
        };
        for (net, socket) in sockets.iter().enumerate() {
            for (host, ip) in &s.addresses[net] {
                if *host == s.segment.me {
                    continue;
                }
                // A host that is gone answers with ICMP errors; those are expected.
                let _ = socket.send_to(&bytes, SocketAddr::new(*ip, s.port)).await;
            }
        }
    }

    fn apply(
        &self,
        tracked: &mut HashMap<String, Tracked>,
        queued: &mut HashMap<String, JoinHandle<()>>,
        verdict: &Verdict,
    ) {
        let s = &self.settings;
        let entry = tracked.entry(verdict.host.clone()).or_default();
        let down_names: Vec<&str> = s
            .network_names
            .iter()
            .zip(&verdict.down)
            .filter(|(_, d)| **d)
            .map(|(n, _)| n.as_str())
            .collect();
        let recovery = s.matrix.recovery(&|net| down_names.contains(&net));
        let change = transition(entry, &verdict.down, recovery);
        entry.down.clone_from(&verdict.down);
        let host = verdict.host.as_str();
        match change {
            // The first live agent was another when the host fell silent (two hosts failing at
            // once: the other one, not yet counted out). Whoever is first now reports; a report
            // another agent already made is answered as a duplicate.
            None if entry.stopped && !entry.reported && verdict.reporter && recovery => {
                tracing::warn!(
                    host.name = host,
                    "{host} is still silent and this agent is now the one to report it"
                );
                entry.reported = true;
                self.queue_stopped(queued, host);
            }
            None => {}
            Some(Change::Degraded) => {
                tracing::warn!(host.name = host, down = %down_names.join(","), "{host} is silent on {} only; the matrix asks for no recovery", down_names.join(", "));
            }
            Some(Change::Stopped) => {
                entry.stopped = true;
                tracing::warn!(host.name = host, down = %down_names.join(","), reporter = verdict.reporter, "{host} is silent on {} as seen by a majority of the segment", down_names.join(", "));
                if verdict.reporter {
                    entry.reported = true;
                    self.queue_stopped(queued, host);
                }
            }
            Some(Change::Started) => {
                entry.stopped = false;
                entry.reported = false;
                tracing::info!(
                    host.name = host,
                    reporter = verdict.reporter,
                    "{host} is heard again on every network"
                );
                if verdict.reporter {
                    let report = Report::compute_host(
                        host,
                        HostEvent::Started,
                        crate::delivery::HostStatus::Normal,
                        self.clock.now(),
                    );
                    self.queue(queued, host, async move { report });
                }
            }
        }
    }

    /// Queues `host`'s STOPPED report, its power checked first.
    fn queue_stopped(&self, queued: &mut HashMap<String, JoinHandle<()>>, host: &str) {
        let (power, name, at) = (self.power.clone(), host.to_owned(), self.clock.now());
        self.queue(queued, host, async move {
            let status = power.host_status(&name).await;
            Report::compute_host(&name, HostEvent::Stopped, status, at)
        });
    }

    /// Pushes the report `make` gives to the outbox once `host`'s previous one is there, off
    /// the heartbeat loop: a STOPPED report waits for the power check, which can take
    /// `(1 + ipmi_retry_max) × (ipmi_timeout + ipmi_retry_interval)`, and an agent that stopped
    /// heartbeating meanwhile would look failed itself.
    fn queue(
        &self,
        queued: &mut HashMap<String, JoinHandle<()>>,
        host: &str,
        make: impl Future<Output = Report> + Send + 'static,
    ) {
        let previous = queued.remove(host);
        let outbox = self.outbox.clone();
        let task = tokio::spawn(async move {
            if let Some(previous) = previous {
                let _ = previous.await;
            }
            let report = make.await;
            let _ = outbox.push(&report).await;
        });
        queued.insert(host.to_owned(), task);
    }
}

/// Waits for the reports still on their way to the outbox (a STOPPED report waits for its power
/// check): stopping the agent must not lose a failure it has already seen. Bounded by the power
/// check's own retries and timeouts.
async fn finish_reports(queued: HashMap<String, JoinHandle<()>>) {
    let pending: Vec<_> = queued.into_values().filter(|t| !t.is_finished()).collect();
    if pending.is_empty() {
        return;
    }
    tracing::info!(
        reports = pending.len(),
        "stopping once the reports being prepared are in the outbox"
    );
    for task in pending {
        let _ = task.await;
    }
}

#[cfg(test)]
mod tests;

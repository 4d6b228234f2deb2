//! The monitor agents' metrics: one [`AgentMetrics`] registry per agent (its outbox's handles,
//! and the `peer` hostmonitor's), served by that agent's own listener.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::{Histograms, ResultLabels};

/// Buckets of one delivery attempt (a POST to the API, a token fetched first at worst), seconds.
const DELIVERY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

fn delivery_histogram() -> Histogram {
    Histogram::new(DELIVERY_BUCKETS)
}

/// One agent's registry: every metric in it carries the label `agent` (`hostmonitor`,
/// `processmonitor`, `instancemonitor`), so that agents run apart or in one process look the
/// same to Prometheus.
#[derive(Debug, Clone)]
pub struct AgentMetrics {
    registry: Arc<Registry>,
    /// The agent's outbox.
    pub outbox: OutboxMetrics,
    /// The `peer` driver's heartbeats and judgements (registered by [`AgentMetrics::with_peer`]
    /// only).
    pub peer: PeerMetrics,
}

impl AgentMetrics {
    /// A registry for `agent` with its outbox's metrics, at zero.
    pub fn new(agent: &str) -> Self {
        Self::registered(agent, false)
    }

    /// [`AgentMetrics::new`] with the `peer` driver's metrics too (a hostmonitor running it).
    pub fn with_peer(agent: &str) -> Self {
        Self::registered(agent, true)
    }

    fn registered(agent: &str, with_peer: bool) -> Self {
        let label = (Cow::Borrowed("agent"), Cow::Owned(agent.to_owned()));
        let mut registry = Registry::with_prefix_and_labels("lifeboat", std::iter::once(label));
        let outbox = OutboxMetrics::register(&mut registry);
        let peer = PeerMetrics::default();
        if with_peer {
            peer.register(&mut registry);
        }
        Self {
            registry: Arc::new(registry),
            outbox,
            peer,
        }
    }

    /// Every metric in the OpenMetrics text format (see [`crate::CONTENT_TYPE`]).
    pub fn encode(&self) -> Result<String, fmt::Error> {
        crate::encode(&self.registry)
    }
}

/// What an outbox counts.
#[derive(Debug, Clone)]
pub struct OutboxMetrics {
    waiting: Gauge,
    deliveries: Family<ResultLabels, Counter>,
    durations: Histograms<ResultLabels>,
    dropped: Counter,
}

impl Default for OutboxMetrics {
    fn default() -> Self {
        Self {
            waiting: Gauge::default(),
            deliveries: Family::default(),
            durations: Family::new_with_constructor(delivery_histogram),
            dropped: Counter::default(),
        }
    }
}

impl OutboxMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        registry.register(
            "outbox_reports",
            "Reports waiting in the agent's outbox for the API to take them",
            m.waiting.clone(),
        );
        registry.register(
            "outbox_deliveries",
            "Delivery attempts by result: `delivered`, `already_known` (409: a duplicate, or the \
             host is under maintenance), `refused` (parked, never retried), `failed` (no answer \
             or one worth retrying: the report stays and is retried), `unreadable` (parked)",
            m.deliveries.clone(),
        );
        registry.register(
            "outbox_delivery_duration_seconds",
            "How long one delivery attempt took, by result",
            m.durations.clone(),
        );
        registry.register(
            "outbox_reports_dropped",
            "Reports the outbox did not take because it was full (`[outbox] max_reports`)",
            m.dropped.clone(),
        );
        m
    }

    /// The outbox holds `reports` (when it is opened).
    pub fn set_waiting(&self, reports: usize) {
        self.waiting.set(i64::try_from(reports).unwrap_or(i64::MAX));
    }

    /// A report was added to the outbox.
    pub fn queued(&self) {
        self.waiting.inc();
    }

    /// A report left the outbox (delivered, parked, or its write failed).
    pub fn removed(&self) {
        self.waiting.dec();
    }

    /// A report was dropped: the outbox was full.
    pub fn dropped(&self) {
        self.dropped.inc();
    }

    /// A delivery attempt ended with `result`; `elapsed` is the API call's, when one was made.
    pub fn attempted(&self, result: &str, elapsed: Option<Duration>) {
        let labels = ResultLabels {
            result: result.to_owned(),
        };
        self.deliveries.get_or_create(&labels).inc();
        if let Some(elapsed) = elapsed {
            self.durations
                .get_or_create(&labels)
                .observe(elapsed.as_secs_f64());
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerLabels {
    peer: String,
    network: String,
}

impl PeerLabels {
    fn new(peer: &str, network: &str) -> Self {
        Self {
            peer: peer.to_owned(),
            network: network.to_owned(),
        }
    }
}

/// What the `peer` hostmonitor counts.
#[derive(Debug, Clone, Default)]
pub struct PeerMetrics {
    heartbeats: Family<PeerLabels, Counter>,
    losses: Family<PeerLabels, Counter>,
    heard: Family<PeerLabels, Gauge>,
    down: Gauge,
    quorum: Gauge,
}

impl PeerMetrics {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "peer_heartbeats",
            "Heartbeats received from each peer on each network (`manage`, `tenant`, `storage`)",
            self.heartbeats.clone(),
        );
        registry.register(
            "peer_heartbeat_losses",
            "Times this agent stopped hearing a peer on a network (silent for `[peer] dead_after`)",
            self.losses.clone(),
        );
        registry.register(
            "peer_heard",
            "1 while this agent hears the peer on the network, 0 once it is silent there",
            self.heard.clone(),
        );
        registry.register(
            "peer_hosts_down",
            "Hosts the live majority of the segment judges down now (reported STOPPED)",
            self.down.clone(),
        );
        registry.register(
            "peer_quorum",
            "1 while this agent sees a majority of the segment (and so judges hosts), else 0",
            self.quorum.clone(),
        );
    }

    /// A heartbeat came from `peer` on `network`.
    pub fn heartbeat(&self, peer: &str, network: &str) {
        self.heartbeats
            .get_or_create(&PeerLabels::new(peer, network))
            .inc();
    }

    /// Whether `peer` is heard on `network` now; a change from heard to silent counts a loss.
    pub fn set_heard(&self, peer: &str, network: &str, heard: bool) {
        let labels = PeerLabels::new(peer, network);
        let was = self.heard.get_or_create(&labels).set(i64::from(heard));
        if was == 1 && !heard {
            self.losses.get_or_create(&labels).inc();
        }
    }

    /// `hosts` are judged down now.
    pub fn set_hosts_down(&self, hosts: usize) {
        self.down.set(i64::try_from(hosts).unwrap_or(i64::MAX));
    }

    /// Whether this agent sees a majority of the segment.
    pub fn set_quorum(&self, quorate: bool) {
        self.quorum.set(i64::from(quorate));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrape::Scraped;

    fn scrape(metrics: &AgentMetrics) -> Scraped {
        Scraped::parse(&metrics.encode().unwrap()).unwrap()
    }

    #[test]
    fn an_agents_metrics_carry_its_name_and_count_what_its_handles_do() {
        let metrics = AgentMetrics::with_peer("hostmonitor");
        metrics.outbox.set_waiting(2);
        metrics.outbox.queued();
        metrics.outbox.removed();
        metrics.outbox.removed();
        metrics
            .outbox
            .attempted("failed", Some(Duration::from_millis(3)));
        metrics
            .outbox
            .attempted("delivered", Some(Duration::from_millis(7)));
        metrics.outbox.attempted("unreadable", None);
        metrics.outbox.dropped();
        let scrape = scrape(&metrics);
        let agent = ("agent", "hostmonitor");
        assert_eq!(scrape.value("lifeboat_outbox_reports", &[agent]), 1.0);
        for result in ["failed", "delivered", "unreadable"] {
            let labels = [agent, ("result", result)];
            assert_eq!(scrape.value("lifeboat_outbox_deliveries", &labels), 1.0);
        }
        let timed = |result| {
            scrape.count(
                "lifeboat_outbox_delivery_duration_seconds",
                &[agent, ("result", result)],
            )
        };
        assert_eq!((timed("failed"), timed("unreadable")), (1, 0));
        assert_eq!(
            scrape.value("lifeboat_outbox_reports_dropped", &[agent]),
            1.0
        );
        assert!(scrape.has("lifeboat_peer_quorum"));
    }

    #[test]
    fn a_peer_heard_then_silent_is_one_loss_and_only_the_peer_driver_has_peers() {
        let metrics = AgentMetrics::with_peer("hostmonitor");
        let peer = &metrics.peer;
        peer.heartbeat("c2", "manage");
        peer.heartbeat("c2", "manage");
        peer.set_heard("c2", "manage", true);
        peer.set_heard("c2", "manage", false);
        peer.set_heard("c2", "manage", false);
        peer.set_heard("c3", "manage", false);
        peer.set_hosts_down(1);
        peer.set_quorum(true);
        let scrape = scrape(&metrics);
        let c2 = [("peer", "c2"), ("network", "manage")];
        assert_eq!(scrape.value("lifeboat_peer_heartbeats", &c2), 2.0);
        assert_eq!(scrape.value("lifeboat_peer_heartbeat_losses", &c2), 1.0);
        assert_eq!(scrape.value("lifeboat_peer_heard", &c2), 0.0);
        let c3 = [("peer", "c3"), ("network", "manage")];
        assert_eq!(
            scrape.value("lifeboat_peer_heartbeat_losses", &c3),
            0.0,
            "never heard: nothing lost"
        );
        assert_eq!(scrape.value("lifeboat_peer_hosts_down", &[]), 1.0);
        assert_eq!(scrape.value("lifeboat_peer_quorum", &[]), 1.0);

        let pacemaker = AgentMetrics::new("hostmonitor");
        let text = pacemaker.encode().unwrap();
        let scrape = Scraped::parse(&text).unwrap();
        assert!(scrape.has("lifeboat_outbox_reports"), "{text}");
        assert!(!scrape.has("lifeboat_peer_quorum"), "{text}");
    }

    #[test]
    fn every_agent_metric_is_in_the_readmes_table() {
        let readme = include_str!("../../README.md");
        let metrics = AgentMetrics::with_peer("hostmonitor");
        // Families show once they have a sample.
        metrics.outbox.attempted("delivered", Some(Duration::ZERO));
        metrics.peer.heartbeat("c2", "manage");
        metrics.peer.set_heard("c2", "manage", true);
        metrics.peer.set_heard("c2", "manage", false);
        let text = metrics.encode().unwrap();
        let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE ")).collect();
        assert_eq!(types.len(), 9, "{text}");
        for line in types {
            let mut words = line.split_whitespace().skip(2);
            let (name, kind) = (words.next().unwrap(), words.next().unwrap());
            let shown = if kind == "counter" {
                format!("| `{name}_total` | counter |")
            } else {
                format!("| `{name}` | {kind} |")
            };
            assert!(readme.contains(&shown), "README's Metrics lacks {shown}");
        }
    }
}

//! Lifeboat's Prometheus metrics: one [`Metrics`] registry per process, and the named handles
//! the parts of Lifeboat count with ([`ApiMetrics`], [`EngineMetrics`], [`FenceMetrics`]); each
//! monitor agent has its own [`AgentMetrics`] registry ([`OutboxMetrics`], [`PeerMetrics`]).
//!
//! The binary builds the registry once and hands each part its handles; the API serves
//! [`Metrics::encode`] at `GET /metrics`, an agent [`AgentMetrics::encode`] on its optional
//! listener. Handles are cheap clones sharing their counters. A
//! handle made with `Default` belongs to no registry: what it counts is shown nowhere (for
//! tests and one-shot commands). [`scrape`] reads such text back (`lifeboat status` and the
//! tests do). This crate knows no other Lifeboat crate and does no I/O.

mod agent;
pub mod scrape;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub use agent::{AgentMetrics, OutboxMetrics, PeerMetrics};

/// The content type of [`Metrics::encode`]'s text (OpenMetrics, which Prometheus asks for).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A histogram family whose histograms share one set of buckets.
type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Buckets of API request latency, seconds.
const REQUEST_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];
/// Buckets of a whole recovery, seconds (a host with many instances takes minutes).
const RECOVERY_BUCKETS: [f64; 11] = [
    0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
];
/// Buckets of one fence device's power operation, seconds.
const FENCE_BUCKETS: [f64; 10] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 20.0, 60.0];

fn request_histogram() -> Histogram {
    Histogram::new(REQUEST_BUCKETS)
}

fn recovery_histogram() -> Histogram {
    Histogram::new(RECOVERY_BUCKETS)
}

fn fence_histogram() -> Histogram {
    Histogram::new(FENCE_BUCKETS)
}

/// The process's registry and every handle registered in it.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// The API's handles.
    pub api: ApiMetrics,
    /// The recovery engine's handles.
    pub engine: EngineMetrics,
    /// Fencing's handles.
    pub fence: FenceMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every Lifeboat metric in it (all at zero).
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("lifeboat");
        let notifications = NotificationCounter::default();
        registry.register(
            "notifications",
            "Notifications that reached a status, by type: `new` when the API accepted one, then \
             each outcome the engine recorded (`finished`, `ignored`, `error`, `failed`)",
            notifications.0.clone(),
        );
        let api = ApiMetrics::register(&mut registry, notifications.clone());
        let engine = EngineMetrics::register(&mut registry, notifications);
        let fence = FenceMetrics::register(&mut registry);
        Self {
            registry: Arc::new(registry),
            api,
            engine,
            fence,
        }
    }

    /// Every metric in the OpenMetrics text format (see [`CONTENT_TYPE`]).
    pub fn encode(&self) -> Result<String, fmt::Error> {
        encode(&self.registry)
    }
}

/// `registry` in the OpenMetrics text format.
fn encode(registry: &Registry) -> Result<String, fmt::Error> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry)?;
    Ok(text)
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NotificationLabels {
    r#type: String,
    status: String,
}

/// Notifications by type and the status they reached, shared by the API and the engine.
#[derive(Debug, Clone, Default)]
pub struct NotificationCounter(Family<NotificationLabels, Counter>);

impl NotificationCounter {
    /// A notification of `kind` (`COMPUTE_HOST`, `VM`, `PROCESS`) reached `status`.
    pub fn reached(&self, kind: &str, status: &str) {
        self.0
            .get_or_create(&NotificationLabels {
                r#type: kind.to_owned(),
                status: status.to_owned(),
            })
            .inc();
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

/// What the API counts.
#[derive(Debug, Clone)]
pub struct ApiMetrics {
    requests: Family<RequestLabels, Counter>,
    latency: Histograms<RouteLabels>,
    /// Notifications the API accepted (status `new`).
    pub notifications: NotificationCounter,
}

impl Default for ApiMetrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            latency: Family::new_with_constructor(request_histogram),
            notifications: NotificationCounter::default(),
        }
    }
}

impl ApiMetrics {
    fn register(registry: &mut Registry, notifications: NotificationCounter) -> Self {
        let metrics = Self {
            notifications,
            ..Self::default()
        };
        registry.register(
            "api_requests",
            "API requests answered, by route template (`/v1/segments/{segment_id}`; `unmatched` \
             for paths no route has), method and status",
            metrics.requests.clone(),
        );
        registry.register(
            "api_request_duration_seconds",
            "Time from a request's headers to its answer, by route template and method",
            metrics.latency.clone(),
        );
        metrics
    }

    /// A request to `route` (a route template) answered `status` after `elapsed`.
    pub fn answered(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status: status.to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                method: method.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClaimLabels {
    resumed: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RecoveryLabels {
    r#type: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

/// What the recovery engine counts.
#[derive(Debug, Clone)]
pub struct EngineMetrics {
    up: Gauge,
    running: Gauge,
    claims: Family<ClaimLabels, Counter>,
    lease_losses: Counter,
    durations: Histograms<RecoveryLabels>,
    instances: Family<ResultLabels, Counter>,
    /// Outcomes the engine recorded.
    pub notifications: NotificationCounter,
}

impl Default for EngineMetrics {
    fn default() -> Self {
        Self {
            up: Gauge::default(),
            running: Gauge::default(),
            claims: Family::default(),
            lease_losses: Counter::default(),
            durations: Family::new_with_constructor(recovery_histogram),
            instances: Family::default(),
            notifications: NotificationCounter::default(),
        }
    }
}

impl EngineMetrics {
    fn register(registry: &mut Registry, notifications: NotificationCounter) -> Self {
        let m = Self {
            notifications,
            ..Self::default()
        };
        registry.register(
            "engine_up",
            "1 while a recovery engine runs in this process",
            m.up.clone(),
        );
        registry.register(
            "engine_recoveries_running",
            "Recoveries this process's engine is running now",
            m.running.clone(),
        );
        registry.register(
            "engine_claims",
            "Notifications the engine claimed, `resumed` when another engine had started them",
            m.claims.clone(),
        );
        registry.register(
            "engine_lease_losses",
            "Recoveries the engine stopped because its claim was lost (another engine took over)",
            m.lease_losses.clone(),
        );
        registry.register(
            "recovery_duration_seconds",
            "How long one attempt at a recovery took, by notification type and outcome",
            m.durations.clone(),
        );
        registry.register(
            "instance_evacuations",
            "Instances whose move off a failed host ended: `evacuated`, `failed` or `gone` (the \
             instance no longer exists)",
            m.instances.clone(),
        );
        m
    }

    /// Whether an engine runs in this process.
    pub fn set_up(&self, up: bool) {
        self.up.set(i64::from(up));
    }

    /// A notification was claimed; `resumed` when another engine had started it.
    pub fn claimed(&self, resumed: bool) {
        self.claims
            .get_or_create(&ClaimLabels {
                resumed: resumed.to_string(),
            })
            .inc();
    }

    /// A recovery starts; it counts as running until the guard is dropped.
    pub fn recovery_started(&self) -> RunningRecovery {
        self.running.inc();
        RunningRecovery(self.running.clone())
    }

    /// The engine lost its claim on a recovery.
    pub fn lease_lost(&self) {
        self.lease_losses.inc();
    }

    /// A recovery of a `kind` notification ended with `outcome` after `elapsed`.
    pub fn recovery_ended(&self, kind: &str, outcome: &str, elapsed: Duration) {
        self.durations
            .get_or_create(&RecoveryLabels {
                r#type: kind.to_owned(),
                outcome: outcome.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// An instance's move ended with `result` (`evacuated`, `failed`, `gone`).
    pub fn instance_moved(&self, result: &str) {
        self.instances
            .get_or_create(&ResultLabels {
                result: result.to_owned(),
            })
            .inc();
    }
}

/// A recovery counted as running; dropping it ends that.
#[derive(Debug)]
pub struct RunningRecovery(Gauge);

impl Drop for RunningRecovery {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FenceLabels {
    action: String,
    result: String,
}

/// What fencing counts.
#[derive(Debug, Clone)]
pub struct FenceMetrics {
    attempts: Family<FenceLabels, Counter>,
    durations: Histograms<FenceLabels>,
}

impl Default for FenceMetrics {
    fn default() -> Self {
        Self {
            attempts: Family::default(),
            durations: Family::new_with_constructor(fence_histogram),
        }
    }
}

impl FenceMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        registry.register(
            "fence_attempts",
            "Power operations of one fence device, by action (`off`, `on`, `status`, `reboot`) \
             and result (`success`, `failure`)",
            m.attempts.clone(),
        );
        registry.register(
            "fence_attempt_duration_seconds",
            "How long one fence device's power operation took, by action and result",
            m.durations.clone(),
        );
        m
    }

    /// One device's `action` ended, successfully or not, after `elapsed`.
    pub fn attempted(&self, action: &str, succeeded: bool, elapsed: Duration) {
        let labels = FenceLabels {
            action: action.to_owned(),
            result: if succeeded { "success" } else { "failure" }.to_owned(),
        };
        self.attempts.get_or_create(&labels).inc();
        self.durations
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrape::Scraped;

    fn scrape(metrics: &Metrics) -> Scraped {
        Scraped::parse(&metrics.encode().unwrap()).unwrap()
    }

    #[test]
    fn handles_count_into_the_registry_a_parser_reads() {
        let metrics = Metrics::new();
        metrics
            .fence
            .attempted("off", true, Duration::from_millis(30));
        metrics
            .fence
            .attempted("off", false, Duration::from_secs(5));
        metrics.engine.claimed(false);
        metrics
            .engine
            .notifications
            .reached("COMPUTE_HOST", "finished");
        metrics.api.notifications.reached("COMPUTE_HOST", "new");
        metrics.api.answered(
            "/v1/segments/{segment_id}",
            "GET",
            404,
            Duration::from_millis(2),
        );
        let running = metrics.engine.recovery_started();
        let scrape = scrape(&metrics);
        let off = [("action", "off"), ("result", "success")];
        assert_eq!(scrape.value("lifeboat_fence_attempts", &off), 1.0);
        assert_eq!(
            scrape.count("lifeboat_fence_attempt_duration_seconds", &off),
            1
        );
        let failed = [("action", "off"), ("result", "failure")];
        assert_eq!(scrape.value("lifeboat_fence_attempts", &failed), 1.0);
        assert_eq!(
            scrape.value("lifeboat_engine_claims", &[("resumed", "false")]),
            1.0
        );
        assert_eq!(scrape.value("lifeboat_engine_recoveries_running", &[]), 1.0);
        for status in ["new", "finished"] {
            let labels = [("type", "COMPUTE_HOST"), ("status", status)];
            assert_eq!(scrape.value("lifeboat_notifications", &labels), 1.0);
        }
        let route = [("route", "/v1/segments/{segment_id}"), ("status", "404")];
        assert_eq!(scrape.value("lifeboat_api_requests", &route), 1.0);
        drop(running);
        let scrape = self::tests::scrape(&metrics);
        assert_eq!(scrape.value("lifeboat_engine_recoveries_running", &[]), 0.0);
    }

    #[test]
    fn a_default_handle_counts_into_no_registry() {
        let metrics = Metrics::new();
        FenceMetrics::default().attempted("off", true, Duration::from_millis(1));
        let text = metrics.encode().unwrap();
        let scrape = Scraped::parse(&text).unwrap();
        assert!(scrape.has("lifeboat_engine_up"), "{text}");
        let off = [("action", "off"), ("result", "success")];
        assert_eq!(scrape.value("lifeboat_fence_attempts", &off), 0.0);
    }
}

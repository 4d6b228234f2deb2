//! The durable outbox: each report is a file, written and synced before the monitor moves on,
//! and removed only once the API has answered for it. An agent restart resumes where the last
//! one stopped; an API outage of any length only delays delivery.
//!
//! Layout: `<dir>/<seq>-<uuid>.json` pending (oldest first by name), `<dir>/parked/` refused
//! reports kept for an operator.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use lifeboat_core::wire::NotificationBody;
use lifeboat_metrics::OutboxMetrics;
use rand::Rng;
use serde_json::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{NotificationApi, Report, Verdict, fault_message, verdict};

/// Why the outbox could not take or keep a report.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The directory could not be made or read.
    #[error("opening the outbox {path} failed: {source}")]
    Open {
        /// The directory.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A report could not be written.
    #[error("writing report {path} to the outbox failed: {source}")]
    Write {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The outbox is full; the report was not taken.
    #[error("the outbox {path} is full ({max} reports waiting); the new report is dropped")]
    Full {
        /// The directory.
        path: String,
        /// The bound.
        max: usize,
    },
}

/// Outbox bounds and retry timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxSettings {
    /// Most reports waiting.
    pub max_reports: usize,
    /// First retry delay.
    pub retry_initial: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
}

/// A durable queue of reports with one delivery loop.
#[derive(Debug)]
pub struct Outbox {
    dir: PathBuf,
    settings: OutboxSettings,
    next_seq: AtomicU64,
    pending: AtomicUsize,
    wake: Notify,
    agent: String,
    metrics: OutboxMetrics,
}

/// The delay before retry number `failures` (1-based): doubling from `initial`, capped at
/// `max`, then drawn uniformly from its upper half so that agents that lost the API together
/// do not come back in step.
pub fn backoff(failures: u32, initial: Duration, max: Duration, jitter: f64) -> Duration {
    let doubled = initial.saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(20)));
    let capped = doubled.min(max);
    capped.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

fn io_open(path: &Path) -> impl FnOnce(std::io::Error) -> OutboxError + '_ {
    move |source| OutboxError::Open {
        path: path.display().to_string(),
        source,
    }
}

fn entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

impl Outbox {
    /// Opens (creating) the outbox in `dir`; reports left by an earlier run are kept and
    /// delivered first. `agent` names the monitor in logs; `metrics` counts what it holds and
    /// delivers.
    pub fn open(
        dir: &Path,
        settings: OutboxSettings,
        agent: &str,
        metrics: OutboxMetrics,
    ) -> Result<Arc<Self>, OutboxError> {
        std::fs::create_dir_all(dir.join("parked")).map_err(io_open(dir))?;
        // Half-written files of a crash mid-write never became reports.
        for stale in std::fs::read_dir(dir).map_err(io_open(dir))?.flatten() {
            if stale.path().extension().is_some_and(|x| x == "tmp") {
                let _ = std::fs::remove_file(stale.path());
            }
        }
        let existing = entries(dir).map_err(io_open(dir))?;
        let last = existing
            .iter()
            .filter_map(|p| {
                p.file_name()?
                    .to_str()?
                    .split('-')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .max()
            .unwrap_or(0);
        if !existing.is_empty() {
            tracing::info!(
                outbox.path = %dir.display(),
                outbox.pending = existing.len(),
                "{agent}: {} undelivered reports from an earlier run will be delivered",
                existing.len()
            );
        }
        metrics.set_waiting(existing.len());
        Ok(Arc::new(Self {
            dir: dir.to_path_buf(),
            settings,
            next_seq: AtomicU64::new(last + 1),
            pending: AtomicUsize::new(existing.len()),
            wake: Notify::new(),
            agent: agent.to_owned(),
            metrics,
        }))
    }

    /// Reports waiting for delivery.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// Stores `report` durably (the file is synced before this returns) and wakes delivery.
    pub async fn push(&self, report: &Report) -> Result<(), OutboxError> {
        let max = self.settings.max_reports;
        if self.pending() >= max {
            let e = OutboxError::Full {
                path: self.dir.display().to_string(),
                max,
            };
            self.metrics.dropped();
            tracing::error!(
                notification.type = %report.notification_type,
                host.name = %report.hostname,
                payload = %report.payload.to_canonical_json(),
                "{}: {e}",
                self.agent
            );
            return Err(e);
        }
        let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
        let id = uuid::Uuid::new_v4();
        let path = self.dir.join(format!("{seq:016}-{id}.json"));
        let text = serde_json::to_vec(&report.body()).unwrap_or_default();
        let dir = self.dir.clone();
        let target = path.clone();
        // Counted before the file appears, so delivery never counts it down first.
        self.pending.fetch_add(1, Ordering::SeqCst);
        self.metrics.queued();
        let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write;
            let tmp = target.with_extension("tmp");
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&text)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &target)?;
            sync_dir(&dir)
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r)
        .map_err(|source| OutboxError::Write {
            path: path.display().to_string(),
            source,
        });
        if let Err(e) = written {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            self.metrics.removed();
            return Err(e);
        }
        tracing::info!(
            notification.type = %report.notification_type,
            host.name = %report.hostname,
            payload = %report.payload.to_canonical_json(),
            "{}: report queued for delivery",
            self.agent
        );
        self.wake.notify_one();
        Ok(())
    }

    /// Delivers reports oldest first until `cancel`; never gives up on a report the API may
    /// still take.
    pub async fn run(self: Arc<Self>, api: Arc<dyn NotificationApi>, cancel: CancellationToken) {
        let mut failures: u32 = 0;
        loop {
            let next = entries(&self.dir).ok().and_then(|e| e.into_iter().next());
            let Some(path) = next else {
                tokio::select! {
                    () = self.wake.notified() => continue,
                    () = cancel.cancelled() => return,
                }
            };
            let body = match std::fs::read(&path).map(|b| serde_json::from_slice::<Value>(&b)) {
                Ok(Ok(body)) => body,
                Ok(Err(e)) => {
                    tracing::error!(file = %path.display(), error = %e, "{}: unreadable report parked", self.agent);
                    self.metrics.attempted("unreadable", None);
                    self.park(&path);
                    continue;
                }
                Err(e) => {
                    tracing::error!(file = %path.display(), error = %e, "{}: reading a queued report failed", self.agent);
                    if self.sleep(&mut failures, &cancel).await {
                        return;
                    }
                    continue;
                }
            };
            let started = tokio::time::Instant::now();
            let answer = tokio::select! {
                a = api.post_notification(&body) => a,
                () = cancel.cancelled() => return,
            };
            let n = &body["notification"];
            let (kind, host) = (
                n["type"].as_str().unwrap_or_default(),
                n["hostname"].as_str().unwrap_or_default(),
            );
            let elapsed = started.elapsed();
            let duration_ms = elapsed.as_millis() as u64;
            let verdict = verdict(&answer);
            self.metrics.attempted(result_label(verdict), Some(elapsed));
            match verdict {
                Verdict::Delivered => {
                    let uuid = answer
                        .as_ref()
                        .ok()
                        .and_then(|a| serde_json::from_str::<NotificationBody>(&a.body).ok())
                        .map(|b| b.notification.notification_uuid.to_string())
                        .unwrap_or_default();
                    tracing::info!(notification.id = %uuid, notification.type = kind, host.name = host, duration_ms, "{}: report delivered", self.agent);
                    self.forget(&path);
                    failures = 0;
                }
                Verdict::AlreadyKnown => {
                    let message = answer
                        .as_ref()
                        .map(|a| fault_message(&a.body))
                        .unwrap_or_default();
                    tracing::info!(notification.type = kind, host.name = host, reason = %message, "{}: the API already has this report (duplicate or host under maintenance): delivered", self.agent);
                    self.forget(&path);
                    failures = 0;
                }
                Verdict::Refused => {
                    let message = answer
                        .as_ref()
                        .map(|a| fault_message(&a.body))
                        .unwrap_or_default();
                    tracing::error!(
                        notification.type = kind,
                        host.name = host,
                        reason = %message,
                        file = %path.display(),
                        "{}: THE API REFUSED THIS REPORT; it is parked and will not be retried. \
                         This host is not protected until the cause is fixed (is the host \
                         registered under this name?)",
                        self.agent
                    );
                    self.park(&path);
                    failures = 0;
                }
                Verdict::Retry => {
                    match &answer {
                        Ok(a) => {
                            tracing::warn!(status = a.status, reason = %fault_message(&a.body), notification.type = kind, host.name = host, outbox.pending = self.pending(), "{}: delivery failed; will retry", self.agent)
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, notification.type = kind, host.name = host, outbox.pending = self.pending(), "{}: the API is unreachable; will retry", self.agent)
                        }
                    }
                    if self.sleep(&mut failures, &cancel).await {
                        return;
                    }
                }
            }
        }
    }

    /// Backs off; true when cancelled.
    async fn sleep(&self, failures: &mut u32, cancel: &CancellationToken) -> bool {
        *failures = failures.saturating_add(1);
        let jitter: f64 = rand::rng().random();
        let delay = backoff(
            *failures,
            self.settings.retry_initial,
            self.settings.retry_max,
            jitter,
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => false,
            () = cancel.cancelled() => true,
        }
    }

    fn forget(&self, path: &Path) {
        if let Err(e) = std::fs::remove_file(path) {
            tracing::error!(file = %path.display(), error = %e, "{}: removing a delivered report failed", self.agent);
        }
        let _ = sync_dir(&self.dir);
        self.pending.fetch_sub(1, Ordering::SeqCst);
        self.metrics.removed();
    }

    fn park(&self, path: &Path) {
        let target = self
            .dir
            .join("parked")
            .join(path.file_name().unwrap_or_default());
        if let Err(e) = std::fs::rename(path, &target) {
            tracing::error!(file = %path.display(), error = %e, "{}: parking a report failed", self.agent);
            let _ = std::fs::remove_file(path);
        }
        let _ = sync_dir(&self.dir);
        self.pending.fetch_sub(1, Ordering::SeqCst);
        self.metrics.removed();
    }
}

/// The `result` a delivery attempt is counted under.
fn result_label(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Delivered => "delivered",
        Verdict::AlreadyKnown => "already_known",
        Verdict::Refused => "refused",
        Verdict::Retry => "failed",
    }
}

#[cfg(test)]
mod tests {
    use lifeboat_core::clock::{Clock, ManualClock};
    use lifeboat_core::model::HostEvent;

    use super::*;

    fn settings(max: usize) -> OutboxSettings {
        OutboxSettings {
            max_reports: max,
            retry_initial: Duration::from_millis(10),
            retry_max: Duration::from_millis(40),
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        let (i, m) = (Duration::from_secs(1), Duration::from_secs(30));
        assert_eq!(backoff(1, i, m, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(3, i, m, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(3, i, m, 0.0), Duration::from_secs(2));
        assert_eq!(backoff(40, i, m, 1.0), m);
        assert_eq!(backoff(u32::MAX, i, m, 0.0), Duration::from_secs(15));
    }

    #[tokio::test]
    async fn reports_survive_a_reopen_in_order_and_the_bound_keeps_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let now = ManualClock::fixed().now();
        {
            let outbox =
                Outbox::open(dir.path(), settings(2), "test", OutboxMetrics::default()).unwrap();
            for name in ["first", "second"] {
                outbox
                    .push(&Report::process("h", HostEvent::Stopped, name, now))
                    .await
                    .unwrap();
            }
            let err = outbox
                .push(&Report::process("h", HostEvent::Stopped, "third", now))
                .await
                .unwrap_err();
            assert!(matches!(err, OutboxError::Full { max: 2, .. }), "{err}");
        }
        // A half-written file from a crash is not a report.
        std::fs::write(dir.path().join("0000000000000009-x.tmp"), b"{").unwrap();
        let reopened =
            Outbox::open(dir.path(), settings(2), "test", OutboxMetrics::default()).unwrap();
        assert_eq!(reopened.pending(), 2);
        let files = entries(dir.path()).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| {
                let v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
                v["notification"]["payload"]["process_name"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(names, vec!["first", "second"]);
        assert!(!dir.path().join("0000000000000009-x.tmp").exists());
    }

    /// Answers 503 to the first `failures` posts, then 202.
    #[derive(Debug)]
    struct Flaky(std::sync::atomic::AtomicU32);

    #[async_trait::async_trait]
    impl NotificationApi for Flaky {
        async fn post_notification(
            &self,
            _body: &Value,
        ) -> Result<super::super::ApiAnswer, super::super::ApiCallError> {
            let status = if self.0.fetch_sub(1, Ordering::SeqCst) > 0 {
                503
            } else {
                202
            };
            Ok(super::super::ApiAnswer {
                status,
                body: String::new(),
            })
        }
    }

    #[tokio::test]
    async fn the_metrics_follow_the_reports_waiting_and_each_attempt() {
        use lifeboat_metrics::AgentMetrics;
        use lifeboat_metrics::scrape::Scraped;

        let dir = tempfile::tempdir().unwrap();
        let now = ManualClock::fixed().now();
        let metrics = AgentMetrics::new("processmonitor");
        let outbox = Outbox::open(dir.path(), settings(1), "test", metrics.outbox.clone()).unwrap();
        for name in ["first", "second"] {
            let _ = outbox
                .push(&Report::process("h", HostEvent::Stopped, name, now))
                .await;
        }
        let scrape = || Scraped::parse(&metrics.encode().unwrap()).unwrap();
        assert_eq!(scrape().value("lifeboat_outbox_reports", &[]), 1.0);
        assert_eq!(scrape().value("lifeboat_outbox_reports_dropped", &[]), 1.0);
        let cancel = CancellationToken::new();
        let api = Arc::new(Flaky(std::sync::atomic::AtomicU32::new(2)));
        let delivery = tokio::spawn(outbox.clone().run(api, cancel.clone()));
        while outbox.pending() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        cancel.cancel();
        delivery.await.unwrap();
        let after = scrape();
        assert_eq!(after.value("lifeboat_outbox_reports", &[]), 0.0);
        let result = |r| after.value("lifeboat_outbox_deliveries", &[("result", r)]);
        assert_eq!((result("failed"), result("delivered")), (2.0, 1.0));
        let timed = [("result", "failed")];
        assert_eq!(
            after.count("lifeboat_outbox_delivery_duration_seconds", &timed),
            2
        );
    }
}

//! The recovery engine: claims notifications from the store and recovers what failed, through
//! the [`Compute`](lifeboat_core::compute::Compute) (Nova) and
//! [`Fencer`](lifeboat_core::fencing::Fencer) seams.
//!
//! Any number of engines may share one database: each claims a notification with a lease and
//! renews it while it works; when an engine dies, another resumes the notification after the
//! lease runs out, skipping the steps already recorded as done. Decisions are pure functions
//! (`decisions`); waiting is polling with backoff (`wait`); every step is recorded (`recorder`)
//! and shown by the API as `recovery_workflow_details`.

pub mod decisions;
pub mod policy;
mod recorder;
pub mod wait;
mod workflows;

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use lifeboat_core::clock::Clock;
use lifeboat_core::compute::Compute;
use lifeboat_core::fencing::Fencer;
use lifeboat_core::model::NotificationStatus;
use lifeboat_core::store::{Claim, Completion, Store};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

pub use policy::{Policies, Policy};
pub use workflows::Outcome;

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// This engine's name in claims.
    pub engine_id: String,
    /// Claim lease.
    pub lease: Duration,
    /// Pause between looks for work.
    pub poll_interval: Duration,
    /// Notifications recovered at once.
    pub max_concurrent: usize,
    /// Attempts before `failed`.
    pub max_attempts: u32,
    /// First retry delay (doubles per attempt).
    pub retry_backoff: Duration,
}

/// What the engine works with.
#[derive(Debug, Clone)]
pub struct EngineDeps {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// Nova (none: every recovery needing Nova ends in error, saying so).
    pub compute: Option<Arc<dyn Compute>>,
    /// Fencing (none: hosts cannot be fenced; segments requiring it do not evacuate).
    pub fencer: Option<Arc<dyn Fencer>>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Workflow policies.
    pub policies: Arc<Policies>,
    /// Outbound HTTP for webhook steps (none: webhook steps fail, saying so).
    pub webhook: Option<Arc<dyn lifeboat_core::compute::Webhook>>,
    /// What the engine counts (claims, recoveries, instance moves).
    pub metrics: lifeboat_metrics::EngineMetrics,
}

/// The workflow policies in force: clones share them, and [`PoliciesHandle::replace`] puts
/// new ones in force for every recovery that starts afterwards (a reload on SIGHUP).
#[derive(Debug, Clone)]
pub struct PoliciesHandle(Arc<RwLock<Arc<Policies>>>);

impl PoliciesHandle {
    /// The policies in force now.
    pub fn current(&self) -> Arc<Policies> {
        // A panic elsewhere cannot leave an Arc half-written; the policies stay usable.
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts `policies` in force.
    pub fn replace(&self, policies: Policies) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(policies);
    }
}

/// The engine.
#[derive(Debug, Clone)]
pub struct Engine {
    deps: EngineDeps,
    settings: EngineSettings,
    wake: Arc<Notify>,
    policies: PoliciesHandle,
}

impl Engine {
    /// An engine. `wake` is notified when new work arrives (the API does it in `serve`).
    pub fn new(deps: EngineDeps, settings: EngineSettings, wake: Arc<Notify>) -> Self {
        let policies = PoliciesHandle(Arc::new(RwLock::new(deps.policies.clone())));
        Self {
            deps,
            settings,
            wake,
            policies,
        }
    }

    /// The workflow policies in force, to replace them while the engine runs.
    pub fn policies(&self) -> PoliciesHandle {
        self.policies.clone()
    }

    /// Claims and recovers notifications until `cancel`. On cancel it stops claiming, asks
    /// running recoveries to stop at their next step, and waits up to `grace` for them; whatever
    /// is still running is resumed by an engine once its lease expires.
    pub async fn run(self, cancel: CancellationToken, grace: Duration) {
        let permits = Arc::new(Semaphore::new(self.settings.max_concurrent.max(1)));
        let mut running = tokio::task::JoinSet::new();
        tracing::info!(engine.id = %self.settings.engine_id, "recovery engine started");
        self.deps.metrics.set_up(true);
        loop {
            while let Ok(permit) = permits.clone().try_acquire_owned() {
                let now = self.deps.clock.now();
                match self
                    .deps
                    .store
                    .claim_notification(&self.settings.engine_id, self.settings.lease, now)
                    .await
                {
                    Ok(Some(claim)) => {
                        self.deps.metrics.claimed(claim.resumed);
                        let engine = self.clone();
                        let cancel = cancel.child_token();
                        running.spawn(async move {
                            engine.process(claim, cancel).await;
                            drop(permit);
                        });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "looking for work failed; trying again shortly");
                        break;
                    }
                }
            }
            // A recovery that ended since the last look may have been all that kept the next
            // notification of its host waiting: look again at once rather than at the next poll.
            let mut ended = false;
            while running.try_join_next().is_some() {
                ended = true;
            }
            if ended {
                continue;
            }
            tokio::select! {
                () = cancel.cancelled() => break,
                () = self.wake.notified() => {}
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
        tracing::info!(running = running.len(), "recovery engine stopping");
        let drain = async { while running.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, drain).await.is_err() {
            tracing::warn!(
                "recoveries still running at shutdown will be resumed by another engine"
            );
            running.abort_all();
        }
        self.deps.metrics.set_up(false);
    }

    /// Recovers one claimed notification, renewing the lease meanwhile, and records the outcome.
    async fn process(&self, claim: Claim, cancel: CancellationToken) {
        let id = claim.notification.notification_uuid;
        let span = tracing::info_span!(
            "recovery",
            notification.id = %id,
            notification.type = %claim.notification.notification_type,
            attempt = claim.attempt,
        );
        let started = tokio::time::Instant::now();
        let _running = self.deps.metrics.recovery_started();
        tracing::info!(parent: &span, resumed = claim.resumed, "recovery started");
        let lost = CancellationToken::new();
        let renewer = tokio::spawn(renew_lease(
            self.deps.clone(),
            self.settings.clone(),
            id,
            lost.clone(),
            cancel.clone(),
        ));
        // A recovery keeps the policies it started with, even across a reload.
        let deps = EngineDeps {
            policies: self.policies.current(),
            ..self.deps.clone()
        };
        let work = workflows::run(&deps, &claim, &cancel);
        let outcome = tokio::select! {
            outcome = tracing::Instrument::instrument(work, span.clone()) => Some(outcome),
            () = lost.cancelled() => None,
        };
        renewer.abort();
        let kind = claim.notification.notification_type.to_string();
        let Some(outcome) = outcome else {
            self.deps.metrics.lease_lost();
            tracing::warn!(parent: &span, "this engine lost its claim; another engine continues the recovery");
            return;
        };
        if cancel.is_cancelled() && matches!(outcome, Outcome::Interrupted) {
            // Shutting down: leave the claim to expire so another engine resumes from the
            // recorded steps.
            tracing::info!(parent: &span, "recovery interrupted by shutdown");
            return;
        }
        let now = self.deps.clock.now();
        let completion = outcome.completion(claim.attempt, &self.settings, now);
        let metrics = &self.deps.metrics;
        metrics.recovery_ended(&kind, outcome.label(), started.elapsed());
        metrics
            .notifications
            .reached(&kind, &completion.status.to_string());
        tracing::info!(
            parent: &span,
            status = %completion.status,
            duration_ms = started.elapsed().as_millis() as u64,
            message = completion.message.as_deref().unwrap_or(""),
            "recovery ended"
        );
        if completion.status == NotificationStatus::Failed
            || completion.status == NotificationStatus::Error
        {
            tracing::error!(parent: &span, message = completion.message.as_deref().unwrap_or(""), "recovery did not succeed");
        }
        // Within the lease, wait out a database restart rather than leave the notification to
        // be claimed and run again.
        let store = &self.deps.store;
        let engine_id = &self.settings.engine_id;
        if let Err(e) = wait::store(self.settings.lease, "recording the outcome", || {
            store.complete_notification(id, engine_id, completion.clone(), now)
        })
        .await
        {
            tracing::error!(parent: &span, error = %e, "recording the outcome failed; the notification will be resumed");
        }
    }
}

/// Renews the lease every third of its length; signals `lost` if the claim is gone.
async fn renew_lease(
    deps: EngineDeps,
    settings: EngineSettings,
    id: uuid::Uuid,
    lost: CancellationToken,
    cancel: CancellationToken,
) {
    let every = settings.lease / 3;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        match deps
            .store
            .renew_claim(id, &settings.engine_id, settings.lease, deps.clock.now())
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                lost.cancel();
                return;
            }
            // A database blip: keep trying while the lease lasts.
            Err(e) => {
                tracing::warn!(notification.id = %id, error = %e, "renewing the claim failed")
            }
        }
    }
}

impl Outcome {
    /// The outcome's name in metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Finished { .. } => "finished",
            Self::Ignored(_) => "ignored",
            Self::Error {
                retryable: true, ..
            } => "error",
            Self::Error {
                retryable: false, ..
            } => "refused",
            Self::NeedsOperator(_) => "needs_operator",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }

    /// The completion to record for this outcome of attempt `attempt`.
    pub fn completion(
        &self,
        attempt: i64,
        settings: &EngineSettings,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Completion {
        let (status, message, retry_at, method) = match self {
            Self::Finished { message, method } => (
                NotificationStatus::Finished,
                message.clone(),
                None,
                method.clone(),
            ),
            Self::Ignored(message) => (
                NotificationStatus::Ignored,
                Some(message.clone()),
                None,
                None,
            ),
            // Trying again would fail the same way: failed at once, as after the last attempt.
            Self::Error {
                message,
                method,
                retryable: false,
            } => (
                NotificationStatus::Failed,
                Some(message.clone()),
                None,
                method.clone(),
            ),
            Self::Error {
                message,
                method,
                retryable: true,
            } => match decisions::retry_at(
                attempt,
                settings.max_attempts,
                settings.retry_backoff,
                now,
            ) {
                Some(at) => (
                    NotificationStatus::Error,
                    Some(message.clone()),
                    Some(at),
                    method.clone(),
                ),
                None => (
                    NotificationStatus::Failed,
                    Some(format!("{message} (gave up after {attempt} attempts)")),
                    None,
                    method.clone(),
                ),
            },
            Self::NeedsOperator(message) => {
                (NotificationStatus::Error, Some(message.clone()), None, None)
            }
            Self::Cancelled => (
                NotificationStatus::Failed,
                Some(lifeboat_core::model::CANCELLED_MESSAGE.into()),
                None,
                None,
            ),
            Self::Interrupted => (
                NotificationStatus::Error,
                Some("The recovery was interrupted; it will be resumed.".into()),
                Some(now),
                None,
            ),
        };
        Completion {
            status,
            message,
            retry_at,
            recovery_method: method,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_retryable_error_is_tried_again_while_attempts_remain() {
        let settings = EngineSettings {
            engine_id: "e".into(),
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            max_concurrent: 1,
            max_attempts: 3,
            retry_backoff: Duration::from_secs(30),
        };
        let now = chrono::DateTime::UNIX_EPOCH;
        let error = |retryable| Outcome::Error {
            message: "Nova said no".into(),
            method: Some("auto".into()),
            retryable,
        };
        let table = [
            (true, 1, NotificationStatus::Error, true, "Nova said no"),
            (
                true,
                3,
                NotificationStatus::Failed,
                false,
                "Nova said no (gave up after 3 attempts)",
            ),
            (false, 1, NotificationStatus::Failed, false, "Nova said no"),
        ];
        for (retryable, attempt, status, retried, message) in table {
            let c = error(retryable).completion(attempt, &settings, now);
            assert_eq!(c.status, status, "{retryable} {attempt}");
            assert_eq!(c.retry_at.is_some(), retried, "{retryable} {attempt}");
            assert_eq!(c.message.as_deref(), Some(message));
            assert_eq!(c.recovery_method.as_deref(), Some("auto"));
        }
    }
}

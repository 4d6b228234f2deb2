//! Recording workflow steps as they run (what `recovery_workflow_details` shows), and finding
//! the steps a resumed recovery already completed so it does not repeat them (no second fence,
//! no second evacuation request).

use std::sync::Arc;

use lifeboat_core::clock::Clock;
use lifeboat_core::model::{ProgressDetail, RecoveryStep, StepState};
use lifeboat_core::store::{RecoveryStore, StoreError};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::wait;

/// The steps of one attempt of one notification.
#[derive(Debug)]
pub struct Recorder {
    store: Arc<dyn RecoveryStore>,
    clock: Arc<dyn Clock>,
    notification: Uuid,
    attempt: i32,
    steps: Mutex<Vec<RecoveryStep>>,
    /// The steps of the attempt before this one.
    previous: Vec<RecoveryStep>,
}

impl Recorder {
    /// A recorder for `attempt`, knowing what an earlier run of the same attempt recorded.
    /// Fails when those steps cannot be read: starting afresh would repeat steps already done
    /// (a second fence, a second evacuation).
    pub async fn new(
        store: Arc<dyn RecoveryStore>,
        clock: Arc<dyn Clock>,
        notification: Uuid,
        attempt: i64,
    ) -> Result<Self, StoreError> {
        let attempt = i32::try_from(attempt).unwrap_or(i32::MAX);
        let all = wait::store(wait::STORE_PATIENCE, "reading earlier steps", || {
            store.list_recovery_steps(notification)
        })
        .await?;
        let (earlier, previous) = all
            .into_iter()
            .filter(|s| s.attempt >= attempt - 1)
            .partition(|s| s.attempt == attempt);
        Ok(Self {
            store,
            clock,
            notification,
            attempt,
            steps: Mutex::new(earlier),
            previous,
        })
    }

    /// Whether the last step of this name in the attempt before this one failed.
    pub fn failed_last_attempt(&self, name: &str) -> bool {
        self.previous
            .iter()
            .rev()
            .find(|s| s.name == name)
            .is_some_and(|s| s.state == StepState::Failure)
    }

    /// Whether a step of this name already succeeded in this attempt (a resumed run skips it).
    pub async fn succeeded_before(&self, name: &str) -> bool {
        self.steps
            .lock()
            .await
            .iter()
            .rev()
            .find(|s| s.name == name)
            .is_some_and(|s| s.state == StepState::Success)
    }

    /// Starts (or, after an engine restart, continues) a step.
    pub async fn start(&self, name: &str) -> Step<'_> {
        let now = self.clock.now();
        let record = {
            let mut steps = self.steps.lock().await;
            let unfinished = steps.iter().rposition(|s| {
                s.name == name && matches!(s.state, StepState::Running | StepState::Pending)
            });
            match unfinished {
                Some(at) => {
                    let mut record = steps[at].clone();
                    record.details.push(ProgressDetail {
                        timestamp: now,
                        progress: record.progress,
                        message: "Resumed after the engine that ran this step stopped.".into(),
                    });
                    record
                }
                None => {
                    let seq = steps.iter().map(|s| s.seq).max().unwrap_or(0) + 1;
                    let record = RecoveryStep {
                        id: 0,
                        notification_uuid: self.notification,
                        attempt: self.attempt,
                        seq,
                        name: name.to_owned(),
                        state: StepState::Running,
                        progress: 0.0,
                        details: Vec::new(),
                    };
                    steps.push(record.clone());
                    record
                }
            }
        };
        let step = Step {
            recorder: self,
            record,
        };
        step.save().await;
        step
    }

    async fn save(&self, record: &RecoveryStep) {
        {
            let mut steps = self.steps.lock().await;
            if let Some(s) = steps.iter_mut().find(|s| s.seq == record.seq) {
                *s = record.clone();
            }
        }
        if let Err(e) = self.store.record_step(record, self.clock.now()).await {
            // Recording progress must never stop a recovery.
            tracing::warn!(notification.id = %self.notification, step = %record.name, error = %e, "recording a step failed");
        }
    }
}

/// A step under way.
#[derive(Debug)]
pub struct Step<'a> {
    recorder: &'a Recorder,
    record: RecoveryStep,
}

impl Step<'_> {
    async fn save(&self) {
        self.recorder.save(&self.record).await;
    }

    fn line(&mut self, progress: f64, message: impl Into<String>) {
        self.record.progress = progress.clamp(0.0, 1.0);
        self.record.details.push(ProgressDetail {
            timestamp: self.recorder.clock.now(),
            progress: self.record.progress,
            message: message.into(),
        });
    }

    /// Records a progress line.
    pub async fn progress(&mut self, progress: f64, message: impl Into<String>) {
        self.line(progress, message);
        self.save().await;
    }

    /// Ends the step successfully.
    pub async fn succeed(mut self, message: impl Into<String>) {
        self.line(1.0, message);
        self.record.state = StepState::Success;
        self.save().await;
    }

    /// Ends the step as failed.
    pub async fn fail(mut self, message: impl Into<String>) {
        let progress = self.record.progress;
        self.line(progress, message);
        self.record.state = StepState::Failure;
        self.save().await;
    }

    /// Ends the step as not needed.
    pub async fn skip(mut self, message: impl Into<String>) {
        self.line(1.0, message);
        self.record.state = StepState::Skipped;
        self.save().await;
    }
}

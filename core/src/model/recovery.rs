use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::string_enum;

string_enum! {
    /// State of one recorded workflow step (Masakari's taskflow atom states).
    pub enum StepState {
        /// Not started.
        Pending = "PENDING",
        /// Under way.
        Running = "RUNNING",
        /// Done.
        Success = "SUCCESS",
        /// Failed.
        Failure = "FAILURE",
        /// Undone after a later failure.
        Reverted = "REVERTED",
        /// Not needed in this run.
        Skipped = "SKIPPED",
    }
}

/// The step recorded when an operator cancels a notification (in the attempt it ends).
pub const CANCEL_STEP: &str = "OperatorCancelTask";
/// The message of a notification an operator cancelled (status `failed`).
pub const CANCELLED_MESSAGE: &str = "Cancelled by an operator.";

/// One progress line of a step.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProgressDetail {
    /// When it was written.
    pub timestamp: DateTime<Utc>,
    /// Progress between 0 and 1 at that time.
    pub progress: f64,
    /// What happened.
    pub message: String,
}

/// One step of a notification's recovery, as the engine recorded it; the API shows these as
/// `recovery_workflow_details`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryStep {
    /// Integer database id.
    pub id: i64,
    /// The notification it belongs to.
    pub notification_uuid: Uuid,
    /// Which run of the workflow (1 for the first attempt).
    pub attempt: i32,
    /// Order within the run.
    pub seq: i32,
    /// Step name (Masakari's task class names where they exist).
    pub name: String,
    /// State.
    pub state: StepState,
    /// Progress between 0 and 1.
    pub progress: f64,
    /// Progress lines, oldest first.
    pub details: Vec<ProgressDetail>,
}

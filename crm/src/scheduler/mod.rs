//! The scheduler: a pure function from (configuration, status, now) to the actions that
//! bring the cluster where it should be, following Pacemaker 2.1.5's rules.
//!
//! The stages are Pacemaker's: unpack the node states and each resource's current role from
//! its operation history (`unpack`), fence the nodes that need it, assign each resource to a
//! node (`placement`, `clones`), then derive the actions and their order (`actions`).

mod actions;
mod blocked;
mod clones;
mod digest;
mod guest;
mod history;
mod influence;
mod migration;
mod placement;
mod promotion;
mod remote;
mod scores;
mod unpack;
mod utilization;
mod working;

use crate::model::Cluster;

pub use actions::{Change, Verb, revised};
pub use digest::{ParamChange, params_digest};
pub use guest::is_internal;
pub use remote::revised_online;
pub use scores::{AllocationScores, PromotionScore, ScoreLog, Stage};
pub use working::{NodeInfo, RemoteInfo, Rsc, RscKind, Working};

/// The scheduler's result: the working set after assignment (current and next state of every
/// resource), the fencing decisions and the summary of changes.
#[derive(Debug)]
pub struct Transition {
    /// Nodes and resources, current and next.
    pub working: Working,
    /// What changes, in CIB order (the "Transition Summary").
    pub changes: Vec<Change>,
}

/// Run the scheduler. `now` is seconds since the epoch (the CIB's `execution-date` wins when
/// present, as in Pacemaker).
pub fn schedule(cluster: &Cluster, now: i64) -> Transition {
    let now = cluster.execution_date.unwrap_or(now);
    let cluster = &*guest::expand(cluster);
    let mut w = unpack::unpack(cluster, now);
    placement::assign_all(&mut w, cluster);
    let changes = actions::plan(&mut w, cluster);
    Transition {
        working: w,
        changes,
    }
}

//! `crm simulate` beyond one scheduler run: crm_simulate's injections applied to the status
//! first, and the text with the requested modifications and (optionally) the scores.

mod datetime;
pub mod execute;
pub mod inject;

use crate::graph;
use crate::model::Cluster;
use crate::output::{self, View};
use crate::scheduler::{self, Transition};

pub use execute::Execution;
pub use inject::{InjectError, Injections, OpResult, parse_datetime, parse_quorum};

/// A simulation: the cluster as given (for the current status), the cluster after the
/// injections, and the transition scheduled for the latter.
#[derive(Debug)]
pub struct Simulation {
    /// The cluster as given.
    pub given: Cluster,
    /// The current state as given (before the injections).
    pub before: Transition,
    /// The cluster after the injections.
    pub cluster: Cluster,
    /// What the scheduler decides for it.
    pub transition: Transition,
    /// The injections applied.
    pub injections: Injections,
    /// The transition run with `--op-fail`'s failures (none without them).
    pub execution: Option<Execution>,
}

/// Apply `injections` and schedule. `now` is the clock (the CIB's execution-date, then
/// `--set-datetime`, win).
pub fn run(
    cluster: &Cluster,
    injections: &Injections,
    now: i64,
) -> Result<Simulation, InjectError> {
    let injected = injections.apply(cluster, now)?;
    let transition = scheduler::schedule(&injected, now);
    let before = scheduler::schedule(cluster, injections.now.unwrap_or(now));
    let execution = (!injections.fail.is_empty()).then(|| {
        let g = graph::build(&injected, &transition);
        execute::execute(&transition.working, &g, &injections.fail)
    });
    Ok(Simulation {
        given: cluster.clone(),
        before,
        cluster: injected,
        transition,
        injections: injections.clone(),
        execution,
    })
}

impl Simulation {
    /// The crm_simulate-style text: current status, requested modifications, the scores
    /// when asked, the transition summary and the revised status.
    pub fn text(&self, show_scores: bool) -> String {
        let mut out = String::from("Current cluster status:\n");
        out.push_str(&output::status_text(
            &self.given,
            &self.before.working,
            View::Current,
        ));
        let changes = self.injections.describe();
        if !changes.is_empty() {
            out.push_str("\nPerforming Requested Modifications:\n");
            for line in changes {
                out.push_str("  * ");
                out.push_str(&line);
                out.push('\n');
            }
        }
        if show_scores {
            out.push('\n');
            out.push_str(&output::scores_text(&self.transition.working));
        }
        let failure = self.execution.as_ref().and_then(|e| Some((e, e.failed?)));
        let Some((execution, (id, rc))) = failure else {
            out.push_str(&output::transition_text(&self.cluster, &self.transition));
            return out;
        };
        // A failed action aborted the transition: the revised status is what ran left.
        out.push_str(&output::summary_text(&self.transition));
        let g = graph::build(&self.cluster, &self.transition);
        out.push_str(&format!(
            "Pretending action {} on {} failed with rc={rc}\n",
            g.actions[id].key, g.actions[id].node
        ));
        out.push_str("\nRevised Cluster Status:\n");
        out.push_str(&output::status_text(
            &self.cluster,
            &execution.after,
            View::Current,
        ));
        out
    }
}

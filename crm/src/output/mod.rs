//! Text output in the format of Pacemaker 2.1.5's `crm_simulate --simulate`: the current
//! status, the transition summary, the executed actions and the revised status.

mod remote;
mod scores;
mod status;

use std::fmt::Write as _;

use crate::model::Cluster;
use crate::scheduler::Transition;

pub use scores::scores_text;
pub use status::{View, status_text};

/// The whole `crm_simulate -S` text for a scheduled transition.
pub fn simulate_text(cluster: &Cluster, t: &Transition) -> String {
    let mut out = String::new();
    out.push_str("Current cluster status:\n");
    out.push_str(&status_text(cluster, &t.working, View::Current));
    out.push_str(&transition_text(cluster, t));
    out
}

/// From the Transition Summary on (the part that follows the current status).
pub fn transition_text(cluster: &Cluster, t: &Transition) -> String {
    let mut out = summary_text(t);
    out.push_str("\nRevised Cluster Status:\n");
    out.push_str(&status_text(cluster, &t.working, View::Revised));
    out
}

/// The Transition Summary and the Executing Cluster Transition sections.
pub fn summary_text(t: &Transition) -> String {
    let mut out = String::new();
    out.push_str("\nTransition Summary:\n");
    for c in &t.changes {
        out.push_str(&summary_line(c));
        out.push('\n');
    }
    out.push_str("\nExecuting Cluster Transition:\n");
    for c in &t.changes {
        if c.verb == crate::scheduler::Verb::Fence {
            let _ = writeln!(out, "  * Fencing {}", c.subject);
        }
    }
    out
}

/// One `* Verb rsc ( details )  due to …` line.
pub fn summary_line(c: &crate::scheduler::Change) -> String {
    if c.verb == crate::scheduler::Verb::Fence {
        return format!(
            "  * Fence {} '{}'",
            c.subject,
            c.reason.as_deref().unwrap_or("")
        );
    }
    let mut line = format!(
        "  * {:<10} {:<20} ( {} )",
        c.verb.text(),
        c.subject,
        c.details
    );
    if let Some(r) = &c.reason {
        line.push_str("  ");
        line.push_str(r);
    }
    line
}

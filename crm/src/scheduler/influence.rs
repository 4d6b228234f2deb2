//! Dependents' influence on where their primary goes (Pacemaker's "with this" colocations):
//! before a resource is assigned, the node scores of what is colocated with it are added to
//! its own, scaled by each colocation's score / INFINITY, and so on down the chain of
//! dependents; a step that would leave no node able to run the primary is rolled back.

use crate::model::{Cluster, INFINITY, Score};

use super::placement::{Scores, unit_scores};
use super::working::{RscKind, Working};

/// Add the preferences of `idx`'s dependents (and of its group members' dependents) to the
/// scores it is being assigned with.
pub(super) fn dependents_influence(
    w: &Working,
    cluster: &Cluster,
    idx: usize,
    scores: &mut Scores,
) {
    let mut seen = vec![idx];
    for primary in unit_members(w, idx) {
        add_dependents(w, cluster, primary, 1.0, scores, &mut seen);
    }
}

/// The resource and, for a group, its members: colocations may name any of them.
fn unit_members(w: &Working, idx: usize) -> Vec<usize> {
    let mut out = vec![idx];
    if let RscKind::Group(members) = &w.rscs[idx].kind {
        out.extend(members.iter().copied());
    }
    out
}

fn add_dependents(
    w: &Working,
    cluster: &Cluster,
    primary: usize,
    factor: f64,
    scores: &mut Scores,
    seen: &mut Vec<usize>,
) {
    for c in &cluster.colocations {
        if w.rscs[primary].base != c.with_rsc || c.score.0 == 0 || c.with_role.is_some() {
            continue;
        }
        let Some(dep) = w.tops.iter().copied().find(|&i| w.rscs[i].base == c.rsc) else {
            continue;
        };
        if seen.contains(&dep)
            || w.rscs[dep].allocated
            || matches!(w.rscs[dep].kind, RscKind::Clone { .. })
        {
            continue;
        }
        let f = factor * c.score.0 as f64 / INFINITY as f64;
        let theirs = w.rscs[dep]
            .partial_scores
            .clone()
            .unwrap_or_else(|| unit_scores(w, cluster, dep));
        let mut work = scores.clone();
        for (n, s) in work.iter_mut().enumerate() {
            // The dependent's score where it could run; a node it cannot use counts as
            // −INFINITY (Pacemaker's best matching node).
            let there = if w.nodes[n].available() && !theirs[n].is_neg_inf() {
                theirs[n]
            } else {
                Score::NEG_INF
            };
            if f < 0.0 && there.0 < 0 {
                // Avoiding a node the dependent avoids is no reason to go there.
                continue;
            }
            *s = *s + there.scaled(f);
        }
        let usable = work
            .iter()
            .enumerate()
            .any(|(n, s)| s.0 >= 0 && w.nodes[n].available());
        if !usable {
            continue;
        }
        *scores = work;
        seen.push(dep);
        for member in unit_members(w, dep) {
            add_dependents(w, cluster, member, f, scores, seen);
        }
    }
}

//! `crm explain`: why a resource is (or will be) where it is, or why it is stopped, in
//! sentences: what happens to it, the node scores that decided it (the winner and the
//! losers), and each thing that contributed: location constraints and colocations (by id),
//! stickiness, fail counts against migration-threshold, node states, its group, its target
//! role. Read from the scheduler's own result and score log, so that the sentences say what
//! the scheduler did.

mod factors;

use std::fmt;

use crate::model::{Cluster, Role, Score};
use crate::scheduler::{RscKind, Stage, Transition, Working, revised};

/// A resource that cannot be explained.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExplainError {
    /// No resource has that id.
    #[error("explain {0}: no resource {0} in the cluster")]
    FindResource(String),
}

/// The sentences, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// One sentence a line.
    pub sentences: Vec<String>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.sentences {
            writeln!(f, "{s}")?;
        }
        Ok(())
    }
}

/// Explain `resource` (a configured id, or a clone instance's `rsc:N`) in a transition.
pub fn explain(
    cluster: &Cluster,
    t: &Transition,
    resource: &str,
) -> Result<Explanation, ExplainError> {
    let w = &t.working;
    let idx = (0..w.rscs.len())
        .find(|&i| w.rscs[i].id == resource && w.rscs[i].instance.is_none())
        .or_else(|| (0..w.rscs.len()).find(|&i| w.rscs[i].id == resource))
        .ok_or_else(|| ExplainError::FindResource(resource.to_string()))?;
    let mut out = Vec::new();
    match &w.rscs[idx].kind {
        RscKind::Clone { instances, .. } => {
            out.push(clone_summary(w, idx, instances));
            context(w, cluster, idx, &mut out);
            for &inst in instances {
                unit(w, cluster, inst, &mut out);
            }
        }
        _ => {
            unit(w, cluster, idx, &mut out);
            context(w, cluster, idx, &mut out);
        }
    }
    Ok(Explanation { sentences: out })
}

/// Sentences for a primitive, a group or one clone instance.
fn unit(w: &Working, cluster: &Cluster, idx: usize, out: &mut Vec<String>) {
    let prims = w.primitives(idx);
    let Some(&first) = prims.first() else {
        out.push(format!("{} has no members.", w.rscs[idx].id));
        return;
    };
    let lead = if matches!(w.rscs[idx].kind, RscKind::Group(_)) {
        first
    } else {
        idx
    };
    out.push(outcome(w, idx, first));
    if let Some(g) = w.rscs[idx]
        .parent
        .filter(|&g| matches!(w.rscs[g].kind, RscKind::Group(_)))
    {
        out.push(factors::group_member(w, g, idx));
    }
    out.extend(factors::why_not_running(w, cluster, idx, first));
    if let Some(scores) = final_scores(w, lead) {
        out.push(score_sentence(w, idx, first, &scores));
    }
    out.extend(promotion_sentence(w, idx));
    out.extend(factors::stickiness(w, cluster, &prims));
    out.extend(factors::failures(w, &prims));
}

/// What applies to the whole resource (a clone: once for all instances): node states,
/// location constraints, colocations.
fn context(w: &Working, cluster: &Cluster, idx: usize, out: &mut Vec<String>) {
    out.extend(factors::node_states(w));
    out.extend(factors::locations(w, cluster, idx));
    out.extend(factors::colocations(w, cluster, idx));
}

/// The final (assignment-time) scores of a primitive, or of a group's first member.
fn final_scores(w: &Working, p: usize) -> Option<Vec<Score>> {
    w.score_log.last(p, Stage::Primitive).map(<[Score]>::to_vec)
}

fn role_text(w: &Working, p: usize, role: Role) -> &'static str {
    match role {
        Role::Promoted => " as Promoted",
        Role::Unpromoted if w.is_promotable_instance(p) => " as Unpromoted",
        _ => "",
    }
}

/// What happens to it: where it runs now and where it will run.
fn outcome(w: &Working, idx: usize, first: usize) -> String {
    let name = &w.rscs[idx].id;
    let uname = |n: usize| w.nodes[n].uname.as_str();
    let now = w.rscs[first].running.first().copied();
    let next = revised(w, first).first().copied();
    let failed = w.rscs[first].failed;
    match (now, next) {
        (None, None) => format!("{name} is stopped and will stay stopped."),
        (None, Some((n, role))) => format!(
            "{name} is stopped and will start on {}{}.",
            uname(n),
            role_text(w, first, role)
        ),
        (Some((c, role)), None) => format!(
            "{name} {} on {}{} and will stop.",
            if failed { "failed" } else { "runs" },
            uname(c),
            role_text(w, first, role)
        ),
        (Some((c, r1)), Some((n, r2))) if c == n => {
            let state = format!("{name} runs on {}{}", uname(c), role_text(w, first, r1));
            if failed {
                format!("{name} failed on {} and will be recovered there.", uname(c))
            } else if r1 != r2 {
                let verb = if r2 == Role::Promoted {
                    "promoted"
                } else {
                    "demoted"
                };
                format!("{state} and will be {verb} there.")
            } else {
                format!("{state} and stays there.")
            }
        }
        (Some((c, r1)), Some((n, r2))) => format!(
            "{name} {} on {}{} and will {} to {}{}.",
            if failed { "failed" } else { "runs" },
            uname(c),
            role_text(w, first, r1),
            if failed {
                "be recovered by moving"
            } else {
                "move"
            },
            uname(n),
            role_text(w, first, r2)
        ),
    }
}

/// The winner and the losers, with their scores.
fn score_sentence(w: &Working, idx: usize, first: usize, scores: &[Score]) -> String {
    let mut nodes: Vec<usize> = (0..scores.len()).collect();
    nodes.sort_by(|&a, &b| {
        scores[b]
            .cmp(&scores[a])
            .then(w.nodes[a].uname.cmp(&w.nodes[b].uname))
    });
    let chosen = w.rscs[first].next_node;
    let list = |ns: &[usize]| {
        ns.iter()
            .map(|&n| format!("{} {}", w.nodes[n].uname, scores[n]))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let banned: Vec<usize> = nodes
        .iter()
        .copied()
        .filter(|&n| scores[n].0 < 0 && Some(n) != chosen)
        .collect();
    let name = &w.rscs[idx].id;
    let mut s = match chosen {
        Some(c) => {
            let others: Vec<usize> = nodes
                .iter()
                .copied()
                .filter(|&n| n != c && scores[n].0 >= 0)
                .collect();
            let mut s = format!(
                "Scores: {} is placed on {}, whose score is {}",
                name, w.nodes[c].uname, scores[c]
            );
            if !others.is_empty() {
                s.push_str(&format!(
                    "; the other nodes score less or lose the tie: {}",
                    list(&others)
                ));
                if others.iter().any(|&n| scores[n] == scores[c]) {
                    s.push_str(
                        " (a tie goes to the node with fewer resources placed, then to the \
                         node where it runs, then by name)",
                    );
                }
            }
            s
        }
        None => format!("Scores: no node can run {name}"),
    };
    if !banned.is_empty() {
        let why = if w.rscs[idx].instance.is_some() && w.clone_ancestor(idx).is_some() {
            "a negative score, or a node that holds as many instances as clone-node-max allows"
        } else {
            "a negative score"
        };
        s.push_str(&format!("; it may not run on {} ({why})", list(&banned)));
    }
    s.push('.');
    s
}

/// A promotable instance's promotion score, against the others'.
fn promotion_sentence(w: &Working, idx: usize) -> Option<String> {
    let log = &w.score_log.promotion;
    let own = log.iter().rev().find(|p| p.rsc == idx)?;
    let node = &w.nodes[own.node?].uname;
    let first = w.primitives(idx).first().copied().unwrap_or(idx);
    let promoted = w.rscs[first].next_role == Role::Promoted;
    let others: Vec<String> = log
        .iter()
        .filter(|p| p.rsc != idx && w.clone_ancestor(p.rsc) == w.clone_ancestor(idx))
        .map(|p| format!("{} {}", w.rscs[p.rsc].id, p.score))
        .collect();
    let verdict = if promoted {
        "it is promoted"
    } else {
        "it is not promoted (a negative score, a lower one than the promoted instances', or promoted-max reached)"
    };
    Some(format!(
        "Its promotion score on {node} is {} ({}): {verdict}.",
        own.score,
        if others.is_empty() {
            "the only instance".to_string()
        } else {
            format!("others: {}", others.join(", "))
        }
    ))
}

fn clone_summary(w: &Working, clone: usize, instances: &[usize]) -> String {
    let mut placed = Vec::new();
    for &inst in instances {
        let first = w.primitives(inst).first().copied().unwrap_or(inst);
        if let Some(&(n, role)) = revised(w, first).first() {
            placed.push(format!("{}{}", w.nodes[n].uname, role_text(w, first, role)));
        }
    }
    if placed.is_empty() {
        format!(
            "{} has {} instances and none will run.",
            w.rscs[clone].id,
            instances.len()
        )
    } else {
        format!(
            "{} has {} instances; after the transition they run on {}.",
            w.rscs[clone].id,
            instances.len(),
            placed.join(", ")
        )
    }
}

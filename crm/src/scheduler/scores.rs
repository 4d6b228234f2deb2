//! The scores behind each assignment, recorded as the scheduler goes (for `--show-scores`
//! and `crm explain`): the allocation scores of each resource per node at each stage
//! (Pacemaker's `pcmk__group_assign`, `pcmk__clone_allocate`, `pcmk__primitive_assign`), and
//! each promotable instance's promotion score.

use crate::model::{Cluster, Score};

use super::placement::{self, Scores};
use super::working::{RscKind, Working};

/// Which stage of assignment a line of scores belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// A group and its members' own scores before the group is placed.
    Group,
    /// A clone and its instances' scores before they are spread.
    Clone,
    /// A primitive's final scores, where it was placed from.
    Primitive,
}

impl Stage {
    /// The function name crm_simulate prints.
    pub fn text(self) -> &'static str {
        match self {
            Self::Group => "pcmk__group_assign",
            Self::Clone => "pcmk__clone_allocate",
            Self::Primitive => "pcmk__primitive_assign",
        }
    }
}

/// One resource's node scores at one stage (one score per node, in node order).
#[derive(Debug, Clone)]
pub struct AllocationScores {
    /// The stage.
    pub stage: Stage,
    /// The resource (arena index).
    pub rsc: usize,
    /// Per node.
    pub scores: Vec<Score>,
}

/// A promotable instance's promotion score.
#[derive(Debug, Clone)]
pub struct PromotionScore {
    /// The instance (arena index).
    pub rsc: usize,
    /// Where it is placed (None: nowhere).
    pub node: Option<usize>,
    /// The score.
    pub score: Score,
}

/// What was recorded, in the order the scheduler decided.
#[derive(Debug, Clone, Default)]
pub struct ScoreLog {
    /// Allocation scores.
    pub allocation: Vec<AllocationScores>,
    /// Promotion scores.
    pub promotion: Vec<PromotionScore>,
}

impl ScoreLog {
    /// The last (final) scores recorded for a resource at a stage.
    pub fn last(&self, rsc: usize, stage: Stage) -> Option<&[Score]> {
        self.allocation
            .iter()
            .rev()
            .find(|a| a.rsc == rsc && a.stage == stage)
            .map(|a| a.scores.as_slice())
    }
}

fn push(w: &mut Working, stage: Stage, rsc: usize, scores: Vec<Score>) {
    w.score_log
        .allocation
        .push(AllocationScores { stage, rsc, scores });
}

/// Unavailable nodes cannot be chosen: they show −INFINITY in the final scores, except for
/// fence devices (as in Pacemaker, which leaves their scores as they are).
fn available_only(w: &Working, rsc: usize, scores: &[Score]) -> Vec<Score> {
    let fence_device =
        matches!(&w.rscs[rsc].kind, RscKind::Primitive { class, .. } if class == "stonith");
    scores
        .iter()
        .enumerate()
        .map(|(n, &s)| {
            if fence_device || w.nodes[n].available() {
                s
            } else {
                Score::NEG_INF
            }
        })
        .collect()
}

/// A primitive or group placed from `scores` onto `chosen`.
pub(super) fn record_unit(
    w: &mut Working,
    cluster: &Cluster,
    idx: usize,
    scores: &Scores,
    chosen: Option<usize>,
) {
    let RscKind::Group(members) = w.rscs[idx].kind.clone() else {
        let s = available_only(w, idx, scores);
        push(w, Stage::Primitive, idx, s);
        return;
    };
    push(
        w,
        Stage::Group,
        idx,
        placement::base_scores(w, cluster, idx),
    );
    for &m in &members {
        push(w, Stage::Group, m, placement::base_scores(w, cluster, m));
    }
    for (k, &m) in members.iter().enumerate() {
        let s = if k == 0 {
            available_only(w, m, scores)
        } else {
            // Later members are colocated with the first: only its node is left.
            let own = available_only(w, m, &placement::base_scores(w, cluster, m));
            own.iter()
                .enumerate()
                .map(|(n, &s)| if Some(n) == chosen { s } else { Score::NEG_INF })
                .collect()
        };
        push(w, Stage::Primitive, m, s);
    }
}

/// A clone's scores, its instances' scores, and each instance's final scores in the order
/// they were placed (instances kept where they run first), nodes already holding
/// `node_max` instances excluded.
pub(super) fn record_clone(
    w: &mut Working,
    clone: usize,
    scores: &Scores,
    instances: &[usize],
    per_instance: &[Scores],
    chosen: &[Option<usize>],
    node_max: usize,
) {
    push(w, Stage::Clone, clone, scores.clone());
    for (k, &inst) in instances.iter().enumerate() {
        push(w, Stage::Clone, inst, per_instance[k].clone());
    }
    let kept = |k: usize| {
        chosen[k].is_some()
            && w.primitives(instances[k])
                .iter()
                .any(|&p| w.rscs[p].running.iter().any(|&(n, _)| Some(n) == chosen[k]))
    };
    let mut order: Vec<usize> = (0..instances.len()).filter(|&k| kept(k)).collect();
    order.extend((0..instances.len()).filter(|&k| !kept(k)));
    let mut per_node = vec![0usize; w.nodes.len()];
    for k in order {
        let s: Vec<Score> = available_only(w, instances[k], &per_instance[k])
            .iter()
            .enumerate()
            .map(|(n, &s)| {
                if per_node[n] >= node_max {
                    Score::NEG_INF
                } else {
                    s
                }
            })
            .collect();
        if let Some(n) = chosen[k] {
            per_node[n] += 1;
        }
        for p in w.primitives(instances[k]) {
            let own = if p == instances[k] {
                s.clone()
            } else {
                s.iter()
                    .enumerate()
                    .map(|(n, &x)| {
                        if Some(n) == chosen[k] {
                            x
                        } else {
                            Score::NEG_INF
                        }
                    })
                    .collect()
            };
            push(w, Stage::Primitive, p, own);
        }
    }
}

/// The promotion scores of a promotable clone's instances, highest first (unplaced last).
pub(super) fn record_promotion(
    w: &mut Working,
    instances: &[usize],
    score_of: impl Fn(&Working, usize) -> Option<Score>,
) {
    let mut rows: Vec<PromotionScore> = instances
        .iter()
        .map(|&inst| {
            let first = w.primitives(inst).first().copied().unwrap_or(inst);
            PromotionScore {
                rsc: inst,
                node: w.rscs[first].next_node,
                score: score_of(w, inst).unwrap_or(Score::ZERO),
            }
        })
        .collect();
    rows.sort_by_key(|r| (r.node.is_none(), std::cmp::Reverse(r.score)));
    w.score_log.promotion.extend(rows);
}

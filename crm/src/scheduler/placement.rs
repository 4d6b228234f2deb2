//! Assignment of resources to nodes: scores from location constraints, symmetric-cluster,
//! stickiness, failure bans and colocations; allocation order by priority; groups as one
//! unit (Pacemaker's implicit colocation chain).

use crate::model::{Cluster, Role, Score};

use super::clones;
use super::utilization;
use super::working::{RscKind, Working};

/// Per-node scores.
pub(super) type Scores = Vec<Score>;

pub(super) fn assign_all(w: &mut Working, cluster: &Cluster) {
    let mut order: Vec<usize> = w.tops.clone();
    let prio = |w: &Working, i: usize| {
        w.meta(i, "priority")
            .and_then(Score::parse)
            .unwrap_or(Score::ZERO)
    };
    order.sort_by_key(|&i| std::cmp::Reverse(prio(w, i)));
    if w.placement_strategy != "default" {
        super::utilization::sort_for_capacity(w, cluster, &mut order);
    }
    // Remote connections are assigned before everything else.
    order.sort_by_key(|&i| !super::remote::is_connection_rsc(w, i));
    let mut busy = vec![false; w.rscs.len()];
    for top in order {
        assign(w, cluster, top, &mut busy);
    }
}

/// A node's attributes as rules see them, `#uname`, `#id` and `#kind` included.
pub(super) fn rule_attrs(node: &super::working::NodeInfo) -> crate::model::Attrs {
    let mut attrs = node.attrs.clone();
    attrs.insert("#uname".into(), node.uname.clone());
    attrs.insert("#id".into(), node.id.clone());
    // Pacemaker's node kinds: cluster, remote, and container for guest nodes.
    let kind = match &node.remote {
        Some(r) if r.guest => "container",
        Some(_) => "remote",
        None => "cluster",
    };
    attrs.insert("#kind".into(), kind.into());
    attrs
}

/// Ids that name `idx` in constraints: its own and, for instances, the configured id.
fn named(w: &Working, idx: usize, name: &str) -> bool {
    w.rscs[idx].base == name && w.rscs[idx].instance.is_none_or(|_| true)
}

/// The node scores of one resource before colocations: symmetric default, location
/// constraints on it and its ancestors, failure bans, stickiness.
pub(super) fn base_scores(w: &Working, cluster: &Cluster, idx: usize) -> Scores {
    let n = w.nodes.len();
    let mut allowed = vec![w.symmetric; n];
    let mut s = vec![Score::ZERO; n];
    let mut chain = vec![idx];
    let mut p = w.rscs[idx].parent;
    while let Some(q) = p {
        chain.push(q);
        p = w.rscs[q].parent;
    }
    for (ci, &r) in chain.iter().enumerate() {
        // A group's location counts fully for its first member only; the later members see
        // its nodes with score 0 (Pacemaker's pcmk__group_apply_location).
        let later_member = ci > 0
            && matches!(&w.rscs[r].kind, RscKind::Group(m) if m.first() != Some(&chain[ci - 1]));
        let counted = |score: Score| if later_member { Score::ZERO } else { score };
        for loc in &cluster.locations {
            if !named(w, r, &loc.rsc) || loc.role == Some(Role::Promoted) {
                continue;
            }
            if loc.node.is_none() {
                for rule in &loc.rules {
                    if rule.role == Some(Role::Promoted) {
                        continue;
                    }
                    for (node, info) in w.nodes.iter().enumerate() {
                        let attrs = rule_attrs(info);
                        if rule.matches(&attrs) {
                            allowed[node] = true;
                            let score = if rule.score.is_none() && rule.score_attribute.is_none() {
                                loc.score
                            } else {
                                rule.score_on(&attrs)
                            };
                            s[node] = s[node] + counted(score);
                        }
                    }
                }
                continue;
            }
            let Some(node) = loc.node.as_deref().and_then(|u| w.node_index(u)) else {
                continue;
            };
            allowed[node] = true;
            s[node] = s[node] + counted(loc.score);
        }
        for &(node, score) in &w.rscs[r].bans {
            match node {
                Some(node) => s[node] = s[node] + score,
                None => s.iter_mut().for_each(|x| *x = *x + score),
            }
        }
    }
    for (i, a) in allowed.iter().enumerate() {
        if !a {
            s[i] = Score::NEG_INF;
        }
    }
    super::remote::ban_remote_hosts(w, idx, &mut s);
    exclusive_discovery(w, cluster, &chain, &mut s);
    // Without its ticket a resource may not run (loss-policy freeze: only where it runs).
    for &r in &chain {
        for t in &cluster.tickets {
            if !named(w, r, &t.rsc)
                || cluster.ticket_granted.get(&t.ticket) == Some(&true)
                || t.rsc_role == Some(Role::Promoted)
            {
                continue;
            }
            for (node, x) in s.iter_mut().enumerate() {
                let here = w.rscs[idx].running.iter().any(|&(n, _)| n == node);
                if t.loss_policy != "freeze" || !here {
                    *x = Score::NEG_INF;
                }
            }
        }
    }
    if let RscKind::Primitive { .. } = w.rscs[idx].kind
        && w.rscs[idx].managed
        && w.rscs[idx].running.len() == 1
    {
        let sticky = w
            .meta(idx, "resource-stickiness")
            .or_else(|| w.meta(idx, "default-resource-stickiness"))
            .and_then(Score::parse)
            .or_else(|| {
                cluster
                    .option("default-resource-stickiness")
                    .and_then(Score::parse)
            })
            .unwrap_or(Score::ZERO);
        let node = w.rscs[idx].running[0].0;
        if sticky.0 != 0 && (w.symmetric || allowed[node]) {
            s[node] = s[node] + sticky;
        }
    }
    s
}

/// With `resource-discovery="exclusive"` locations, a resource runs only on the nodes they
/// name (by `node`, or where one of their rules holds).
fn exclusive_discovery(w: &Working, cluster: &Cluster, chain: &[usize], s: &mut Scores) {
    let exclusive: Vec<_> = cluster
        .locations
        .iter()
        .filter(|l| l.exclusive && chain.iter().any(|&r| named(w, r, &l.rsc)))
        .collect();
    if exclusive.is_empty() {
        return;
    }
    for (node, info) in w.nodes.iter().enumerate() {
        let attrs = rule_attrs(info);
        let covered = exclusive.iter().any(|l| match &l.node {
            Some(n) => n == &info.uname,
            None => l.rules.iter().any(|rule| rule.matches(&attrs)),
        });
        if !covered {
            s[node] = Score::NEG_INF;
        }
    }
}

/// Add `extra` unless that leaves no node able to run it (Pacemaker's rollback).
pub(super) fn merge(w: &Working, into: &mut Scores, extra: &Scores) -> bool {
    let merged: Scores = into.iter().zip(extra).map(|(a, b)| *a + *b).collect();
    let ok = merged
        .iter()
        .enumerate()
        .any(|(i, s)| s.0 >= 0 && w.nodes[i].available());
    if ok {
        *into = merged;
    }
    ok
}

/// The scores of a group as one unit: each member's preferences, in chain order, while
/// they leave somewhere to run.
pub(super) fn unit_scores(w: &Working, cluster: &Cluster, idx: usize) -> Scores {
    match &w.rscs[idx].kind {
        RscKind::Group(members) if !members.is_empty() => {
            let mut s = base_scores(w, cluster, members[0]);
            for &m in &members[1..] {
                if w.target_role(m) == Some(Role::Stopped) {
                    break;
                }
                let extra = base_scores(w, cluster, m);
                if !merge(w, &mut s, &extra) {
                    break;
                }
            }
            s
        }
        _ => base_scores(w, cluster, idx),
    }
}

/// Colocations where `idx` (or an ancestor) is the dependent, applied to its scores; the
/// primaries are assigned first.
pub(super) fn apply_colocations(
    w: &mut Working,
    cluster: &Cluster,
    idx: usize,
    scores: &mut Scores,
    busy: &mut Vec<bool>,
) {
    for c in &cluster.colocations {
        if !named(w, idx, &c.rsc) {
            continue;
        }
        if c.rsc == c.with_rsc {
            continue;
        }
        let Some(primary) = w
            .tops
            .iter()
            .copied()
            .chain(0..w.rscs.len())
            .find(|&i| w.rscs[i].base == c.with_rsc && w.rscs[i].instance.is_none())
        else {
            continue;
        };
        if w.top(primary) == w.top(idx) && w.rscs[idx].parent.is_some() {
            continue;
        }
        if !w.rscs[primary].allocated && !busy[primary] {
            assign(w, cluster, w.top(primary), busy);
        }
        // A colocation of the Promoted role only weighs in the promotion scores, but its
        // primary is placed first all the same.
        if matches!(c.rsc_role, Some(Role::Promoted | Role::Unpromoted)) {
            continue;
        }
        let nodes = clones::colocation_nodes(w, primary, c.with_role);
        for (n, s) in scores.iter_mut().enumerate() {
            let here = nodes.contains(&n);
            if c.score.0 >= crate::model::INFINITY {
                if !here {
                    *s = Score::NEG_INF;
                }
            } else if c.score.is_neg_inf() {
                if here {
                    *s = Score::NEG_INF;
                }
            } else if here {
                *s = *s + c.score;
            }
        }
        let unit = w.top(idx);
        w.rscs[unit].partial_scores = Some(scores.clone());
    }
}

/// Pick the best node: highest score, then fewest resources assigned, then the current node,
/// then name.
pub(super) fn best_node(
    w: &Working,
    scores: &Scores,
    current: Option<usize>,
    need: &utilization::Need,
) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (n, s) in scores.iter().enumerate() {
        if s.0 < 0 || !w.nodes[n].available() || !utilization::fits(w, n, need) {
            continue;
        }
        best = match best {
            None => Some(n),
            Some(b) => {
                // Ties go to the node with fewer resources assigned, then the current one.
                let minimal = w.placement_strategy == "minimal";
                let key = |m: usize| {
                    (
                        scores[m],
                        std::cmp::Reverse(if minimal { 0 } else { w.nodes[m].assigned }),
                        std::cmp::Reverse(current != Some(m)),
                    )
                };
                let by_capacity = utilization::compare_left(w, n, b);
                let better = scores[n] > scores[b]
                    || (scores[n] == scores[b] && by_capacity.is_gt())
                    || (scores[n] == scores[b] && by_capacity.is_eq() && key(n) > key(b));
                if better
                    || (key(n) == key(b)
                        && by_capacity.is_eq()
                        && w.nodes[n].uname < w.nodes[b].uname)
                {
                    Some(n)
                } else {
                    Some(b)
                }
            }
        };
    }
    best
}

pub(super) fn assign(w: &mut Working, cluster: &Cluster, idx: usize, busy: &mut Vec<bool>) {
    if w.rscs[idx].allocated || busy[idx] {
        return;
    }
    busy[idx] = true;
    if matches!(w.rscs[idx].kind, RscKind::Clone { .. }) {
        clones::assign_clone(w, cluster, idx, busy);
        w.rscs[idx].allocated = true;
        return;
    }
    let mut scores = unit_scores(w, cluster, idx);
    apply_colocations(w, cluster, idx, &mut scores, busy);
    if let RscKind::Group(members) = &w.rscs[idx].kind {
        for m in members.clone() {
            apply_colocations(w, cluster, m, &mut scores, busy);
        }
    }
    super::influence::dependents_influence(w, cluster, idx, &mut scores);
    place_unit(w, cluster, idx, &scores);
}

/// Assign a primitive or group (not a clone) from its final scores.
pub(super) fn place_unit(w: &mut Working, cluster: &Cluster, idx: usize, scores: &Scores) {
    let current = w.current_node(w.primitives(idx)[0..].first().copied().unwrap_or(idx));
    // Orphans (and what history forces to stop) are assigned nowhere, so they count on no
    // node either.
    let disabled = w.target_role(idx) == Some(Role::Stopped)
        || w.stop_all
        || (w.rscs[idx].orphan && w.rscs[idx].forced_role == Some(Role::Stopped));
    let need = utilization::need_of(w, idx);
    let chosen = if disabled {
        None
    } else {
        best_node(w, scores, current, &need)
    };
    super::scores::record_unit(w, cluster, idx, scores, chosen);
    let members = match &w.rscs[idx].kind {
        RscKind::Group(m) => m.clone(),
        _ => vec![idx],
    };
    let mut alive = chosen;
    for m in members {
        if let Some(n) = alive {
            let own = base_scores(w, cluster, m);
            let stopped = w.target_role(m) == Some(Role::Stopped)
                || w.rscs[m].forced_role == Some(Role::Stopped);
            if own[n].0 < 0 && own[n].is_neg_inf() || stopped {
                alive = None;
            }
        }
        finalize(w, m, alive);
        super::remote::assigned(w, m);
        // A member that will not run (say, unmanaged and stopped) stops the rest of the chain.
        if w.rscs[m].next_node.is_none() {
            alive = None;
        }
    }
    if let Some(n) = chosen {
        w.nodes[n].assigned += 1;
        utilization::consume(w, n, &need);
    }
    if matches!(w.rscs[idx].kind, RscKind::Group(_)) {
        w.rscs[idx].next_node = chosen;
    }
    w.rscs[idx].allocated = true;
}

/// Record a primitive's assignment (unmanaged resources stay where they are).
pub(super) fn finalize(w: &mut Working, idx: usize, node: Option<usize>) {
    let r = &mut w.rscs[idx];
    r.allocated = true;
    if !r.managed || r.blocked {
        r.next_node = r.running.first().map(|&(n, _)| n);
        r.next_role = r.running.first().map_or(Role::Stopped, |&(_, role)| role);
        return;
    }
    let forced = r.forced_role == Some(Role::Stopped);
    r.next_node = if forced { None } else { node };
    r.next_role = match r.next_node {
        Some(_) => Role::Started,
        None => Role::Stopped,
    };
}

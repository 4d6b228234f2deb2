//! Clones: spreading instances over nodes up to clone-max / clone-node-max, keeping running
//! instances where they are, and choosing which instances of a promotable clone to promote.

use crate::model::{Cluster, Role, Score};

use super::placement::{self, Scores};
use super::working::{RscKind, Working};

/// The nodes a colocation with `primary` (in `role`, if given) points at.
pub(super) fn colocation_nodes(w: &Working, primary: usize, role: Option<Role>) -> Vec<usize> {
    let mut out = Vec::new();
    let wanted = |r: Role| match role {
        Some(Role::Promoted) => r == Role::Promoted,
        Some(Role::Unpromoted) => r == Role::Unpromoted,
        _ => r > Role::Stopped,
    };
    match &w.rscs[primary].kind {
        RscKind::Clone { instances, .. } => {
            for &i in instances {
                let prims = w.primitives(i);
                let first = prims.first().copied().unwrap_or(i);
                // A blocked (failed, frozen) instance is nothing to be placed with.
                if prims.iter().any(|&p| w.rscs[p].blocked) {
                    continue;
                }
                if let Some(n) = w.rscs[first].next_node
                    && wanted(w.rscs[first].next_role)
                    && !out.contains(&n)
                {
                    out.push(n);
                }
            }
        }
        _ => {
            let prims = w.primitives(primary);
            let first = prims.first().copied().unwrap_or(primary);
            if let Some(n) = w.rscs[first].next_node
                && wanted(w.rscs[first].next_role)
            {
                out.push(n);
            }
        }
    }
    out
}

fn instance_current(w: &Working, inst: usize) -> Option<usize> {
    w.primitives(inst)
        .iter()
        .find_map(|&p| w.rscs[p].running.first().map(|&(n, _)| n))
}

/// The order instances are assigned in once the running ones kept their nodes (part of
/// Pacemaker's `pcmk__cmp_instance`): one whose current node no longer takes it after all
/// others, failed ones after the healthy, inactive ones after active ones, then the one with
/// the higher node scores first; otherwise in instance order.
fn assignment_order(
    w: &Working,
    instances: &[usize],
    inst_scores: &dyn Fn(&Working, usize) -> Scores,
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..instances.len()).collect();
    order.sort_by_key(|&k| {
        let inst = instances[k];
        let scores = inst_scores(w, inst);
        let current = instance_current(w, inst);
        let stranded = current.is_some_and(|cur| scores[cur].0 < 0);
        let failed = w.primitives(inst).iter().any(|&p| w.rscs[p].failed);
        // Then the one preferring its best nodes more (node scores, best first).
        let mut prefs: Vec<Score> = scores;
        prefs.sort_by(|a, b| b.cmp(a));
        (
            stranded,
            failed,
            current.is_none(),
            std::cmp::Reverse(prefs),
        )
    });
    order
}

pub(super) fn assign_clone(w: &mut Working, cluster: &Cluster, clone: usize, busy: &mut Vec<bool>) {
    let RscKind::Clone {
        instances,
        max,
        node_max,
        promotable,
        ..
    } = w.rscs[clone].kind.clone()
    else {
        return;
    };
    let mut scores = placement::base_scores(w, cluster, clone);
    placement::apply_colocations(w, cluster, clone, &mut scores, busy);
    // An instance's own target-role overrides the clone's.
    let disabled =
        |w: &Working, inst: usize| w.target_role(inst) == Some(Role::Stopped) || w.stop_all;
    let n = w.nodes.len();
    let mut per_node = vec![0usize; n];
    let mut placed = 0usize;
    let mut chosen: Vec<Option<usize>> = vec![None; instances.len()];
    let inst_scores = |w: &Working, inst: usize| -> Scores {
        let mut s = scores.clone();
        // The instance's own bans and stickiness (group members: the first member's unit).
        let prims = w.primitives(inst);
        for &p in &prims {
            let own = placement::base_scores(w, cluster, p);
            let clone_part = placement::base_scores(w, cluster, clone);
            for i in 0..s.len() {
                // Only what the instance adds beyond the clone's own scores.
                let delta = if own[i].is_neg_inf() && !clone_part[i].is_neg_inf() {
                    Score::NEG_INF
                } else if own[i].0 > clone_part[i].0 && !clone_part[i].is_neg_inf() {
                    Score(own[i].0 - clone_part[i].0)
                } else {
                    Score::ZERO
                };
                s[i] = s[i] + delta;
            }
            if w.rscs[p].orphan {
                s.iter_mut().for_each(|x| *x = Score::NEG_INF);
            }
        }
        if promotable {
            for (node, x) in s.iter_mut().enumerate() {
                let add = super::promotion::preference(w, &instances, inst, node);
                if add.0 > 0 && w.nodes[node].available() {
                    *x = *x + add;
                }
            }
        }
        s
    };
    // Running instances stay put up to an even share per node (Pacemaker's optimal count),
    // so that a unique clone with clone-node-max > 1 spreads when it can.
    let usable = (0..n)
        .filter(|&i| scores[i].0 >= 0 && w.nodes[i].available())
        .count()
        .max(1);
    let optimal = (max / usable).max(1).min(node_max);
    {
        // Keep running instances where they are, while the node still allows them.
        for (k, &inst) in instances.iter().enumerate() {
            if placed >= max {
                break;
            }
            if disabled(w, inst) {
                continue;
            }
            let Some(cur) = instance_current(w, inst) else {
                continue;
            };
            let s = inst_scores(w, inst);
            let need = super::utilization::need_of(w, inst);
            if s[cur].0 >= 0
                && w.nodes[cur].available()
                && per_node[cur] < optimal
                && super::utilization::fits(w, cur, &need)
            {
                super::utilization::consume(w, cur, &need);
                chosen[k] = Some(cur);
                per_node[cur] += 1;
                placed += 1;
            }
        }
        for k in assignment_order(w, &instances, &inst_scores) {
            let inst = instances[k];
            if chosen[k].is_some() || placed >= max || disabled(w, inst) {
                continue;
            }
            let s = inst_scores(w, inst);
            let need = super::utilization::need_of(w, inst);
            let mut best: Option<usize> = None;
            for node in 0..n {
                if s[node].0 < 0
                    || !w.nodes[node].available()
                    || per_node[node] >= node_max
                    || !super::utilization::fits(w, node, &need)
                {
                    continue;
                }
                best = match best {
                    None => Some(node),
                    Some(b) => {
                        let key = |m: usize| {
                            (
                                s[m],
                                std::cmp::Reverse(per_node[m]),
                                std::cmp::Reverse(w.nodes[m].assigned),
                            )
                        };
                        if key(node) > key(b)
                            || (key(node) == key(b) && w.nodes[node].uname < w.nodes[b].uname)
                        {
                            Some(node)
                        } else {
                            Some(b)
                        }
                    }
                };
            }
            if let Some(b) = best {
                super::utilization::consume(w, b, &need);
                chosen[k] = Some(b);
                per_node[b] += 1;
                placed += 1;
            }
        }
    }
    let per_instance: Vec<Scores> = instances.iter().map(|&i| inst_scores(w, i)).collect();
    super::scores::record_clone(
        w,
        clone,
        &scores,
        &instances,
        &per_instance,
        &chosen,
        node_max,
    );
    for (k, &inst) in instances.iter().enumerate() {
        let node = chosen[k];
        match w.rscs[inst].kind.clone() {
            RscKind::Group(members) => {
                let mut alive = node;
                for m in members {
                    if let Some(nn) = alive {
                        let own = placement::base_scores(w, cluster, m);
                        if own[nn].is_neg_inf() || w.target_role(m) == Some(Role::Stopped) {
                            alive = None;
                        }
                    }
                    placement::finalize(w, m, alive);
                }
                w.rscs[inst].next_node = node;
                w.rscs[inst].allocated = true;
            }
            _ => placement::finalize(w, inst, node),
        }
        if let Some(nn) = node {
            w.nodes[nn].assigned += 1;
        }
    }
    if promotable {
        promote(w, cluster, clone, &instances);
    }
}

/// The promotion score of an instance on its node: the `master-RSC` node attribute, plus
/// location constraints with role Promoted, plus colocations of this clone's Promoted role.
fn promotion_score(w: &Working, cluster: &Cluster, clone: usize, inst: usize) -> Option<Score> {
    // (None: the instance is not placed.)
    let prims = w.primitives(inst);
    let first = *prims.first()?;
    let node = w.rscs[first].next_node?;
    let attrs = &w.nodes[node].attrs;
    let mut score = None;
    for &p in &prims {
        for key in [
            format!("master-{}", w.rscs[p].base),
            format!("master-{}", w.rscs[p].id),
            format!("promotion-{}", w.rscs[p].base),
        ] {
            if let Some(v) = attrs.get(&key).and_then(|v| Score::parse(v)) {
                score = Some(score.unwrap_or(Score::ZERO) + v);
                break;
            }
        }
    }
    if score.is_none() && w.role(first) == Role::Promoted {
        score = Some(Score::ZERO);
    }
    // Without a promotion score the instance may still be promoted by constraints.
    let mut score = score.unwrap_or(Score(-1));
    for loc in &cluster.locations {
        if loc.rsc != w.rscs[clone].base {
            continue;
        }
        if loc.role == Some(Role::Promoted)
            && loc.node.as_deref() == Some(w.nodes[node].uname.as_str())
        {
            score = score + loc.score;
        }
        // Rules of the Promoted role (on the rule or on the constraint) that hold here.
        if loc.node.is_none() {
            let attrs = placement::rule_attrs(&w.nodes[node]);
            for rule in &loc.rules {
                let promoted = rule.role.or(loc.role) == Some(Role::Promoted);
                if promoted && rule.matches(&attrs) {
                    let add = if rule.score.is_none() && rule.score_attribute.is_none() {
                        loc.score
                    } else {
                        rule.score_on(&attrs)
                    };
                    score = score + add;
                }
            }
        }
    }
    // A ticket required for the Promoted role (or lost with loss-policy demote).
    for t in &cluster.tickets {
        let needed = t.rsc_role == Some(Role::Promoted) || t.loss_policy == "demote";
        if t.rsc == w.rscs[clone].base
            && needed
            && cluster.ticket_granted.get(&t.ticket) != Some(&true)
        {
            score = Score::NEG_INF;
        }
    }
    for c in &cluster.colocations {
        // The Unpromoted role kept with something: instances there may not be promoted.
        if c.rsc == w.rscs[clone].base && c.rsc_role == Some(Role::Unpromoted) {
            let Some(primary) = w
                .tops
                .iter()
                .copied()
                .find(|&i| w.rscs[i].base == c.with_rsc)
            else {
                continue;
            };
            if c.score.0 >= crate::model::INFINITY
                && colocation_nodes(w, primary, c.with_role).contains(&node)
            {
                score = Score::NEG_INF;
            }
            continue;
        }
        if c.rsc == w.rscs[clone].base && c.rsc_role == Some(Role::Promoted) {
            let Some(primary) = w
                .tops
                .iter()
                .copied()
                .find(|&i| w.rscs[i].base == c.with_rsc)
            else {
                continue;
            };
            let nodes = colocation_nodes(w, primary, c.with_role);
            let here = nodes.contains(&node);
            let banned =
                (c.score.0 >= crate::model::INFINITY && !here) || (c.score.is_neg_inf() && here);
            if banned {
                score = Score::NEG_INF;
            } else if here {
                score = score + c.score;
            }
        }
    }
    Some(score)
}

fn promote(w: &mut Working, cluster: &Cluster, clone: usize, instances: &[usize]) {
    let RscKind::Clone {
        promoted_max,
        promoted_node_max,
        ..
    } = w.rscs[clone].kind.clone()
    else {
        return;
    };
    super::scores::record_promotion(w, instances, |w, i| promotion_score(w, cluster, clone, i));
    let limit = match w.target_role(clone) {
        Some(Role::Unpromoted | Role::Stopped) => 0,
        _ => promoted_max,
    };
    let mut cands: Vec<(Score, bool, usize, usize)> = Vec::new();
    for (k, &inst) in instances.iter().enumerate() {
        let prims = w.primitives(inst);
        let Some(&first) = prims.first() else {
            continue;
        };
        if w.rscs[first].next_node.is_none() || !w.rscs[first].managed {
            continue;
        }
        if let Some(s) = promotion_score(w, cluster, clone, inst)
            && s.0 >= 0
        {
            cands.push((s, w.role(first) == Role::Promoted, k, inst));
        }
    }
    cands.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let mut per_node = vec![0usize; w.nodes.len()];
    // Instances that cannot change (blocked, unmanaged) keep their Promoted role, and count.
    let mut promoted = 0;
    for &inst in instances {
        for p in w.primitives(inst) {
            let r = &w.rscs[p];
            if (!r.managed || r.blocked) && w.role(p) == Role::Promoted {
                if let Some(&(n, _)) = r.running.first() {
                    per_node[n] += 1;
                }
                promoted += 1;
            }
        }
    }
    let mut chosen = Vec::new();
    for (_, _, _, inst) in cands {
        let first = w.primitives(inst)[0];
        let Some(node) = w.rscs[first].next_node else {
            continue;
        };
        if promoted < limit && per_node[node] < promoted_node_max {
            per_node[node] += 1;
            promoted += 1;
            chosen.push(inst);
        }
    }
    for &inst in instances {
        for p in w.primitives(inst) {
            if w.rscs[p].next_node.is_some() && w.rscs[p].managed && !w.rscs[p].blocked {
                w.rscs[p].next_role = if chosen.contains(&inst) {
                    Role::Promoted
                } else {
                    Role::Unpromoted
                };
            }
        }
    }
}

//! placement-strategy: with `utilization`, `minimal` or `balanced`, a node must have the
//! capacity a resource needs (its `utilization` against what is left of the node's); with
//! `balanced`, ties go to the node with more capacity left.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::model::{Cluster, Score};

use super::working::Working;

/// Capacities, by name.
pub(super) type Need = BTreeMap<String, i64>;

/// What a resource (all its primitives) needs.
pub(super) fn need_of(w: &Working, idx: usize) -> Need {
    let mut need = Need::new();
    for p in w.primitives(idx) {
        for (k, v) in &w.rscs[p].utilization {
            *need.entry(k.clone()).or_default() += v;
        }
    }
    need
}

fn enabled(w: &Working) -> bool {
    matches!(
        w.placement_strategy.as_str(),
        "utilization" | "minimal" | "balanced"
    )
}

/// The node has what `need` asks for.
pub(super) fn fits(w: &Working, node: usize, need: &Need) -> bool {
    !enabled(w)
        || need
            .iter()
            .all(|(k, v)| w.nodes[node].capacity.get(k).copied().unwrap_or(0) >= *v)
}

/// Take `need` from the node's capacity.
pub(super) fn consume(w: &mut Working, node: usize, need: &Need) {
    if !enabled(w) {
        return;
    }
    for (k, v) in need {
        *w.nodes[node].capacity.entry(k.clone()).or_default() -= v;
    }
}

/// Balanced placement: the node with more capacity left on more of the capacities is better
/// (`Greater` when `a` is).
pub(super) fn compare_left(w: &Working, a: usize, b: usize) -> Ordering {
    if w.placement_strategy != "balanced" {
        return Ordering::Equal;
    }
    let (ca, cb) = (&w.nodes[a].capacity, &w.nodes[b].capacity);
    let mut score = 0i32;
    for k in ca.keys().chain(cb.keys()) {
        let (x, y) = (ca.get(k).unwrap_or(&0), cb.get(k).unwrap_or(&0));
        score += match x.cmp(y) {
            Ordering::Greater => 1,
            Ordering::Less => -1,
            Ordering::Equal => 0,
        };
    }
    score.cmp(&0)
}

/// With a placement strategy, resources are assigned by priority, then by their score on the
/// node they run on (higher first), then by their scores node by node, the nodes taken in
/// order of capacity left (balanced) and name (Pacemaker's `cmp_resources`).
pub(super) fn sort_for_capacity(w: &Working, cluster: &Cluster, order: &mut [usize]) {
    let mut nodes: Vec<usize> = (0..w.nodes.len()).collect();
    nodes.sort_by(|&a, &b| {
        compare_left(w, b, a).then_with(|| w.nodes[a].uname.cmp(&w.nodes[b].uname))
    });
    let prio = |i: usize| {
        w.meta(i, "priority")
            .and_then(Score::parse)
            .unwrap_or(Score::ZERO)
    };
    let key = |i: usize| {
        let scores = super::placement::unit_scores(w, cluster, i);
        let current = w
            .primitives(i)
            .iter()
            .find_map(|&p| w.rscs[p].running.first().map(|&(n, _)| n))
            .map_or(Score::NEG_INF, |n| scores[n]);
        let by_node: Vec<Score> = nodes.iter().map(|&n| scores[n]).collect();
        (prio(i), current, by_node)
    };
    let mut keyed: Vec<_> = order.iter().map(|&i| (key(i), i)).collect();
    // Stable: equal resources keep their CIB order.
    keyed.sort_by(|a, b| b.0.cmp(&a.0));
    for (slot, (_, i)) in order.iter_mut().zip(keyed) {
        *slot = i;
    }
}

//! Promotion scores as placement preferences: Pacemaker adds an instance's positive
//! promotion score (the `master-<rsc>` node attribute) to its node scores before the clone's
//! instances are placed (`pcmk__add_promotion_scores`), so instances go first where they may
//! be promoted.

use crate::model::Score;

use super::working::Working;

/// The promotion score `inst` (an instance among `instances`) has on `node` from the node
/// attributes: the sum over its primitives, 0 where another instance is active there.
pub(super) fn preference(w: &Working, instances: &[usize], inst: usize, node: usize) -> Score {
    let active_here = |i: usize| {
        w.primitives(i)
            .iter()
            .any(|&p| w.rscs[p].running.iter().any(|&(n, _)| n == node))
    };
    if instances.iter().any(|&i| i != inst && active_here(i)) {
        return Score::ZERO;
    }
    let attrs = &w.nodes[node].attrs;
    w.primitives(inst)
        .iter()
        .filter_map(|&p| {
            let r = &w.rscs[p];
            [format!("master-{}", r.id), format!("master-{}", r.base)]
                .iter()
                .find_map(|k| attrs.get(k).and_then(|v| Score::parse(v)))
        })
        .fold(Score::ZERO, |a, b| a + b)
}

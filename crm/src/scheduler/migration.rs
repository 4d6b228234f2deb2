//! Live migration (`allow-migrate`): a primitive that moves from one clean node to another
//! migrates (migrate_to on the source, migrate_from on the target, then the source's stop)
//! instead of stopping and starting, unless something it is ordered after stops and starts
//! again in the same transition: the chain "first stops, first starts, then migrates, then
//! stops on the source, first stops" is a loop, so it is stopped and started instead, "due to
//! unrunnable FIRST stop".

use crate::model::{Cluster, OrderKind, Role, is_true};

use super::working::{RscKind, Working};

/// Whether the resource may migrate at all: a managed, unfailed primitive with
/// `allow-migrate`, active on one clean node and assigned to another.
pub(super) fn migratable(w: &Working, p: usize) -> bool {
    let r = &w.rscs[p];
    let (Some(&(cur, _)), Some(next)) = (r.running.first(), r.next_node) else {
        return false;
    };
    matches!(r.kind, RscKind::Primitive { .. })
        && w.meta(p, "allow-migrate").is_some_and(is_true)
        && r.managed
        && !r.failed
        && !r.blocked
        && !r.stop_blocked
        && r.start_blocked.is_none()
        && r.running.len() == 1
        && cur != next
        && r.next_role == Role::Started
        && w.nodes[cur].online
        && !w.nodes[cur].unclean
}

/// Whether the primitive stops and starts again in this transition (it moves without
/// migrating, restarts or is recovered).
fn cycles(w: &Working, p: usize) -> bool {
    let r = &w.rscs[p];
    let cur = r.running.first().map(|&(n, _)| n);
    r.managed
        && cur.is_some()
        && r.next_node.is_some()
        && r.start_blocked.is_none()
        && (r.next_node != cur || r.failed || r.extra_stops.contains(&usize::MAX))
        && !r.migrating
}

fn stops(w: &Working, p: usize) -> bool {
    let r = &w.rscs[p];
    let cur = r.running.first().map(|&(n, _)| n);
    r.managed && cur.is_some() && (r.next_node != cur || r.failed)
}

fn starts(w: &Working, p: usize) -> bool {
    let r = &w.rscs[p];
    let cur = r.running.first().map(|&(n, _)| n);
    r.managed
        && r.next_node.is_some()
        && r.start_blocked.is_none()
        && (r.next_node != cur || r.failed)
}

/// Whether `first` (any resource) stops and starts again: a primitive that cycles, or a
/// group or clone with a stop and a start among its primitives.
fn first_cycles(w: &Working, first: usize) -> bool {
    match w.rscs[first].kind {
        RscKind::Primitive { .. } => cycles(w, first),
        _ => {
            let prims = w.primitives(first);
            prims.iter().any(|&p| cycles(w, p))
                || (prims.iter().any(|&p| stops(w, p)) && prims.iter().any(|&p| starts(w, p)))
        }
    }
}

/// What `p` is ordered after (mandatory start-then-start): explicit orders naming it or an
/// ancestor, and the previous member of its group.
fn firsts(w: &Working, cluster: &Cluster, p: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut chain = vec![p];
    let mut up = w.rscs[p].parent;
    while let Some(q) = up {
        chain.push(q);
        up = w.rscs[q].parent;
    }
    for o in &cluster.orders {
        if o.kind != OrderKind::Mandatory || o.first_action != "start" || o.then_action != "start" {
            continue;
        }
        if !chain
            .iter()
            .any(|&c| w.rscs[c].base == o.then && w.rscs[c].instance.is_none())
        {
            continue;
        }
        if let Some(f) =
            (0..w.rscs.len()).find(|&i| w.rscs[i].base == o.first && w.rscs[i].instance.is_none())
        {
            out.push(f);
        }
    }
    if let Some(g) = w.rscs[p].parent
        && let RscKind::Group(members) = &w.rscs[g].kind
        && let Some(k) = members.iter().position(|&m| m == p)
        && k > 0
    {
        out.push(members[k - 1]);
    }
    out
}

/// Decide which moving primitives migrate (in CIB order, so that a chain of migratable
/// resources sees its firsts decided first).
pub(super) fn plan(w: &mut Working, cluster: &Cluster) {
    let prims: Vec<usize> = w
        .tops
        .clone()
        .into_iter()
        .flat_map(|t| w.primitives(t))
        .collect();
    for _ in 0..2 {
        for &p in &prims {
            if !migratable(w, p) {
                w.rscs[p].migrating = false;
                w.rscs[p].migration_blocked = None;
                continue;
            }
            let blocker = firsts(w, cluster, p)
                .into_iter()
                .find(|&f| first_cycles(w, f));
            match blocker {
                Some(f) => {
                    w.rscs[p].migrating = false;
                    w.rscs[p].migration_blocked =
                        Some(format!("unrunnable {} stop", w.rscs[f].base));
                }
                None => {
                    w.rscs[p].migrating = true;
                    w.rscs[p].migration_blocked = None;
                }
            }
        }
    }
}

//! The graph's edges: the implicit orders (stop before start, demote before stop, promote
//! after start, monitors after what they watch, group members in order, a clone's stops and
//! demotes before its starts and promotes, fencing before anything of a fenced node's
//! resources) and the configured `rsc_order` constraints.

use crate::model::{Cluster, OrderKind};
use crate::scheduler::{RscKind, Working};

use super::Node;

/// Add every edge to `nodes` (each action's `after`).
pub(super) fn add(w: &Working, cluster: &Cluster, nodes: &mut [Node]) {
    implicit(w, nodes);
    groups(w, nodes);
    clones(w, nodes);
    orders(w, cluster, nodes);
    for a in nodes.iter_mut() {
        let mut seen = std::collections::BTreeSet::new();
        a.after.retain(|(f, _)| seen.insert(*f));
    }
}

fn find(nodes: &[Node], rsc: usize, task: &str) -> Vec<usize> {
    (0..nodes.len())
        .filter(|&i| nodes[i].rsc == Some(rsc) && nodes[i].task == task)
        .collect()
}

/// Those of `actions` that run on `node`.
fn on_node(nodes: &[Node], actions: &[usize], node: usize) -> Vec<usize> {
    actions
        .iter()
        .copied()
        .filter(|&a| nodes[a].node == node)
        .collect()
}

fn link(nodes: &mut [Node], first: &[usize], then: &[usize], why: &str) {
    for &t in then {
        for &f in first {
            if f != t {
                nodes[t].after.push((f, why.to_string()));
            }
        }
    }
}

/// The orders within one resource, and fencing before a fenced node's resources move.
fn implicit(w: &Working, nodes: &mut [Node]) {
    let fences: Vec<usize> = (0..nodes.len())
        .filter(|&i| nodes[i].task == "stonith")
        .collect();
    for p in 0..w.rscs.len() {
        let (stops, starts) = (find(nodes, p, "stop"), find(nodes, p, "start"));
        let (demotes, promotes) = (find(nodes, p, "demote"), find(nodes, p, "promote"));
        let monitors = find(nodes, p, "monitor");
        link(nodes, &stops, &starts, "stop before start");
        for &d in &demotes {
            let here = on_node(nodes, &stops, nodes[d].node);
            link(nodes, &[d], &here, "demote before stop");
        }
        for &pr in &promotes {
            let here = on_node(nodes, &starts, nodes[pr].node);
            link(nodes, &here, &[pr], "promote after start");
        }
        let changes: Vec<usize> = starts
            .iter()
            .chain(&promotes)
            .chain(&demotes)
            .copied()
            .collect();
        for &m in &monitors {
            let here = on_node(nodes, &changes, nodes[m].node);
            link(nodes, &here, &[m], "monitor after start");
        }
        for &f in &fences {
            let fenced = nodes[f].node;
            if !w.rscs[p].running.iter().any(|&(n, _)| n == fenced) {
                continue;
            }
            let all: Vec<usize> = stops
                .iter()
                .chain(&demotes)
                .chain(&starts)
                .chain(&promotes)
                .copied()
                .collect();
            link(nodes, &[f], &all, "fencing");
        }
    }
}

/// A clone's instances: every stop before any start, every demote before any promote, and
/// promotes after the starts (Pacemaker's clone pseudo-actions, folded into edges).
fn clones(w: &Working, nodes: &mut [Node]) {
    for c in 0..w.rscs.len() {
        if !matches!(w.rscs[c].kind, RscKind::Clone { .. }) {
            continue;
        }
        let why = format!("clone {}", w.rscs[c].base);
        let all = |nodes: &[Node], task: &str| -> Vec<usize> {
            w.primitives(c)
                .into_iter()
                .flat_map(|p| find(nodes, p, task))
                .collect()
        };
        let (stops, starts) = (all(nodes, "stop"), all(nodes, "start"));
        let (demotes, promotes) = (all(nodes, "demote"), all(nodes, "promote"));
        link(nodes, &stops, &starts, &why);
        link(nodes, &demotes, &promotes, &why);
        link(nodes, &starts, &promotes, &why);
    }
}

/// Group members start in order and stop in reverse.
fn groups(w: &Working, nodes: &mut [Node]) {
    for g in 0..w.rscs.len() {
        let RscKind::Group(members) = &w.rscs[g].kind else {
            continue;
        };
        let why = format!("group {}", w.rscs[g].base);
        for pair in members.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let (a_start, b_start) = (find(nodes, a, "start"), find(nodes, b, "start"));
            link(nodes, &a_start, &b_start, &why);
            let (a_stop, b_stop) = (find(nodes, a, "stop"), find(nodes, b, "stop"));
            link(nodes, &b_stop, &a_stop, &why);
        }
    }
}

/// The action that undoes `task` (a symmetrical order's reverse).
fn inverse(task: &str) -> Option<&'static str> {
    match task {
        "start" => Some("stop"),
        "stop" => Some("start"),
        "promote" => Some("demote"),
        "demote" => Some("promote"),
        _ => None,
    }
}

/// `rsc_order`: `then`'s action after `first`'s (Mandatory and Optional alike order the
/// actions that happen), and for a symmetrical order the reverse of the undoing actions.
fn orders(w: &Working, cluster: &Cluster, nodes: &mut [Node]) {
    for o in &cluster.orders {
        if o.kind == OrderKind::Serialize {
            continue;
        }
        let (Some(f), Some(t)) = (configured(w, &o.first), configured(w, &o.then)) else {
            continue;
        };
        let why = format!("order {}", o.id);
        let actions = |nodes: &[Node], idx: usize, task: &str| -> Vec<usize> {
            w.primitives(idx)
                .into_iter()
                .flat_map(|p| find(nodes, p, task))
                .collect()
        };
        let first = actions(nodes, f, &o.first_action);
        let then = actions(nodes, t, &o.then_action);
        link(nodes, &first, &then, &why);
        if !o.symmetrical {
            continue;
        }
        if let (Some(fi), Some(ti)) = (inverse(&o.first_action), inverse(&o.then_action)) {
            let (first, then) = (actions(nodes, t, ti), actions(nodes, f, fi));
            link(nodes, &first, &then, &why);
        }
    }
}

fn configured(w: &Working, name: &str) -> Option<usize> {
    (0..w.rscs.len()).find(|&i| w.rscs[i].base == name && w.rscs[i].instance.is_none())
}

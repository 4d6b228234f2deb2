//! The transition's ordered action graph (`crm simulate --save-graph`): each action (start,
//! stop, promote, demote, recurring monitor, fence) with what must finish before it, in an
//! order where every action comes after all of its prerequisites. docs/CRM-GRAPH.md
//! describes the JSON it is written as.

mod edges;

use serde::Serialize;

use crate::model::{Cluster, Role};
use crate::scheduler::{RscKind, Transition, Working, revised};

/// The action graph.
#[derive(Debug, Clone, Serialize)]
pub struct Graph {
    /// Actions in execution order (in waves: what waits for nothing, then what waited only
    /// for those, …): each one's prerequisites come before it.
    pub actions: Vec<Action>,
}

/// One action.
#[derive(Debug, Clone, Serialize)]
pub struct Action {
    /// Its position in `actions`.
    pub id: usize,
    /// Pacemaker's operation key (`vip_start_0`, `vip_monitor_10000`,
    /// `stonith-ctl1-reboot`).
    pub key: String,
    /// The resource's printed id (`api:1`), none for a fence.
    pub resource: Option<String>,
    /// start, stop, promote, demote, monitor or stonith.
    pub task: String,
    /// The node it runs on (for a fence, the node fenced).
    pub node: String,
    /// The interval in milliseconds (recurring monitors), else 0.
    pub interval: u64,
    /// Implied by a fence (a stop on the fenced node): nothing runs, it is done once the
    /// fence is.
    pub pseudo: bool,
    /// What must finish first.
    pub after: Vec<Edge>,
}

/// A prerequisite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// The action that must finish first (an `id`).
    pub id: usize,
    /// Why: "stop before start", "group g", "order o1", "fencing", "demote before stop",
    /// "promote after start", "monitor after start".
    pub why: String,
}

/// An action being built (before the graph is sorted).
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub rsc: Option<usize>,
    pub task: &'static str,
    pub node: usize,
    pub interval: u64,
    pub pseudo: bool,
    pub after: Vec<(usize, String)>,
}

/// The graph of a scheduled transition.
pub fn build(cluster: &Cluster, t: &Transition) -> Graph {
    let w = &t.working;
    let mut nodes: Vec<Node> = Vec::new();
    for &(n, _) in &w.fencing {
        nodes.push(Node {
            rsc: None,
            task: "stonith",
            node: n,
            interval: 0,
            pseudo: false,
            after: Vec::new(),
        });
    }
    for p in 0..w.rscs.len() {
        if matches!(w.rscs[p].kind, RscKind::Primitive { .. }) {
            resource_actions(w, p, &mut nodes);
        }
    }
    edges::add(w, cluster, &mut nodes);
    sort(w, nodes)
}

fn push(nodes: &mut Vec<Node>, rsc: usize, task: &'static str, node: usize, pseudo: bool) {
    nodes.push(Node {
        rsc: Some(rsc),
        task,
        node,
        interval: 0,
        pseudo,
        after: Vec::new(),
    });
}

/// The stops, demotes, starts, promotes and monitors that take a primitive from its current
/// state to its revised one.
fn resource_actions(w: &Working, p: usize, nodes: &mut Vec<Node>) {
    let r = &w.rscs[p];
    if !r.managed || r.blocked {
        return;
    }
    let before = &r.running;
    let after = revised(w, p);
    let restart = r.failed || r.extra_stops.contains(&usize::MAX);
    // Runs on `n` before and after, without a stop in between.
    let stays = |n: usize| {
        !restart && before.iter().any(|&(m, _)| m == n) && after.iter().any(|&(m, _)| m == n)
    };
    for &(c, role) in before {
        let fenced = w.nodes[c].fenced;
        let next_here = after.iter().find(|&&(m, _)| m == c).map(|&(_, r)| r);
        if role == Role::Promoted && next_here != Some(Role::Promoted) {
            push(nodes, p, "demote", c, fenced);
        }
        if !stays(c) {
            push(nodes, p, "stop", c, fenced);
        }
    }
    for &(n, role) in &after {
        let was = before.iter().find(|&&(m, _)| m == n).map(|&(_, r)| r);
        let started = !stays(n);
        if started {
            push(nodes, p, "start", n, false);
        }
        let promoted = role == Role::Promoted && (started || was != Some(Role::Promoted));
        if promoted {
            push(nodes, p, "promote", n, false);
        }
        let demoted = role == Role::Unpromoted && was == Some(Role::Promoted);
        if !(started || promoted || demoted) {
            continue;
        }
        if let RscKind::Primitive { ops, .. } = &r.kind {
            for op in ops {
                let role_ok = match op.role {
                    Some(Role::Promoted) => role == Role::Promoted,
                    Some(Role::Unpromoted) => role == Role::Unpromoted,
                    Some(Role::Stopped) => false,
                    _ => role != Role::Promoted || !w.is_promotable_instance(p),
                };
                if op.name == "monitor" && op.interval_ms > 0 && op.enabled && role_ok {
                    nodes.push(Node {
                        rsc: Some(p),
                        task: "monitor",
                        node: n,
                        interval: op.interval_ms,
                        pseudo: false,
                        after: Vec::new(),
                    });
                }
            }
        }
    }
}

/// Sort in waves, as a controller that runs whatever is ready would: first every action that
/// waits for nothing, then every action that waited only for those, and so on, each wave in
/// the order the actions were made (the order in which `--op-fail` runs them). (The edges cannot form a cycle: `crm verify` refuses
/// ordering cycles; should one remain, its actions come last, in the order they were made.)
/// Recurring monitors come last in their wave, as in Pacemaker's graphs.
fn sort(w: &Working, nodes: Vec<Node>) -> Graph {
    let n = nodes.len();
    let mut pending: Vec<usize> = nodes.iter().map(|a| a.after.len()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, a) in nodes.iter().enumerate() {
        for (f, _) in &a.after {
            dependents[*f].push(i);
        }
    }
    let mut order = Vec::with_capacity(n);
    let mut done = vec![false; n];
    let mut wave: Vec<usize> = (0..n).filter(|&i| pending[i] == 0).collect();
    wave.sort_by_key(|&i| nodes[i].task == "monitor");
    while !wave.is_empty() {
        let mut next = Vec::new();
        for &i in &wave {
            done[i] = true;
            order.push(i);
            for &d in &dependents[i] {
                pending[d] -= 1;
                if pending[d] == 0 {
                    next.push(d);
                }
            }
        }
        next.sort_unstable_by_key(|&i| (nodes[i].task == "monitor", i));
        wave = next;
    }
    order.extend((0..n).filter(|&i| !done[i]));
    let mut position = vec![0; n];
    for (pos, &i) in order.iter().enumerate() {
        position[i] = pos;
    }
    let actions = order
        .iter()
        .enumerate()
        .map(|(pos, &i)| {
            let a = &nodes[i];
            let uname = w.nodes[a.node].uname.clone();
            let key = match a.rsc {
                Some(r) => format!("{}_{}_{}", w.rscs[r].id, a.task, a.interval),
                None => format!("stonith-{uname}-{}", w.stonith_action),
            };
            Action {
                id: pos,
                key,
                resource: a.rsc.map(|r| w.rscs[r].id.clone()),
                task: a.task.to_string(),
                node: uname,
                interval: a.interval,
                pseudo: a.pseudo,
                after: a
                    .after
                    .iter()
                    .map(|(f, why)| Edge {
                        id: position[*f],
                        why: why.clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    Graph { actions }
}

//! crm_simulate's `--op-fail`: run the transition's action graph, in its order, and make the
//! named actions fail. As in crm_simulate, a failure aborts the transition: no further real
//! action starts (actions implied by a fence still complete), and the revised status is what
//! the actions that ran left behind.

use crate::graph::{Action, Graph};
use crate::model::Role;
use crate::scheduler::{RscKind, Working};

use super::OpResult;

/// What running the graph did.
#[derive(Debug, Clone)]
pub struct Execution {
    /// The actions that ran (ids in the graph), the failed one included.
    pub ran: Vec<usize>,
    /// The action that failed, with its rc.
    pub failed: Option<(usize, i32)>,
    /// The cluster as the actions left it: `running` and `failed` of each resource, node
    /// membership after the fences that ran.
    pub after: Working,
}

/// Whether `a` is the action `f` names (an anonymous clone's instances by the primitive's
/// id, as their history names them).
fn names(f: &OpResult, a: &Action) -> bool {
    let rsc = a.resource.as_deref().unwrap_or("");
    (rsc == f.rsc || rsc.split(':').next() == Some(f.rsc.as_str()))
        && a.task == f.task
        && a.interval == f.interval_ms
        && a.node == f.node
}

/// Run `graph` (made from `w`) with the actions `failures` name failing.
pub fn execute(w: &Working, graph: &Graph, failures: &[OpResult]) -> Execution {
    let mut done = vec![false; graph.actions.len()];
    let mut ran = Vec::new();
    let mut failed = None;
    for a in &graph.actions {
        let ready = a.after.iter().all(|e| done[e.id]);
        if !ready || (failed.is_some() && !a.pseudo) {
            continue;
        }
        ran.push(a.id);
        match failures.iter().find(|f| names(f, a)) {
            Some(f) if failed.is_none() => failed = Some((a.id, f.rc)),
            _ => done[a.id] = true,
        }
    }
    let after = apply(w, graph, &ran, failed.map(|(id, _)| id));
    Execution { ran, failed, after }
}

fn apply(w: &Working, graph: &Graph, ran: &[usize], failed: Option<usize>) -> Working {
    let mut after = w.clone();
    for &id in ran {
        let a = &graph.actions[id];
        let Some(node) = after.node_index(&a.node) else {
            continue;
        };
        if a.task == "stonith" {
            let n = &mut after.nodes[node];
            n.online = false;
            n.unclean = false;
            for r in &mut after.rscs {
                r.running.retain(|&(m, _)| m != node);
            }
            continue;
        }
        let Some(p) = a.resource.as_deref().and_then(|id| {
            (0..after.rscs.len()).find(|&i| {
                after.rscs[i].id == id && matches!(after.rscs[i].kind, RscKind::Primitive { .. })
            })
        }) else {
            continue;
        };
        let here = Some(id) == failed;
        let promotable = after.is_promotable_instance(p);
        let r = &mut after.rscs[p];
        match a.task.as_str() {
            "stop" if !here => {
                r.running.retain(|&(m, _)| m != node);
                r.failed = false;
            }
            "start" => {
                let role = if promotable {
                    Role::Unpromoted
                } else {
                    Role::Started
                };
                r.running.retain(|&(m, _)| m != node);
                r.running.push((node, role));
                r.failed = false;
            }
            // A failed promote leaves it failed in the Promoted role (a failed demote, in
            // the role it had).
            "promote" | "demote" if !here || a.task == "promote" => {
                let role = if a.task == "promote" {
                    Role::Promoted
                } else {
                    Role::Unpromoted
                };
                for x in r.running.iter_mut().filter(|x| x.0 == node) {
                    x.1 = role;
                }
            }
            _ => {}
        }
        if here {
            r.failed = true;
            r.failure_ignored = false;
        }
    }
    after
}

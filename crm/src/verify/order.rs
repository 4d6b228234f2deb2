//! Ordering cycles: mandatory orders (and the orders groups and clones imply) that no
//! transition can satisfy, because an action would have to wait for itself.
//!
//! A group or clone has two points per action, as in Pacemaker's graph: where it begins
//! (`start`) and where all its children are done (`running`). An order's `first` waits for the
//! done point, its `then` is the begin point; a primitive's two points are one.

use std::collections::HashMap;

use super::VerifyError;
use super::model::walk;
use crate::model::{Cluster, Order, OrderKind, Resource, ResourceKind};

const ACTIONS: &[&str] = &["start", "stop", "promote", "demote"];

#[derive(Default)]
struct Graph {
    index: HashMap<(String, String, bool), usize>,
    names: Vec<String>,
    /// Edges out of each point: (to, the order's id when a constraint made it).
    edges: Vec<Vec<(usize, Option<usize>)>>,
}

impl Graph {
    fn point(&mut self, rsc: &str, action: &str, done: bool) -> usize {
        let key = (rsc.to_string(), action.to_string(), done);
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.names.len();
        self.names.push(if done {
            format!("{rsc} {}", done_name(action))
        } else {
            format!("{rsc} {action}")
        });
        self.edges.push(Vec::new());
        self.index.insert(key, i);
        i
    }

    fn edge(&mut self, from: usize, to: usize, order: Option<usize>) {
        self.edges[from].push((to, order));
    }
}

fn done_name(action: &str) -> &str {
    match action {
        "start" => "running",
        "stop" => "stopped",
        "promote" => "promoted",
        "demote" => "demoted",
        other => other,
    }
}

fn inverse(action: &str) -> Option<&'static str> {
    match action {
        "start" => Some("stop"),
        "stop" => Some("start"),
        "promote" => Some("demote"),
        "demote" => Some("promote"),
        _ => None,
    }
}

/// The first cycle found, as an error naming an order on it. `set_orders` are the pairs that
/// resource sets in the CIB's orders stand for (the model does not hold sets).
pub(super) fn find_cycle(cluster: &Cluster, set_orders: &[Order]) -> Option<VerifyError> {
    let orders: Vec<&Order> = cluster.orders.iter().chain(set_orders).collect();
    let mut g = Graph::default();
    let mut collections: HashMap<&str, bool> = HashMap::new();
    for top in &cluster.resources {
        walk(top, &mut |r: &Resource| {
            collections.insert(&r.id, !matches!(r.kind, ResourceKind::Primitive(_)));
        });
    }
    let point = |g: &mut Graph, rsc: &str, action: &str, done: bool| {
        let is_collection = collections.get(rsc).copied().unwrap_or(false);
        g.point(rsc, action, done && is_collection)
    };
    for top in &cluster.resources {
        walk(top, &mut |r: &Resource| {
            let children: Vec<&Resource> = match &r.kind {
                ResourceKind::Primitive(_) => return,
                ResourceKind::Group(members) => members.iter().collect(),
                ResourceKind::Clone(inner) => vec![inner.as_ref()],
            };
            for action in ACTIONS {
                let begin = point(&mut g, &r.id, action, false);
                let done = point(&mut g, &r.id, action, true);
                for c in &children {
                    let (cb, cd) = (
                        point(&mut g, &c.id, action, false),
                        point(&mut g, &c.id, action, true),
                    );
                    g.edge(begin, cb, None);
                    g.edge(cd, done, None);
                }
            }
            if matches!(r.kind, ResourceKind::Group(_)) {
                for pair in children.windows(2) {
                    let (a, b) = (&pair[0].id, &pair[1].id);
                    let (from, to) = (
                        point(&mut g, a, "start", true),
                        point(&mut g, b, "start", false),
                    );
                    g.edge(from, to, None);
                    let (from, to) = (
                        point(&mut g, b, "stop", true),
                        point(&mut g, a, "stop", false),
                    );
                    g.edge(from, to, None);
                }
            }
        });
    }
    for (i, o) in orders.iter().enumerate() {
        if o.kind != OrderKind::Mandatory {
            continue;
        }
        let from = point(&mut g, &o.first, &o.first_action, true);
        let to = point(&mut g, &o.then, &o.then_action, false);
        g.edge(from, to, Some(i));
        if o.symmetrical
            && let (Some(fa), Some(ta)) = (inverse(&o.first_action), inverse(&o.then_action))
        {
            let from = point(&mut g, &o.then, ta, true);
            let to = point(&mut g, &o.first, fa, false);
            g.edge(from, to, Some(i));
        }
    }
    let (points, closing) = search(&g)?;
    let mut cycle: Vec<&str> = points.iter().map(|&p| g.names[p].as_str()).collect();
    cycle.push(&g.names[points[0]]);
    Some(VerifyError::OrderCycle {
        id: orders[closing].id.clone(),
        attribute: "then",
        cycle: cycle.join(" -> "),
    })
}

/// Depth-first search for a back edge; returns the points around the cycle and the order that
/// is the last constraint on it.
fn search(g: &Graph) -> Option<(Vec<usize>, usize)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; g.names.len()];
    for start in 0..g.names.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // (point, next edge to follow); `via` holds the order each stacked edge came from.
        let mut stack = vec![(start, 0usize)];
        let mut via: Vec<Option<usize>> = vec![None];
        mark[start] = Mark::Open;
        while let Some(&mut (p, ref mut next)) = stack.last_mut() {
            let Some(&(to, order)) = g.edges[p].get(*next) else {
                mark[p] = Mark::Done;
                stack.pop();
                via.pop();
                continue;
            };
            *next += 1;
            match mark[to] {
                Mark::New => {
                    mark[to] = Mark::Open;
                    stack.push((to, 0));
                    via.push(order);
                }
                Mark::Open => {
                    let at = stack.iter().position(|&(q, _)| q == to)?;
                    let points = stack[at..].iter().map(|&(q, _)| q).collect();
                    let closing = order.or_else(|| via[at + 1..].iter().rev().find_map(|o| *o))?;
                    return Some((points, closing));
                }
                Mark::Done => {}
            }
        }
    }
    None
}

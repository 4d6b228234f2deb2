//! From assignments to actions: fencing, quorum, the effect of orders (explicit ones and
//! groups' implicit chains) on which starts can run and which resources must restart, and the
//! summary of changes as crm_simulate prints it.

use crate::model::{Cluster, OrderKind, Role};

use super::working::{RscKind, Working};

/// What happens to one resource (or node).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Start where it was stopped.
    Start,
    /// Stop.
    Stop,
    /// Stop here, start there.
    Move,
    /// Live migration from one node to another.
    Migrate,
    /// Failed: stop and start (here or elsewhere).
    Recover,
    /// Stop and start here because something it depends on restarts.
    Restart,
    /// The agent's reload: its parameters changed, none that need a restart.
    Reload,
    /// Unpromoted → Promoted.
    Promote,
    /// Promoted → Unpromoted.
    Demote,
    /// Demoted and promoted again in place (after a failure with on-fail=demote).
    RePromote,
    /// Fence a node.
    Fence,
}

impl Verb {
    /// The word crm_simulate prints.
    pub fn text(self) -> &'static str {
        match self {
            Self::Start => "Start",
            Self::Stop => "Stop",
            Self::Move => "Move",
            Self::Migrate => "Migrate",
            Self::Recover => "Recover",
            Self::Restart => "Restart",
            Self::Reload => "Reload",
            Self::Promote => "Promote",
            Self::Demote => "Demote",
            Self::RePromote => "Re-promote",
            Self::Fence => "Fence",
        }
    }
}

/// One line of the transition summary.
#[derive(Debug, Clone)]
pub struct Change {
    /// The verb.
    pub verb: Verb,
    /// The resource's printed id, or the node for a fence.
    pub subject: String,
    /// What is inside the parentheses.
    pub details: String,
    /// `due to …`, `due to … (blocked)` or `blocked`, if any.
    pub reason: Option<String>,
}

pub(super) fn plan(w: &mut Working, cluster: &Cluster) -> Vec<Change> {
    let mut changes = Vec::new();
    super::remote::fence_unrecoverable(w);
    fencing(w, &mut changes);
    super::guest::fencing(w, &mut changes);
    quorum(w);
    orders(w, cluster);
    super::migration::plan(w, cluster);
    for &top in &w.tops.clone() {
        for p in w.primitives(top) {
            if let Some(c) = summarize(w, p) {
                changes.push(c);
            }
        }
    }
    changes
}

fn fencing(w: &mut Working, changes: &mut Vec<Change>) {
    let any_managed = w.rscs.iter().any(|r| r.managed && !w.maintenance_mode);
    for n in 0..w.nodes.len() {
        let node = &w.nodes[n];
        if !node.unclean || !any_managed {
            continue;
        }
        let can = w.stonith_enabled
            && w.have_stonith_resource
            && (w.have_quorum || w.no_quorum_policy == "ignore" || node.online);
        if !can {
            continue;
        }
        let reason = node
            .unclean_reason
            .clone()
            .unwrap_or_else(|| "node is unclean".into());
        w.nodes[n].fenced = true;
        w.fencing.push((n, reason.clone()));
        changes.push(Change {
            verb: Verb::Fence,
            subject: format!("({}) {}", w.stonith_action, w.nodes[n].uname),
            details: String::new(),
            reason: Some(reason),
        });
    }
}

/// Without quorum (policy stop), nothing may start or promote; with freeze, nothing new.
fn quorum(w: &mut Working) {
    if w.have_quorum || w.no_quorum_policy == "ignore" {
        return;
    }
    let why = match w.no_quorum_policy.as_str() {
        "freeze" => "quorum freeze",
        _ => "no quorum",
    };
    for p in 0..w.rscs.len() {
        if !matches!(w.rscs[p].kind, RscKind::Primitive { .. }) || w.rscs[p].next_node.is_none() {
            continue;
        }
        let requires = w.meta(p, "requires").unwrap_or("");
        if requires == "nothing" {
            continue;
        }
        let active = !w.rscs[p].running.is_empty();
        if why == "quorum freeze" && active {
            continue;
        }
        w.rscs[p].start_blocked = Some(why.to_string());
    }
}

/// Whether a resource will be active after the transition (its start can run or is not
/// needed).
fn will_run(w: &Working, idx: usize) -> bool {
    let prims = w.primitives(idx);
    // A blocked resource's actions cannot run, its start included.
    let ok = |p: usize| {
        w.rscs[p].next_node.is_some() && w.rscs[p].start_blocked.is_none() && !w.rscs[p].blocked
    };
    match w.rscs[idx].kind {
        RscKind::Clone { .. } if clone_min(w, idx) > 0 => {
            prims.iter().filter(|&&p| ok(p)).count() >= clone_min(w, idx)
        }
        RscKind::Clone { .. } => prims.iter().any(|&p| ok(p)),
        _ => prims.iter().all(|&p| ok(p)) && !prims.is_empty(),
    }
}

/// Whether a resource starts (or restarts) in this transition.
fn starts(w: &Working, idx: usize, restart: &[bool]) -> bool {
    w.primitives(idx).iter().any(|&p| {
        let r = &w.rscs[p];
        r.managed
            && (r.start_blocked.is_none() || restart[p])
            && r.next_node.is_some()
            && (r.next_node != r.running.first().map(|&(n, _)| n) || r.failed || restart[p])
    })
}

/// A clone's `clone-min`: how many instances must run before what is ordered after it.
fn clone_min(w: &Working, clone: usize) -> usize {
    w.meta(clone, "clone-min")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn find(w: &Working, name: &str) -> Option<usize> {
    (0..w.rscs.len()).find(|&i| w.rscs[i].base == name && w.rscs[i].instance.is_none())
}

fn orders(w: &mut Working, cluster: &Cluster) {
    let mut pairs: Vec<(usize, usize, bool, String, bool)> = Vec::new();
    for o in &cluster.orders {
        if o.kind != OrderKind::Mandatory {
            continue;
        }
        if !matches!(o.first_action.as_str(), "start" | "promote")
            || !matches!(o.then_action.as_str(), "start" | "promote")
        {
            continue;
        }
        let (Some(f), Some(t)) = (find(w, &o.first), find(w, &o.then)) else {
            continue;
        };
        // Groups and clones are ordered through their "running" pseudo-action.
        let label = match (&w.rscs[f].kind, o.first_action.as_str()) {
            // A clone with clone-min is ordered through a pseudo-action of its own.
            (RscKind::Clone { .. }, _) if clone_min(w, f) > 0 => {
                format!("clone-one-or-more:{}", o.id)
            }
            (RscKind::Clone { .. } | RscKind::Group(_), "start") => "running".into(),
            (RscKind::Clone { .. } | RscKind::Group(_), "promote") => "promoted".into(),
            (_, action) => action.into(),
        };
        pairs.push((
            f,
            t,
            !matches!(w.rscs[f].kind, RscKind::Clone { .. }),
            label,
            o.symmetrical,
        ));
    }
    for i in 0..w.rscs.len() {
        if let RscKind::Group(m) = &w.rscs[i].kind {
            for pair in m.windows(2) {
                pairs.push((pair[0], pair[1], true, "start".into(), true));
            }
        }
    }
    // A stop waits for the stops of what is ordered after it (symmetric orders) and of what
    // an explicit stop-then-stop order puts first; when one of those cannot run (blocked,
    // unmanaged), neither can this stop.
    let mut stop_waits: Vec<(usize, usize)> = pairs.iter().map(|p| (p.0, p.1)).collect();
    for o in &cluster.orders {
        if o.kind == OrderKind::Mandatory
            && o.first_action == "stop"
            && o.then_action == "stop"
            && let (Some(f), Some(t)) = (find(w, &o.first), find(w, &o.then))
        {
            stop_waits.push((t, f));
        }
    }
    for (f, t) in &stop_waits {
        let then_stuck = w.primitives(*t).iter().any(|&p| {
            let r = &w.rscs[p];
            !r.running.is_empty() && (r.blocked || !r.managed)
        });
        if !then_stuck {
            continue;
        }
        for p in w.primitives(*f) {
            let r = &w.rscs[p];
            let cur = r.running.first().map(|&(n, _)| n);
            if r.managed && cur.is_some() && r.next_node != cur {
                w.rscs[p].stop_blocked = true;
            }
        }
    }
    // What runs on a remote node starts after its connection, on a guest after its
    // container: when that restarts or moves, it restarts too.
    pairs.extend(super::remote::implicit_orders(w));
    let mut restart = super::digest::restarts(w);
    for _ in 0..8 {
        let mut changed = false;
        for (f, t, implies, label, symmetrical) in &pairs {
            let (f, t) = (*f, *t);
            let interleave = matches!(w.rscs[f].kind, RscKind::Clone { .. })
                && matches!(
                    w.rscs[t].kind,
                    RscKind::Clone {
                        interleave: true,
                        ..
                    }
                );
            for p in w.primitives(t) {
                if !w.rscs[p].managed || w.rscs[p].next_node.is_none() {
                    continue;
                }
                // Interleaved clones: each instance follows the first clone's instance on
                // its own node.
                let (first, implies, label) = if interleave {
                    let here = w.rscs[p].next_node;
                    match w
                        .primitives(f)
                        .into_iter()
                        .find(|&q| w.rscs[q].next_node == here)
                    {
                        Some(q) => (q, true, "start".to_string()),
                        None if super::blocked::partner_leaves(w, f, p) => {
                            // Its stop is implied by the stop of the instance it follows,
                            // and it cannot start again without one here.
                            if !restart[p] {
                                restart[p] = true;
                                w.rscs[p].start_blocked = Some(String::new());
                                changed = true;
                            }
                            continue;
                        }
                        None => (f, false, label.clone()),
                    }
                } else {
                    (f, *implies, label.clone())
                };
                let first_runs = will_run(w, first);
                let first_starts = starts(w, first, &restart);
                let (f, implies, label) = (first, &implies, &label);
                if !first_runs {
                    // An asymmetrical order leaves a running `then` alone.
                    let r = &w.rscs[p];
                    let staying = r.next_node.is_some()
                        && r.next_node == r.running.first().map(|&(n, _)| n)
                        && !r.failed;
                    if !*symmetrical && staying {
                        continue;
                    }
                    if w.rscs[p].start_blocked.is_none() {
                        w.rscs[p].start_blocked =
                            Some(if label.starts_with("clone-one-or-more:") {
                                format!("unrunnable {label}")
                            } else if staying
                                && (!matches!(w.rscs[f].kind, RscKind::Clone { .. })
                                    || w.primitives(f).iter().any(|&q| {
                                        w.rscs[q].next_node.is_some()
                                            && w.rscs[q].start_blocked.is_some()
                                    }))
                            {
                                // A running `then` stops as required by `first` (a clone that
                                // is simply not placed is "unrunnable" instead).
                                format!("required {} {label}", w.rscs[f].id)
                            } else {
                                format!("unrunnable {} {label}", w.rscs[f].id)
                            });
                        changed = true;
                    }
                    continue;
                }
                let r = &w.rscs[p];
                let stays = r.next_node.is_some()
                    && r.next_node == r.running.first().map(|&(n, _)| n)
                    && !r.failed;
                // A clone restarting an instance in place restarts what follows it.
                let clone_restarts = super::blocked::restarts_in_place(w, f, &restart);
                if (*implies && first_starts || clone_restarts) && stays && !restart[p] {
                    restart[p] = true;
                    w.rscs[p].stop_reason = Some(format!("required {} {label}", w.rscs[f].id));
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    super::blocked::block_stops(w, &stop_waits, &mut restart);
    for (p, r) in restart.iter().enumerate() {
        if *r {
            w.rscs[p].extra_stops.push(usize::MAX);
        }
    }
}

fn need_role(cur: Role, next: Role) -> bool {
    cur > Role::Started || next > Role::Unpromoted
}

fn summarize(w: &Working, p: usize) -> Option<Change> {
    let r = &w.rscs[p];
    if !r.managed || r.blocked {
        return None;
    }
    // Active on several nodes: the first online, clean one is "current" (Pacemaker's
    // pe__current_node).
    let cur = r
        .running
        .iter()
        .map(|&(n, _)| n)
        .find(|&n| w.nodes[n].online && !w.nodes[n].unclean)
        .or_else(|| r.running.first().map(|&(n, _)| n));
    let cur_role = w.role(p);
    let blocked = r.start_blocked.clone();
    let next = r.next_node;
    let next_role = r.next_role;
    let restart = r.extra_stops.contains(&usize::MAX);
    // multiple-active=stop_unexpected stops the unexpected copies and says why.
    let multiply = (r.running.len() > 1 && w.meta(p, "multiple-active") == Some("stop_unexpected"))
        .then(|| "due to being multiply active".to_string());
    // Active on a node that needs fencing but will not be fenced: nothing can stop it.
    if let Some(c) = cur {
        let node = &w.nodes[c];
        if node.unclean && !node.online && !node.fenced && next != cur {
            return Some(Change {
                verb: Verb::Stop,
                subject: r.id.clone(),
                details: w.nodes[c].uname.clone(),
                reason: Some("blocked".into()),
            });
        }
    }
    let name = |n: usize| w.nodes[n].uname.clone();
    let change = |verb: Verb, details: String, reason: Option<String>| Change {
        verb,
        subject: r.id.clone(),
        details,
        reason,
    };
    let role_node = |role: Role, n: usize| {
        if role > Role::Started {
            format!("{} {}", role.text(), name(n))
        } else {
            name(n)
        }
    };
    match (cur, next) {
        (None, None) => None,
        (None, Some(n)) => {
            let details = if next_role == Role::Promoted {
                format!("Stopped -> Promoted {}", name(n))
            } else {
                name(n)
            };
            let verb = if next_role == Role::Promoted {
                Verb::Promote
            } else {
                Verb::Start
            };
            Some(change(
                verb,
                details,
                blocked.map(|b| format!("due to {b} (blocked)")),
            ))
        }
        (Some(c), None) => Some(change(
            Verb::Stop,
            role_node(cur_role, c),
            Some(format!(
                "due to {}{}",
                r.stop_reason
                    .clone()
                    .unwrap_or_else(|| "node availability".into()),
                if r.stop_blocked { " (blocked)" } else { "" }
            )),
        )),
        (Some(c), Some(n)) => {
            if r.stop_blocked && r.stop_reason.is_some() {
                return Some(change(
                    Verb::Stop,
                    role_node(cur_role, c),
                    r.stop_reason
                        .clone()
                        .map(|s| format!("due to {s} (blocked)")),
                ));
            }
            if let Some(b) = blocked {
                if c == n && !r.failed && !restart && b == "quorum freeze" {
                    return None;
                }
                return Some(change(
                    Verb::Stop,
                    role_node(cur_role, c),
                    (!b.is_empty()).then(|| format!("due to {b}")),
                ));
            }
            if c != n {
                let details = if need_role(cur_role, next_role) {
                    format!(
                        "{} {} -> {} {}",
                        cur_role.text(),
                        name(c),
                        next_role.text(),
                        name(n)
                    )
                } else {
                    format!("{} -> {}", name(c), name(n))
                };
                let verb = if r.failed {
                    Verb::Recover
                } else if r.migrating {
                    Verb::Migrate
                } else {
                    Verb::Move
                };
                let reason = match verb {
                    Verb::Move => r
                        .migration_blocked
                        .as_ref()
                        .map(|why| format!("due to {why}"))
                        .or(multiply),
                    Verb::Recover => multiply,
                    _ => None,
                };
                return Some(change(verb, details, reason));
            }
            if cur_role != next_role && next_role > Role::Started && cur_role > Role::Started {
                let details = format!("{} -> {} {}", cur_role.text(), next_role.text(), name(n));
                if r.failed {
                    return Some(change(Verb::Recover, details, None));
                }
                let verb = if next_role == Role::Promoted {
                    Verb::Promote
                } else {
                    Verb::Demote
                };
                return Some(change(verb, details, None));
            }
            if r.failed {
                return Some(change(Verb::Recover, role_node(cur_role, c), multiply));
            }
            if r.demote_failed && !restart && next_role == Role::Promoted {
                return Some(change(Verb::RePromote, role_node(cur_role, c), None));
            }
            if restart {
                return Some(change(
                    Verb::Restart,
                    role_node(cur_role, c),
                    r.stop_reason.clone().map(|s| format!("due to {s}")),
                ));
            }
            super::digest::reloads(w, p, c)
                .then(|| change(Verb::Reload, role_node(cur_role, c), None))
        }
    }
}

/// A primitive's state after the transition: the nodes it is active on, with the role.
pub fn revised(w: &Working, p: usize) -> Vec<(usize, Role)> {
    let r = &w.rscs[p];
    let unchanged = || -> Vec<(usize, Role)> {
        r.running
            .iter()
            .copied()
            .filter(|&(n, _)| !w.nodes[n].fenced)
            .collect()
    };
    let stuck = r.running.iter().any(|&(n, _)| {
        let node = &w.nodes[n];
        node.unclean && !node.online && !node.fenced
    });
    if !r.managed || r.blocked || r.stop_blocked || stuck {
        return unchanged();
    }
    if r.start_blocked.is_some() {
        if r.start_blocked.as_deref() == Some("quorum freeze") {
            return unchanged();
        }
        return Vec::new();
    }
    r.next_node.map(|n| (n, r.next_role)).into_iter().collect()
}

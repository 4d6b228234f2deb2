//! The things that contributed to a placement, each as a sentence: node states, location
//! constraints, colocations, stickiness, fail counts and failure bans, group membership,
//! target role and blocked actions.

use crate::model::{Cluster, INFINITY, Role, Score};
use crate::scheduler::{RscKind, Working, revised};

/// `idx` and its ancestors (the ids constraints may name it by); for a group, its members
/// too.
fn names(w: &Working, idx: usize) -> Vec<String> {
    let mut out = vec![w.rscs[idx].base.clone()];
    let mut p = w.rscs[idx].parent;
    while let Some(q) = p {
        out.push(w.rscs[q].base.clone());
        p = w.rscs[q].parent;
    }
    if let RscKind::Group(members) = &w.rscs[idx].kind {
        out.extend(members.iter().map(|&m| w.rscs[m].base.clone()));
    }
    out
}

fn role_suffix(role: Option<Role>) -> String {
    role.map(|r| format!(" (in the {} role)", r.text()))
        .unwrap_or_default()
}

/// A member's place in its group.
pub(super) fn group_member(w: &Working, g: usize, idx: usize) -> String {
    let RscKind::Group(members) = &w.rscs[g].kind else {
        return String::new();
    };
    let order: Vec<&str> = members.iter().map(|&m| w.rscs[m].id.as_str()).collect();
    let pos = members.iter().position(|&m| m == idx).unwrap_or(0);
    let mut s = format!(
        "{} is member {} of group {} ({}): the members run together on one node and start in that order",
        w.rscs[idx].id,
        pos + 1,
        w.rscs[g].id,
        order.join(", ")
    );
    if pos > 0 {
        s.push_str(&format!(
            ", so it can only run where {} runs",
            w.rscs[members[pos - 1]].id
        ));
    }
    s.push('.');
    s
}

/// Target role, management, blocked starts and stop reasons.
pub(super) fn why_not_running(
    w: &Working,
    cluster: &Cluster,
    idx: usize,
    first: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut chain = vec![idx, first];
    let mut p = w.rscs[idx].parent;
    while let Some(q) = p {
        chain.push(q);
        p = w.rscs[q].parent;
    }
    if let Some(&r) = chain
        .iter()
        .find(|&&r| w.target_role(r) == Some(Role::Stopped))
    {
        out.push(format!(
            "The target-role of {} is Stopped: the cluster keeps it stopped.",
            w.rscs[r].id
        ));
    }
    if w.stop_all {
        out.push("The cluster option stop-all-resources is true: nothing may run.".into());
    }
    if w.maintenance_mode {
        out.push("The cluster is in maintenance-mode: nothing is started or stopped.".into());
    }
    let r = &w.rscs[first];
    if !r.managed && !w.maintenance_mode {
        out.push(format!(
            "{} is unmanaged (is-managed=false, or its node is in maintenance): the cluster leaves it as it is.",
            r.id
        ));
    }
    if r.blocked {
        out.push(format!(
            "A failure of {} with on-fail=block froze it: the cluster takes no action on it.",
            r.id
        ));
    }
    if r.forced_role == Some(Role::Stopped) {
        out.push(format!(
            "A failure of {} with on-fail=stop keeps it stopped.",
            r.id
        ));
    }
    if let Some(b) = &r.start_blocked {
        let why = match b.as_str() {
            "no quorum" => format!(
                "the partition has no quorum (no-quorum-policy={})",
                cluster.option("no-quorum-policy").unwrap_or("stop")
            ),
            "quorum freeze" => "the partition has no quorum and no-quorum-policy=freeze".into(),
            other => format!("it is ordered after an action that cannot run ({other})"),
        };
        out.push(format!("{} cannot start: {why}.", r.id));
    }
    let stops = !r.running.is_empty() && revised(w, first).is_empty();
    if let Some(s) = r
        .stop_reason
        .as_deref()
        .filter(|_| stops || r.extra_stops.contains(&usize::MAX))
    {
        out.push(format!(
            "{} is stopped (or restarted) as required by an order: {s}.",
            r.id
        ));
    }
    out
}

/// Nodes that cannot run anything, and why.
pub(super) fn node_states(w: &Working) -> Vec<String> {
    let mut out = Vec::new();
    for n in &w.nodes {
        if n.available() {
            continue;
        }
        let mut why = Vec::new();
        if n.unclean {
            let fence = if n.fenced {
                "it will be fenced"
            } else {
                "it cannot be fenced"
            };
            why.push(format!(
                "it is unclean ({}; {fence})",
                n.unclean_reason.as_deref().unwrap_or("node is unclean")
            ));
        } else if !n.online {
            why.push("it is offline".into());
        }
        if n.standby && !n.pending {
            why.push("it is in standby".into());
        }
        if n.pending {
            why.push("it is joining (pending)".into());
        }
        if n.maintenance {
            why.push("it is in maintenance".into());
        }
        if n.shutdown {
            why.push("it is shutting down".into());
        }
        out.push(format!(
            "{} cannot run resources: {}.",
            n.uname,
            why.join(", ")
        ));
    }
    out
}

fn score_effect(score: Score, rsc: &str, node: &str) -> String {
    if score.0 >= INFINITY {
        format!("requires {rsc} to run on {node} (INFINITY)")
    } else if score.is_neg_inf() {
        format!("bans {rsc} from {node} (-INFINITY)")
    } else if score.0 >= 0 {
        format!("adds {score} for {rsc} on {node}")
    } else {
        format!("adds {score} for {rsc} on {node} (it avoids it)")
    }
}

/// Location constraints on it (or an ancestor, or a group's member).
pub(super) fn locations(w: &Working, cluster: &Cluster, idx: usize) -> Vec<String> {
    let names = names(w, idx);
    let mut out = Vec::new();
    for loc in cluster.locations.iter().filter(|l| names.contains(&l.rsc)) {
        let role = role_suffix(loc.role);
        if let Some(node) = &loc.node {
            out.push(format!(
                "Location constraint {} {}{role}.",
                loc.id,
                score_effect(loc.score, &loc.rsc, node)
            ));
            continue;
        }
        for rule in &loc.rules {
            let matching: Vec<&str> = w
                .nodes
                .iter()
                .filter(|n| {
                    let mut attrs = n.attrs.clone();
                    attrs.insert("#uname".into(), n.uname.clone());
                    attrs.insert("#kind".into(), "cluster".into());
                    rule.matches(&attrs)
                })
                .map(|n| n.uname.as_str())
                .collect();
            let score = rule.score.unwrap_or(loc.score);
            if matching.is_empty() {
                out.push(format!(
                    "Location constraint {}: its rule holds on no node{role}.",
                    loc.id
                ));
            } else {
                out.push(format!(
                    "Location constraint {}: its rule holds on {} and {}{role}.",
                    loc.id,
                    matching.join(", "),
                    score_effect(score, &loc.rsc, "each of them")
                ));
            }
        }
    }
    if !w.symmetric {
        out.push(
            "symmetric-cluster is false: it may run only where a location constraint allows it."
                .into(),
        );
    }
    out
}

/// Where a resource will run (in `role`, if given).
fn runs_on(w: &Working, name: &str, role: Option<Role>) -> Option<Vec<String>> {
    let idx =
        (0..w.rscs.len()).find(|&i| w.rscs[i].base == name && w.rscs[i].instance.is_none())?;
    let mut out = Vec::new();
    for p in w.primitives(idx) {
        for (n, r) in revised(w, p) {
            let ok = match role {
                Some(Role::Promoted) => r == Role::Promoted,
                Some(Role::Unpromoted) => r == Role::Unpromoted,
                _ => true,
            };
            let u = w.nodes[n].uname.clone();
            if ok && !out.contains(&u) {
                out.push(u);
            }
        }
    }
    Some(out)
}

/// Colocations with it as the dependent (placed with something) or as the primary.
pub(super) fn colocations(w: &Working, cluster: &Cluster, idx: usize) -> Vec<String> {
    let names = names(w, idx);
    let mut out = Vec::new();
    for c in &cluster.colocations {
        if names.contains(&c.rsc) {
            let with = format!("{}{}", c.with_rsc, role_suffix(c.with_role));
            let there = match runs_on(w, &c.with_rsc, c.with_role) {
                Some(nodes) if nodes.is_empty() => "which will not run anywhere".to_string(),
                Some(nodes) => format!("which will run on {}", nodes.join(", ")),
                None => "which is not configured".to_string(),
            };
            let how = if c.score.0 >= INFINITY {
                "must run with"
            } else if c.score.is_neg_inf() {
                "must not run with"
            } else if c.score.0 >= 0 {
                "prefers to run with"
            } else {
                "prefers not to run with"
            };
            out.push(format!(
                "Colocation {} (score {}): {}{} {how} {with}, {there}.",
                c.id,
                c.score,
                c.rsc,
                role_suffix(c.rsc_role),
            ));
        } else if names.contains(&c.with_rsc) {
            out.push(format!(
                "Colocation {} (score {}): {} is placed with {}, so {}'s preferences count towards where {} goes.",
                c.id, c.score, c.rsc, c.with_rsc, c.rsc, c.with_rsc
            ));
        }
    }
    out
}

/// Stickiness on the node each primitive runs on now.
pub(super) fn stickiness(w: &Working, cluster: &Cluster, prims: &[usize]) -> Vec<String> {
    let mut out = Vec::new();
    for &p in prims {
        let r = &w.rscs[p];
        let [(node, _)] = r.running.as_slice() else {
            continue;
        };
        let sticky = w
            .meta(p, "resource-stickiness")
            .or_else(|| w.meta(p, "default-resource-stickiness"))
            .or_else(|| cluster.option("default-resource-stickiness"))
            .and_then(Score::parse)
            .unwrap_or(Score::ZERO);
        if sticky.0 != 0 {
            out.push(format!(
                "resource-stickiness {sticky} adds {sticky} for {} on {}, where it runs now.",
                r.id, w.nodes[*node].uname
            ));
        }
    }
    out
}

/// A primitive's fail count on a node (the transient `fail-count-RSC#op_interval`
/// attributes, summed).
fn fail_count(w: &Working, p: usize, node: usize) -> Score {
    let names = [w.rscs[p].id.as_str(), w.rscs[p].base.as_str()];
    w.nodes[node]
        .attrs
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix("fail-count-")?;
            let name = rest.split('#').next().unwrap_or(rest);
            names
                .contains(&name)
                .then(|| Score::parse(v).unwrap_or(Score::ZERO))
        })
        .fold(Score::ZERO, |a, b| a + b)
}

/// Fail counts against migration-threshold, and bans from failures.
pub(super) fn failures(w: &Working, prims: &[usize]) -> Vec<String> {
    let mut out = Vec::new();
    for &p in prims {
        let r = &w.rscs[p];
        let holder = w.clone_ancestor(p).unwrap_or(p);
        let banned = |n: usize| {
            [p, holder].iter().any(|&h| {
                w.rscs[h]
                    .bans
                    .iter()
                    .any(|&(b, s)| s.is_neg_inf() && b.is_none_or(|b| b == n))
            })
        };
        let threshold = w
            .meta(p, "migration-threshold")
            .and_then(Score::parse)
            .unwrap_or(Score::INF);
        for n in 0..w.nodes.len() {
            let count = fail_count(w, p, n);
            let uname = &w.nodes[n].uname;
            if count.0 > 0 {
                let times = if count.0 >= INFINITY {
                    "with a fatal failure (fail count INFINITY)".to_string()
                } else {
                    format!("{} time{}", count, if count.0 == 1 { "" } else { "s" })
                };
                let verdict = if banned(n) {
                    format!("it may no longer run there (-INFINITY on {uname})")
                } else {
                    "it may still run there".to_string()
                };
                out.push(format!(
                    "{} failed {times} on {uname}, migration-threshold {threshold}: {verdict}.",
                    r.id
                ));
            } else if banned(n) && r.bans.iter().any(|&(b, _)| b == Some(n)) {
                out.push(format!(
                    "A failure of {} on {uname} bans it from there (-INFINITY).",
                    r.id
                ));
            }
        }
        if r.bans.iter().any(|&(b, s)| b.is_none() && s.is_neg_inf()) {
            out.push(format!(
                "A fatal failure of {} bans it from every node.",
                r.id
            ));
        }
    }
    out
}

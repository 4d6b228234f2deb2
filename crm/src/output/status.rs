//! The cluster status block (`crm_mon` style): the node list and the resource list, before
//! or after the transition.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::model::{Cluster, Role};
use crate::scheduler::{RscKind, Working};

/// Which state to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// From the history.
    Current,
    /// After the transition ran (every action succeeding).
    Revised,
}

struct Placed {
    nodes: Vec<(usize, Role)>,
    failed: bool,
}

fn placed(w: &Working, p: usize, view: View) -> Placed {
    let r = &w.rscs[p];
    match view {
        View::Current => Placed {
            nodes: r.running.clone(),
            failed: r.failed && !r.failure_ignored,
        },
        View::Revised => {
            let nodes: Vec<_> = crate::scheduler::revised(w, p);
            let keep_failed = !r.managed || r.blocked;
            Placed {
                failed: r.failed && keep_failed && !nodes.is_empty(),
                nodes,
            }
        }
    }
}

/// The status block.
pub fn status_text(cluster: &Cluster, w: &Working, view: View) -> String {
    let mut out = String::from("  * Node List:\n");
    let mut online = Vec::new();
    let mut offline = Vec::new();
    let active_on = |n: usize| {
        (0..w.rscs.len()).any(|p| {
            matches!(w.rscs[p].kind, RscKind::Primitive { .. })
                && placed(w, p, view).nodes.iter().any(|&(m, _)| m == n)
        })
    };
    let mut remote_lists = super::remote::NodeLists::default();
    for (i, n) in w.nodes.iter().enumerate() {
        if remote_lists.take(w, i, view, &mut out) {
            continue;
        }
        let fenced = view == View::Revised && n.fenced;
        if n.unclean && !fenced {
            let how = if n.online { "online" } else { "offline" };
            let _ = writeln!(out, "    * Node {}: UNCLEAN ({how})", n.uname);
        } else if fenced || !n.online {
            offline.push(n.uname.clone());
        } else if n.pending {
            let _ = writeln!(out, "    * Node {}: pending", n.uname);
        } else if n.standby {
            let extra = if active_on(i) {
                " (with active resources)"
            } else {
                ""
            };
            let _ = writeln!(out, "    * Node {}: standby{extra}", n.uname);
        } else if n.maintenance {
            let _ = writeln!(out, "    * Node {}: maintenance", n.uname);
        } else {
            online.push(n.uname.clone());
        }
    }
    if !online.is_empty() {
        let _ = writeln!(out, "    * Online: [ {} ]", online.join(" "));
    }
    if !offline.is_empty() {
        let _ = writeln!(out, "    * OFFLINE: [ {} ]", offline.join(" "));
    }
    remote_lists.print(&mut out);
    out.push_str("\n  * Full List of Resources:\n");
    for &top in &w.tops {
        if crate::scheduler::is_internal(w, top) {
            continue;
        }
        resource(cluster, w, top, view, 4, &mut out);
    }
    out
}

fn agent(w: &Working, p: usize) -> String {
    match &w.rscs[p].kind {
        RscKind::Primitive {
            class,
            provider,
            agent,
            ..
        } => match provider {
            Some(pr) if class == "ocf" => format!("{class}:{pr}:{agent}"),
            _ => format!("{class}:{agent}"),
        },
        _ => String::new(),
    }
}

fn probe_text(rc: i32) -> &'static str {
    match rc {
        1 => "error",
        2 => "invalid parameter",
        3 => "unimplemented feature",
        4 => "insufficient privileges",
        5 => "not installed",
        6 => "not configured",
        7 => "not running",
        _ => "unknown",
    }
}

fn primitive_line(w: &Working, p: usize, view: View) -> Option<String> {
    let r = &w.rscs[p];
    let st = placed(w, p, view);
    if r.orphan && st.nodes.is_empty() {
        return None;
    }
    // Anonymous clone instances are printed by their configured id (Pacemaker's
    // rsc_printable_id).
    let anonymous = w
        .clone_ancestor(p)
        .is_some_and(|c| matches!(w.rscs[c].kind, RscKind::Clone { unique: false, .. }));
    let name = if anonymous { &r.base } else { &r.id };
    let mut s = format!("{name}\t({}):\t", agent(w, p));
    if r.orphan {
        s.push_str(" ORPHANED");
    }
    let role = st
        .nodes
        .iter()
        .map(|&(_, r)| r)
        .max()
        .unwrap_or(Role::Stopped);
    if st.failed {
        s.push_str(" FAILED");
        if role > Role::Unpromoted {
            s.push(' ');
            s.push_str(role.text());
        }
    } else {
        s.push(' ');
        s.push_str(role.text());
    }
    let single = (st.nodes.len() == 1).then(|| st.nodes[0].0);
    if let Some(n) = single {
        s.push(' ');
        s.push_str(&w.nodes[n].uname);
    }
    if role == Role::Stopped
        && let Some((_, rc)) = r.failed_probes.iter().next()
    {
        let _ = write!(s, " ({}) ", probe_text(*rc));
    }
    let mut flags: Vec<String> = Vec::new();
    if let Some(n) = single {
        let node = &w.nodes[n];
        if node.unclean && !node.online && !(view == View::Revised && node.fenced) {
            flags.push("UNCLEAN".into());
        }
    }
    match w.target_role(p) {
        Some(Role::Stopped) => flags.push("disabled".into()),
        Some(Role::Unpromoted) if w.is_promotable_instance(p) => {
            flags.push(format!(
                "target-role:{}",
                w.meta(p, "target-role").unwrap_or("Unpromoted")
            ));
        }
        _ => {}
    }
    if r.blocked && st.failed {
        flags.push("blocked".into());
    } else if !r.managed {
        flags.push("unmanaged".into());
    }
    if r.failure_ignored {
        flags.push("failure ignored".into());
    }
    if !flags.is_empty() {
        let _ = write!(s, " ({})", flags.join(", "));
    }
    if st.nodes.len() > 1 {
        let names: Vec<_> = st
            .nodes
            .iter()
            .map(|&(n, _)| w.nodes[n].uname.clone())
            .collect();
        let _ = write!(s, " [ {} ]", names.join(" "));
    }
    Some(s)
}

fn resource(
    cluster: &Cluster,
    w: &Working,
    idx: usize,
    view: View,
    indent: usize,
    out: &mut String,
) {
    let pad = " ".repeat(indent);
    match &w.rscs[idx].kind {
        RscKind::Primitive { .. } => {
            if let Some(line) = primitive_line(w, idx, view) {
                let _ = writeln!(out, "{pad}* {line}");
            }
        }
        RscKind::Group(members) => {
            let _ = writeln!(out, "{pad}* Resource Group: {}:", w.rscs[idx].id);
            for &m in members {
                resource(cluster, w, m, view, indent + 2, out);
            }
        }
        RscKind::Clone {
            instances,
            promotable,
            unique,
            ..
        } => {
            let child = instances
                .first()
                .map(|&i| w.rscs[i].base.clone())
                .unwrap_or_default();
            let mut flags = Vec::new();
            if *promotable {
                flags.push("promotable");
            }
            if *unique {
                flags.push("unique");
            }
            if w.target_role(idx) == Some(Role::Stopped) {
                flags.push("disabled");
            }
            let f = if flags.is_empty() {
                String::new()
            } else {
                format!(" ({})", flags.join(", "))
            };
            let _ = writeln!(out, "{pad}* Clone Set: {} [{child}]{f}:", w.rscs[idx].id);
            clone_body(cluster, w, idx, instances, *unique, view, indent + 2, out);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn clone_body(
    cluster: &Cluster,
    w: &Working,
    clone: usize,
    instances: &[usize],
    unique: bool,
    view: View,
    indent: usize,
    out: &mut String,
) {
    let pad = " ".repeat(indent);
    let mut by_role: std::collections::BTreeMap<Role, Vec<usize>> = Default::default();
    let mut active_nodes = BTreeSet::new();
    for &inst in instances {
        let prims = w.primitives(inst);
        let states: Vec<_> = prims.iter().map(|&p| placed(w, p, view)).collect();
        for st in &states {
            for &(n, _) in &st.nodes {
                active_nodes.insert(n);
            }
        }
        let simple = !unique
            && prims.iter().zip(&states).all(|(&p, st)| {
                !st.failed
                    && w.rscs[p].managed
                    && !w.rscs[p].orphan
                    && st.nodes.len() == 1
                    && st.nodes[0].0 == states[0].nodes[0].0
            })
            && !states.is_empty();
        if simple {
            let role = states[0].nodes[0].1;
            by_role.entry(role).or_default().push(states[0].nodes[0].0);
            continue;
        }
        let any_active = states.iter().any(|s| !s.nodes.is_empty());
        if !unique && !any_active {
            continue;
        }
        if matches!(w.rscs[inst].kind, RscKind::Group(_)) {
            let _ = writeln!(out, "{pad}* Resource Group: {}:", w.rscs[inst].id);
            for p in prims {
                if let Some(line) = primitive_line(w, p, view) {
                    let _ = writeln!(out, "{pad}  * {line}");
                }
            }
        } else if let Some(line) = primitive_line(w, inst, view) {
            let _ = writeln!(out, "{pad}* {line}");
        }
    }
    for (role, label) in [
        (Role::Promoted, "Promoted"),
        (Role::Unpromoted, "Unpromoted"),
        (Role::Started, "Started"),
    ] {
        if let Some(nodes) = by_role.get(&role) {
            let mut names: Vec<_> = nodes.iter().map(|&n| w.nodes[n].uname.clone()).collect();
            names.sort();
            let _ = writeln!(out, "{pad}* {label}: [ {} ]", names.join(" "));
        }
    }
    // (A clone with no instance configured, clone-max=0, lists no stopped nodes.)
    let configured = instances.iter().any(|&i| !w.rscs[i].orphan);
    // Stopped nodes are listed only while fewer instances than clone-max are fully active.
    let listed: usize = by_role.values().map(Vec::len).sum();
    let max = match &w.rscs[clone].kind {
        RscKind::Clone { max, .. } => *max,
        _ => usize::MAX,
    };
    if !unique && configured && max > listed {
        let base = &w.rscs[clone].base;
        let mut stopped = Vec::new();
        for (i, n) in w.nodes.iter().enumerate() {
            let allowed = w.symmetric
                || cluster
                    .locations
                    .iter()
                    .any(|l| &l.rsc == base && l.node.as_deref() == Some(n.uname.as_str()));
            let orphaned = n.remote.as_ref().is_some_and(|r| r.orphaned);
            if allowed && !orphaned && !active_nodes.contains(&i) {
                stopped.push(n.uname.clone());
            }
        }
        stopped.sort();
        if !stopped.is_empty() {
            let disabled = instances.first().is_some_and(|&i| {
                w.primitives(i)
                    .iter()
                    .any(|&p| w.target_role(p) == Some(Role::Stopped))
            });
            let label = if w.target_role(clone) == Some(Role::Stopped) || disabled {
                "Stopped (disabled)"
            } else {
                "Stopped"
            };
            let _ = writeln!(out, "{pad}* {label}: [ {} ]", stopped.join(" "));
        }
    }
}

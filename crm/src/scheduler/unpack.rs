//! Unpack the cluster: node states (Pacemaker's `determine_online_status`), the resource
//! arena with clone instances expanded, and each resource's current state from its history.

use crate::model::{Attrs, Cluster, Resource, ResourceKind, Role, is_true};

use super::history;
use super::working::{NodeInfo, Rsc, RscKind, Working};

pub(super) fn unpack(cluster: &Cluster, now: i64) -> Working {
    let have_stonith_resource = any_stonith(&cluster.resources);
    let stonith_flag = cluster.flag("stonith-enabled", true);
    let mut w = Working {
        stonith_enabled: stonith_flag,
        have_stonith_resource,
        have_quorum: cluster.have_quorum,
        no_quorum_policy: cluster
            .option("no-quorum-policy")
            .unwrap_or("stop")
            .to_string(),
        symmetric: cluster.flag("symmetric-cluster", true),
        maintenance_mode: cluster.flag("maintenance-mode", false),
        stop_all: cluster.flag("stop-all-resources", false),
        stonith_action: cluster
            .option("stonith-action")
            .unwrap_or("reboot")
            .replace("poweroff", "off"),
        now,
        placement_strategy: cluster
            .option("placement-strategy")
            .unwrap_or("default")
            .to_string(),
        ..Working::default()
    };
    let startup_fencing = cluster.flag("startup-fencing", true);
    for n in &cluster.nodes {
        let mut info = NodeInfo {
            uname: n.uname.clone(),
            id: n.id.clone(),
            attrs: n.attrs.clone(),
            capacity: numbers(&n.utilization),
            ..NodeInfo::default()
        };
        // With fencing, unseen nodes are unclean until their status says otherwise.
        // (Remote nodes are not handled in this part: they are never fenced here.)
        if startup_fencing && stonith_flag && !matches!(n.kind.as_str(), "ping" | "remote") {
            info.unclean = true;
            info.unclean_reason = Some("node is unclean".into());
        }
        w.nodes.push(info);
    }
    super::remote::add_nodes(&mut w, cluster, startup_fencing);
    for ns in &cluster.status.nodes {
        let Some(idx) = w
            .nodes
            .iter()
            .position(|n| n.uname == ns.uname)
            .or_else(|| cluster.nodes.iter().position(|n| n.id == ns.id))
        else {
            continue;
        };
        let node = &mut w.nodes[idx];
        node.seen = true;
        node.unclean = false;
        node.unclean_reason = None;
        for (k, v) in &ns.attrs {
            node.attrs.insert(k.clone(), v.clone());
        }
        // A remote node's state comes from its connection, once history is read.
        if node.remote.is_none() {
            online_status(node, ns, w.stonith_enabled);
        }
    }
    for n in &mut w.nodes {
        if n.attrs.get("standby").is_some_and(|v| is_true(v)) {
            n.standby = true;
        }
        if n.attrs.get("maintenance").is_some_and(|v| is_true(v)) {
            n.maintenance = true;
        }
    }
    // Without quorum, policy suicide (fence in later releases): every member fences itself.
    if !w.have_quorum
        && cluster.no_quorum_panic
        && matches!(w.no_quorum_policy.as_str(), "suicide" | "fence")
    {
        for n in &mut w.nodes {
            if n.online && !n.unclean {
                n.unclean = true;
                n.unclean_reason = Some("cluster does not have quorum".into());
            }
        }
    }
    let node_count = w.nodes.len();
    for r in &cluster.resources {
        let idx = add(&mut w, cluster, r, None, None, node_count);
        w.tops.push(idx);
    }
    history::unpack_all(&mut w, cluster);
    deadman_tickets(&mut w, cluster);
    w
}

/// A ticket lost (revoked, not merely in standby) with `loss-policy=fence`: every node where a resource that needs it is
/// active (in the role it needs it for) is fenced.
fn deadman_tickets(w: &mut Working, cluster: &Cluster) {
    for t in &cluster.tickets {
        if t.loss_policy != "fence"
            || cluster.ticket_granted.get(&t.ticket) == Some(&true)
            || cluster.ticket_standby.contains(&t.ticket)
        {
            continue;
        }
        let role = t.rsc_role.filter(|r| *r != Role::Started);
        let mut nodes = Vec::new();
        for r in 0..w.rscs.len() {
            if w.rscs[r].base != t.rsc {
                continue;
            }
            for p in w.primitives(r) {
                for &(node, current) in &w.rscs[p].running {
                    if role.is_none_or(|want| want == current) && !nodes.contains(&node) {
                        nodes.push(node);
                    }
                }
            }
        }
        for node in nodes {
            history::fence(w, node, "deadman ticket was lost");
        }
    }
}

fn numbers(attrs: &Attrs) -> std::collections::BTreeMap<String, i64> {
    attrs
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.trim().parse().ok()?)))
        .collect()
}

fn any_stonith(rs: &[Resource]) -> bool {
    rs.iter().any(|r| match &r.kind {
        ResourceKind::Primitive(p) => p.class == "stonith",
        ResourceKind::Group(m) => any_stonith(m),
        ResourceKind::Clone(c) => any_stonith(std::slice::from_ref(c)),
    })
}

fn online_status(node: &mut NodeInfo, ns: &crate::model::NodeState, fencing: bool) {
    let in_ccm = ns.in_ccm.as_deref().is_some_and(is_true);
    let crmd_online = ns.crmd.as_deref() == Some("online");
    let join = ns.join.as_deref().unwrap_or("");
    let expected = ns.expected.as_deref().unwrap_or("");
    let terminate = node
        .attrs
        .get("terminate")
        .is_some_and(|v| is_true(v) || v.parse::<i64>().is_ok_and(|n| n > 0));
    if node.attrs.get("shutdown").is_some_and(|v| v != "0") {
        node.shutdown = true;
    }
    let fence = |node: &mut NodeInfo, why: &str| {
        node.unclean = true;
        node.unclean_reason = Some(why.into());
    };
    if !fencing {
        if !in_ccm {
        } else if crmd_online {
            node.online = join == "member";
        } else if join != "member" && expected != "member" {
        } else if join == "member" || expected == "member" {
            fence(node, "peer is unexpectedly down");
        }
        return;
    }
    if ns.in_ccm.is_none() {
        fence(node, "peer has not been seen by the cluster");
    } else if join == "nack" {
        fence(node, "peer failed Pacemaker membership criteria");
    } else if !terminate && expected == "down" {
        if in_ccm || crmd_online {
            node.standby = true;
            node.pending = true;
        }
    } else if terminate && join == "down" && !in_ccm && !crmd_online {
        // Just shot.
    } else if !in_ccm {
        fence(node, "peer is no longer part of the cluster");
    } else if !crmd_online {
        fence(node, "peer process is no longer available");
    } else if terminate {
        fence(node, "termination was requested");
    } else if join == "member" {
        node.online = true;
    } else if join == "pending" || join == "down" {
        node.standby = true;
        node.pending = true;
    } else {
        fence(node, "peer was in an unknown state");
    }
}

fn merged_meta(cluster: &Cluster, r: &Resource, parent_meta: Option<&Attrs>) -> Attrs {
    let mut meta = r.meta.clone();
    for (k, v) in parent_meta.unwrap_or(&cluster.rsc_defaults) {
        meta.entry(k.clone()).or_insert_with(|| v.clone());
    }
    // Clone instances are sticky by default (Pacemaker's implicit stickiness of 1).
    if matches!(r.kind, ResourceKind::Clone(_)) {
        meta.entry("resource-stickiness".into())
            .or_insert_with(|| "1".into());
    }
    meta
}

/// A resource's working state before the status is read.
pub(super) fn blank(
    id: String,
    base: String,
    kind: RscKind,
    parent: Option<usize>,
    meta: Attrs,
) -> Rsc {
    Rsc {
        id,
        base,
        kind,
        parent,
        meta,
        instance: None,
        running: Vec::new(),
        known_on: Vec::new(),
        failed: false,
        blocked: false,
        managed: true,
        orphan: false,
        failure_ignored: false,
        forced_role: None,
        failed_probes: Default::default(),
        bans: Vec::new(),
        next_node: None,
        next_role: Role::Stopped,
        allocated: false,
        stop_reason: None,
        start_blocked: None,
        extra_stops: Vec::new(),
        stop_blocked: false,
        migrating: false,
        migration_blocked: None,
        param_changes: Vec::new(),
        demote_failed: false,
        partial_scores: None,
        utilization: Default::default(),
    }
}

/// Add a resource (and its children) to the arena; `instance` numbers clone copies.
pub(super) fn add(
    w: &mut Working,
    cluster: &Cluster,
    r: &Resource,
    parent: Option<usize>,
    instance: Option<usize>,
    node_count: usize,
) -> usize {
    let parent_meta = parent.map(|p| w.rscs[p].meta.clone());
    let meta = merged_meta(cluster, r, parent_meta.as_ref());
    let id = match instance {
        Some(n) => format!("{}:{n}", r.id),
        None => r.id.clone(),
    };
    let idx = w.rscs.len();
    let placeholder = RscKind::Group(Vec::new());
    w.rscs
        .push(blank(id, r.id.clone(), placeholder, parent, meta.clone()));
    w.rscs[idx].instance = instance;
    w.rscs[idx].utilization = numbers(&r.utilization);
    let kind = match &r.kind {
        ResourceKind::Primitive(p) => RscKind::Primitive {
            class: p.class.clone(),
            provider: p.provider.clone(),
            agent: p.agent.clone(),
            ops: p.ops.clone(),
        },
        ResourceKind::Group(members) => RscKind::Group(
            members
                .iter()
                .map(|m| add(w, cluster, m, Some(idx), instance, node_count))
                .collect(),
        ),
        ResourceKind::Clone(inner) => {
            let num = |names: &[&str], default: usize| {
                names
                    .iter()
                    .find_map(|n| meta.get(*n))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(default)
            };
            let promotable = r.legacy_master || meta.get("promotable").is_some_and(|v| is_true(v));
            let max = num(&["clone-max"], node_count);
            let node_max = num(&["clone-node-max"], 1);
            let unique = meta.get("globally-unique").is_some_and(|v| is_true(v));
            let instances = (0..max)
                .map(|i| add(w, cluster, inner, Some(idx), Some(i), node_count))
                .collect();
            RscKind::Clone {
                instances,
                promotable,
                unique,
                max,
                node_max: if unique { node_max } else { 1.max(node_max) },
                promoted_max: num(&["promoted-max", "master-max"], 1),
                promoted_node_max: num(&["promoted-node-max", "master-node-max"], 1),
                interleave: meta.get("interleave").is_some_and(|v| is_true(v)),
            }
        }
    };
    w.rscs[idx].kind = kind;
    idx
}

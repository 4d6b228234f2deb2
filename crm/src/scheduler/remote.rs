//! Pacemaker Remote and guest nodes: an `ocf:pacemaker:remote` primitive makes a remote node
//! named by its id, a primitive with meta `remote-node` a guest node running inside it. Their
//! state comes from the connection (or container) resource, not from membership
//! (Pacemaker's `unpack_remote_nodes`, `link_rsc2remotenode` and
//! `determine_remote_online_status`).

use crate::model::{Cluster, Resource, ResourceKind, Role, Score};

use super::working::{NodeInfo, RemoteInfo, Working};

/// Whether `r` is an `ocf:pacemaker:remote` primitive (a remote node's connection).
fn is_connection(r: &Resource) -> bool {
    matches!(&r.kind, ResourceKind::Primitive(p)
        if p.class == "ocf" && p.provider.as_deref() == Some("pacemaker") && p.agent == "remote")
}

/// The remote and guest nodes the configuration defines: (node name, connection id,
/// container id for a guest). Top-level primitives and group members, as Pacemaker looks
/// for them.
fn defined(cluster: &Cluster) -> Vec<(String, String, Option<String>)> {
    let mut out: Vec<_> = cluster
        .resources
        .iter()
        .flat_map(|r| match &r.kind {
            ResourceKind::Group(members) => members.iter().collect::<Vec<_>>(),
            _ => vec![r],
        })
        .filter(|r| is_connection(r) && !r.meta.contains_key(super::guest::INTERNAL))
        .map(|r| (r.id.clone(), r.id.clone(), None))
        .collect();
    for (name, container) in super::guest::guests(cluster) {
        out.push((name.clone(), name, Some(container)));
    }
    out
}

/// Add the remote and guest nodes to the node list (before the status is read). A remote
/// node is unclean until its history is read (startup fencing), though it is never fenced
/// for that alone; a guest node is not.
pub(super) fn add_nodes(w: &mut Working, cluster: &Cluster, startup_fencing: bool) {
    // Remote nodes left in the nodes section without a connection: offline, never fenced.
    for (i, n) in cluster.nodes.iter().enumerate() {
        if n.kind == "remote" {
            w.nodes[i].unclean = false;
            w.nodes[i].unclean_reason = None;
            w.nodes[i].remote = Some(RemoteInfo::default());
        }
    }
    for (name, rsc, container) in defined(cluster) {
        let guest = container.is_some();
        let startup_unclean = !guest && startup_fencing && w.stonith_enabled;
        let node = node_named(w, &name);
        node.unclean = false;
        node.unclean_reason = None;
        node.remote = Some(RemoteInfo {
            rsc,
            guest,
            container,
            startup_unclean,
            ..RemoteInfo::default()
        });
    }
}

/// The node of that name, added (as seen by no one yet) if there is none.
fn node_named<'w>(w: &'w mut Working, name: &str) -> &'w mut NodeInfo {
    let idx = w.node_index(name).unwrap_or_else(|| {
        w.nodes.push(NodeInfo {
            uname: name.to_string(),
            id: name.to_string(),
            ..NodeInfo::default()
        });
        w.nodes.len() - 1
    });
    &mut w.nodes[idx]
}

/// The arena index of the resource that defines a remote or guest node.
pub(super) fn defining_rsc(w: &Working, node: usize) -> Option<usize> {
    let info = w.nodes[node].remote.as_ref()?;
    w.rscs
        .iter()
        .position(|r| r.base == info.rsc && r.instance.is_none())
}

/// Decide whether each remote or guest node is online, from its resource's current state
/// (after the cluster nodes' history is read). Returns the nodes whose history may be read
/// now: those whose connection (or container) is started.
pub(super) fn settle(w: &mut Working, cluster: &Cluster) -> Vec<usize> {
    orphaned_connections(w, cluster);
    let mut readable = Vec::new();
    for node in 0..w.nodes.len() {
        if w.nodes[node].remote.is_none() {
            continue;
        }
        // A node with a status entry was seen: offline, but not unclean for startup.
        if w.nodes[node].seen
            && let Some(info) = w.nodes[node].remote.as_mut()
        {
            info.startup_unclean = false;
        }
        let Some(rsc) = defining_rsc(w, node) else {
            w.nodes[node].online = false;
            continue;
        };
        // Remote connections migrate unless told otherwise (a guest's, if its container
        // says `remote-allow-migrate`).
        if w.nodes[node].remote.as_ref().is_some_and(|r| !r.guest) {
            w.rscs[rsc]
                .meta
                .entry("allow-migrate".into())
                .or_insert_with(|| "true".into());
        }
        let started = !w.rscs[rsc].running.is_empty();
        let failed = w.rscs[rsc].failed;
        if started
            && failed
            && !w.nodes[node].remote.as_ref().is_some_and(|r| r.guest)
            && monitor_failed(w, cluster, rsc)
        {
            connection_failed(w, cluster, node, rsc);
        }
        // Only a guest follows its host (and its container): a remote connection on a lost
        // node is still up until the scheduler sees whether it can move.
        let container = super::guest::container_of(w, node);
        let (c_started, c_failed) = container.map_or((true, false), |c| {
            (!w.rscs[c].running.is_empty(), w.rscs[c].failed)
        });
        let host_unclean = container.is_some()
            && w.rscs[rsc]
                .running
                .first()
                .is_some_and(|&(h, _)| w.nodes[h].unclean && !w.nodes[h].online);
        let n = &mut w.nodes[node];
        n.online = started && !failed && c_started && !c_failed && !host_unclean;
        if let Some(info) = n.remote.as_mut() {
            info.online_now = n.online;
            info.reset = info.guest && (c_failed || host_unclean);
        }
        if n.attrs
            .get("standby")
            .is_some_and(|v| crate::model::is_true(v))
        {
            n.standby = true;
        }
        if started && c_started {
            if let Some(info) = n.remote.as_mut() {
                info.startup_unclean = false;
            }
            readable.push(node);
        }
    }
    readable
}

/// A connection found in the history but no longer configured still names its node, which
/// shuts down (Pacemaker's `create_fake_resource`).
fn orphaned_connections(w: &mut Working, cluster: &Cluster) {
    for idx in 0..w.rscs.len() {
        let r = &w.rscs[idx];
        let is_conn = matches!(&r.kind, super::working::RscKind::Primitive { class, provider, agent, .. }
            if class == "ocf" && provider.as_deref() == Some("pacemaker") && agent == "remote");
        if !r.orphan || !is_conn {
            continue;
        }
        let name = r.base.clone();
        let n = node_named(w, &name);
        n.shutdown = true;
        n.unclean = false;
        // The history says whether it was a guest's connection, and in what.
        let container = cluster
            .status
            .nodes
            .iter()
            .flat_map(|ns| &ns.resources)
            .find_map(|l| (l.id == name).then(|| l.container.clone()).flatten());
        n.remote.get_or_insert_with(|| RemoteInfo {
            rsc: name,
            guest: container.is_some(),
            container,
            orphaned: true,
            ..RemoteInfo::default()
        });
    }
}

/// Connection resources may not run on remote or guest nodes, nor fence devices.
pub(super) fn ban_remote_hosts(w: &Working, idx: usize, scores: &mut [Score]) {
    if matches!(&w.rscs[idx].kind, super::working::RscKind::Primitive { class, .. } if class == "stonith")
    {
        for (node, s) in scores.iter_mut().enumerate() {
            if w.nodes[node].remote.is_some() {
                *s = Score::NEG_INF;
            }
        }
        return;
    }
    let base = &w.rscs[idx].base;
    let hosts_node = w.nodes.iter().any(|n| {
        n.remote
            .as_ref()
            .is_some_and(|r| &r.rsc == base || r.container.as_ref() == Some(base))
    });
    if !hosts_node {
        return;
    }
    for (node, s) in scores.iter_mut().enumerate() {
        if w.nodes[node].remote.is_some() {
            *s = Score::NEG_INF;
        }
    }
}

/// Whether `idx` is a remote connection (assigned before every other resource).
pub(super) fn is_connection_rsc(w: &Working, idx: usize) -> bool {
    w.nodes
        .iter()
        .any(|n| n.remote.as_ref().is_some_and(|r| r.rsc == w.rscs[idx].base))
}

/// Whether a remote node is online after the transition: its connection runs somewhere.
pub fn revised_online(w: &Working, node: usize) -> bool {
    match defining_rsc(w, node) {
        Some(rsc) => !super::revised(w, rsc).is_empty(),
        None => false,
    }
}

/// A remote connection was assigned (Pacemaker's `remote_connection_assigned`): the node
/// will be online if the connection runs, else it shuts down.
pub(super) fn assigned(w: &mut Working, idx: usize) {
    let Some(node) = w
        .nodes
        .iter()
        .position(|n| n.remote.as_ref().is_some_and(|r| r.rsc == w.rscs[idx].base))
    else {
        return;
    };
    let runs = w.rscs[idx].next_node.is_some() && w.rscs[idx].next_role != Role::Stopped;
    let n = &mut w.nodes[node];
    if runs {
        n.online = true;
        if n.remote.as_ref().is_some_and(|r| r.revocable) {
            n.unclean = false;
            n.unclean_reason = None;
        }
    } else {
        n.shutdown = true;
    }
}

/// A running connection failed (Pacemaker's on-fail `reset_remote`, the default for a
/// connection's monitor): with fencing the remote node is fenced, and with a
/// `reconnect_interval` the connection stays stopped until that failure expires.
fn connection_failed(w: &mut Working, cluster: &Cluster, node: usize, rsc: usize) {
    if w.stonith_enabled {
        super::history::fence(w, node, "remote connection is unrecoverable");
    }
    let reconnect = params(&cluster.resources, &w.rscs[rsc].base)
        .and_then(|p| p.get("reconnect_interval"))
        .and_then(|v| crate::model::parse_interval_ms(v))
        .is_some_and(|ms| ms > 0);
    if reconnect {
        w.rscs[rsc].forced_role = Some(Role::Stopped);
        w.rscs[rsc].bans.push((None, Score::NEG_INF));
        if let Some(info) = w.nodes[node].remote.as_mut() {
            info.held = true;
        }
    }
}

/// Whether the connection's failure where it runs is a recurring monitor's (since its last
/// start): only that failure has on-fail `reset_remote` by default.
fn monitor_failed(w: &Working, cluster: &Cluster, rsc: usize) -> bool {
    let Some(&(host, _)) = w.rscs[rsc].running.first() else {
        return false;
    };
    let host = &w.nodes[host].uname;
    let base = &w.rscs[rsc].base;
    cluster
        .status
        .nodes
        .iter()
        .filter(|ns| &ns.uname == host)
        .flat_map(|ns| ns.resources.iter().filter(|l| &l.id == base))
        .any(|lrm| {
            let last_start = lrm
                .ops
                .iter()
                .filter(|o| o.operation == "start")
                .map(|o| o.call_id)
                .max()
                .unwrap_or(0);
            lrm.ops.iter().any(|o| {
                o.operation == "monitor"
                    && o.interval_ms > 0
                    && o.call_id >= last_start
                    && o.rc != o.target_rc.unwrap_or(0)
            })
        })
}

/// A primitive's instance attributes, by id.
fn params<'a>(rs: &'a [Resource], id: &str) -> Option<&'a crate::model::Attrs> {
    rs.iter().find_map(|r| match &r.kind {
        ResourceKind::Primitive(p) if r.id == id => Some(&p.params),
        ResourceKind::Primitive(_) => None,
        ResourceKind::Group(m) => params(m, id),
        ResourceKind::Clone(c) => params(std::slice::from_ref(c), id),
    })
}

/// Why `node` must be fenced when `rsc` is active there while the node is down (None: it is
/// not). A guest is "fenced" by recovering its container, with or without fencing. On a
/// remote node whose connection has not failed, the fencing is revoked should the
/// connection start elsewhere (Pacemaker sets the node unseen).
pub(super) fn active_while_down(w: &mut Working, node: usize, rsc: usize) -> Option<String> {
    let thought = || format!("{} is thought to be active there", w.rscs[rsc].id);
    let Some(info) = w.nodes[node].remote.as_ref() else {
        return w.stonith_enabled.then(thought);
    };
    if info.guest {
        super::guest::active_while_down(w, node, rsc);
        return None;
    }
    if !w.stonith_enabled {
        return None;
    }
    let conn = defining_rsc(w, node);
    if conn.is_none_or(|c| w.rscs[c].failed) {
        return Some(thought());
    }
    if let Some(info) = w.nodes[node].remote.as_mut() {
        info.revocable = true;
    }
    Some(format!(
        "{} is active there (fencing will be revoked if remote connection can be \
         re-established elsewhere)",
        w.rscs[rsc].id
    ))
}

/// After assignment (Pacemaker's `apply_remote_ordering` for stops): resources active on a
/// remote node whose connection will not run again while it failed or its host is unclean
/// can only be stopped by fencing the node.
pub(super) fn fence_unrecoverable(w: &mut Working) {
    // What the current status shows is decided before this.
    for n in &mut w.nodes {
        let unclean = n.unclean;
        if let Some(info) = n.remote.as_mut() {
            info.unclean_now = unclean;
        }
    }
    for node in 0..w.nodes.len() {
        if w.nodes[node].remote.as_ref().is_none_or(|r| r.guest) {
            continue;
        }
        let Some(conn) = defining_rsc(w, node) else {
            continue;
        };
        let c = &w.rscs[conn];
        let runs = c.next_node.is_some() && c.next_role != Role::Stopped;
        let host_unclean = c.running.first().is_some_and(|&(h, _)| w.nodes[h].unclean);
        if runs || !(host_unclean || c.failed) {
            continue;
        }
        let active = w.rscs.iter().any(|r| {
            matches!(r.kind, super::working::RscKind::Primitive { .. })
                && r.running.iter().any(|&(n, _)| n == node)
        });
        if active {
            // A revocable fencing (decided while the connection might still move) gives way
            // to this reason.
            let why = "resources are active but connection is unrecoverable";
            if w.nodes[node].remote.as_ref().is_some_and(|r| r.revocable) {
                w.nodes[node].unclean_reason = Some(why.into());
            }
            super::history::fence(w, node, why);
        }
    }
}

/// The orders Pacemaker adds for what runs on guest nodes (`apply_container_ordering`), as
/// (first, then, implies, action, symmetrical): each primitive staying in a guest starts
/// after its container, so it restarts when the container does (not when the container
/// migrates). On a remote node the order to its connection implies nothing while the
/// connection can be recovered, so a moving connection restarts nothing.
pub(super) fn implicit_orders(w: &Working) -> Vec<(usize, usize, bool, String, bool)> {
    let mut out = Vec::new();
    for node in 0..w.nodes.len() {
        if !w.nodes[node].remote.as_ref().is_some_and(|r| r.guest) {
            continue;
        }
        let Some(container) = super::guest::container_of(w, node) else {
            continue;
        };
        if super::migration::migratable(w, container) {
            continue;
        }
        for (p, r) in w.rscs.iter().enumerate() {
            let here = r.next_node == Some(node) && r.running.iter().any(|&(n, _)| n == node);
            if here && matches!(r.kind, super::working::RscKind::Primitive { .. }) {
                out.push((container, p, true, "start".to_string(), true));
            }
        }
    }
    out
}

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

/// The remote and guest nodes the configuration defines: (node name, defining resource id,
/// guest). Top-level primitives and group members, as Pacemaker looks for them.
fn defined(cluster: &Cluster) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    let mut visit = |r: &Resource| {
        if is_connection(r) {
            out.push((r.id.clone(), r.id.clone(), false));
        } else if let ResourceKind::Primitive(_) = r.kind
            && let Some(name) = r.meta.get("remote-node")
        {
            out.push((name.clone(), r.id.clone(), true));
        }
    };
    for r in &cluster.resources {
        match &r.kind {
            ResourceKind::Group(members) => members.iter().for_each(&mut visit),
            _ => visit(r),
        }
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
    for (name, rsc, guest) in defined(cluster) {
        let idx = match w.node_index(&name) {
            Some(i) => i,
            None => {
                w.nodes.push(NodeInfo {
                    uname: name.clone(),
                    id: name.clone(),
                    ..NodeInfo::default()
                });
                w.nodes.len() - 1
            }
        };
        let node = &mut w.nodes[idx];
        node.unclean = false;
        node.unclean_reason = None;
        node.remote = Some(RemoteInfo {
            rsc,
            guest,
            startup_unclean: !guest && startup_fencing && w.stonith_enabled,
            online_now: false,
        });
    }
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
pub(super) fn settle(w: &mut Working) -> Vec<usize> {
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
        // Remote connections migrate unless told otherwise.
        if w.nodes[node].remote.as_ref().is_some_and(|r| !r.guest) {
            w.rscs[rsc]
                .meta
                .entry("allow-migrate".into())
                .or_insert_with(|| "true".into());
        }
        let started = !w.rscs[rsc].running.is_empty();
        let failed = w.rscs[rsc].failed;
        let host_unclean = w.rscs[rsc]
            .running
            .first()
            .is_some_and(|&(h, _)| w.nodes[h].unclean && !w.nodes[h].online);
        let n = &mut w.nodes[node];
        n.online = started && !failed && !host_unclean;
        if let Some(info) = n.remote.as_mut() {
            info.online_now = n.online;
        }
        if n.attrs.get("standby").is_some_and(|v| crate::model::is_true(v)) {
            n.standby = true;
        }
        if started {
            if let Some(info) = n.remote.as_mut() {
                info.startup_unclean = false;
            }
            readable.push(node);
        }
    }
    readable
}

/// Connection resources may not run on remote or guest nodes.
pub(super) fn ban_remote_hosts(w: &Working, idx: usize, scores: &mut [Score]) {
    let defines_node = w.nodes.iter().any(|n| {
        n.remote
            .as_ref()
            .is_some_and(|r| !r.guest && r.rsc == w.rscs[idx].base)
    });
    let nested_guest = w.nodes.iter().any(|n| {
        n.remote
            .as_ref()
            .is_some_and(|r| r.guest && r.rsc == w.rscs[idx].base)
    });
    if !defines_node && !nested_guest {
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
    w.nodes.iter().any(|n| {
        n.remote
            .as_ref()
            .is_some_and(|r| !r.guest && r.rsc == w.rscs[idx].base)
    })
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
    let Some(node) = w.nodes.iter().position(|n| {
        n.remote
            .as_ref()
            .is_some_and(|r| !r.guest && r.rsc == w.rscs[idx].base)
    }) else {
        return;
    };
    let runs = w.rscs[idx].next_node.is_some() && w.rscs[idx].next_role != Role::Stopped;
    let n = &mut w.nodes[node];
    if runs {
        n.online = true;
    } else {
        n.shutdown = true;
    }
}

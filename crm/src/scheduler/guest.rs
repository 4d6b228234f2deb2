//! Guest nodes: a primitive with meta `remote-node` (a VM or container) runs a guest node
//! of that name. As Pacemaker's `expand_remote_rsc_meta` does, the scheduler adds the
//! guest's connection, an `ocf:pacemaker:remote` primitive named after the node (last among
//! the resources, not printed in the resource list), placed with its container and started
//! after it.

use std::borrow::Cow;

/// The meta attribute that marks a connection the scheduler added.
pub(super) const INTERNAL: &str = "internal";

use crate::model::{
    Attrs, Cluster, Colocation, OpDef, Order, OrderKind, Primitive, Resource, ResourceKind, Score,
};

/// Containers of guest nodes: (guest node name, container id), top-level primitives and
/// group members, in CIB order.
pub(super) fn guests(cluster: &Cluster) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut visit = |r: &Resource| {
        if let ResourceKind::Primitive(_) = r.kind
            && let Some(name) = r.meta.get("remote-node")
        {
            out.push((name.clone(), r.id.clone()));
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

/// The cluster with each guest node's connection, colocation and order added (unchanged
/// when there are no guests, or a resource of that name exists already).
pub(super) fn expand(cluster: &Cluster) -> Cow<'_, Cluster> {
    let guests: Vec<_> = guests(cluster)
        .into_iter()
        .filter(|(name, _)| !defined(&cluster.resources, name))
        .collect();
    if guests.is_empty() {
        return Cow::Borrowed(cluster);
    }
    let mut c = cluster.clone();
    for (name, container) in guests {
        let meta = container_meta(cluster, &container);
        c.resources.push(connection(&name, &meta));
        c.colocations.push(Colocation {
            id: format!("{name}-with-{container}"),
            rsc: name.clone(),
            with_rsc: container.clone(),
            score: Score::INF,
            rsc_role: None,
            with_role: None,
        });
        c.orders.push(Order {
            id: format!("{container}-then-{name}"),
            first: container,
            then: name,
            first_action: "start".into(),
            then_action: "start".into(),
            kind: OrderKind::Mandatory,
            symmetrical: true,
        });
    }
    Cow::Owned(c)
}

fn defined(rs: &[Resource], id: &str) -> bool {
    rs.iter().any(|r| {
        r.id == id
            || match &r.kind {
                ResourceKind::Primitive(_) => false,
                ResourceKind::Group(m) => defined(m, id),
                ResourceKind::Clone(inner) => defined(std::slice::from_ref(inner), id),
            }
    })
}

fn container_meta(cluster: &Cluster, id: &str) -> Attrs {
    fn find<'a>(rs: &'a [Resource], id: &str) -> Option<&'a Resource> {
        rs.iter().find_map(|r| {
            if r.id == id {
                return Some(r);
            }
            match &r.kind {
                ResourceKind::Group(m) => find(m, id),
                _ => None,
            }
        })
    }
    find(&cluster.resources, id)
        .map(|r| r.meta.clone())
        .unwrap_or_default()
}

/// The connection primitive, with the container's `remote-addr`, `remote-port` and
/// `remote-allow-migrate` as Pacemaker maps them, and a monitor every 30 s.
fn connection(name: &str, container_meta: &Attrs) -> Resource {
    let mut params = Attrs::new();
    if let Some(addr) = container_meta.get("remote-addr") {
        params.insert("addr".into(), addr.clone());
    }
    if let Some(port) = container_meta.get("remote-port") {
        params.insert("port".into(), port.clone());
    }
    let mut meta = Attrs::new();
    meta.insert(INTERNAL.into(), "true".into());
    // The connection migrates only if the container says so.
    if let Some(v) = container_meta.get("remote-allow-migrate") {
        meta.insert("allow-migrate".into(), v.clone());
    }
    Resource {
        id: name.to_string(),
        kind: ResourceKind::Primitive(Primitive {
            class: "ocf".into(),
            provider: Some("pacemaker".into()),
            agent: "remote".into(),
            params,
            ops: vec![OpDef {
                id: format!("{name}-monitor-interval-30s"),
                name: "monitor".into(),
                interval_ms: 30_000,
                enabled: true,
                ..OpDef::default()
            }],
        }),
        meta,
        legacy_master: false,
        utilization: Attrs::new(),
    }
}

/// Whether a top-level resource is a guest connection the scheduler added (not printed).
pub fn is_internal(w: &super::Working, idx: usize) -> bool {
    w.meta(idx, INTERNAL).is_some_and(crate::model::is_true)
}

/// A guest node's container, in the arena.
pub(super) fn container_of(w: &super::Working, node: usize) -> Option<usize> {
    let id = w.nodes[node].remote.as_ref()?.container.as_ref()?;
    w.rscs
        .iter()
        .position(|r| &r.base == id && r.instance.is_none())
}

/// A resource is active on a guest node that is down (Pacemaker's `pe_fence_node` for a
/// guest): it is failed, and the guest is "fenced" by recovering its container.
pub(super) fn active_while_down(w: &mut super::Working, node: usize, rsc: usize) {
    w.rscs[rsc].failed = true;
    if let Some(c) = container_of(w, node)
        && w.rscs[c].managed
    {
        w.rscs[c].failed = true;
        if let Some(info) = w.nodes[node].remote.as_mut() {
            info.reset = true;
        }
    }
}

/// The guests to "fence" (Pacemaker's `pcmk__fence_guest`): the summary line names the
/// container, and what ran inside is recovered with it.
pub(super) fn fencing(w: &mut super::Working, changes: &mut Vec<super::Change>) {
    let any_managed = w.rscs.iter().any(|r| r.managed && !w.maintenance_mode);
    if !any_managed {
        return;
    }
    for node in 0..w.nodes.len() {
        let Some(info) = w.nodes[node].remote.as_ref() else {
            continue;
        };
        if !info.guest || !info.reset {
            continue;
        }
        let Some(container) = info.container.clone() else {
            continue;
        };
        changes.push(super::Change {
            verb: super::Verb::Fence,
            subject: format!(
                "({}) {} (resource: {container})",
                w.stonith_action, w.nodes[node].uname
            ),
            details: String::new(),
            reason: Some("guest is unclean".into()),
        });
    }
}

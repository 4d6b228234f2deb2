//! The `<status>` section.

use roxmltree::Node as XNode;

use super::{attr, child, children, nvpairs};
use crate::error::CibError;
use crate::model::{LrmOp, LrmResource, NodeState, Status};

pub(super) fn parse(st: XNode<'_, '_>) -> Result<Status, CibError> {
    let mut status = Status::default();
    for ns in children(st, "node_state") {
        let id = ns
            .attribute("id")
            .or_else(|| ns.attribute("uname"))
            .map(str::to_string)
            .ok_or_else(|| attr(ns, "id").err())
            .map_err(|e| e.unwrap_or_else(|| CibError::Structure("node_state".into())))?;
        let mut node = NodeState {
            uname: ns.attribute("uname").unwrap_or(&id).to_string(),
            id,
            in_ccm: ns.attribute("in_ccm").map(str::to_string),
            crmd: ns.attribute("crmd").map(str::to_string),
            join: ns.attribute("join").map(str::to_string),
            expected: ns.attribute("expected").map(str::to_string),
            ..NodeState::default()
        };
        if let Some(t) = child(ns, "transient_attributes") {
            for set in children(t, "instance_attributes") {
                for (k, v) in nvpairs(set) {
                    node.attrs.entry(k).or_insert(v);
                }
            }
        }
        if let Some(lrm) = child(ns, "lrm").and_then(|l| child(l, "lrm_resources")) {
            for r in children(lrm, "lrm_resource") {
                node.resources.push(LrmResource {
                    id: attr(r, "id")?.to_string(),
                    class: r.attribute("class").unwrap_or("ocf").to_string(),
                    provider: r.attribute("provider").map(str::to_string),
                    agent: r.attribute("type").unwrap_or("").to_string(),
                    container: r.attribute("container").map(str::to_string),
                    ops: children(r, "lrm_rsc_op").map(op).collect(),
                });
            }
        }
        status.nodes.push(node);
    }
    Ok(status)
}

fn op(o: XNode<'_, '_>) -> LrmOp {
    let int = |name: &str| o.attribute(name).and_then(|v| v.trim().parse::<i64>().ok());
    let target_rc = o
        .attribute("transition-key")
        .and_then(|k| k.split(':').nth(2))
        .and_then(|v| v.parse().ok());
    LrmOp {
        id: o.attribute("id").unwrap_or("").to_string(),
        operation: o.attribute("operation").unwrap_or("").to_string(),
        interval_ms: int("interval").unwrap_or(0).max(0) as u64,
        call_id: int("call-id").unwrap_or(0),
        rc: int("rc-code").unwrap_or(0) as i32,
        op_status: int("op-status").unwrap_or(0) as i32,
        target_rc,
        last_rc_change: int("last-rc-change").or_else(|| int("last-run")),
        on_node: o.attribute("on_node").map(str::to_string),
        op_digest: o.attribute("op-digest").map(str::to_string),
        restart_digest: o.attribute("op-restart-digest").map(str::to_string),
        force_restart: o.attribute("op-force-restart").map(str::to_string),
        secure_digest: o.attribute("op-secure-digest").map(str::to_string),
        secure_params: o.attribute("op-secure-params").map(str::to_string),
        feature_set: o.attribute("crm_feature_set").map(str::to_string),
    }
}

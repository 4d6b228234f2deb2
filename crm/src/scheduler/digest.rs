//! Parameter digests: whether a resource's parameters changed since it was started, as
//! Pacemaker tells from the `op-digest` in its operation history (`pcmk__check_action_config`).
//!
//! The digest is the MD5 of the parameters written as one XML element, attributes sorted by
//! name (` <parameters a="1" b="2"/>` and a newline). A start (or promote, probe,
//! migrate_from) whose digest no longer matches means a restart "due to resource definition
//! change"; when the agent can reload (the history has an `op-restart-digest`), only a change
//! of the parameters listed in `op-force-restart` restarts it, any other change reloads it.

use md5::{Digest, Md5};

use crate::model::{Attrs, Cluster, LrmOp, LrmResource, Primitive, Resource, ResourceKind};

use super::working::Working;

/// What a change of parameters asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamChange {
    /// Stop and start again.
    Restart,
    /// The agent's reload action.
    Reload,
    /// A reload while its start is still pending: a full restart, with no reason given.
    PendingRestart,
}

/// The digest Pacemaker records for an action run with `params` (instance attributes).
pub fn params_digest(params: &Attrs) -> String {
    let mut text = String::from(" <parameters");
    // A BTreeMap iterates in byte order of the names, as Pacemaker sorts them.
    for (name, value) in params {
        text.push_str(&format!(" {name}=\"{}\"", crate::cib::write::escape(value)));
    }
    text.push_str("/>\n");
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The configured primitive named `id`, anywhere in the tree.
pub(crate) fn find_primitive<'a>(rs: &'a [Resource], id: &str) -> Option<&'a Primitive> {
    rs.iter().find_map(|r| match &r.kind {
        ResourceKind::Primitive(p) if r.id == id => Some(p),
        ResourceKind::Primitive(_) => None,
        ResourceKind::Group(m) => find_primitive(m, id),
        ResourceKind::Clone(inner) => find_primitive(std::slice::from_ref(inner.as_ref()), id),
    })
}

/// Pacemaker's `calculate_active_ops`: the positions (in call order) of the last start and
/// the last successful stop; a promote/demote, else a probe that found it running, stands
/// for a start that is not in the history.
fn active_span(ops: &[&LrmOp]) -> (isize, isize) {
    let (mut start, mut stop) = (-1isize, -1isize);
    let (mut implied_monitor, mut implied_clone) = (-1isize, -1isize);
    for (i, op) in ops.iter().enumerate() {
        let i = i as isize;
        match op.operation.as_str() {
            "stop" if op.op_status == 0 => stop = i,
            "start" | "migrate_from" => start = i,
            "monitor" if implied_monitor <= stop => {
                if matches!(op.rc, 0 | 8) {
                    implied_monitor = i;
                }
            }
            "promote" | "demote" => implied_clone = i,
            _ => {}
        }
    }
    if start == -1 {
        start = if implied_clone != -1 {
            implied_clone
        } else {
            implied_monitor
        };
    }
    (start, stop)
}

/// Whether the parameters of `rsc` changed since the actions in `lrm` (its history on one
/// node) ran, and what that asks for. Orphans and recurring actions are not checked (a
/// changed monitor is only rescheduled, which the summary does not show).
pub(super) fn check(
    w: &Working,
    cluster: &Cluster,
    rsc: usize,
    lrm: &LrmResource,
) -> Option<ParamChange> {
    if w.rscs[rsc].orphan {
        return None;
    }
    let prim = find_primitive(&cluster.resources, &w.rscs[rsc].base)?;
    let mut ops: Vec<&LrmOp> = lrm.ops.iter().collect();
    ops.sort_by_key(|o| o.call_id);
    let (start, stop) = active_span(&ops);
    if start < stop {
        return None;
    }
    let all = params_digest(&prim.params);
    let secret = |o: &LrmOp| only_secrets_changed(prim, o);
    let pending_start = lrm
        .ops
        .iter()
        .any(|o| o.operation == "start" && (o.call_id == -1 || o.op_status == -1));
    let mut change = None;
    for op in ops.iter().skip(start.max(0) as usize) {
        if op.interval_ms > 0
            || !matches!(
                op.operation.as_str(),
                "monitor" | "start" | "promote" | "migrate_from"
            )
        {
            continue;
        }
        let found = compare(prim, op, &all).filter(|_| !secret(op));
        let found = match found {
            Some(ParamChange::Reload) if pending_start => Some(ParamChange::PendingRestart),
            other => other,
        };
        if found == Some(ParamChange::Restart) {
            return found;
        }
        change = change.or(found);
    }
    change
}

/// Whether only secret parameters differ (crm_simulate reads CIBs whose secrets are masked):
/// the history's `op-secure-digest` matches the parameters without the secret ones (and,
/// recorded before feature set 3.16.0, without a fence device's `pcmk_*` parameters).
fn only_secrets_changed(prim: &Primitive, op: &LrmOp) -> bool {
    let Some(recorded) = &op.secure_digest else {
        return false;
    };
    let listed = op
        .secure_params
        .as_deref()
        .unwrap_or(" passwd password user ");
    let old = op.feature_set.as_deref().is_some_and(older_than_3_16);
    let kept: Attrs = prim
        .params
        .iter()
        .filter(|(k, _)| !listed.contains(&format!(" {k} ")))
        .filter(|(k, _)| !(old && prim.class == "stonith" && k.starts_with("pcmk_")))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    &params_digest(&kept) == recorded
}

/// Whether a `crm_feature_set` is older than 3.16.0.
fn older_than_3_16(version: &str) -> bool {
    let parts: Vec<u64> = version.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    parts < vec![3, 16, 0]
}

/// Pacemaker's `rsc_action_digest_cmp` for one action without an interval.
fn compare(prim: &Primitive, op: &LrmOp, all: &str) -> Option<ParamChange> {
    if let Some(recorded) = &op.restart_digest {
        let listed = op.force_restart.as_deref().unwrap_or("");
        let restart: Attrs = prim
            .params
            .iter()
            .filter(|(k, _)| listed.contains(&format!(" {k} ")))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if &params_digest(&restart) != recorded {
            return Some(ParamChange::Restart);
        }
    }
    let unchanged = op.op_digest.as_deref() == Some(all);
    match (unchanged, op.restart_digest.is_some()) {
        (true, _) => None,
        (false, true) => Some(ParamChange::Reload),
        (false, false) => Some(ParamChange::Restart),
    }
}

/// Whether `p` stays where it runs, managed and healthy, so that a change of its parameters
/// on `node` takes effect there (otherwise its stop and start elsewhere do it anyway).
fn stays_on(w: &Working, p: usize, node: usize) -> bool {
    let r = &w.rscs[p];
    r.managed
        && !r.failed
        && r.start_blocked.is_none()
        && r.next_node == Some(node)
        && r.running.iter().any(|&(n, _)| n == node)
}

/// The primitives that restart "due to resource definition change" (the reason is set),
/// indexed like `w.rscs`.
pub(super) fn restarts(w: &mut Working) -> Vec<bool> {
    let changes: Vec<Option<ParamChange>> = (0..w.rscs.len())
        .map(|p| {
            w.rscs[p]
                .param_changes
                .iter()
                .filter(|&&(n, c)| c != ParamChange::Reload && stays_on(w, p, n))
                .map(|&(_, c)| c)
                .min_by_key(|&c| c != ParamChange::Restart)
        })
        .collect();
    for (r, change) in w.rscs.iter_mut().zip(&changes) {
        if *change == Some(ParamChange::Restart) {
            r.stop_reason = Some("resource definition change".into());
        }
    }
    changes.iter().map(Option::is_some).collect()
}

/// Whether `p`, staying on `node` with nothing else to do, reloads its parameters there.
pub(super) fn reloads(w: &Working, p: usize, node: usize) -> bool {
    w.rscs[p]
        .param_changes
        .contains(&(node, ParamChange::Reload))
        && stays_on(w, p, node)
}

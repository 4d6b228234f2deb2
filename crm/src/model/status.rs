//! The CIB's status section: per node, membership, transient attributes and the operation
//! history the scheduler reads the current state from.

use super::Attrs;

/// The whole status section.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// One entry per `node_state`, in CIB order.
    pub nodes: Vec<NodeState>,
}

/// `node_state`.
#[derive(Debug, Clone, Default)]
pub struct NodeState {
    /// `id`.
    pub id: String,
    /// `uname`.
    pub uname: String,
    /// `in_ccm`.
    pub in_ccm: Option<String>,
    /// `crmd`.
    pub crmd: Option<String>,
    /// `join`.
    pub join: Option<String>,
    /// `expected`.
    pub expected: Option<String>,
    /// Transient attributes (fail counts, promotion scores, `shutdown`, …).
    pub attrs: Attrs,
    /// `lrm/lrm_resources/lrm_resource`.
    pub resources: Vec<LrmResource>,
}

/// One resource's history on one node.
#[derive(Debug, Clone, Default)]
pub struct LrmResource {
    /// `id` (for an anonymous clone, the primitive's id; for a unique one, `rsc:N`).
    pub id: String,
    /// `class`.
    pub class: String,
    /// `provider`.
    pub provider: Option<String>,
    /// `type`.
    pub agent: String,
    /// `container`: for a guest node's connection, the resource the guest runs in.
    pub container: Option<String>,
    /// `lrm_rsc_op` entries, in CIB order.
    pub ops: Vec<LrmOp>,
}

/// `lrm_rsc_op`.
#[derive(Debug, Clone, Default)]
pub struct LrmOp {
    /// `id` (e.g. `rsc_last_0`, `rsc_last_failure_0`, `rsc_monitor_10000`).
    pub id: String,
    /// `operation`.
    pub operation: String,
    /// `interval` in milliseconds.
    pub interval_ms: u64,
    /// `call-id`.
    pub call_id: i64,
    /// `rc-code`.
    pub rc: i32,
    /// `op-status`.
    pub op_status: i32,
    /// The expected rc, from `transition-key` (`action:transition:expected-rc:uuid`).
    pub target_rc: Option<i32>,
    /// `last-rc-change` (or `last-run`), seconds since the epoch.
    pub last_rc_change: Option<i64>,
    /// `on_node`.
    pub on_node: Option<String>,
    /// `op-digest`: MD5 of the parameters the action ran with.
    pub op_digest: Option<String>,
    /// `op-restart-digest`: MD5 of the parameters that need a restart (the agent reloads the
    /// others).
    pub restart_digest: Option<String>,
    /// `op-force-restart`: the names of those parameters, space-separated.
    pub force_restart: Option<String>,
    /// `op-secure-digest`: MD5 of the parameters without the secret ones.
    pub secure_digest: Option<String>,
    /// `op-secure-params`: the names of the secret parameters, space-separated.
    pub secure_params: Option<String>,
    /// `crm_feature_set` of the node that recorded it.
    pub feature_set: Option<String>,
}

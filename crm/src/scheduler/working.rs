//! The scheduler's working set: nodes and an arena of resources (clone instances expanded),
//! with their current state (from history) and their next state (from assignment).

use std::collections::BTreeMap;

use crate::model::{Attrs, OpDef, Role, Score};

/// A node as the scheduler sees it.
#[derive(Debug, Clone, Default)]
pub struct NodeInfo {
    /// `uname`.
    pub uname: String,
    /// `id`.
    pub id: String,
    /// Member of the cluster and its controller joined.
    pub online: bool,
    /// Needs fencing (or would, were fencing possible).
    pub unclean: bool,
    /// Why it is unclean (the fence reason).
    pub unclean_reason: Option<String>,
    /// `standby` (permanent or transient), or on-fail=standby.
    pub standby: bool,
    /// `maintenance`.
    pub maintenance: bool,
    /// Joining, not ready to run resources.
    pub pending: bool,
    /// Shutting down.
    pub shutdown: bool,
    /// Permanent and transient attributes (transient win).
    pub attrs: Attrs,
    /// Resources assigned here so far (Pacemaker's tie-breaker).
    pub assigned: usize,
    /// Fenced in this transition.
    pub fenced: bool,
    /// Has a `node_state` entry.
    pub seen: bool,
    /// Capacity left (`utilization`), as placement-strategy sees it.
    pub capacity: BTreeMap<String, i64>,
    /// A Pacemaker Remote or guest node: what defines it.
    pub remote: Option<RemoteInfo>,
}

/// What makes a node a remote or guest node.
#[derive(Debug, Clone, Default)]
pub struct RemoteInfo {
    /// The connection resource, by id (a guest's is named after the node).
    pub rsc: String,
    /// A guest node (runs inside `container`).
    pub guest: bool,
    /// A guest node's container, by id.
    pub container: Option<String>,
    /// Not seen since startup while fencing is on: shown unclean, never fenced for it.
    pub startup_unclean: bool,
    /// Online before the transition (from the connection's current state).
    pub online_now: bool,
    /// Its fencing is revoked if its connection starts somewhere in this transition.
    pub revocable: bool,
    /// Unclean before the transition (what the current status shows).
    pub unclean_now: bool,
    /// Its failed connection is held stopped until `reconnect_interval` passes: fenced, it
    /// still shows unclean afterwards.
    pub held: bool,
    /// A guest whose container must be recovered (Pacemaker's "fencing" of a guest).
    pub reset: bool,
    /// Named only by a connection left in the history: resources' allowed nodes were known
    /// before it was, so clones do not list it as stopped.
    pub orphaned: bool,
}

impl NodeInfo {
    /// Can run resources (`pcmk__node_available`).
    pub fn available(&self) -> bool {
        self.online
            && !self.unclean
            && !self.standby
            && !self.maintenance
            && !self.shutdown
            && !self.pending
    }
}

/// Which kind of resource, with the kind's own settings.
#[derive(Debug, Clone)]
pub enum RscKind {
    /// One agent.
    Primitive {
        /// ocf, lsb, systemd, stonith, …
        class: String,
        /// OCF provider.
        provider: Option<String>,
        /// Agent name.
        agent: String,
        /// Configured operations.
        ops: Vec<OpDef>,
    },
    /// Members, in order.
    Group(Vec<usize>),
    /// Instances, in number order.
    Clone {
        /// Instances.
        instances: Vec<usize>,
        /// `promotable`.
        promotable: bool,
        /// `globally-unique`.
        unique: bool,
        /// `clone-max`.
        max: usize,
        /// `clone-node-max`.
        node_max: usize,
        /// `promoted-max`.
        promoted_max: usize,
        /// `promoted-node-max`.
        promoted_node_max: usize,
        /// `interleave`.
        interleave: bool,
    },
}

/// A resource in the arena.
#[derive(Debug, Clone)]
pub struct Rsc {
    /// Id as printed (`rsc:2` for an instance).
    pub id: String,
    /// The configured id (without the instance number).
    pub base: String,
    /// Kind and children.
    pub kind: RscKind,
    /// Parent in the arena.
    pub parent: Option<usize>,
    /// Meta attributes, merged: own, inherited from parents, then `rsc_defaults`.
    pub meta: Attrs,
    /// The instance number, for clone instances (and their group members).
    pub instance: Option<usize>,
    /// Nodes where it is active now, with the role there.
    pub running: Vec<(usize, Role)>,
    /// Nodes where its history was seen (probed or ran).
    pub known_on: Vec<usize>,
    /// A failure needs recovery.
    pub failed: bool,
    /// A failure with on-fail=block: no action will be taken.
    pub blocked: bool,
    /// Managed by the cluster (is-managed, not in maintenance, not blocked).
    pub managed: bool,
    /// In the status but no longer configured.
    pub orphan: bool,
    /// Failure ignored (on-fail=ignore).
    pub failure_ignored: bool,
    /// Next role forced by history (on-fail=stop gives Stopped).
    pub forced_role: Option<Role>,
    /// Failed probes per node (rc), shown as "Stopped (not installed)".
    pub failed_probes: BTreeMap<usize, i32>,
    /// Node scores added by failures (−INFINITY bans).
    pub bans: Vec<(Option<usize>, Score)>,
    /// Assigned node.
    pub next_node: Option<usize>,
    /// Role after the transition.
    pub next_role: Role,
    /// Whether it was assigned already (Pacemaker's `provisional` cleared).
    pub allocated: bool,
    /// Why it stops, when it does ("node availability", "no quorum", …).
    pub stop_reason: Option<String>,
    /// Its start cannot happen; with the reason.
    pub start_blocked: Option<String>,
    /// Nodes it must also be stopped on (multiply active).
    pub extra_stops: Vec<usize>,
    /// What it needs of a node's capacities.
    pub utilization: BTreeMap<String, i64>,
    /// Its stop cannot run (something that must stop first cannot).
    pub stop_blocked: bool,
    /// It moves by live migration (migrate_to, migrate_from) rather than stop and start.
    pub migrating: bool,
    /// Its node scores while it is being assigned (colocations applied so far), which its
    /// primaries see as its preferences.
    pub partial_scores: Option<Vec<Score>>,
    /// Why it may migrate but cannot in this transition (printed on its Move).
    pub migration_blocked: Option<String>,
    /// Its parameters changed since it started on a node: the node and what that asks for.
    pub param_changes: Vec<(usize, super::digest::ParamChange)>,
    /// A promoted failure with on-fail=demote: it demotes (and promotes again if it stays
    /// promoted) instead of a full recovery.
    pub demote_failed: bool,
}

/// Nodes and resources.
#[derive(Debug, Clone, Default)]
pub struct Working {
    /// Nodes in CIB order.
    pub nodes: Vec<NodeInfo>,
    /// The arena.
    pub rscs: Vec<Rsc>,
    /// Top-level resources, in CIB order (orphans last).
    pub tops: Vec<usize>,
    /// Fencing is enabled and a fence device exists.
    pub stonith_enabled: bool,
    /// Any stonith-class resource is configured.
    pub have_stonith_resource: bool,
    /// The partition has quorum.
    pub have_quorum: bool,
    /// `no-quorum-policy`.
    pub no_quorum_policy: String,
    /// `symmetric-cluster`.
    pub symmetric: bool,
    /// `maintenance-mode`.
    pub maintenance_mode: bool,
    /// `stop-all-resources`.
    pub stop_all: bool,
    /// `stonith-action`.
    pub stonith_action: String,
    /// Fencing decisions: node and reason, in node order.
    pub fencing: Vec<(usize, String)>,
    /// "Now", seconds since the epoch.
    pub now: i64,
    /// `placement-strategy` (default, utilization, minimal, balanced).
    pub placement_strategy: String,
    /// The scores behind each assignment, as they were decided.
    pub score_log: super::scores::ScoreLog,
}

impl Working {
    /// A resource's node index by uname.
    pub fn node_index(&self, uname: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.uname == uname)
    }

    /// The primitives under `idx` (itself, for a primitive), in order.
    pub fn primitives(&self, idx: usize) -> Vec<usize> {
        let mut out = Vec::new();
        self.collect_primitives(idx, &mut out);
        out
    }

    fn collect_primitives(&self, idx: usize, out: &mut Vec<usize>) {
        match &self.rscs[idx].kind {
            RscKind::Primitive { .. } => out.push(idx),
            RscKind::Group(members) => {
                for &m in members {
                    self.collect_primitives(m, out);
                }
            }
            RscKind::Clone { instances, .. } => {
                for &i in instances {
                    self.collect_primitives(i, out);
                }
            }
        }
    }

    /// The top-most ancestor.
    pub fn top(&self, mut idx: usize) -> usize {
        while let Some(p) = self.rscs[idx].parent {
            idx = p;
        }
        idx
    }

    /// The clone this resource is (part of) an instance of.
    pub fn clone_ancestor(&self, mut idx: usize) -> Option<usize> {
        loop {
            if matches!(self.rscs[idx].kind, RscKind::Clone { .. }) {
                return Some(idx);
            }
            idx = self.rscs[idx].parent?;
        }
    }

    /// A meta attribute.
    pub fn meta(&self, idx: usize, name: &str) -> Option<&str> {
        self.rscs[idx].meta.get(name).map(String::as_str)
    }

    /// The configured target role.
    pub fn target_role(&self, idx: usize) -> Option<Role> {
        self.meta(idx, "target-role").and_then(Role::parse)
    }

    /// Inside a promotable clone.
    pub fn is_promotable_instance(&self, idx: usize) -> bool {
        self.clone_ancestor(idx).is_some_and(|c| {
            matches!(
                self.rscs[c].kind,
                RscKind::Clone {
                    promotable: true,
                    ..
                }
            )
        })
    }

    /// Current role (the highest over the nodes it runs on).
    pub fn role(&self, idx: usize) -> Role {
        self.rscs[idx]
            .running
            .iter()
            .map(|&(_, r)| r)
            .max()
            .unwrap_or(Role::Stopped)
    }

    /// The single node it runs on now (first of several).
    pub fn current_node(&self, idx: usize) -> Option<usize> {
        self.rscs[idx].running.first().map(|&(n, _)| n)
    }
}

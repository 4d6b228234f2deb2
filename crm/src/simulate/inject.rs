//! crm_simulate's injections, applied to the status before the scheduler runs: nodes brought
//! up, taken down or failed, quorum forced, an operation result added to a node's history,
//! and "now" set. A pure function over the model, as `crm_simulate` edits its copy of the CIB.

use crate::model::{Cluster, LrmOp, LrmResource, NodeState, Resource, ResourceKind};

use super::datetime;

/// What to change before scheduling (`crm_simulate`'s options of the same names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Injections {
    /// `--quorum`.
    pub quorum: Option<bool>,
    /// `--node-up`: the nodes join the cluster.
    pub node_up: Vec<String>,
    /// `--node-down`: the nodes leave cleanly (their history and attributes are dropped).
    pub node_down: Vec<String>,
    /// `--node-fail`: the nodes leave the membership while expected up (they need fencing).
    pub node_fail: Vec<String>,
    /// `--op-inject`: operation results added to the history.
    pub ops: Vec<OpResult>,
    /// `--set-datetime`, seconds since the epoch: wins over the CIB's execution-date.
    pub now: Option<i64>,
    /// `--op-fail`: actions that fail when the transition runs (not a change to the status;
    /// see `execute`).
    pub fail: Vec<OpResult>,
}

/// One `RSC_OP_INTERVAL@NODE=RC` spec (e.g. `vip_monitor_10000@ctl1=7`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpResult {
    /// The resource's id as its history names it (`api`, `ip:1`).
    pub rsc: String,
    /// The operation (`monitor`, `start`, …).
    pub task: String,
    /// Its interval in milliseconds.
    pub interval_ms: u64,
    /// The node.
    pub node: String,
    /// The result code.
    pub rc: i32,
}

/// A value of an injection option that cannot be used. Each names the option.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InjectError {
    /// `--op-inject` is not `RSC_OP_INTERVAL@NODE=RC`.
    #[error(
        "parse {option} \"{spec}\": {why} (expected RSC_OP_INTERVAL@NODE=RC, e.g. vip_monitor_10000@ctl1=7)"
    )]
    ParseOp {
        /// The option.
        option: &'static str,
        /// The value given.
        spec: String,
        /// What is wrong.
        why: &'static str,
    },
    /// `--quorum` is not a boolean.
    #[error("parse --quorum \"{0}\": expected true or false (or 1, 0, yes, no)")]
    ParseQuorum(String),
    /// `--set-datetime` is not an ISO 8601 date and time.
    #[error(
        "parse --set-datetime \"{value}\": {why} (expected ISO 8601, e.g. 2026-12-07T14:00:00Z)"
    )]
    ParseDatetime {
        /// The value given.
        value: String,
        /// What is wrong.
        why: &'static str,
    },
    /// A node option names no configured node.
    #[error("inject {option} {node}: the CIB has no node {node}")]
    FindNode {
        /// The option.
        option: &'static str,
        /// The name given.
        node: String,
    },
    /// An operation names no configured primitive.
    #[error("inject --op-inject {spec}: the CIB has no primitive {rsc}")]
    FindResource {
        /// The spec given.
        spec: String,
        /// The resource named.
        rsc: String,
    },
}

impl OpResult {
    /// Parse `RSC_OP_INTERVAL@NODE=RC`; `option` names the option in errors.
    pub fn parse(option: &'static str, spec: &str) -> Result<Self, InjectError> {
        let err = |why| InjectError::ParseOp {
            option,
            spec: spec.to_string(),
            why,
        };
        let (key, rest) = spec.rsplit_once('@').ok_or_else(|| err("no @NODE"))?;
        let (node, rc) = rest.split_once('=').ok_or_else(|| err("no =RC"))?;
        let rc: i32 = rc.trim().parse().map_err(|_| err("RC is not an integer"))?;
        if node.is_empty() {
            return Err(err("NODE is empty"));
        }
        let (head, interval) = key.rsplit_once('_').ok_or_else(|| err("no _INTERVAL"))?;
        let interval_ms: u64 = interval
            .parse()
            .map_err(|_| err("INTERVAL is not a number of milliseconds"))?;
        let (rsc, task) = head.rsplit_once('_').ok_or_else(|| err("no _OP"))?;
        if rsc.is_empty() || task.is_empty() {
            return Err(err("RSC or OP is empty"));
        }
        Ok(Self {
            rsc: rsc.to_string(),
            task: task.to_string(),
            interval_ms,
            node: node.to_string(),
            rc,
        })
    }

    /// The spec as given (`vip_monitor_10000@ctl1=7`).
    pub fn spec(&self) -> String {
        format!(
            "{}_{}_{}@{}={}",
            self.rsc, self.task, self.interval_ms, self.node, self.rc
        )
    }
}

/// Parse `--quorum` as crm_simulate reads it.
pub fn parse_quorum(text: &str) -> Result<bool, InjectError> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "on" => Ok(true),
        "false" | "0" | "no" | "n" | "off" => Ok(false),
        _ => Err(InjectError::ParseQuorum(text.to_string())),
    }
}

/// Parse `--set-datetime` (ISO 8601) into seconds since the epoch.
pub fn parse_datetime(text: &str) -> Result<i64, InjectError> {
    datetime::parse(text).map_err(|why| InjectError::ParseDatetime {
        value: text.to_string(),
        why,
    })
}

impl Injections {
    /// The "Performing Requested Modifications" lines, as crm_simulate prints them.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(q) = self.quorum {
            out.push(format!("Setting quorum: {q}"));
        }
        out.extend(
            self.node_up
                .iter()
                .map(|n| format!("Bringing node {n} online")),
        );
        out.extend(
            self.node_down
                .iter()
                .map(|n| format!("Taking node {n} offline")),
        );
        out.extend(self.node_fail.iter().map(|n| format!("Failing node {n}")));
        for op in &self.ops {
            out.push(format!(
                "Injecting {}_{}_{} on {} failed with rc={}",
                op.rsc, op.task, op.interval_ms, op.node, op.rc
            ));
        }
        out
    }

    /// The cluster with the injections applied, in crm_simulate's order: quorum, nodes up,
    /// down, failed, then operations. `now` stamps injected operations (the
    /// `--set-datetime` value wins).
    pub fn apply(&self, cluster: &Cluster, now: i64) -> Result<Cluster, InjectError> {
        let mut c = cluster.clone();
        if let Some(q) = self.quorum {
            c.have_quorum = q;
        }
        for n in &self.node_up {
            set_membership(node_state(&mut c, "--node-up", n)?, true);
        }
        for n in &self.node_down {
            let ns = node_state(&mut c, "--node-down", n)?;
            set_membership(ns, false);
            ns.resources.clear();
            ns.attrs.clear();
        }
        for n in &self.node_fail {
            let ns = node_state(&mut c, "--node-fail", n)?;
            set_membership(ns, true);
            ns.in_ccm = Some("false".into());
        }
        let stamp = self.now.unwrap_or(now);
        for op in &self.ops {
            inject_op(&mut c, op, stamp)?;
        }
        if let Some(t) = self.now {
            c.execution_date = Some(t);
        }
        Ok(c)
    }
}

/// The node's `node_state`, made when the status has none.
fn node_state<'c>(
    c: &'c mut Cluster,
    option: &'static str,
    uname: &str,
) -> Result<&'c mut NodeState, InjectError> {
    let Some(node) = c.nodes.iter().find(|n| n.uname == uname) else {
        return Err(InjectError::FindNode {
            option,
            node: uname.to_string(),
        });
    };
    let id = node.id.clone();
    let pos = match c.status.nodes.iter().position(|s| s.uname == uname) {
        Some(p) => p,
        None => {
            c.status.nodes.push(NodeState {
                id,
                uname: uname.to_string(),
                ..NodeState::default()
            });
            c.status.nodes.len() - 1
        }
    };
    Ok(&mut c.status.nodes[pos])
}

fn set_membership(ns: &mut NodeState, up: bool) {
    let (ccm, crmd, join) = if up {
        ("true", "online", "member")
    } else {
        ("false", "offline", "down")
    };
    ns.in_ccm = Some(ccm.into());
    ns.crmd = Some(crmd.into());
    ns.join = Some(join.into());
    ns.expected = Some(join.into());
}

fn inject_op(c: &mut Cluster, op: &OpResult, now: i64) -> Result<(), InjectError> {
    let base = op.rsc.split(':').next().unwrap_or(&op.rsc);
    let Some((class, provider, agent)) = find_primitive(&c.resources, base) else {
        return Err(InjectError::FindResource {
            spec: op.spec(),
            rsc: op.rsc.clone(),
        });
    };
    let ns = node_state(c, "--op-inject", &op.node)?;
    let pos = match ns.resources.iter().position(|r| r.id == op.rsc) {
        Some(p) => p,
        None => {
            ns.resources.push(LrmResource {
                id: op.rsc.clone(),
                class,
                provider,
                agent,
                container: None,
                ops: Vec::new(),
            });
            ns.resources.len() - 1
        }
    };
    let history = &mut ns.resources[pos];
    let call_id = history.ops.iter().map(|o| o.call_id).max().unwrap_or(0) + 1;
    let id = if op.interval_ms > 0 {
        format!("{}_{}_{}", op.rsc, op.task, op.interval_ms)
    } else if op.rc == 0 {
        format!("{}_last_0", op.rsc)
    } else {
        format!("{}_last_failure_0", op.rsc)
    };
    history.ops.retain(|o| o.id != id);
    history.ops.push(LrmOp {
        id,
        operation: op.task.clone(),
        interval_ms: op.interval_ms,
        call_id,
        rc: op.rc,
        op_status: 0,
        target_rc: Some(0),
        last_rc_change: Some(now),
        on_node: Some(op.node.clone()),
        ..LrmOp::default()
    });
    Ok(())
}

/// A primitive's class, provider and agent, by id, anywhere in the tree.
fn find_primitive(rs: &[Resource], id: &str) -> Option<(String, Option<String>, String)> {
    rs.iter().find_map(|r| match &r.kind {
        ResourceKind::Primitive(p) if r.id == id => {
            Some((p.class.clone(), p.provider.clone(), p.agent.clone()))
        }
        ResourceKind::Primitive(_) => None,
        ResourceKind::Group(m) => find_primitive(m, id),
        ResourceKind::Clone(inner) => find_primitive(std::slice::from_ref(inner), id),
    })
}

//! The cluster model: what Pacemaker's CIB holds, configuration and status, without the XML.

mod rule;
mod score;
mod status;

use std::collections::BTreeMap;

pub use rule::{Rule, Term};
pub use score::{INFINITY, Score};
pub use status::{LrmOp, LrmResource, NodeState, Status};

/// Name → value pairs (meta attributes, instance attributes, cluster options).
pub type Attrs = BTreeMap<String, String>;

/// A whole cluster: configuration and status.
#[derive(Debug, Clone, Default)]
pub struct Cluster {
    /// `crm_config` cluster options.
    pub options: Attrs,
    /// Configured nodes, in CIB order.
    pub nodes: Vec<Node>,
    /// Top-level resources, in CIB order.
    pub resources: Vec<Resource>,
    /// Constraints.
    pub locations: Vec<Location>,
    /// Colocations.
    pub colocations: Vec<Colocation>,
    /// Orders.
    pub orders: Vec<Order>,
    /// `rsc_ticket`: resources that may run only while a ticket is granted.
    pub tickets: Vec<TicketDep>,
    /// Ticket states from the status: id → usable (granted and not standby).
    pub ticket_granted: BTreeMap<String, bool>,
    /// Tickets granted but in standby (their resources stop, but nothing is fenced).
    pub ticket_standby: std::collections::BTreeSet<String>,
    /// `rsc_defaults` meta attributes.
    pub rsc_defaults: Attrs,
    /// `op_defaults`.
    pub op_defaults: Attrs,
    /// The status section.
    pub status: Status,
    /// `cib@have-quorum`.
    pub have_quorum: bool,
    /// `cib@no-quorum-panic`: quorum was lost (not never had), so policy suicide applies.
    pub no_quorum_panic: bool,
    /// `cib@execution-date` (seconds since the epoch), the scheduler's "now" when present.
    pub execution_date: Option<i64>,
}

/// A configured cluster node.
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// `id`.
    pub id: String,
    /// `uname`.
    pub uname: String,
    /// `type` (member, remote, ping).
    pub kind: String,
    /// Permanent node attributes (`instance_attributes`), e.g. `standby`.
    pub attrs: Attrs,
    /// `utilization`: capacities.
    pub utilization: Attrs,
}

/// What a resource is.
#[derive(Debug, Clone)]
pub enum ResourceKind {
    /// One agent.
    Primitive(Primitive),
    /// An ordered, colocated chain.
    Group(Vec<Resource>),
    /// Copies of one resource (a primitive or a group), `promotable` or not.
    Clone(Box<Resource>),
}

/// A resource of any kind, with its meta attributes (not yet merged with defaults).
#[derive(Debug, Clone)]
pub struct Resource {
    /// `id`.
    pub id: String,
    /// The kind, with its children.
    pub kind: ResourceKind,
    /// `meta_attributes`.
    pub meta: Attrs,
    /// `master` (legacy promotable clone tag).
    pub legacy_master: bool,
    /// `utilization`: what it needs of a node's capacities.
    pub utilization: Attrs,
}

/// A primitive's agent and operations.
#[derive(Debug, Clone, Default)]
pub struct Primitive {
    /// ocf, lsb, systemd, service, stonith.
    pub class: String,
    /// OCF provider, if any.
    pub provider: Option<String>,
    /// The agent's name.
    pub agent: String,
    /// `instance_attributes`.
    pub params: Attrs,
    /// `operations/op`.
    pub ops: Vec<OpDef>,
}

/// A configured operation.
#[derive(Debug, Clone, Default)]
pub struct OpDef {
    /// `id`.
    pub id: String,
    /// start, stop, monitor, promote, demote, …
    pub name: String,
    /// `interval` in milliseconds.
    pub interval_ms: u64,
    /// `timeout` in milliseconds, when the operation sets one (the scheduler does not need
    /// it; the CIB writer and the YAML format keep it).
    pub timeout_ms: Option<u64>,
    /// `role` the monitor applies to, normalised (Promoted, Unpromoted, Started, Stopped).
    pub role: Option<Role>,
    /// `on-fail`.
    pub on_fail: Option<String>,
    /// `enabled`.
    pub enabled: bool,
}

/// A resource's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Role {
    /// Not known yet.
    #[default]
    Unknown,
    /// Not running.
    Stopped,
    /// Running (not promotable).
    Started,
    /// Running as a promotable clone's secondary.
    Unpromoted,
    /// Running as a promotable clone's primary.
    Promoted,
}

impl Role {
    /// Parse a role as the CIB writes it (also the legacy Master/Slave).
    pub fn parse(text: &str) -> Option<Self> {
        // Pacemaker compares role names without case.
        match text.to_ascii_lowercase().as_str() {
            "stopped" => Some(Self::Stopped),
            "started" => Some(Self::Started),
            "slave" | "unpromoted" => Some(Self::Unpromoted),
            "master" | "promoted" => Some(Self::Promoted),
            _ => None,
        }
    }

    /// The name crm_simulate prints.
    pub fn text(self) -> &'static str {
        match self {
            Self::Unknown => "Unknown",
            Self::Stopped => "Stopped",
            Self::Started => "Started",
            Self::Unpromoted => "Unpromoted",
            Self::Promoted => "Promoted",
        }
    }
}

/// `rsc_location`.
#[derive(Debug, Clone)]
pub struct Location {
    /// `id`.
    pub id: String,
    /// `rsc`.
    pub rsc: String,
    /// `node` (constraints with rules have none: they are not evaluated in this part).
    pub node: Option<String>,
    /// `score`.
    pub score: Score,
    /// `role`.
    pub role: Option<Role>,
    /// Rules (when there is no `node`): each adds its score on the nodes where it holds.
    pub rules: Vec<Rule>,
    /// `resource-discovery="exclusive"`: the resource may run only on the nodes this and its
    /// other exclusive constraints name.
    pub exclusive: bool,
}

/// `rsc_colocation`: `rsc` is placed relative to `with_rsc`.
#[derive(Debug, Clone)]
pub struct Colocation {
    /// `id`.
    pub id: String,
    /// The dependent (`rsc`).
    pub rsc: String,
    /// The primary (`with-rsc`).
    pub with_rsc: String,
    /// `score`.
    pub score: Score,
    /// `rsc-role`.
    pub rsc_role: Option<Role>,
    /// `with-rsc-role`.
    pub with_role: Option<Role>,
}

/// `rsc_ticket`.
#[derive(Debug, Clone)]
pub struct TicketDep {
    /// `id`.
    pub id: String,
    /// `rsc`.
    pub rsc: String,
    /// `ticket`.
    pub ticket: String,
    /// `loss-policy` (stop, demote, fence, freeze).
    pub loss_policy: String,
    /// `rsc-role`.
    pub rsc_role: Option<Role>,
}

/// How binding an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    /// `then` needs `first`.
    Mandatory,
    /// Only orders actions that happen anyway.
    Optional,
    /// Never at the same time.
    Serialize,
}

/// `rsc_order`.
#[derive(Debug, Clone)]
pub struct Order {
    /// `id`.
    pub id: String,
    /// `first`.
    pub first: String,
    /// `then`.
    pub then: String,
    /// `first-action` (start, stop, promote, demote).
    pub first_action: String,
    /// `then-action`.
    pub then_action: String,
    /// `kind` (or `score`: 0 means Optional).
    pub kind: OrderKind,
    /// `symmetrical`.
    pub symmetrical: bool,
}

impl Cluster {
    /// A cluster option as a string.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options.get(name).map(String::as_str)
    }

    /// A boolean cluster option, with its default.
    pub fn flag(&self, name: &str, default: bool) -> bool {
        self.option(name).map_or(default, is_true)
    }
}

/// Pacemaker's `crm_is_true`.
pub fn is_true(text: &str) -> bool {
    matches!(
        text.to_ascii_lowercase().as_str(),
        "true" | "on" | "yes" | "y" | "1"
    )
}

/// Pacemaker's interval spellings: plain seconds, `10s`, `1m`, `500ms`, `1h`, ISO 8601
/// `PT10S`; in milliseconds.
pub fn parse_interval_ms(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() {
        return Some(0);
    }
    if let Some(iso) = t
        .strip_prefix("PT")
        .or_else(|| t.strip_prefix("pt"))
        .or_else(|| t.strip_prefix('P'))
    {
        let mut total = 0u64;
        let mut num = String::new();
        for c in iso.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let v: u64 = num.parse().ok()?;
            num.clear();
            total += match c.to_ascii_uppercase() {
                'H' => v * 3_600_000,
                'M' => v * 60_000,
                'S' => v * 1000,
                _ => return None,
            };
        }
        return Some(total);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: u64 = num.parse().ok()?;
    let factor = match unit.trim() {
        "" | "s" | "sec" => 1000,
        "ms" | "msec" => 1,
        "us" | "usec" => return Some(v / 1000),
        "m" | "min" => 60_000,
        "h" | "hr" => 3_600_000,
        _ => return None,
    };
    Some(v * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_in_pacemaker_spellings() {
        assert_eq!(parse_interval_ms("10"), Some(10_000));
        assert_eq!(parse_interval_ms("10s"), Some(10_000));
        assert_eq!(parse_interval_ms("500ms"), Some(500));
        assert_eq!(parse_interval_ms("2m"), Some(120_000));
        assert_eq!(parse_interval_ms("PT1M30S"), Some(90_000));
        assert_eq!(parse_interval_ms("0s"), Some(0));
        assert_eq!(parse_interval_ms("ten"), None);
    }
}

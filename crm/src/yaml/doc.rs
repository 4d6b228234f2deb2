//! The YAML document's shape, as serde reads and writes it. See docs/CRM-YAML.md.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A scalar as a person writes it (`24`, `true`, `10s`); the model holds every value as text.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Text {
    /// `true`, `false`.
    Bool(bool),
    /// `24`, `-1`.
    Int(i64),
    /// `1.5`.
    Float(f64),
    /// Anything else.
    Str(String),
}

impl Text {
    /// The value as the CIB writes it.
    pub fn text(&self) -> String {
        match self {
            Self::Bool(b) => b.to_string(),
            Self::Int(i) => i.to_string(),
            Self::Float(f) => f.to_string(),
            Self::Str(s) => s.clone(),
        }
    }
}

/// Name → value (params, meta, options).
pub type Pairs = BTreeMap<String, Text>;

/// The whole file.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Doc {
    /// Cluster options (`crm_config`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: Pairs,
    /// The nodes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeDoc>,
    /// Meta attributes every resource has unless it says otherwise (`rsc_defaults`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_defaults: Pairs,
    /// Operation defaults (`op_defaults`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub op_defaults: Pairs,
    /// Top-level resources, in placement order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceDoc>,
    /// Location constraints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Short<LocationDoc>>,
    /// Colocation constraints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub colocations: Vec<Short<ColocationDoc>>,
    /// Order constraints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<Short<OrderDoc>>,
}

/// A node: its name alone, or the long form.
#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum NodeDoc {
    /// `- ctl1`: id is its position (1, 2, …), as corosync numbers nodes.
    Name(String),
    /// `- {name: ctl1, id: "101", type: remote, attributes: {standby: on}}`.
    Long(NodeLong),
}

/// The long form of a node.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NodeLong {
    /// The node's name (`uname`).
    pub name: String,
    /// Its id; its position (1, 2, …) when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Text>,
    /// member (the default), remote or ping.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Permanent node attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: Pairs,
}

/// A resource: exactly one of `primitive`, `group`, `clone`, `promotable`, `master` names it
/// and says its kind.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceDoc {
    /// A primitive's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primitive: Option<String>,
    /// A group's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// A clone's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone: Option<String>,
    /// A promotable clone's id (a clone with meta `promotable: true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotable: Option<String>,
    /// A promotable clone in the CIB's legacy `<master>` tag (kept so a CIB converts back
    /// unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
    /// A primitive's agent: `class:provider:type` for OCF, `class:type` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// A primitive's instance attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: Pairs,
    /// Meta attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: Pairs,
    /// A primitive's operations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<OpDoc>,
    /// A group's members (primitives), in start order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Self>,
    /// What a clone copies (a primitive or a group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<Box<Self>>,
}

/// An operation.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OpDoc {
    /// start, stop, monitor, promote, demote, …
    pub name: String,
    /// `10s`, `1m`, `500ms`, `PT10S`, or seconds; 0 when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Text>,
    /// Same spellings as the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Text>,
    /// The role a monitor applies to (Promoted, Unpromoted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// ignore, block, stop, restart, standby, fence, demote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_fail: Option<String>,
    /// false disables the operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Its id; `rsc-name-interval-10s` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// A constraint: a one-line sentence, or the long form.
#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Short<T> {
    /// `vip on ctl1: 50`, `api with vip`, `vip then api`.
    Line(String),
    /// The long form.
    Long(T),
}

impl<T: Clone> Short<T> {
    /// The long form, reading a line with `line`.
    pub fn long(
        &self,
        line: impl Fn(&str) -> Result<T, super::YamlError>,
    ) -> Result<T, super::YamlError> {
        match self {
            Self::Line(text) => line(text),
            Self::Long(long) => Ok(long.clone()),
        }
    }
}

/// `rsc_location`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LocationDoc {
    /// The resource.
    pub rsc: String,
    /// The node.
    pub node: String,
    /// INFINITY when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<Text>,
    /// Applies to the resource in this role only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// `location-rsc-node-score` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// `rsc_colocation`: `rsc` is placed where `with` is.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ColocationDoc {
    /// The dependent resource.
    pub rsc: String,
    /// The resource it follows.
    pub with: String,
    /// INFINITY when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<Text>,
    /// The dependent's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsc_role: Option<String>,
    /// The followed resource's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_role: Option<String>,
    /// `colocation-rsc-with-score` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// `rsc_order`: `then` waits for `first`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OrderDoc {
    /// The resource that goes first.
    pub first: String,
    /// The one that waits.
    pub then: String,
    /// start when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_action: Option<String>,
    /// `first-action` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then_action: Option<String>,
    /// Mandatory (the default), Optional or Serialize.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// true (the default, stops in reverse order) unless kind is Serialize.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symmetrical: Option<bool>,
    /// `order-first-then-kind` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

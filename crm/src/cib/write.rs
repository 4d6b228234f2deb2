//! Write the model's configuration as a CIB (`<cib>` with a `<configuration>`) that
//! Pacemaker's `crm_verify --xml-file` accepts. Ids the model does not hold (attribute sets,
//! nvpairs) are derived from their owner's id as `pcs` derives them.
//!
//! The status section is runtime state, not configuration: it is written empty.

use std::fmt::Write as _;

use crate::model::{
    Attrs, Cluster, Colocation, Location, OpDef, Order, OrderKind, Resource, ResourceKind, Role,
};

/// The schema the written CIB declares: Pacemaker 2.1's, the first with the Promoted and
/// Unpromoted role names.
pub const SCHEMA: &str = "pacemaker-3.9";

/// What the model cannot say in a CIB without losing meaning.
#[derive(Debug, thiserror::Error)]
pub enum WriteCibError {
    /// A location constraint read with a rule (rules are not in the model yet): written
    /// without one it would be a different constraint.
    #[error(
        "write <rsc_location id=\"{id}\">: it has no node attribute (its rule is not in the model), so it cannot be written without changing its meaning"
    )]
    LocationWithoutNode {
        /// The constraint's id.
        id: String,
    },
}

/// The whole `<cib>` document.
pub fn write(cluster: &Cluster) -> Result<String, WriteCibError> {
    let mut w = Xml::default();
    let mut cib = vec![
        ("validate-with", SCHEMA.to_string()),
        ("epoch", "1".into()),
        ("num_updates", "0".into()),
        ("admin_epoch", "0".into()),
        (
            "have-quorum",
            if cluster.have_quorum { "1" } else { "0" }.into(),
        ),
    ];
    if let Some(date) = cluster.execution_date {
        cib.push(("execution-date", date.to_string()));
    }
    w.open("cib", &cib);
    w.open("configuration", &[]);
    w.open("crm_config", &[]);
    w.set(
        "cluster_property_set",
        "cib-bootstrap-options",
        &cluster.options,
    );
    w.close("crm_config");
    nodes(&mut w, cluster);
    w.open("resources", &[]);
    for r in &cluster.resources {
        resource(&mut w, r);
    }
    w.close("resources");
    w.open("constraints", &[]);
    for l in &cluster.locations {
        location(&mut w, l)?;
    }
    for c in &cluster.colocations {
        colocation(&mut w, c);
    }
    for o in &cluster.orders {
        order(&mut w, o);
    }
    w.close("constraints");
    for (tag, id, attrs) in [
        ("rsc_defaults", "rsc-options", &cluster.rsc_defaults),
        ("op_defaults", "op-options", &cluster.op_defaults),
    ] {
        if !attrs.is_empty() {
            w.open(tag, &[]);
            w.set("meta_attributes", id, attrs);
            w.close(tag);
        }
    }
    w.close("configuration");
    w.empty("status", &[]);
    w.close("cib");
    Ok(w.out)
}

fn nodes(w: &mut Xml, cluster: &Cluster) {
    w.open("nodes", &[]);
    for n in &cluster.nodes {
        let mut attrs = vec![("id", n.id.clone()), ("uname", n.uname.clone())];
        if !n.kind.is_empty() && n.kind != "member" {
            attrs.push(("type", n.kind.clone()));
        }
        if n.attrs.is_empty() {
            w.empty("node", &attrs);
        } else {
            w.open("node", &attrs);
            w.set("instance_attributes", &format!("nodes-{}", n.id), &n.attrs);
            w.close("node");
        }
    }
    w.close("nodes");
}

fn resource(w: &mut Xml, r: &Resource) {
    let meta_id = format!("{}-meta_attributes", r.id);
    match &r.kind {
        ResourceKind::Primitive(p) => {
            let mut attrs = vec![("id", r.id.clone()), ("class", p.class.clone())];
            if let Some(provider) = &p.provider {
                attrs.push(("provider", provider.clone()));
            }
            attrs.push(("type", p.agent.clone()));
            w.open("primitive", &attrs);
            w.set(
                "instance_attributes",
                &format!("{}-instance_attributes", r.id),
                &p.params,
            );
            w.set("meta_attributes", &meta_id, &r.meta);
            if !p.ops.is_empty() {
                w.open("operations", &[]);
                for op in &p.ops {
                    operation(w, &r.id, op);
                }
                w.close("operations");
            }
            w.close("primitive");
        }
        ResourceKind::Group(members) => {
            w.open("group", &[("id", r.id.clone())]);
            w.set("meta_attributes", &meta_id, &r.meta);
            for m in members {
                resource(w, m);
            }
            w.close("group");
        }
        ResourceKind::Clone(inner) => {
            let tag = if r.legacy_master { "master" } else { "clone" };
            w.open(tag, &[("id", r.id.clone())]);
            w.set("meta_attributes", &meta_id, &r.meta);
            resource(w, inner);
            w.close(tag);
        }
    }
}

/// An operation's id when the model has none: `pcs`'s `rsc-name-interval-10s`.
pub fn op_id(rsc: &str, op: &OpDef) -> String {
    if op.id.is_empty() || op.id == "?" {
        format!("{rsc}-{}-interval-{}", op.name, duration(op.interval_ms))
    } else {
        op.id.clone()
    }
}

fn operation(w: &mut Xml, rsc: &str, op: &OpDef) {
    let mut attrs = vec![
        ("id", op_id(rsc, op)),
        ("name", op.name.clone()),
        ("interval", duration(op.interval_ms)),
    ];
    if let Some(t) = op.timeout_ms {
        attrs.push(("timeout", duration(t)));
    }
    if let Some(role) = op.role.filter(|r| *r != Role::Unknown) {
        attrs.push(("role", role.text().into()));
    }
    if let Some(on_fail) = &op.on_fail {
        attrs.push(("on-fail", on_fail.clone()));
    }
    if !op.enabled {
        attrs.push(("enabled", "false".into()));
    }
    w.empty("op", &attrs);
}

/// A duration in the shortest of Pacemaker's spellings that keeps it exact.
pub fn duration(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

fn location(w: &mut Xml, l: &Location) -> Result<(), WriteCibError> {
    let Some(node) = &l.node else {
        return Err(WriteCibError::LocationWithoutNode { id: l.id.clone() });
    };
    let mut attrs = vec![
        ("id", l.id.clone()),
        ("rsc", l.rsc.clone()),
        ("node", node.clone()),
        ("score", l.score.to_string()),
    ];
    push_role(&mut attrs, "role", l.role);
    if l.exclusive {
        attrs.push(("resource-discovery", "exclusive".into()));
    }
    w.empty("rsc_location", &attrs);
    Ok(())
}

fn colocation(w: &mut Xml, c: &Colocation) {
    let mut attrs = vec![
        ("id", c.id.clone()),
        ("rsc", c.rsc.clone()),
        ("with-rsc", c.with_rsc.clone()),
        ("score", c.score.to_string()),
    ];
    push_role(&mut attrs, "rsc-role", c.rsc_role);
    push_role(&mut attrs, "with-rsc-role", c.with_role);
    w.empty("rsc_colocation", &attrs);
}

fn order(w: &mut Xml, o: &Order) {
    let kind = match o.kind {
        OrderKind::Mandatory => "Mandatory",
        OrderKind::Optional => "Optional",
        OrderKind::Serialize => "Serialize",
    };
    w.empty(
        "rsc_order",
        &[
            ("id", o.id.clone()),
            ("first", o.first.clone()),
            ("first-action", o.first_action.clone()),
            ("then", o.then.clone()),
            ("then-action", o.then_action.clone()),
            ("kind", kind.into()),
            ("symmetrical", o.symmetrical.to_string()),
        ],
    );
}

fn push_role(attrs: &mut Vec<(&'static str, String)>, name: &'static str, role: Option<Role>) {
    if let Some(role) = role.filter(|r| *r != Role::Unknown) {
        attrs.push((name, role.text().into()));
    }
}

/// An indenting XML writer (two spaces, as `cibadmin --query` prints).
#[derive(Default)]
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn start(&mut self, tag: &str, attrs: &[(&str, String)]) {
        let _ = write!(self.out, "{:1$}<{tag}", "", self.depth * 2);
        for (k, v) in attrs {
            let _ = write!(self.out, " {k}=\"{}\"", escape(v));
        }
    }

    fn open(&mut self, tag: &str, attrs: &[(&str, String)]) {
        self.start(tag, attrs);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn empty(&mut self, tag: &str, attrs: &[(&str, String)]) {
        self.start(tag, attrs);
        self.out.push_str("/>\n");
    }

    fn close(&mut self, tag: &str) {
        self.depth -= 1;
        let _ = writeln!(self.out, "{:1$}</{tag}>", "", self.depth * 2);
    }

    /// An attribute set (`instance_attributes`, `meta_attributes`, …); nothing when empty.
    fn set(&mut self, tag: &str, id: &str, attrs: &Attrs) {
        if attrs.is_empty() {
            return;
        }
        self.open(tag, &[("id", id.to_string())]);
        for (name, value) in attrs {
            self.empty(
                "nvpair",
                &[
                    ("id", format!("{id}-{name}")),
                    ("name", name.clone()),
                    ("value", value.clone()),
                ],
            );
        }
        self.close(tag);
    }
}

/// An attribute value escaped as libxml2 writes it (parameter digests depend on it).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

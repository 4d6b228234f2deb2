//! Read Pacemaker's CIB XML (a whole `<cib>` as `cibadmin --query` prints it) into the model.

mod sets;
mod status;
pub mod write;

use roxmltree::{Document, Node as XNode};

use crate::error::CibError;
use crate::model::{
    Attrs, Cluster, Colocation, Location, Node, OpDef, Order, OrderKind, Primitive, Resource,
    ResourceKind, Role, Rule, Score, Term, TicketDep, is_true, parse_interval_ms,
};

/// Meta attributes that old CIBs put among the instance attributes (Pacemaker 2.1 still reads
/// them there).
const META_NAMES: &[&str] = &[
    "target-role",
    "is-managed",
    "resource-stickiness",
    "migration-threshold",
    "failure-timeout",
    "priority",
    "multiple-active",
    "requires",
    "clone-max",
    "clone-node-max",
    "promoted-max",
    "promoted-node-max",
    "master-max",
    "master-node-max",
    "globally-unique",
    "interleave",
    "notify",
    "ordered",
    "promotable",
    "maintenance",
    "allow-migrate",
];

/// Parse a CIB document.
pub fn parse(text: &str) -> Result<Cluster, CibError> {
    let doc = Document::parse(text).map_err(|e| CibError::ParseXml(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "cib" {
        return Err(CibError::Structure(format!(
            "the root element is <{}>, not <cib>",
            root.tag_name().name()
        )));
    }
    let config = child(root, "configuration")
        .ok_or_else(|| CibError::Structure("no <configuration> element".into()))?;
    let mut cluster = Cluster {
        have_quorum: root.attribute("have-quorum").is_some_and(is_true),
        no_quorum_panic: root.attribute("no-quorum-panic").is_some_and(is_true),
        execution_date: root
            .attribute("execution-date")
            .and_then(|v| v.parse().ok()),
        ..Cluster::default()
    };
    if let Some(crm) = child(config, "crm_config") {
        for set in children(crm, "cluster_property_set") {
            for (k, v) in nvpairs(set) {
                cluster.options.entry(k.replace('_', "-")).or_insert(v);
            }
        }
    }
    if let Some(nodes) = child(config, "nodes") {
        for n in children(nodes, "node") {
            let id = attr(n, "id")?.to_string();
            let uname = n.attribute("uname").unwrap_or(&id).to_string();
            let mut attrs = Attrs::new();
            for set in children(n, "instance_attributes") {
                attrs.extend(nvpairs(set));
            }
            let mut utilization = Attrs::new();
            for set in children(n, "utilization") {
                utilization.extend(nvpairs(set));
            }
            cluster.nodes.push(Node {
                id,
                uname,
                kind: n.attribute("type").unwrap_or("member").to_string(),
                attrs,
                utilization,
            });
        }
    }
    if let Some(res) = child(config, "resources") {
        for r in res.children().filter(XNode::is_element) {
            if let Some(rsc) = resource(r)? {
                cluster.resources.push(rsc);
            }
        }
    }
    for (tag, target) in [
        ("rsc_defaults", &mut cluster.rsc_defaults),
        ("op_defaults", &mut cluster.op_defaults),
    ] {
        if let Some(d) = child(config, tag) {
            for set in children(d, "meta_attributes") {
                for (k, v) in nvpairs(set) {
                    target.entry(k.replace('_', "-")).or_insert(v);
                }
            }
        }
    }
    if let Some(cons) = child(config, "constraints") {
        constraints(cons, &sets::Refs::read(config), &mut cluster)?;
    }
    if let Some(st) = child(root, "status") {
        cluster.status = status::parse(st)?;
        if let Some(t) = child(st, "tickets") {
            for ts in children(t, "ticket_state") {
                let granted = ts.attribute("granted").is_some_and(is_true);
                let standby = ts.attribute("standby").is_some_and(is_true);
                let usable = granted && !standby;
                if granted && standby {
                    cluster
                        .ticket_standby
                        .insert(ts.attribute("id").unwrap_or("").to_string());
                }
                cluster
                    .ticket_granted
                    .insert(ts.attribute("id").unwrap_or("").to_string(), usable);
            }
        }
    }
    Ok(cluster)
}

fn resource(r: XNode<'_, '_>) -> Result<Option<Resource>, CibError> {
    let tag = r.tag_name().name();
    let kind = match tag {
        "primitive" => ResourceKind::Primitive(primitive(r)?),
        "group" => {
            let mut members = Vec::new();
            for c in children(r, "primitive") {
                if let Some(m) = resource(c)? {
                    members.push(m);
                }
            }
            ResourceKind::Group(members)
        }
        "clone" | "master" => {
            let inner = r
                .children()
                .filter(|c| matches!(c.tag_name().name(), "primitive" | "group"))
                .find_map(|c| resource(c).transpose())
                .transpose()?;
            let Some(inner) = inner else {
                return Err(CibError::Structure(format!(
                    "<{tag} id=\"{}\"> holds no primitive or group",
                    r.attribute("id").unwrap_or("?")
                )));
            };
            ResourceKind::Clone(Box::new(inner))
        }
        _ => return Ok(None),
    };
    let mut meta = Attrs::new();
    for set in children(r, "meta_attributes") {
        for (k, v) in nvpairs(set) {
            meta.entry(k.replace('_', "-")).or_insert(v);
        }
    }
    for set in children(r, "instance_attributes") {
        for (k, v) in nvpairs(set) {
            let k = k.replace('_', "-");
            if META_NAMES.contains(&k.as_str()) {
                meta.entry(k).or_insert(v);
            }
        }
    }
    let mut utilization = Attrs::new();
    for set in children(r, "utilization") {
        utilization.extend(nvpairs(set));
    }
    Ok(Some(Resource {
        id: attr(r, "id")?.to_string(),
        kind,
        meta,
        legacy_master: tag == "master",
        utilization,
    }))
}

fn primitive(r: XNode<'_, '_>) -> Result<Primitive, CibError> {
    let mut params = Attrs::new();
    for set in children(r, "instance_attributes") {
        params.extend(nvpairs(set));
    }
    let mut ops = Vec::new();
    if let Some(o) = child(r, "operations") {
        for op in children(o, "op") {
            let id = op.attribute("id").unwrap_or("?").to_string();
            let interval = op.attribute("interval").unwrap_or("0");
            let interval_ms =
                parse_interval_ms(interval).ok_or_else(|| CibError::InvalidAttribute {
                    element: "op".into(),
                    id: id.clone(),
                    attribute: "interval".into(),
                    value: interval.into(),
                    why: "not a duration",
                })?;
            let mut on_fail = op.attribute("on-fail").map(str::to_string);
            let mut enabled = op.attribute("enabled").is_none_or(is_true);
            for set in children(op, "meta_attributes") {
                for (k, v) in nvpairs(set) {
                    match k.as_str() {
                        "on-fail" => on_fail = Some(v),
                        "enabled" => enabled = is_true(&v),
                        _ => {}
                    }
                }
            }
            ops.push(OpDef {
                id,
                name: attr(op, "name")?.to_string(),
                interval_ms,
                timeout_ms: op.attribute("timeout").and_then(parse_interval_ms),
                role: op.attribute("role").and_then(Role::parse),
                on_fail,
                enabled,
            });
        }
    }
    Ok(Primitive {
        class: r.attribute("class").unwrap_or("ocf").to_string(),
        provider: r.attribute("provider").map(str::to_string),
        agent: r.attribute("type").unwrap_or("").to_string(),
        params,
        ops,
    })
}

fn constraints(
    cons: XNode<'_, '_>,
    refs: &sets::Refs,
    cluster: &mut Cluster,
) -> Result<(), CibError> {
    for c in cons.children().filter(XNode::is_element) {
        let id = c.attribute("id").unwrap_or("?").to_string();
        let score = |name: &'static str| -> Result<Option<Score>, CibError> {
            c.attribute(name)
                .map(|v| {
                    Score::parse(v).ok_or_else(|| CibError::InvalidAttribute {
                        element: c.tag_name().name().into(),
                        id: id.clone(),
                        attribute: name.into(),
                        value: v.into(),
                        why: "not a score",
                    })
                })
                .transpose()
        };
        let sets = sets::read(c, refs);
        // A constraint names its resources with attributes or in sets (tags and templates
        // stand for their members either way).
        let named = |attribute: &str| -> Vec<(String, Option<Role>)> {
            if sets.is_empty() {
                c.attribute(attribute)
                    .map(|n| refs.expand(n).into_iter().map(|r| (r, None)).collect())
                    .unwrap_or_default()
            } else {
                sets::members(&sets)
            }
        };
        match c.tag_name().name() {
            "rsc_location" => {
                // Constraints with a resource pattern belong to the extended tier.
                for (rsc, set_role) in named("rsc") {
                    cluster.locations.push(Location {
                        id: id.clone(),
                        rsc,
                        node: c.attribute("node").map(str::to_string),
                        score: score("score")?.unwrap_or(Score::ZERO),
                        role: c.attribute("role").and_then(Role::parse).or(set_role),
                        rules: children(c, "rule").map(rule).collect(),
                        exclusive: c.attribute("resource-discovery") == Some("exclusive"),
                    });
                }
            }
            "rsc_colocation" => {
                let score = score("score")?.unwrap_or(Score::ZERO);
                if !sets.is_empty() {
                    cluster
                        .colocations
                        .extend(sets::colocations(&id, &sets, score));
                    continue;
                }
                let (Some(rsc), Some(with)) = (c.attribute("rsc"), c.attribute("with-rsc")) else {
                    continue;
                };
                let rsc_role = c.attribute("rsc-role").and_then(Role::parse);
                let with_role = c.attribute("with-rsc-role").and_then(Role::parse);
                match (refs.is_ref(rsc), refs.is_ref(with)) {
                    (true, true) => {}
                    (false, false) => cluster.colocations.push(Colocation {
                        id: id.clone(),
                        rsc: rsc.to_string(),
                        with_rsc: with.to_string(),
                        score,
                        rsc_role,
                        with_role,
                    }),
                    _ => {
                        let sets = [
                            sets::Set::of(refs, rsc, rsc_role, None),
                            sets::Set::of(refs, with, with_role, None),
                        ];
                        cluster
                            .colocations
                            .extend(sets::colocations(&id, &sets, score));
                    }
                }
            }
            "rsc_ticket" => {
                let Some(ticket) = c.attribute("ticket") else {
                    continue;
                };
                for (rsc, set_role) in named("rsc") {
                    cluster.tickets.push(TicketDep {
                        id: id.clone(),
                        rsc,
                        ticket: ticket.to_string(),
                        loss_policy: c.attribute("loss-policy").unwrap_or("stop").to_string(),
                        rsc_role: c.attribute("rsc-role").and_then(Role::parse).or(set_role),
                    });
                }
            }
            "rsc_order" => {
                let kind = match c.attribute("kind") {
                    Some("Optional") => OrderKind::Optional,
                    Some("Serialize") => OrderKind::Serialize,
                    Some(_) => OrderKind::Mandatory,
                    None => match score("score")? {
                        Some(Score(0)) => OrderKind::Optional,
                        _ => OrderKind::Mandatory,
                    },
                };
                let symmetrical = c
                    .attribute("symmetrical")
                    .map_or(kind != OrderKind::Serialize, is_true);
                if !sets.is_empty() {
                    cluster
                        .orders
                        .extend(sets::orders(&id, &sets, kind, symmetrical));
                    continue;
                }
                let (Some(first), Some(then)) = (c.attribute("first"), c.attribute("then")) else {
                    continue;
                };
                let first_action = c.attribute("first-action").unwrap_or("start").to_string();
                let then_action = c
                    .attribute("then-action")
                    .unwrap_or(&first_action)
                    .to_string();
                if refs.is_ref(first) || refs.is_ref(then) {
                    let sets = [
                        sets::Set::of(refs, first, None, Some(&first_action)),
                        sets::Set::of(refs, then, None, Some(&then_action)),
                    ];
                    cluster
                        .orders
                        .extend(sets::orders(&id, &sets, kind, symmetrical));
                    continue;
                }
                cluster.orders.push(Order {
                    id: id.clone(),
                    first: first.to_string(),
                    then: then.to_string(),
                    first_action,
                    then_action,
                    kind,
                    symmetrical,
                });
            }
            _ => {}
        }
    }
    Ok(())
}

fn rule(r: XNode<'_, '_>) -> Rule {
    let terms = r
        .children()
        .filter(XNode::is_element)
        .map(|t| match t.tag_name().name() {
            "expression" => Term::Attr {
                attribute: t.attribute("attribute").unwrap_or("").to_string(),
                operation: t.attribute("operation").unwrap_or("eq").to_string(),
                value: t.attribute("value").map(str::to_string),
                // No type: Pacemaker chooses one from the operation and values ("").
                kind: t.attribute("type").unwrap_or("").to_string(),
            },
            "rule" => Term::Rule(rule(t)),
            _ => Term::Unsupported,
        })
        .collect();
    Rule {
        id: r.attribute("id").unwrap_or("?").to_string(),
        score: r.attribute("score").and_then(Score::parse),
        score_attribute: r.attribute("score-attribute").map(str::to_string),
        any: r.attribute("boolean-op") == Some("or"),
        role: r.attribute("role").and_then(Role::parse),
        terms,
    }
}

pub(crate) fn child<'a, 'i>(n: XNode<'a, 'i>, tag: &str) -> Option<XNode<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(tag))
}

pub(crate) fn children<'a, 'i>(
    n: XNode<'a, 'i>,
    tag: &'static str,
) -> impl Iterator<Item = XNode<'a, 'i>> {
    n.children().filter(move |c| c.has_tag_name(tag))
}

/// The `nvpair`s of an attribute set (first value of a name wins, as in Pacemaker).
pub(crate) fn nvpairs(set: XNode<'_, '_>) -> Vec<(String, String)> {
    children(set, "nvpair")
        .filter_map(|p| {
            Some((
                p.attribute("name")?.to_string(),
                p.attribute("value").unwrap_or("").to_string(),
            ))
        })
        .collect()
}

pub(crate) fn attr<'a>(n: XNode<'a, '_>, name: &'static str) -> Result<&'a str, CibError> {
    n.attribute(name).ok_or_else(|| CibError::MissingAttribute {
        element: n.tag_name().name().to_string(),
        id: n.attribute("id").unwrap_or("?").to_string(),
        attribute: name,
    })
}

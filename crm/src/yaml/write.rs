//! Model → YAML document, in the shortest form that reads back into the same model: names
//! alone for nodes numbered by position, one-line constraints when their id is the one the
//! reader would derive, no op ids the reader would derive.

use super::WriteYamlError;
use super::doc::{
    ColocationDoc, Doc, LocationDoc, NodeDoc, NodeLong, OpDoc, OrderDoc, Pairs, ResourceDoc, Short,
    Text,
};
use super::read::kind_name;
use crate::cib::write::{duration, op_id};
use crate::model::{
    Attrs, Cluster, Colocation, Location, OpDef, Order, OrderKind, Resource, ResourceKind, Role,
    Score,
};

/// The YAML text of a cluster's configuration (the status is not part of the format).
pub fn write(cluster: &Cluster) -> Result<String, WriteYamlError> {
    let mut doc = Doc {
        options: pairs(&cluster.options),
        resource_defaults: pairs(&cluster.rsc_defaults),
        op_defaults: pairs(&cluster.op_defaults),
        ..Doc::default()
    };
    for (i, n) in cluster.nodes.iter().enumerate() {
        let by_position = n.id == (i + 1).to_string();
        let member = n.kind.is_empty() || n.kind == "member";
        doc.nodes
            .push(if by_position && member && n.attrs.is_empty() {
                NodeDoc::Name(n.uname.clone())
            } else {
                NodeDoc::Long(NodeLong {
                    name: n.uname.clone(),
                    id: (!by_position).then(|| Text::Str(n.id.clone())),
                    kind: (!member).then(|| n.kind.clone()),
                    attributes: pairs(&n.attrs),
                })
            });
    }
    doc.resources = cluster.resources.iter().map(resource).collect();
    for l in &cluster.locations {
        doc.locations.push(location(l)?);
    }
    doc.colocations = cluster.colocations.iter().map(colocation).collect();
    doc.orders = cluster.orders.iter().map(order).collect();
    serde_yaml::to_string(&doc).map_err(|e| WriteYamlError::Serialize(e.to_string()))
}

fn pairs(attrs: &Attrs) -> Pairs {
    attrs
        .iter()
        .map(|(k, v)| (k.clone(), Text::Str(v.clone())))
        .collect()
}

fn resource(r: &Resource) -> ResourceDoc {
    let mut doc = ResourceDoc {
        meta: pairs(&r.meta),
        ..ResourceDoc::default()
    };
    let id = Some(r.id.clone());
    match &r.kind {
        ResourceKind::Primitive(p) => {
            doc.primitive = id;
            doc.agent = Some(match &p.provider {
                Some(provider) => format!("{}:{provider}:{}", p.class, p.agent),
                None => format!("{}:{}", p.class, p.agent),
            });
            doc.params = pairs(&p.params);
            doc.ops = p.ops.iter().map(|op| operation(&r.id, op)).collect();
        }
        ResourceKind::Group(members) => {
            doc.group = id;
            doc.members = members.iter().map(resource).collect();
        }
        ResourceKind::Clone(inner) => {
            if r.legacy_master {
                doc.master = id;
            } else if r.meta.get("promotable").map(String::as_str) == Some("true") {
                doc.meta.remove("promotable");
                doc.promotable = id;
            } else {
                doc.clone = id;
            }
            doc.of = Some(Box::new(resource(inner)));
        }
    }
    doc
}

fn operation(rsc: &str, op: &OpDef) -> OpDoc {
    let derived = op_id(
        rsc,
        &OpDef {
            id: String::new(),
            ..op.clone()
        },
    );
    OpDoc {
        name: op.name.clone(),
        interval: (op.interval_ms != 0).then(|| Text::Str(duration(op.interval_ms))),
        timeout: op.timeout_ms.map(|t| Text::Str(duration(t))),
        role: op.role.map(|r| r.text().to_string()),
        on_fail: op.on_fail.clone(),
        enabled: (!op.enabled).then_some(false),
        id: (op.id != derived).then(|| op.id.clone()),
    }
}

fn with_role(rsc: &str, role: Option<Role>) -> String {
    match role {
        Some(role) => format!("{rsc}:{}", role.text()),
        None => rsc.to_string(),
    }
}

fn location(l: &Location) -> Result<Short<LocationDoc>, WriteYamlError> {
    let Some(node) = &l.node else {
        return Err(WriteYamlError::LocationWithoutNode { id: l.id.clone() });
    };
    if l.id == format!("location-{}-{node}-{}", l.rsc, l.score) {
        let rsc = with_role(&l.rsc, l.role);
        return Ok(Short::Line(match l.score {
            Score::INF => format!("{rsc} prefers {node}"),
            Score::NEG_INF => format!("{rsc} avoids {node}"),
            s => format!("{rsc} prefers {node} {s}"),
        }));
    }
    Ok(Short::Long(LocationDoc {
        rsc: l.rsc.clone(),
        node: node.clone(),
        score: Some(Text::Str(l.score.to_string())),
        role: l.role.map(|r| r.text().to_string()),
        id: Some(l.id.clone()),
    }))
}

fn colocation(c: &Colocation) -> Short<ColocationDoc> {
    if c.id == format!("colocation-{}-{}-{}", c.rsc, c.with_rsc, c.score) {
        let line = format!(
            "{} with {}",
            with_role(&c.rsc, c.rsc_role),
            with_role(&c.with_rsc, c.with_role)
        );
        return Short::Line(match c.score {
            Score::INF => line,
            s => format!("{line} {s}"),
        });
    }
    Short::Long(ColocationDoc {
        rsc: c.rsc.clone(),
        with: c.with_rsc.clone(),
        score: Some(Text::Str(c.score.to_string())),
        rsc_role: c.rsc_role.map(|r| r.text().to_string()),
        with_role: c.with_role.map(|r| r.text().to_string()),
        id: Some(c.id.clone()),
    })
}

fn order(o: &Order) -> Short<OrderDoc> {
    let kind = match o.kind {
        OrderKind::Mandatory => "Mandatory",
        OrderKind::Optional => "Optional",
        OrderKind::Serialize => "Serialize",
    };
    let derived_id = format!("order-{}-{}-{}", o.first, o.then, kind_name(o.kind));
    if o.id == derived_id && o.symmetrical == (o.kind != OrderKind::Serialize) {
        let first = match o.first_action.as_str() {
            "start" => o.first.clone(),
            a => format!("{}:{a}", o.first),
        };
        let then = if o.then_action == o.first_action {
            o.then.clone()
        } else {
            format!("{}:{}", o.then, o.then_action)
        };
        return Short::Line(match o.kind {
            OrderKind::Mandatory => format!("{first} then {then}"),
            _ => format!("{first} then {then} {kind}"),
        });
    }
    Short::Long(OrderDoc {
        first: o.first.clone(),
        then: o.then.clone(),
        first_action: Some(o.first_action.clone()),
        then_action: Some(o.then_action.clone()),
        kind: Some(kind.into()),
        symmetrical: Some(o.symmetrical),
        id: Some(o.id.clone()),
    })
}

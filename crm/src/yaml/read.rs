//! YAML document → model.

use super::YamlError;
use super::doc::{Doc, NodeDoc, OpDoc, Pairs, ResourceDoc, Text};
use super::short;
use crate::cib::write::op_id;
use crate::model::{
    Attrs, Cluster, Colocation, Location, Node, OpDef, Order, OrderKind, Primitive, Resource,
    ResourceKind, Role, Score, parse_interval_ms,
};

/// Parse a YAML cluster description. Only the shape is checked here; `verify::verify_model`
/// checks the meaning (classes, references, cycles, ids).
pub fn parse(text: &str) -> Result<Cluster, YamlError> {
    let doc: Doc = serde_yaml::from_str(text).map_err(|e| YamlError::ParseYaml(e.to_string()))?;
    let mut cluster = Cluster {
        options: attrs(&doc.options),
        rsc_defaults: attrs(&doc.resource_defaults),
        op_defaults: attrs(&doc.op_defaults),
        // A hand-written cluster has no status; quorum is what a running cluster reports.
        have_quorum: true,
        ..Cluster::default()
    };
    for (i, n) in doc.nodes.iter().enumerate() {
        cluster.nodes.push(node(i, n));
    }
    for (i, r) in doc.resources.iter().enumerate() {
        cluster
            .resources
            .push(resource(&format!("resources[{i}]"), r)?);
    }
    for l in &doc.locations {
        let l = l.long(short::location)?;
        let score = score(
            "location",
            l.id.as_deref().unwrap_or(&l.rsc),
            l.score.as_ref(),
        )?;
        let role = role("location", &l.rsc, "role", l.role.as_deref())?;
        cluster.locations.push(Location {
            id: l
                .id
                .unwrap_or_else(|| format!("location-{}-{}-{score}", l.rsc, l.node)),
            rsc: l.rsc,
            node: Some(l.node),
            score,
            role,
            rules: Vec::new(),
            exclusive: false,
        });
    }
    for c in &doc.colocations {
        let c = c.long(short::colocation)?;
        let score = score(
            "colocation",
            c.id.as_deref().unwrap_or(&c.rsc),
            c.score.as_ref(),
        )?;
        cluster.colocations.push(Colocation {
            id: c
                .id
                .clone()
                .unwrap_or_else(|| format!("colocation-{}-{}-{score}", c.rsc, c.with)),
            rsc_role: role("colocation", &c.rsc, "rsc-role", c.rsc_role.as_deref())?,
            with_role: role("colocation", &c.rsc, "with-role", c.with_role.as_deref())?,
            rsc: c.rsc,
            with_rsc: c.with,
            score,
        });
    }
    for o in &doc.orders {
        let o = o.long(short::order)?;
        let kind = match o.kind.as_deref() {
            None | Some("Mandatory") => OrderKind::Mandatory,
            Some("Optional") => OrderKind::Optional,
            Some("Serialize") => OrderKind::Serialize,
            Some(other) => {
                return Err(invalid(
                    "order",
                    &o.first,
                    "kind",
                    other,
                    "not Mandatory, Optional or Serialize",
                ));
            }
        };
        let first_action = o.first_action.unwrap_or_else(|| "start".into());
        let then_action = o.then_action.unwrap_or_else(|| first_action.clone());
        cluster.orders.push(Order {
            id: o
                .id
                .unwrap_or_else(|| format!("order-{}-{}-{}", o.first, o.then, kind_name(kind))),
            first: o.first,
            then: o.then,
            first_action,
            then_action,
            kind,
            symmetrical: o.symmetrical.unwrap_or(kind != OrderKind::Serialize),
        });
    }
    Ok(cluster)
}

/// The lower-case kind that generated order ids carry (as pcs names them).
pub(super) fn kind_name(kind: OrderKind) -> &'static str {
    match kind {
        OrderKind::Mandatory => "mandatory",
        OrderKind::Optional => "optional",
        OrderKind::Serialize => "serialize",
    }
}

pub(super) fn invalid(
    element: &'static str,
    id: &str,
    field: &'static str,
    value: &str,
    why: &'static str,
) -> YamlError {
    YamlError::InvalidField {
        element,
        id: id.into(),
        field,
        value: value.into(),
        why,
    }
}

fn attrs(pairs: &Pairs) -> Attrs {
    pairs.iter().map(|(k, v)| (k.clone(), v.text())).collect()
}

fn node(index: usize, n: &NodeDoc) -> Node {
    let position = (index + 1).to_string();
    match n {
        NodeDoc::Name(name) => Node {
            id: position,
            uname: name.clone(),
            kind: "member".into(),
            attrs: Attrs::new(),
            utilization: Attrs::new(),
        },
        NodeDoc::Long(n) => Node {
            id: n.id.as_ref().map_or(position, Text::text),
            uname: n.name.clone(),
            kind: n.kind.clone().unwrap_or_else(|| "member".into()),
            attrs: attrs(&n.attributes),
            utilization: Attrs::new(),
        },
    }
}

fn resource(at: &str, r: &ResourceDoc) -> Result<Resource, YamlError> {
    let names = [
        ("primitive", &r.primitive),
        ("group", &r.group),
        ("clone", &r.clone),
        ("promotable", &r.promotable),
        ("master", &r.master),
    ];
    let mut named = names
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v)));
    let (Some((kind, id)), None) = (named.next(), named.next()) else {
        return Err(invalid(
            "resource",
            at,
            "primitive",
            "",
            "name exactly one of primitive, group, clone, promotable, master",
        ));
    };
    let element = match kind {
        "primitive" => "primitive",
        "group" => "group",
        _ => "clone",
    };
    let misplaced = |field: &'static str, present: bool| {
        if present {
            Err(invalid(
                element,
                id,
                field,
                "",
                "does not belong to this kind of resource",
            ))
        } else {
            Ok(())
        }
    };
    let mut meta = attrs(&r.meta);
    let kind = match kind {
        "primitive" => {
            misplaced("members", !r.members.is_empty())?;
            misplaced("of", r.of.is_some())?;
            ResourceKind::Primitive(primitive(id, r)?)
        }
        "group" => {
            misplaced("agent", r.agent.is_some())?;
            misplaced("of", r.of.is_some())?;
            misplaced("ops", !r.ops.is_empty())?;
            let members = r
                .members
                .iter()
                .enumerate()
                .map(|(i, m)| resource(&format!("{id}.members[{i}]"), m))
                .collect::<Result<_, _>>()?;
            ResourceKind::Group(members)
        }
        clone_kind => {
            misplaced("agent", r.agent.is_some())?;
            misplaced("members", !r.members.is_empty())?;
            misplaced("ops", !r.ops.is_empty())?;
            let Some(inner) = &r.of else {
                return Err(invalid(
                    "clone",
                    id,
                    "of",
                    "",
                    "a clone needs the resource it copies",
                ));
            };
            if clone_kind == "promotable" {
                meta.insert("promotable".into(), "true".into());
            }
            ResourceKind::Clone(Box::new(resource(&format!("{id}.of"), inner)?))
        }
    };
    Ok(Resource {
        id: id.clone(),
        kind,
        meta,
        legacy_master: r.master.is_some(),
        utilization: Attrs::new(),
    })
}

fn primitive(id: &str, r: &ResourceDoc) -> Result<Primitive, YamlError> {
    let Some(agent) = &r.agent else {
        return Err(invalid(
            "primitive",
            id,
            "agent",
            "",
            "a primitive needs an agent (e.g. ocf:heartbeat:IPaddr2)",
        ));
    };
    let parts: Vec<&str> = agent.split(':').collect();
    let (class, provider, agent_type) = match parts.as_slice() {
        ["ocf", provider, agent_type] => ("ocf", Some(*provider), *agent_type),
        ["ocf", ..] => {
            return Err(invalid(
                "primitive",
                id,
                "agent",
                agent,
                "an OCF agent is ocf:provider:type",
            ));
        }
        [class, agent_type] => (*class, None, *agent_type),
        _ => {
            return Err(invalid(
                "primitive",
                id,
                "agent",
                agent,
                "not class:type or ocf:provider:type",
            ));
        }
    };
    let mut p = Primitive {
        class: class.into(),
        provider: provider.map(str::to_string),
        agent: agent_type.into(),
        params: attrs(&r.params),
        ops: Vec::new(),
    };
    for op in &r.ops {
        p.ops.push(operation(id, op)?);
    }
    Ok(p)
}

fn operation(rsc: &str, op: &OpDoc) -> Result<OpDef, YamlError> {
    let duration = |field: &'static str, v: Option<&Text>| match v {
        None => Ok(None),
        Some(t) => {
            // A bare number is seconds, as Pacemaker reads it.
            let text = t.text();
            parse_interval_ms(&text).map(Some).ok_or_else(|| {
                invalid(
                    "op",
                    op.id.as_deref().unwrap_or(rsc),
                    field,
                    &text,
                    "not a duration (10s, 1m, 500ms, PT10S)",
                )
            })
        }
    };
    let mut def = OpDef {
        id: String::new(),
        name: op.name.clone(),
        interval_ms: duration("interval", op.interval.as_ref())?.unwrap_or(0),
        timeout_ms: duration("timeout", op.timeout.as_ref())?,
        role: role(
            "op",
            op.id.as_deref().unwrap_or(rsc),
            "role",
            op.role.as_deref(),
        )?,
        on_fail: op.on_fail.clone(),
        enabled: op.enabled.unwrap_or(true),
    };
    def.id = op.id.clone().unwrap_or_else(|| op_id(rsc, &def));
    Ok(def)
}

fn score(element: &'static str, id: &str, value: Option<&Text>) -> Result<Score, YamlError> {
    let Some(value) = value else {
        return Ok(Score::INF);
    };
    let text = value.text();
    Score::parse(&text).ok_or_else(|| {
        invalid(
            element,
            id,
            "score",
            &text,
            "not a score (an integer, INFINITY or -INFINITY)",
        )
    })
}

pub(super) fn role(
    element: &'static str,
    id: &str,
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<Role>, YamlError> {
    value
        .map(|v| {
            Role::parse(v).ok_or_else(|| {
                invalid(
                    element,
                    id,
                    field,
                    v,
                    "not a role (Started, Stopped, Promoted, Unpromoted)",
                )
            })
        })
        .transpose()
}

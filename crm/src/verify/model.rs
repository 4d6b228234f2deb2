//! Checks over the model: ids, agents, references, score-valued meta attributes, order cycles.

use std::collections::{BTreeMap, BTreeSet};

use super::{CLASSES, Known, VerifyError};
use crate::model::{Attrs, Cluster, Resource, ResourceKind, Score};

/// Meta attributes whose value is a score (Pacemaker falls back to a default on garbage; an
/// operator who wrote one meant something, so it is refused).
const SCORE_META: &[&str] = &["resource-stickiness", "priority", "migration-threshold"];

pub(super) fn check(cluster: &Cluster, known: &Known) -> Vec<VerifyError> {
    let mut problems = Vec::new();
    let mut seen: BTreeMap<String, &'static str> = BTreeMap::new();
    let mut resources = BTreeSet::new();
    for r in &cluster.resources {
        walk(r, &mut |r| {
            let tag = tag(r);
            if let Some(first) = seen.get(&r.id) {
                problems.push(VerifyError::DuplicateId {
                    element: tag.into(),
                    id: r.id.clone(),
                    first: (*first).into(),
                });
            } else {
                seen.insert(r.id.clone(), tag);
            }
            resources.insert(r.id.as_str());
            if let ResourceKind::Primitive(p) = &r.kind {
                if !known.templated.contains(&r.id) {
                    agent(r, &mut problems);
                }
                for op in &p.ops {
                    if let Some(first) = seen.get(&op.id) {
                        problems.push(VerifyError::DuplicateId {
                            element: "op".into(),
                            id: op.id.clone(),
                            first: (*first).into(),
                        });
                    } else {
                        seen.insert(op.id.clone(), "op");
                    }
                }
            }
            score_meta(tag, &r.id, &r.meta, &mut problems);
        });
    }
    score_meta(
        "rsc_defaults",
        "rsc-options",
        &cluster.rsc_defaults,
        &mut problems,
    );
    let constraint_ids = cluster
        .locations
        .iter()
        .map(|c| (c.id.as_str(), "rsc_location"))
        .chain(
            cluster
                .colocations
                .iter()
                .map(|c| (c.id.as_str(), "rsc_colocation")),
        )
        .chain(cluster.orders.iter().map(|c| (c.id.as_str(), "rsc_order")));
    for (id, element) in constraint_ids {
        match seen.get(id) {
            Some(first) => problems.push(VerifyError::DuplicateId {
                element: element.into(),
                id: id.into(),
                first: (*first).into(),
            }),
            None => {
                seen.insert(id.into(), element);
            }
        }
    }
    // Node ids are not XML ids (they are often "1", "2"…): they only need to differ from
    // each other.
    let mut node_ids = BTreeSet::new();
    for n in &cluster.nodes {
        if !node_ids.insert(n.id.as_str()) {
            problems.push(VerifyError::DuplicateId {
                element: "node".into(),
                id: n.id.clone(),
                first: "node".into(),
            });
        }
    }
    let nodes = node_names(cluster);
    let resources = |name: &str| resources.contains(name) || known.referable.contains(name);
    let dangling = |element: &str, id: &str, attribute: &'static str, value: &str| {
        VerifyError::DanglingReference {
            element: element.into(),
            id: id.into(),
            attribute,
            value: value.into(),
            what: "resource",
        }
    };
    for l in &cluster.locations {
        if !resources(&l.rsc) {
            problems.push(dangling("rsc_location", &l.id, "rsc", &l.rsc));
        }
        // Nodes may join later when none are configured yet; with a node list, a name outside
        // it is a typo that would silently never apply.
        if let Some(node) = &l.node
            && !nodes.is_empty()
            && !known.has_bundles
            && !nodes.contains(node.as_str())
        {
            problems.push(VerifyError::DanglingReference {
                element: "rsc_location".into(),
                id: l.id.clone(),
                attribute: "node",
                value: node.clone(),
                what: "node",
            });
        }
    }
    for c in &cluster.colocations {
        for (attribute, value) in [("rsc", &c.rsc), ("with-rsc", &c.with_rsc)] {
            if !resources(value) {
                problems.push(dangling("rsc_colocation", &c.id, attribute, value));
            }
        }
    }
    let mut orders_ok = true;
    for o in &cluster.orders {
        for (attribute, value) in [("first", &o.first), ("then", &o.then)] {
            if !resources(value) {
                orders_ok = false;
                problems.push(dangling("rsc_order", &o.id, attribute, value));
            }
        }
    }
    if orders_ok && let Some(cycle) = super::order::find_cycle(cluster, &known.set_orders) {
        problems.push(cycle);
    }
    problems
}

/// The nodes a location may name: the configured ones and the remote and guest nodes that
/// resources create.
fn node_names(cluster: &Cluster) -> BTreeSet<&str> {
    let mut names: BTreeSet<&str> = cluster.nodes.iter().map(|n| n.uname.as_str()).collect();
    for top in &cluster.resources {
        walk(top, &mut |r| {
            if let ResourceKind::Primitive(p) = &r.kind {
                if p.class == "ocf"
                    && p.provider.as_deref() == Some("pacemaker")
                    && p.agent == "remote"
                {
                    names.insert(&r.id);
                }
                // Old CIBs put remote-node among the instance attributes.
                names.extend(p.params.get("remote-node").map(String::as_str));
            }
            names.extend(r.meta.get("remote-node").map(String::as_str));
        });
    }
    names
}

/// Every resource of the tree, parents before children.
pub(super) fn walk<'a>(r: &'a Resource, f: &mut impl FnMut(&'a Resource)) {
    f(r);
    match &r.kind {
        ResourceKind::Primitive(_) => {}
        ResourceKind::Group(members) => members.iter().for_each(|m| walk(m, f)),
        ResourceKind::Clone(inner) => walk(inner, f),
    }
}

/// The tag the resource has in a CIB.
pub(super) fn tag(r: &Resource) -> &'static str {
    match &r.kind {
        ResourceKind::Primitive(_) => "primitive",
        ResourceKind::Group(_) => "group",
        ResourceKind::Clone(_) if r.legacy_master => "master",
        ResourceKind::Clone(_) => "clone",
    }
}

fn agent(r: &Resource, problems: &mut Vec<VerifyError>) {
    let ResourceKind::Primitive(p) = &r.kind else {
        return;
    };
    let unresolvable = |attribute, value: &str, why| VerifyError::UnresolvableAgent {
        element: "primitive".into(),
        id: r.id.clone(),
        attribute,
        value: value.into(),
        why,
    };
    if !CLASSES.contains(&p.class.as_str()) {
        problems.push(VerifyError::UnknownClass {
            element: "primitive".into(),
            id: r.id.clone(),
            value: p.class.clone(),
        });
    }
    match (p.class.as_str(), &p.provider) {
        ("ocf", None) => problems.push(unresolvable(
            "provider",
            "",
            "an ocf agent needs a provider (e.g. heartbeat)",
        )),
        ("ocf", Some(provider)) if !is_name(provider) => {
            problems.push(unresolvable("provider", provider, "not a provider name"))
        }
        ("ocf", Some(_)) | (_, None) => {}
        (_, Some(provider)) => problems.push(unresolvable(
            "provider",
            provider,
            "only ocf agents have a provider",
        )),
    }
    // Heartbeat-style fence plugins are named by a path below the plugin directory, and any
    // agent may be given by its absolute path; neither may climb out with "..".
    let a = p.agent.as_str();
    let agent_ok = is_name(a)
        || ((p.class == "stonith" || a.starts_with('/'))
            && a.trim_start_matches('/').split('/').all(is_name));
    if !agent_ok {
        problems.push(unresolvable(
            "type",
            &p.agent,
            "not an agent name (letters, digits, '-', '_', '.', '@')",
        ));
    }
}

/// What an agent or provider can be called: the file name of a script in a directory, or a
/// systemd unit (with its `@instance`).
fn is_name(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('.')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
}

/// Pacemaker reads these meta attributes with strtol: "1.0" is 1, but "high" is no number at
/// all.
fn has_integer_prefix(text: &str) -> bool {
    let t = text.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    digits.starts_with(|c: char| c.is_ascii_digit())
}

fn score_meta(element: &str, id: &str, meta: &Attrs, problems: &mut Vec<VerifyError>) {
    for name in SCORE_META {
        if let Some(value) = meta.get(*name)
            && Score::parse(value).is_none()
            && !has_integer_prefix(value)
        {
            problems.push(VerifyError::InvalidScore {
                element: element.into(),
                id: id.into(),
                attribute: (*name).into(),
                value: value.clone(),
            });
        }
    }
}

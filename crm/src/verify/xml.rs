//! Checks over the raw CIB, for what the model does not keep: the id of every configuration
//! element, references from resource sets, the scores of rules and sets.

use std::collections::BTreeMap;

use roxmltree::{Document, Node as XNode};

use super::{Known, VerifyError};
use crate::error::CibError;
use crate::model::{Order, OrderKind, Score, is_true};

/// Elements whose `id` is not an XML ID in Pacemaker's schema: node ids are free text, the
/// others are references.
const NOT_IDS: &[&str] = &["node", "resource_ref", "obj_ref", "acl_target", "role"];

/// What a constraint may name: resources of any kind, templates and tags.
const REFERABLE: &[&str] = &[
    "primitive",
    "group",
    "clone",
    "master",
    "bundle",
    "template",
    "tag",
];

/// The problems, and what the document holds beyond the model for the model checks.
pub(super) fn check(doc: &Document<'_>) -> (Vec<VerifyError>, Known) {
    let mut problems = Vec::new();
    let mut known = Known::default();
    let Some(config) = doc
        .root_element()
        .children()
        .find(|c| c.has_tag_name("configuration"))
    else {
        return (problems, known);
    };
    let mut ids: BTreeMap<&str, &str> = BTreeMap::new();
    for e in config.descendants().filter(XNode::is_element) {
        let tag = e.tag_name().name();
        let Some(id) = e.attribute("id") else {
            continue;
        };
        if REFERABLE.contains(&tag) {
            known.referable.insert(id.to_string());
        }
        if tag == "primitive" && e.attribute("template").is_some() {
            known.templated.insert(id.to_string());
        }
        known.has_bundles |= tag == "bundle";
        if NOT_IDS.contains(&tag) {
            continue;
        }
        if let Some(first) = ids.get(id) {
            problems.push(VerifyError::DuplicateId {
                element: tag.into(),
                id: id.into(),
                first: (*first).into(),
            });
        } else {
            ids.insert(id, tag);
        }
    }
    for e in config.descendants().filter(XNode::is_element) {
        let tag = e.tag_name().name();
        let id = e.attribute("id").unwrap_or("?");
        let is_scored = matches!(
            tag,
            "rsc_location" | "rsc_colocation" | "rsc_order" | "rule" | "resource_set"
        );
        if is_scored
            && let Some(value) = e.attribute("score")
            && Score::parse(value).is_none()
        {
            problems.push(VerifyError::InvalidScore {
                element: tag.into(),
                id: id.into(),
                attribute: "score".into(),
                value: value.into(),
            });
        }
        for (attribute, allowed, why) in enumerated(tag) {
            if let Some(value) = e.attribute(*attribute)
                && !allowed.contains(&value)
            {
                problems.push(VerifyError::Read(CibError::InvalidAttribute {
                    element: tag.into(),
                    id: id.into(),
                    attribute: (*attribute).into(),
                    value: value.into(),
                    why,
                }));
            }
        }
        if tag == "resource_ref"
            && let Some(target) = e.attribute("id")
            && !known.referable.contains(target)
        {
            let set = e.parent_element();
            problems.push(VerifyError::DanglingReference {
                element: "resource_set".into(),
                id: set.and_then(|s| s.attribute("id")).unwrap_or("?").into(),
                attribute: "resource_ref",
                value: target.into(),
                what: "resource",
            });
        }
    }
    for o in config.descendants().filter(|e| e.has_tag_name("rsc_order")) {
        set_orders(o, &mut known.set_orders);
    }
    (problems, known)
}

const ROLES: &[&str] = &[
    "Stopped",
    "Started",
    "Unpromoted",
    "Promoted",
    "Slave",
    "Master",
];
const ACTIONS: &[&str] = &["start", "stop", "promote", "demote"];

/// Attributes with a fixed set of values that the reader would otherwise take for their
/// default (a misspelt order kind would silently become Mandatory).
fn enumerated(tag: &str) -> &'static [(&'static str, &'static [&'static str], &'static str)] {
    match tag {
        "rsc_location" => &[("role", ROLES, "not a role")],
        "rsc_colocation" => &[
            ("rsc-role", ROLES, "not a role"),
            ("with-rsc-role", ROLES, "not a role"),
        ],
        "rsc_order" => &[
            (
                "kind",
                &["Mandatory", "Optional", "Serialize"],
                "not an order kind",
            ),
            ("first-action", ACTIONS, "not an action"),
            ("then-action", ACTIONS, "not an action"),
        ],
        "op" => &[("role", ROLES, "not a role")],
        _ => &[],
    }
}

/// The pairs a `rsc_order` with resource sets stands for: within a sequential set each member
/// waits for the one before, and every member of a set waits for every member of the set
/// before it. Only mandatory orders matter for cycles.
fn set_orders(o: XNode<'_, '_>, out: &mut Vec<Order>) {
    let mandatory = match o.attribute("kind") {
        Some(kind) => kind == "Mandatory",
        None => o.attribute("score").is_none_or(|s| s != "0"),
    };
    if !mandatory {
        return;
    }
    let id = o.attribute("id").unwrap_or("?");
    let symmetrical = o.attribute("symmetrical").is_none_or(is_true);
    let mut pair = |(first, first_action): (&str, &str), (then, then_action): (&str, &str)| {
        out.push(Order {
            id: id.into(),
            first: first.into(),
            then: then.into(),
            first_action: first_action.into(),
            then_action: then_action.into(),
            kind: OrderKind::Mandatory,
            symmetrical,
        });
    };
    let mut previous: Vec<(&str, &str)> = Vec::new();
    for set in o.children().filter(|c| c.has_tag_name("resource_set")) {
        let action = set.attribute("action").unwrap_or("start");
        let members: Vec<(&str, &str)> = set
            .children()
            .filter(|c| c.has_tag_name("resource_ref"))
            .filter_map(|r| r.attribute("id"))
            .map(|m| (m, action))
            .collect();
        if set.attribute("sequential").is_none_or(is_true) {
            for w in members.windows(2) {
                pair(w[0], w[1]);
            }
        }
        for &first in &previous {
            for &then in &members {
                pair(first, then);
            }
        }
        if !members.is_empty() {
            previous = members;
        }
    }
}

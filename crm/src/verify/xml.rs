//! Checks over the raw CIB, for what the model does not keep: the id of every configuration
//! element, references from resource sets, the scores of rules and sets.

use std::collections::BTreeMap;

use roxmltree::{Document, Node as XNode};

use super::{Known, VerifyError};
use crate::model::Score;

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
    (problems, known)
}

//! Resource sets, tags and templates in constraints, expanded into the pairwise constraints
//! the model holds, as Pacemaker 2.1.5 unpacks them:
//!
//! * order sets: in a sequential set each member after the one before; from one set to the
//!   next, the last member of a sequential set (every member of another) before the first
//!   member of a sequential next set (every member of another);
//! * colocation sets: in a sequential set each member with the one before (a negative score:
//!   with every one before); from one set to the next, the first member of a sequential set
//!   (every member of another) with the last member of a sequential next set (every member of
//!   another);
//! * ticket and location sets: each member;
//! * a `tag` or a `template` named in a set stands for its members; named as one side of a
//!   colocation or order, both sides become sequential sets (two tags or templates cannot be
//!   colocated: such a colocation is ignored).

use std::collections::BTreeMap;

use roxmltree::Node as XNode;

use crate::model::{Colocation, Order, OrderKind, Role, Score, is_true};

use super::children;

/// What names in constraints stand for several resources: tags and templates.
#[derive(Debug, Default)]
pub(super) struct Refs {
    members: BTreeMap<String, Vec<String>>,
}

impl Refs {
    /// Tags (`tags/tag/obj_ref`) and templates (the primitives that name one) of a
    /// `configuration`.
    pub(super) fn read(config: XNode<'_, '_>) -> Self {
        let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for tags in children(config, "tags") {
            for tag in children(tags, "tag") {
                let refs = children(tag, "obj_ref")
                    .filter_map(|r| r.attribute("id").map(str::to_string))
                    .collect();
                members.insert(tag.attribute("id").unwrap_or("").to_string(), refs);
            }
        }
        for p in config.descendants().filter(|n| n.has_tag_name("primitive")) {
            if let (Some(t), Some(id)) = (p.attribute("template"), p.attribute("id")) {
                members
                    .entry(t.to_string())
                    .or_default()
                    .push(id.to_string());
            }
        }
        Self { members }
    }

    /// Whether `name` is a tag or a template.
    pub(super) fn is_ref(&self, name: &str) -> bool {
        self.members.contains_key(name)
    }

    /// The resources `name` stands for (itself, unless it is a tag or a template).
    pub(super) fn expand(&self, name: &str) -> Vec<String> {
        self.members
            .get(name)
            .cloned()
            .unwrap_or_else(|| vec![name.to_string()])
    }
}

/// One `resource_set`.
#[derive(Debug)]
pub(super) struct Set {
    members: Vec<String>,
    sequential: bool,
    require_all: bool,
    action: Option<String>,
    role: Option<Role>,
    score: Option<Score>,
}

impl Set {
    /// The set Pacemaker makes of a plain reference when the other side of a colocation or
    /// order is a tag or a template: sequential, with the reference's role or action.
    pub(super) fn of(refs: &Refs, name: &str, role: Option<Role>, action: Option<&str>) -> Self {
        Self {
            members: refs.expand(name),
            sequential: true,
            require_all: true,
            action: action.map(str::to_string),
            role,
            score: None,
        }
    }
}

/// The `resource_set`s of a constraint, members expanded.
pub(super) fn read(c: XNode<'_, '_>, refs: &Refs) -> Vec<Set> {
    children(c, "resource_set")
        .map(|s| Set {
            members: children(s, "resource_ref")
                .filter_map(|r| r.attribute("id"))
                .flat_map(|id| refs.expand(id))
                .collect(),
            sequential: s.attribute("sequential").is_none_or(is_true),
            require_all: s.attribute("require-all").is_none_or(is_true),
            action: s.attribute("action").map(str::to_string),
            role: s.attribute("role").and_then(Role::parse),
            score: s.attribute("score").and_then(Score::parse),
        })
        .collect()
}

/// The members of a set, or only its first or last when it is sequential.
fn ends(set: &Set, last: bool) -> Vec<&str> {
    let pick = if last {
        set.members.last()
    } else {
        set.members.first()
    };
    match (set.sequential, pick) {
        (true, Some(m)) => vec![m.as_str()],
        _ => set.members.iter().map(String::as_str).collect(),
    }
}

/// The orders an `rsc_order` with sets stands for.
pub(super) fn orders(id: &str, sets: &[Set], kind: OrderKind, symmetrical: bool) -> Vec<Order> {
    let order = |first: &str, then: &str, fa: &Set, ta: &Set| Order {
        id: id.to_string(),
        first: first.to_string(),
        then: then.to_string(),
        first_action: fa.action.clone().unwrap_or_else(|| "start".into()),
        then_action: ta.action.clone().unwrap_or_else(|| "start".into()),
        kind,
        symmetrical,
    };
    let mut out = Vec::new();
    for set in sets {
        if set.sequential {
            for pair in set.members.windows(2) {
                out.push(order(&pair[0], &pair[1], set, set));
            }
        }
    }
    for pair in sets.windows(2) {
        // "One or more of the first set" is not an order between members.
        if !pair[0].require_all {
            continue;
        }
        for first in ends(&pair[0], true) {
            for then in ends(&pair[1], false) {
                out.push(order(first, then, &pair[0], &pair[1]));
            }
        }
    }
    out
}

/// The colocations an `rsc_colocation` with sets stands for.
pub(super) fn colocations(id: &str, sets: &[Set], score: Score) -> Vec<Colocation> {
    let coloc = |rsc: &str, with: &str, score: Score, role: Option<Role>, with_role| Colocation {
        id: id.to_string(),
        rsc: rsc.to_string(),
        with_rsc: with.to_string(),
        score,
        rsc_role: role,
        with_role,
    };
    let mut out = Vec::new();
    for set in sets {
        let score = set.score.unwrap_or(score);
        if !set.sequential {
            continue;
        }
        for (k, rsc) in set.members.iter().enumerate().skip(1) {
            let withs = if score.0 >= 0 {
                &set.members[k - 1..k]
            } else {
                &set.members[..k]
            };
            for with in withs {
                out.push(coloc(rsc, with, score, set.role, set.role));
            }
        }
    }
    for pair in sets.windows(2) {
        if score.0 == 0 {
            break;
        }
        for rsc in ends(&pair[0], false) {
            for with in ends(&pair[1], true) {
                out.push(coloc(rsc, with, score, pair[0].role, pair[1].role));
            }
        }
    }
    out
}

/// Each member of each set, with the set's role (ticket and location sets).
pub(super) fn members(sets: &[Set]) -> Vec<(String, Option<Role>)> {
    sets.iter()
        .flat_map(|s| s.members.iter().map(move |m| (m.clone(), s.role)))
        .collect()
}

//! The one-line constraint forms:
//!
//! - `vip prefers ctl1`, `vip prefers ctl1 50`, `vip avoids ctl2` (−INFINITY),
//!   `galera-clone:Promoted prefers ctl1 100`
//! - `api with vip`, `api with vip 100`, `vip with galera-clone:Promoted`
//! - `vip then api`, `galera-clone:promote then api:start`, `vip then api Optional`
//!
//! A resource may carry a role (locations, colocations) or an action (orders) after a colon.

use super::YamlError;
use super::doc::{ColocationDoc, LocationDoc, OrderDoc, Text};
use super::read::invalid;

fn split(word: &str) -> (String, Option<String>) {
    match word.split_once(':') {
        Some((rsc, suffix)) => (rsc.into(), Some(suffix.into())),
        None => (word.into(), None),
    }
}

fn refuse(element: &'static str, line: &str, why: &'static str) -> YamlError {
    invalid(element, line, "line", line, why)
}

/// `RSC[:ROLE] prefers|avoids NODE [SCORE]`.
pub(super) fn location(line: &str) -> Result<LocationDoc, YamlError> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let shape = "not RSC prefers NODE [SCORE] or RSC avoids NODE [SCORE]";
    let [rsc, verb, node, rest @ ..] = words.as_slice() else {
        return Err(refuse("location", line, shape));
    };
    let score = match (*verb, rest) {
        ("prefers", []) => "INFINITY".to_string(),
        ("avoids", []) => "-INFINITY".to_string(),
        ("prefers", [s]) => (*s).to_string(),
        // "avoids ctl2 100" is a preference of −100.
        ("avoids", [s]) => s
            .strip_prefix('-')
            .map_or_else(|| format!("-{s}"), str::to_string),
        _ => return Err(refuse("location", line, shape)),
    };
    let (rsc, role) = split(rsc);
    Ok(LocationDoc {
        rsc,
        node: (*node).into(),
        score: Some(Text::Str(score)),
        role,
        id: None,
    })
}

/// `RSC[:ROLE] with RSC[:ROLE] [SCORE]`.
pub(super) fn colocation(line: &str) -> Result<ColocationDoc, YamlError> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let (rsc, with, score) = match words.as_slice() {
        [rsc, "with", with] => (rsc, with, None),
        [rsc, "with", with, score] => (rsc, with, Some(Text::Str((*score).into()))),
        _ => return Err(refuse("colocation", line, "not RSC with RSC [SCORE]")),
    };
    let ((rsc, rsc_role), (with, with_role)) = (split(rsc), split(with));
    Ok(ColocationDoc {
        rsc,
        with,
        score,
        rsc_role,
        with_role,
        id: None,
    })
}

/// `RSC[:ACTION] then RSC[:ACTION] [KIND]`.
pub(super) fn order(line: &str) -> Result<OrderDoc, YamlError> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let (first, then, kind) = match words.as_slice() {
        [first, "then", then] => (first, then, None),
        [first, "then", then, kind] => (first, then, Some((*kind).to_string())),
        _ => return Err(refuse("order", line, "not RSC then RSC [KIND]")),
    };
    let ((first, first_action), (then, then_action)) = (split(first), split(then));
    Ok(OrderDoc {
        first,
        then,
        first_action,
        then_action,
        kind,
        symmetrical: None,
        id: None,
    })
}

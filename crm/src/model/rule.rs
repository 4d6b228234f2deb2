//! Rules of location constraints: node attribute expressions (`#uname`, defined /
//! not_defined, comparisons as string, integer or version), combined with `boolean-op`.
//! Date expressions are not evaluated in this part: they never match.

use super::{Attrs, Role, Score};

/// A `<rule>`.
#[derive(Debug, Clone, Default)]
pub struct Rule {
    /// `id`.
    pub id: String,
    /// `score`.
    pub score: Option<Score>,
    /// `score-attribute`: the score is this node attribute's value.
    pub score_attribute: Option<String>,
    /// `boolean-op="or"` (the default is and).
    pub any: bool,
    /// `role`.
    pub role: Option<Role>,
    /// Expressions and nested rules.
    pub terms: Vec<Term>,
}

/// One part of a rule.
#[derive(Debug, Clone)]
pub enum Term {
    /// `<expression attribute operation value type>`.
    Attr {
        /// `attribute`.
        attribute: String,
        /// `operation`.
        operation: String,
        /// `value`.
        value: Option<String>,
        /// `type` (string, integer, number, version; empty when not given: a comparison of
        /// order is then numeric, `number` if either value has a decimal point, else
        /// `integer`, and an equality is a string comparison).
        kind: String,
    },
    /// A nested `<rule>`.
    Rule(Rule),
    /// Anything not evaluated here (date expressions, …): never true.
    Unsupported,
}

impl Rule {
    /// Whether the rule holds on a node with these attributes (`#uname` and `#id` included).
    pub fn matches(&self, attrs: &Attrs) -> bool {
        let mut results = self.terms.iter().map(|t| t.matches(attrs));
        if self.terms.is_empty() {
            return false;
        }
        if self.any {
            results.any(|r| r)
        } else {
            results.all(|r| r)
        }
    }

    /// The score this rule gives a node where it holds.
    pub fn score_on(&self, attrs: &Attrs) -> Score {
        match &self.score_attribute {
            Some(a) => attrs
                .get(a)
                .and_then(|v| Score::parse(v))
                .unwrap_or(Score::ZERO),
            None => self.score.unwrap_or(Score::ZERO),
        }
    }
}

impl Term {
    fn matches(&self, attrs: &Attrs) -> bool {
        match self {
            Self::Rule(r) => r.matches(attrs),
            Self::Unsupported => false,
            Self::Attr {
                attribute,
                operation,
                value,
                kind,
            } => {
                let actual = attrs.get(attribute);
                match operation.as_str() {
                    "defined" => return actual.is_some(),
                    "not_defined" => return actual.is_none(),
                    _ => {}
                }
                let (Some(a), Some(v)) = (actual, value) else {
                    return operation == "ne" && actual.is_none() && value.is_some();
                };
                let ordering = matches!(operation.as_str(), "lt" | "lte" | "gt" | "gte");
                let kind = match kind.as_str() {
                    "" if ordering && (a.contains('.') || v.contains('.')) => "number",
                    "" if ordering => "integer",
                    "" => "string",
                    k => k,
                };
                let ord = match kind {
                    "integer" => match (leading_integer(a), leading_integer(v)) {
                        (Some(x), Some(y)) => Some(x.cmp(&y)),
                        _ => Some(a.as_str().cmp(v.as_str())),
                    },
                    "number" => match (a.trim().parse::<f64>(), v.trim().parse::<f64>()) {
                        (Ok(x), Ok(y)) => x.partial_cmp(&y),
                        _ => Some(a.as_str().cmp(v.as_str())),
                    },
                    "version" => Some(version_cmp(a, v)),
                    _ => Some(a.as_str().cmp(v.as_str())),
                };
                let Some(ord) = ord else { return false };
                use std::cmp::Ordering::{Equal, Greater, Less};
                match operation.as_str() {
                    "eq" => ord == Equal,
                    "ne" => ord != Equal,
                    "lt" => ord == Less,
                    "lte" => ord != Greater,
                    "gt" => ord == Greater,
                    "gte" => ord != Less,
                    _ => false,
                }
            }
        }
    }
}

/// The integer a value starts with, as C's `strtoll` reads it ("3.6" is 3).
fn leading_integer(text: &str) -> Option<i64> {
    let t = text.trim();
    let end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(t.len(), |(i, _)| i);
    t[..end].parse().ok()
}

fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    let (x, y) = (parts(a), parts(b));
    for i in 0..x.len().max(y.len()) {
        let c = x.get(i).unwrap_or(&0).cmp(y.get(i).unwrap_or(&0));
        if c.is_ne() {
            return c;
        }
    }
    std::cmp::Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs() -> Attrs {
        [("#uname", "node1"), ("ram", "2048"), ("os", "linux")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expr(attribute: &str, operation: &str, value: Option<&str>, kind: &str) -> Term {
        Term::Attr {
            attribute: attribute.into(),
            operation: operation.into(),
            value: value.map(str::to_string),
            kind: kind.into(),
        }
    }

    #[test]
    fn and_or_and_integer_comparisons() {
        let rule = Rule {
            terms: vec![
                expr("#uname", "eq", Some("node1"), "string"),
                expr("ram", "gt", Some("1024"), "integer"),
            ],
            ..Rule::default()
        };
        assert!(rule.matches(&attrs()));
        let rule = Rule {
            terms: vec![
                expr("ram", "gt", Some("4096"), "integer"),
                expr("gpu", "defined", None, "string"),
            ],
            any: true,
            ..Rule::default()
        };
        assert!(!rule.matches(&attrs()));
    }

    #[test]
    fn without_a_type_order_comparisons_are_numeric_and_integers_truncate() {
        let on =
            |value: &str| -> Attrs { [("v".to_string(), value.to_string())].into_iter().collect() };
        let test = |op: &str, value: &str, kind: &str| Rule {
            terms: vec![expr("v", op, Some(value), kind)],
            ..Rule::default()
        };
        // "10.4" > "3.4" as numbers, not as strings.
        assert!(test("gt", "3.4", "").matches(&on("10.4")));
        assert!(!test("gt", "10.6", "").matches(&on("3.4")));
        assert!(test("gt", "3", "").matches(&on("10")));
        // As integers, 3.4 and 3.6 are both 3.
        assert!(test("eq", "3.6", "integer").matches(&on("3.4")));
        // Equality without a type compares strings.
        assert!(!test("eq", "3.0", "").matches(&on("3")));
    }
}

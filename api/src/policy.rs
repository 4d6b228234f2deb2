//! Authorization rules in oslo.policy's language, with Masakari's defaults (admin only) plus one
//! narrow rule letting a monitor's role create notifications and nothing else.
//!
//! A policy file (YAML or JSON, `rule: "check string"`) overrides any rule. Check strings:
//! `@` (allow), `!` (deny), `role:<name>`, `rule:<name>`, `<credential>:<value>` where the value
//! may be `%(<target>)s`, combined with `and`, `or`, `not` and parentheses.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

/// The role a monitor's service user needs to post notifications.
pub const MONITOR_ROLE: &str = "instance-ha-monitor";

/// Masakari's rules, and ours.
pub fn default_rules() -> Vec<(String, String)> {
    let mut rules: Vec<(String, String)> = vec![
        ("context_is_admin".into(), "role:admin".into()),
        (
            "admin_or_owner".into(),
            "is_admin:True or project_id:%(project_id)s".into(),
        ),
        ("admin_api".into(), "is_admin:True".into()),
        ("instance_ha_monitor".into(), format!("role:{MONITOR_ROLE}")),
    ];
    let admin = |area: &str, actions: &[&str], rules: &mut Vec<(String, String)>| {
        for action in actions {
            rules.push((
                format!("os_masakari_api:{area}:{action}"),
                "rule:admin_api".into(),
            ));
        }
    };
    admin(
        "extensions",
        &["index", "detail", "discoverable"],
        &mut rules,
    );
    admin(
        "segments",
        &[
            "index",
            "detail",
            "create",
            "update",
            "delete",
            "discoverable",
        ],
        &mut rules,
    );
    admin(
        "os-hosts",
        &[
            "index",
            "detail",
            "create",
            "update",
            "delete",
            "discoverable",
        ],
        &mut rules,
    );
    admin(
        "notifications",
        &["index", "detail", "action", "discoverable"],
        &mut rules,
    );
    admin("vmoves", &["index", "detail", "discoverable"], &mut rules);
    // Lifeboat's fencing (microversion 1.5): configuring BMCs and switching power are for
    // administrators only.
    admin(
        "fence-devices",
        &["index", "detail", "create", "update", "delete"],
        &mut rules,
    );
    admin("fence-history", &["index"], &mut rules);
    // Reading power is a rule of its own, so a policy file can let the monitors' role read
    // power states (their host_status check) without letting it switch anything.
    admin("os-hosts", &["power", "power:status"], &mut rules);
    rules.push((
        "os_masakari_api:notifications:create".into(),
        "rule:admin_api or rule:instance_ha_monitor".into(),
    ));
    rules.push(("os_masakari_api:versions:index".into(), "@".into()));
    rules.push(("os_masakari_api:versions:discoverable".into(), "@".into()));
    rules
}

/// Who is asking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// User id.
    pub user_id: String,
    /// Project id.
    pub project_id: Option<String>,
    /// Role names.
    pub roles: Vec<String>,
    /// Whether `context_is_admin` passed.
    pub is_admin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    Always,
    Never,
    Role(String),
    Ref(String),
    Match { key: String, value: String },
    Not(Box<Self>),
    And(Vec<Self>),
    Or(Vec<Self>),
}

/// A check string that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The rule text is malformed.
    #[error("policy rule {name} = {text:?} does not parse: {reason}")]
    Parse {
        /// Rule name.
        name: String,
        /// Rule text.
        text: String,
        /// Why.
        reason: RuleSyntaxError,
    },
    /// The policy file could not be read.
    #[error("reading policy file {path} failed: {reason}")]
    File {
        /// Path.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Why a check string is not a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleSyntaxError {
    /// A complete rule is followed by more text.
    #[error("unexpected '{0}'")]
    Unexpected(String),
    /// A `(` is not closed.
    #[error("missing ')'")]
    Unclosed,
    /// An operator has nothing after it.
    #[error("the rule ends too early")]
    EndsEarly,
    /// A word is neither an operator nor a `kind:value` check.
    #[error("'{0}' is not a check (kind:value)")]
    NotACheck(String),
}

/// The rules in force.
#[derive(Debug, Clone)]
pub struct Policy {
    rules: HashMap<String, Rule>,
}

impl Policy {
    /// The defaults overridden by `overrides`.
    pub fn new(overrides: &[(String, String)]) -> Result<Self, PolicyError> {
        let mut rules = HashMap::new();
        for (name, text) in default_rules().iter().chain(overrides) {
            let rule = parse(text).map_err(|reason| PolicyError::Parse {
                name: name.clone(),
                text: text.clone(),
                reason,
            })?;
            rules.insert(name.clone(), rule);
        }
        Ok(Self { rules })
    }

    /// The defaults overridden by a policy file, if it exists.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let file_error = |reason: String| PolicyError::File {
            path: path.display().to_string(),
            reason,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Self::new(&[]),
            Err(e) => return Err(file_error(e.to_string())),
        };
        if text.trim().is_empty() {
            return Self::new(&[]);
        }
        let map: HashMap<String, String> =
            serde_yaml::from_str(&text).map_err(|e| file_error(e.to_string()))?;
        let overrides: Vec<(String, String)> = map.into_iter().collect();
        Self::new(&overrides)
    }

    /// Whether `rule` allows `creds` to act on `target` (a map of target attributes such as
    /// `project_id`). An unknown rule denies.
    pub fn allows(&self, rule: &str, creds: &Credentials, target: &HashMap<&str, String>) -> bool {
        match self.rules.get(rule) {
            Some(r) => self.eval(r, creds, target, 0),
            None => false,
        }
    }

    fn eval(
        &self,
        rule: &Rule,
        creds: &Credentials,
        target: &HashMap<&str, String>,
        depth: usize,
    ) -> bool {
        // Rules referring to each other in a loop deny instead of recursing forever.
        if depth > 32 {
            return false;
        }
        match rule {
            Rule::Always => true,
            Rule::Never => false,
            Rule::Role(role) => creds.roles.iter().any(|r| r.eq_ignore_ascii_case(role)),
            Rule::Ref(name) => self
                .rules
                .get(name)
                .is_some_and(|r| self.eval(r, creds, target, depth + 1)),
            Rule::Match { key, value } => {
                let expected = match value.strip_prefix("%(").and_then(|v| v.strip_suffix(")s")) {
                    Some(target_key) => match target.get(target_key.trim()) {
                        Some(v) => v.clone(),
                        None => return false,
                    },
                    None => value.clone(),
                };
                let actual = match key.as_str() {
                    "is_admin" => Some(if creds.is_admin { "True" } else { "False" }.to_owned()),
                    "user_id" => Some(creds.user_id.clone()),
                    "project_id" | "tenant_id" | "tenant" => creds.project_id.clone(),
                    _ => None,
                };
                actual.is_some_and(|a| a.eq_ignore_ascii_case(&expected) && !a.is_empty())
            }
            Rule::Not(inner) => !self.eval(inner, creds, target, depth + 1),
            Rule::And(parts) => parts.iter().all(|p| self.eval(p, creds, target, depth + 1)),
            Rule::Or(parts) => parts.iter().any(|p| self.eval(p, creds, target, depth + 1)),
        }
    }
}

/// The rules in force while the API runs: clones share them, and [`PolicyHandle::replace`]
/// swaps them for every request that starts afterwards (a reload on SIGHUP).
#[derive(Debug, Clone)]
pub struct PolicyHandle(Arc<RwLock<Arc<Policy>>>);

impl PolicyHandle {
    /// A handle on `policy`.
    pub fn new(policy: Policy) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(policy))))
    }

    /// The rules in force now.
    pub fn current(&self) -> Arc<Policy> {
        // A panic elsewhere cannot leave an Arc half-written; the rules stay usable.
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts `policy` in force.
    pub fn replace(&self, policy: Policy) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(policy);
    }

    /// [`Policy::allows`] with the rules in force now.
    pub fn allows(&self, rule: &str, creds: &Credentials, target: &HashMap<&str, String>) -> bool {
        self.current().allows(rule, creds, target)
    }
}

fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // A `%(name)s` placeholder belongs to the check around it.
            '%' if chars.peek() == Some(&'(') => {
                current.push(c);
                for inner in chars.by_ref() {
                    current.push(inner);
                    if inner == ')' {
                        break;
                    }
                }
                if chars.peek() == Some(&'s') {
                    current.push('s');
                    chars.next();
                }
            }
            '(' | ')' => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
                tokens.push(c.to_string());
            }
            c if c.is_whitespace() => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

fn parse(text: &str) -> Result<Rule, RuleSyntaxError> {
    let tokens = tokenize(text);
    if tokens.is_empty() {
        return Ok(Rule::Always);
    }
    let mut pos = 0;
    let rule = parse_or(&tokens, &mut pos)?;
    if pos != tokens.len() {
        return Err(RuleSyntaxError::Unexpected(tokens[pos].clone()));
    }
    Ok(rule)
}

fn parse_or(tokens: &[String], pos: &mut usize) -> Result<Rule, RuleSyntaxError> {
    let mut parts = vec![parse_and(tokens, pos)?];
    while tokens
        .get(*pos)
        .is_some_and(|t| t.eq_ignore_ascii_case("or"))
    {
        *pos += 1;
        parts.push(parse_and(tokens, pos)?);
    }
    Ok(if parts.len() == 1 {
        parts.remove(0)
    } else {
        Rule::Or(parts)
    })
}

fn parse_and(tokens: &[String], pos: &mut usize) -> Result<Rule, RuleSyntaxError> {
    let mut parts = vec![parse_not(tokens, pos)?];
    while tokens
        .get(*pos)
        .is_some_and(|t| t.eq_ignore_ascii_case("and"))
    {
        *pos += 1;
        parts.push(parse_not(tokens, pos)?);
    }
    Ok(if parts.len() == 1 {
        parts.remove(0)
    } else {
        Rule::And(parts)
    })
}

fn parse_not(tokens: &[String], pos: &mut usize) -> Result<Rule, RuleSyntaxError> {
    if tokens
        .get(*pos)
        .is_some_and(|t| t.eq_ignore_ascii_case("not"))
    {
        *pos += 1;
        return Ok(Rule::Not(Box::new(parse_not(tokens, pos)?)));
    }
    parse_atom(tokens, pos)
}

fn parse_atom(tokens: &[String], pos: &mut usize) -> Result<Rule, RuleSyntaxError> {
    let token = tokens.get(*pos).ok_or(RuleSyntaxError::EndsEarly)?;
    *pos += 1;
    match token.as_str() {
        "(" => {
            let inner = parse_or(tokens, pos)?;
            if tokens.get(*pos).map(String::as_str) != Some(")") {
                return Err(RuleSyntaxError::Unclosed);
            }
            *pos += 1;
            Ok(inner)
        }
        "@" => Ok(Rule::Always),
        "!" => Ok(Rule::Never),
        check => {
            let (kind, value) = check
                .split_once(':')
                .ok_or_else(|| RuleSyntaxError::NotACheck(check.to_owned()))?;
            Ok(match kind {
                "role" => Rule::Role(value.to_owned()),
                "rule" => Rule::Ref(value.to_owned()),
                _ => Rule::Match {
                    key: kind.to_owned(),
                    value: value.to_owned(),
                },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_rule_says_what_is_wrong_with_it() {
        for (text, wrong) in [
            (
                "role:a role:b",
                RuleSyntaxError::Unexpected("role:b".into()),
            ),
            ("(role:a", RuleSyntaxError::Unclosed),
            ("role:a and", RuleSyntaxError::EndsEarly),
            ("bareword", RuleSyntaxError::NotACheck("bareword".into())),
        ] {
            assert_eq!(parse(text), Err(wrong), "{text}");
        }
        let refused = Policy::new(&[("x".into(), "(role:a".into())]).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "policy rule x = \"(role:a\" does not parse: missing ')'"
        );
    }

    fn creds(roles: &[&str], project: &str) -> Credentials {
        let mut c = Credentials {
            user_id: "u1".into(),
            project_id: Some(project.into()),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            is_admin: false,
        };
        let policy = Policy::new(&[]).unwrap();
        c.is_admin = policy.allows("context_is_admin", &c, &HashMap::new());
        c
    }

    #[test]
    fn defaults_are_admin_only_with_a_monitor_exception() {
        let p = Policy::new(&[]).unwrap();
        let none = HashMap::new();
        let admin = creds(&["admin"], "p1");
        let member = creds(&["member"], "p1");
        let monitor = creds(&[MONITOR_ROLE], "p1");
        assert!(p.allows("os_masakari_api:segments:index", &admin, &none));
        assert!(!p.allows("os_masakari_api:segments:index", &member, &none));
        assert!(p.allows("os_masakari_api:notifications:create", &monitor, &none));
        assert!(!p.allows("os_masakari_api:notifications:index", &monitor, &none));
        assert!(!p.allows("os_masakari_api:os-hosts:create", &monitor, &none));
        assert!(!p.allows("os_masakari_api:os-hosts:power:status", &monitor, &none));
        assert!(p.allows("os_masakari_api:os-hosts:power:status", &admin, &none));
        assert!(p.allows("os_masakari_api:versions:index", &member, &none));
        assert!(!p.allows("no:such:rule", &admin, &none));
    }

    #[test]
    fn overrides_use_the_full_language() {
        let p = Policy::new(&[
            (
                "os_masakari_api:segments:index".into(),
                "role:reader or (role:member and project_id:%(project_id)s)".into(),
            ),
            (
                "os_masakari_api:segments:delete".into(),
                "not role:member and rule:admin_api".into(),
            ),
            ("os_masakari_api:segments:create".into(), "!".into()),
        ])
        .unwrap();
        let target: HashMap<&str, String> = [("project_id", "p1".to_owned())].into();
        assert!(p.allows(
            "os_masakari_api:segments:index",
            &creds(&["reader"], "p9"),
            &target
        ));
        assert!(p.allows(
            "os_masakari_api:segments:index",
            &creds(&["member"], "p1"),
            &target
        ));
        assert!(!p.allows(
            "os_masakari_api:segments:index",
            &creds(&["member"], "p2"),
            &target
        ));
        assert!(p.allows(
            "os_masakari_api:segments:delete",
            &creds(&["admin"], "p1"),
            &target
        ));
        assert!(!p.allows(
            "os_masakari_api:segments:delete",
            &creds(&["admin", "member"], "p1"),
            &target
        ));
        assert!(!p.allows(
            "os_masakari_api:segments:create",
            &creds(&["admin"], "p1"),
            &target
        ));
    }

    #[test]
    fn malformed_rules_are_refused_with_their_name() {
        let err = Policy::new(&[("x".into(), "role:a or (role:b".into())]).unwrap_err();
        assert!(err.to_string().contains("x"), "{err}");
        assert!(Policy::new(&[("x".into(), "role:a and".into())]).is_err());
        assert!(Policy::new(&[("x".into(), "bareword".into())]).is_err());
    }

    #[test]
    fn rule_loops_deny() {
        let p =
            Policy::new(&[("a".into(), "rule:b".into()), ("b".into(), "rule:a".into())]).unwrap();
        assert!(!p.allows("a", &creds(&["admin"], "p"), &HashMap::new()));
    }
}

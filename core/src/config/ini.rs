//! oslo.config's INI dialect: `[section]`, `key = value` or `key: value`, comments on their own
//! line (`#` or `;`), indented continuation lines, no inline comments, later keys win.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a value came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A config file and line.
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
    },
    /// An environment variable.
    Env(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File { path, line } => write!(f, "{}:{line}", path.display()),
            Self::Env(name) => write!(f, "environment variable {name}"),
        }
    }
}

/// One value as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawValue {
    /// The text after `=`, trimmed.
    pub text: String,
    /// Where it was written.
    pub origin: Origin,
}

/// Every `section → key → value` read so far; later sources override earlier ones.
/// Section names are kept as written except `DEFAULT`; keys are lower-cased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawConfig {
    sections: BTreeMap<String, BTreeMap<String, RawValue>>,
}

/// A line of a config file that is not INI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {reason}")]
pub struct IniSyntaxError {
    /// The file.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl RawConfig {
    /// Parses `text` (read from `path`) on top of what is already here.
    pub fn merge_ini(&mut self, path: &Path, text: &str) -> Result<(), IniSyntaxError> {
        let err = |line: usize, reason: &str| IniSyntaxError {
            path: path.display().to_string(),
            line,
            reason: reason.to_owned(),
        };
        let mut section: Option<String> = None;
        let mut last_key: Option<String> = None;
        for (index, raw_line) in text.lines().enumerate() {
            let number = index + 1;
            let trimmed = raw_line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let continuation = raw_line.starts_with([' ', '\t']);
            if continuation
                && let (Some(s), Some(k)) = (&section, &last_key)
                && let Some(v) = self.sections.get_mut(s).and_then(|m| m.get_mut(k))
            {
                if !v.text.is_empty() {
                    v.text.push('\n');
                }
                v.text.push_str(trimmed);
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                let name = rest
                    .strip_suffix(']')
                    .ok_or_else(|| err(number, "section header without ']'"))?
                    .trim();
                if name.is_empty() {
                    return Err(err(number, "empty section name"));
                }
                section = Some(normalise_section(name));
                last_key = None;
                continue;
            }
            let at = trimmed
                .find(['=', ':'])
                .ok_or_else(|| err(number, "expected 'key = value'"))?;
            let key = trimmed[..at].trim().to_ascii_lowercase();
            if key.is_empty() {
                return Err(err(number, "empty option name"));
            }
            let value = trimmed[at + 1..].trim().to_owned();
            let section_name = section
                .clone()
                .ok_or_else(|| err(number, "option outside of any [section]"))?;
            self.set(
                &section_name,
                &key,
                RawValue {
                    text: value,
                    origin: Origin::File {
                        path: path.to_path_buf(),
                        line: number,
                    },
                },
            );
            last_key = Some(key);
        }
        Ok(())
    }

    /// Sets one value.
    pub fn set(&mut self, section: &str, key: &str, value: RawValue) {
        self.sections
            .entry(normalise_section(section))
            .or_default()
            .insert(key.to_ascii_lowercase(), value);
    }

    /// The value of `section.key`, if written.
    pub fn get(&self, section: &str, key: &str) -> Option<&RawValue> {
        self.sections.get(section).and_then(|m| m.get(key))
    }

    /// Every written `(section, key, value)`.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str, &RawValue)> {
        self.sections
            .iter()
            .flat_map(|(s, m)| m.iter().map(move |(k, v)| (s.as_str(), k.as_str(), v)))
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.sections.values().all(BTreeMap::is_empty)
    }
}

fn normalise_section(name: &str) -> String {
    if name.eq_ignore_ascii_case("default") {
        "DEFAULT".to_owned()
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_oslo_ini_with_continuations_and_no_inline_comments() {
        let mut raw = RawConfig::default();
        let text = "# comment\n[DEFAULT]\nauth_strategy = noauth2\nHost: node-1\n\n[database]\nconnection = sqlite:///x # not a comment\n[taskflow_driver_recovery_flows]\nhost_auto_failure_recovery_tasks = main:['a'],\n    post:['b']\n";
        raw.merge_ini(Path::new("a.conf"), text).unwrap();
        assert_eq!(raw.get("DEFAULT", "auth_strategy").unwrap().text, "noauth2");
        assert_eq!(raw.get("DEFAULT", "host").unwrap().text, "node-1");
        assert_eq!(
            raw.get("database", "connection").unwrap().text,
            "sqlite:///x # not a comment"
        );
        assert_eq!(
            raw.get(
                "taskflow_driver_recovery_flows",
                "host_auto_failure_recovery_tasks"
            )
            .unwrap()
            .text,
            "main:['a'],\npost:['b']"
        );
        let mut later = raw.clone();
        later
            .merge_ini(Path::new("b.conf"), "[default]\nauth_strategy=keystone\n")
            .unwrap();
        assert_eq!(
            later.get("DEFAULT", "auth_strategy").unwrap().text,
            "keystone"
        );
    }

    #[test]
    fn reports_the_line_of_a_syntax_error() {
        let mut raw = RawConfig::default();
        let err = raw
            .merge_ini(Path::new("bad.conf"), "[DEFAULT]\njust words\n")
            .unwrap_err();
        assert_eq!(err.line, 2);
        let err = raw
            .merge_ini(Path::new("bad.conf"), "key = value\n")
            .unwrap_err();
        assert!(err.reason.contains("outside"));
    }
}

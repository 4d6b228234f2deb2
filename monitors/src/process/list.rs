//! `process_list.yaml`, read as masakari-monitors reads it: a YAML list of mappings in which
//! every key is present (an empty value means "no command").

use std::path::Path;

use serde_yaml::Value;

/// One monitored process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessEntry {
    /// Text searched for in each process's command line (`/usr/bin/nova-compute`).
    pub process_name: String,
    /// Run at monitor start when the process is not running.
    pub start_command: Vec<String>,
    /// Before `start_command`; a failure skips the start.
    pub pre_start_command: Vec<String>,
    /// After `start_command`.
    pub post_start_command: Vec<String>,
    /// Run when the process is missing.
    pub restart_command: Vec<String>,
    /// Before `restart_command`; a failure fails the attempt.
    pub pre_restart_command: Vec<String>,
    /// After `restart_command`; a failure fails the attempt.
    pub post_restart_command: Vec<String>,
    /// Accepted as in masakari-monitors; the agent runs commands with its own privileges.
    pub run_as_root: bool,
}

/// Why the list could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessListError {
    /// The file could not be read.
    #[error("reading the process list {path} failed: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file is not what masakari-monitors expects.
    #[error("the process list {path} is invalid: {source}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, naming the entry and key.
        source: ProcessEntryError,
    },
}

/// What is wrong with a process list's text (entries count from 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessEntryError {
    /// The text is not YAML.
    #[error("{reason}")]
    ReadYaml {
        /// The YAML parser's message.
        reason: String,
    },
    /// The document is not a list.
    #[error("the file must be a YAML list, not {kind}")]
    NotAList {
        /// What it is.
        kind: &'static str,
    },
    /// An entry is not a mapping.
    #[error("entry {entry} must be a mapping, not {kind}")]
    NotAMapping {
        /// The entry.
        entry: usize,
        /// What it is.
        kind: &'static str,
    },
    /// An entry lacks a key.
    #[error("entry {entry}: the key {key} is missing")]
    MissingKey {
        /// The entry.
        entry: usize,
        /// The key.
        key: &'static str,
    },
    /// An entry has a key masakari-monitors does not know.
    #[error("entry {entry}: unknown key {key:?}")]
    UnknownKey {
        /// The entry.
        entry: usize,
        /// The key.
        key: String,
    },
    /// A value has the wrong type.
    #[error("entry {entry}: {key} must be {expected}, not {kind}{hint}")]
    WrongType {
        /// The entry.
        entry: usize,
        /// The key.
        key: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What it is.
        kind: &'static str,
        /// How to fix it, if there is a common cause.
        hint: &'static str,
    },
}

const KEYS: &[&str] = &[
    "process_name",
    "start_command",
    "pre_start_command",
    "post_start_command",
    "restart_command",
    "pre_restart_command",
    "post_restart_command",
    "run_as_root",
];

/// Splits a command on whitespace, as masakari-monitors does (no shell, no quoting).
fn command(
    entry: usize,
    key: &'static str,
    value: &Value,
) -> Result<Vec<String>, ProcessEntryError> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(s.split_whitespace().map(str::to_owned).collect()),
        other => Err(ProcessEntryError::WrongType {
            entry,
            key,
            expected: "a string",
            kind: kind(other),
            hint: " (quote values such as true or 1)",
        }),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Parses the text of a process list.
pub fn parse(text: &str) -> Result<Vec<ProcessEntry>, ProcessEntryError> {
    let doc: Value = serde_yaml::from_str(text).map_err(|e| ProcessEntryError::ReadYaml {
        reason: e.to_string(),
    })?;
    let items = match doc {
        Value::Sequence(items) => items,
        Value::Null => Vec::new(),
        other => return Err(ProcessEntryError::NotAList { kind: kind(&other) }),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let n = i + 1;
            let map = item.as_mapping().ok_or(ProcessEntryError::NotAMapping {
                entry: n,
                kind: kind(item),
            })?;
            let get = |key: &'static str| {
                map.get(key)
                    .ok_or(ProcessEntryError::MissingKey { entry: n, key })
            };
            for key in map.keys() {
                let name = key.as_str().unwrap_or_default();
                if !KEYS.contains(&name) {
                    return Err(ProcessEntryError::UnknownKey {
                        entry: n,
                        key: name.to_owned(),
                    });
                }
            }
            let wrong = |key, expected, other| ProcessEntryError::WrongType {
                entry: n,
                key,
                expected,
                kind: kind(other),
                hint: "",
            };
            let process_name = match get("process_name")? {
                Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
                other => return Err(wrong("process_name", "a non-empty string", other)),
            };
            let run_as_root = match get("run_as_root")? {
                Value::Bool(b) => *b,
                Value::Null => false,
                other => return Err(wrong("run_as_root", "true or false", other)),
            };
            Ok(ProcessEntry {
                start_command: command(n, "start_command", get("start_command")?)?,
                pre_start_command: command(n, "pre_start_command", get("pre_start_command")?)?,
                post_start_command: command(n, "post_start_command", get("post_start_command")?)?,
                restart_command: command(n, "restart_command", get("restart_command")?)?,
                pre_restart_command: command(
                    n,
                    "pre_restart_command",
                    get("pre_restart_command")?,
                )?,
                post_restart_command: command(
                    n,
                    "post_restart_command",
                    get("post_restart_command")?,
                )?,
                process_name,
                run_as_root,
            })
        })
        .collect()
}

/// Reads and parses the process list at `path`.
pub fn load(path: &Path) -> Result<Vec<ProcessEntry>, ProcessListError> {
    let text = std::fs::read_to_string(path).map_err(|e| ProcessListError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    parse(&text).map_err(|source| ProcessListError::Invalid {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// masakari-monitors' own sample entry layout.
    const SAMPLE: &str = "
-
    # libvirt-bin
    process_name: /usr/sbin/libvirtd
    start_command: systemctl start libvirt-bin
    pre_start_command:
    post_start_command:
    restart_command: systemctl restart libvirt-bin
    pre_restart_command:
    post_restart_command:
    run_as_root: True
-
    process_name: /usr/local/bin/nova-compute
    start_command: systemctl start nova-compute
    pre_start_command:
    post_start_command:
    restart_command: systemctl restart nova-compute
    pre_restart_command: /bin/true
    post_restart_command:
    run_as_root: False
";

    #[test]
    fn the_masakari_sample_layout_parses() {
        let list = parse(SAMPLE).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].process_name, "/usr/sbin/libvirtd");
        assert_eq!(
            list[0].restart_command,
            vec!["systemctl", "restart", "libvirt-bin"]
        );
        assert!(list[0].pre_start_command.is_empty());
        assert!(list[0].run_as_root);
        assert_eq!(list[1].pre_restart_command, vec!["/bin/true"]);
        assert!(!list[1].run_as_root);
    }

    #[test]
    fn mistakes_are_named_with_the_entry_and_key() {
        let missing = SAMPLE.replace(
            "    post_restart_command:\n    run_as_root: False\n",
            "    run_as_root: False\n",
        );
        assert_eq!(
            parse(&missing).unwrap_err(),
            ProcessEntryError::MissingKey {
                entry: 2,
                key: "post_restart_command"
            }
        );
        let boolean = SAMPLE.replace(
            "pre_restart_command: /bin/true",
            "pre_restart_command: true",
        );
        let err = parse(&boolean).unwrap_err().to_string();
        assert!(
            err.contains("entry 2: pre_restart_command must be a string"),
            "{err}"
        );
        assert!(
            parse("process_name: x")
                .unwrap_err()
                .to_string()
                .contains("YAML list")
        );
        assert_eq!(
            parse("- [1, 2]").unwrap_err().to_string(),
            "entry 1 must be a mapping, not a list"
        );
        assert_eq!(parse("").unwrap(), Vec::new());
    }
}

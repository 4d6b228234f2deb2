//! docs/LOGGING.md's field table and the fields the code logs are the same set: every field a
//! `tracing` macro in production code names is in the table, and every name in the table is
//! used, so a renamed field (`server.id` for `instance.uuid`) fails here instead of splitting
//! a search in the logs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MACROS: [&str; 10] = [
    "trace!(",
    "debug!(",
    "info!(",
    "warn!(",
    "error!(",
    "trace_span!(",
    "debug_span!(",
    "info_span!(",
    "warn_span!(",
    "error_span!(",
];

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The names in the first column of LOGGING.md's tables (each in backquotes).
fn documented() -> BTreeSet<String> {
    let text = std::fs::read_to_string(workspace().join("docs/LOGGING.md")).unwrap();
    let mut names = BTreeSet::new();
    for line in text.lines().filter(|l| l.starts_with('|')) {
        let first = line.split('|').nth(1).unwrap_or("");
        for (i, part) in first.split('`').enumerate() {
            if i % 2 == 1 {
                names.insert(part.to_string());
            }
        }
    }
    names
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Production sources: each crate's `src/` (tests and benches log what they like).
fn production_sources() -> Vec<PathBuf> {
    let root = workspace();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    for entry in std::fs::read_dir(&root).unwrap() {
        let crate_dir = entry.unwrap().path();
        if crate_dir.join("Cargo.toml").is_file() && crate_dir.join("src").is_dir() {
            rust_files(&crate_dir.join("src"), &mut files);
        }
    }
    files
}

/// The macro's arguments up to its closing parenthesis, string literals blanked out (`""`).
fn arguments(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 1;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push_str("\"\"");
                while let Some(s) = chars.next() {
                    match s {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                out.push(c);
            }
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Splits at the commas that are not nested in brackets.
fn top_level(args: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in args.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&args[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&args[start..]);
    parts
}

fn is_field_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|p| {
            p.chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

/// The field names a macro call's arguments name: before an event's message, after a span's
/// name.
fn fields(args: &str, span: bool) -> Vec<String> {
    let mut names = Vec::new();
    let mut name_seen = !span;
    for arg in top_level(args) {
        let arg = arg.trim();
        if arg.starts_with('"') {
            if name_seen {
                break; // the message; what follows are its format arguments
            }
            name_seen = true;
            continue;
        }
        if arg.starts_with("parent:") || arg.starts_with("target:") || arg.starts_with("name:") {
            continue;
        }
        let name = match arg.split_once('=') {
            Some((name, _)) => name.trim(),
            None => arg.trim_start_matches(['%', '?']),
        };
        if is_field_name(name) {
            names.push(name.to_string());
        }
    }
    names
}

/// Every field name logged in production code, with where it is first used.
fn logged() -> BTreeMap<String, String> {
    let root = workspace();
    let mut found = BTreeMap::new();
    for file in production_sources() {
        let text = std::fs::read_to_string(&file).unwrap();
        for mac in MACROS {
            for (at, _) in text.match_indices(mac) {
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue; // `eprintln!(` and the like
                }
                let line = text[..at].lines().count();
                let place = format!("{}:{line}", file.strip_prefix(&root).unwrap().display());
                let span = mac.contains("_span");
                for name in fields(&arguments(&text[at + mac.len()..]), span) {
                    found.entry(name).or_insert_with(|| place.clone());
                }
            }
        }
    }
    found
}

#[test]
fn every_logged_field_is_in_the_logging_table_and_every_listed_field_is_logged() {
    let documented = documented();
    let logged = logged();
    assert!(
        logged.contains_key("host.name") && documented.contains("host.name"),
        "the scan found no host.name: the scanner is broken"
    );
    let undocumented: Vec<String> = logged
        .iter()
        .filter(|(name, _)| !documented.contains(*name))
        .map(|(name, place)| format!("{name} ({place})"))
        .collect();
    let unused: Vec<&String> = documented
        .iter()
        .filter(|name| !logged.contains_key(*name))
        .collect();
    assert!(
        undocumented.is_empty() && unused.is_empty(),
        "fields logged but not in docs/LOGGING.md: {undocumented:?}; \
         in docs/LOGGING.md but logged nowhere: {unused:?}"
    );
}

#[test]
fn the_field_scanner_reads_names_shorthands_and_stops_at_the_message() {
    let args = arguments(
        r#"parent: &span, host.name = %h, ?error, count = f(a, b), "x {}", later.field = 1); rest"#,
    );
    assert_eq!(fields(&args, false), ["host.name", "error", "count"]);
    let span = arguments(r#""recovery", notification.id = %id, attempt = 2)"#);
    assert_eq!(fields(&span, true), ["notification.id", "attempt"]);
}

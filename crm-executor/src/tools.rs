//! `crm_attribute`, `crm_master` and `crm_node -n` as agents call them: the `lifeboat`
//! binary answers under those names (the executor's `HA_SBIN_DIR` holds links to it) and
//! hands its arguments here. Node attributes go to the [`AttributeStore`] named by
//! `LIFEBOAT_CRM_ATTRIBUTES`; the local node is `LIFEBOAT_CRM_NODE`. Cluster options
//! (`crm_attribute` without a node or lifetime) are not kept here and are refused.

use std::path::{Path, PathBuf};

use crate::attributes::{AttributeStore, Lifetime};
use crate::env::{ATTRIBUTES_DIR_VAR, NODE_VAR};

/// The names the binary answers to.
pub const TOOL_NAMES: [&str; 3] = ["crm_attribute", "crm_master", "crm_node"];

/// Pacemaker's exit codes the tools use.
const EX_OK: i32 = 0;
const EX_ERROR: i32 = 1;
const EX_USAGE: i32 = 64;
const EX_NOSUCH: i32 = 105;

/// What the tools read from their environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolEnv {
    /// `LIFEBOAT_CRM_ATTRIBUTES`.
    pub attributes_dir: Option<PathBuf>,
    /// `LIFEBOAT_CRM_NODE`.
    pub node: Option<String>,
    /// `OCF_RESOURCE_INSTANCE` (the promotion score's resource).
    pub resource_instance: Option<String>,
}

impl ToolEnv {
    /// From a lookup of variables (`std::env::var` in the binary).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let present = |name: &str| get(name).filter(|v| !v.is_empty());
        Self {
            attributes_dir: present(ATTRIBUTES_DIR_VAR).map(PathBuf::from),
            node: present(NODE_VAR),
            resource_instance: present("OCF_RESOURCE_INSTANCE"),
        }
    }
}

/// What a tool printed and its exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    /// The exit code.
    pub code: i32,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl ToolOutput {
    fn ok(stdout: String) -> Self {
        Self {
            code: EX_OK,
            stdout,
            stderr: String::new(),
        }
    }

    fn fail(code: i32, tool: &str, message: &str) -> Self {
        Self {
            code,
            stdout: String::new(),
            stderr: format!("{tool}: {message}\n"),
        }
    }
}

/// Runs tool `program` (a path or a name; None when it is not one of [`TOOL_NAMES`]).
pub fn run_tool(program: &str, args: &[String], env: &ToolEnv) -> Option<ToolOutput> {
    let name = program.rsplit('/').next().unwrap_or(program);
    let out = match name {
        "crm_attribute" => crm_attribute(args, env, false),
        "crm_master" => crm_attribute(args, env, true),
        "crm_node" => crm_node(args, env),
        _ => return None,
    };
    Some(out.unwrap_or_else(|usage| ToolOutput::fail(EX_USAGE, name, &usage)))
}

/// Makes `dir` the agents' `HA_SBIN_DIR`: a link named after each tool, to `binary` (the
/// `lifeboat` executable). Links already there are replaced.
pub fn install_links(dir: &Path, binary: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for name in TOOL_NAMES {
        let link = dir.join(name);
        match std::fs::remove_file(&link) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        std::os::unix::fs::symlink(binary, &link)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    Flag,
    Value,
    /// glib's optional argument: only attached (`--promotion=rsc`, `-prsc`).
    Optional,
}

type Spec = [(char, &'static str, Arg)];

/// Options in glib/getopt style: `-v 5`, `-v5`, `--update 5`, `--update=5`, `-Gq`.
fn parse(args: &[String], spec: &Spec) -> Result<Vec<(char, Option<String>)>, String> {
    let mut out = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            if let Some(extra) = rest.next() {
                return Err(format!("unexpected argument '{extra}'"));
            }
            break;
        }
        let mut take = |kind: Arg, attached: Option<String>, shown: &str| match (kind, attached) {
            (Arg::Flag, None) => Ok(None),
            (Arg::Flag, Some(_)) => Err(format!("option {shown} takes no value")),
            (Arg::Optional, value) => Ok(value),
            (Arg::Value, Some(v)) => Ok(Some(v)),
            (Arg::Value, None) => rest
                .next()
                .cloned()
                .map(Some)
                .ok_or_else(|| format!("option {shown} needs a value")),
        };
        if let Some(long) = arg.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (long, None),
            };
            let &(short, _, kind) = spec
                .iter()
                .find(|(_, l, _)| *l == name)
                .ok_or_else(|| format!("unknown option --{name}"))?;
            out.push((short, take(kind, attached, arg)?));
        } else if let Some(shorts) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (i, c) in shorts.char_indices() {
                let &(short, _, kind) = spec
                    .iter()
                    .find(|(s, _, _)| *s == c)
                    .ok_or_else(|| format!("unknown option -{c}"))?;
                let tail = &shorts[i + c.len_utf8()..];
                if kind == Arg::Flag {
                    out.push((short, None));
                    continue;
                }
                let attached = (!tail.is_empty()).then(|| tail.to_owned());
                out.push((short, take(kind, attached, &format!("-{c}"))?));
                break;
            }
        } else {
            return Err(format!("unexpected argument '{arg}'"));
        }
    }
    Ok(out)
}

const ATTRIBUTE_OPTIONS: &Spec = &[
    ('n', "name", Arg::Value),
    ('p', "promotion", Arg::Optional),
    ('v', "update", Arg::Value),
    ('D', "delete", Arg::Flag),
    ('G', "query", Arg::Flag),
    ('l', "lifetime", Arg::Value),
    ('N', "node", Arg::Value),
    ('U', "uname", Arg::Value),
    ('q', "quiet", Arg::Flag),
    ('Q', "get-value", Arg::Flag),
    ('d', "default", Arg::Value),
    ('t', "type", Arg::Value),
    ('i', "id", Arg::Value),
    ('s', "set-name", Arg::Value),
    ('V', "verbose", Arg::Flag),
    ('r', "resource", Arg::Value),
];

enum Command {
    Query,
    Update(String),
    Delete,
}

/// `crm_attribute` (or, with `master`, the older `crm_master`: the promotion score of
/// `-r` or `OCF_RESOURCE_INSTANCE`, lifetime forever unless `-l` says otherwise).
fn crm_attribute(args: &[String], env: &ToolEnv, master: bool) -> Result<ToolOutput, String> {
    let tool = if master {
        "crm_master"
    } else {
        "crm_attribute"
    };
    let mut name = None;
    let mut promotion = master;
    let mut promotion_rsc = None;
    let mut command = Command::Query;
    let mut lifetime = master.then_some(Lifetime::Forever);
    let (mut node, mut quiet, mut default) = (None, false, None);
    for (option, value) in parse(args, ATTRIBUTE_OPTIONS)? {
        match (option, value) {
            ('n', v) if !master => (name, promotion) = (v, false),
            ('p', v) if !master => (promotion, promotion_rsc) = (true, v),
            ('r', v) if master => promotion_rsc = v,
            ('v', Some(v)) => command = Command::Update(v),
            ('D', _) => command = Command::Delete,
            ('G' | 'Q', _) => command = Command::Query,
            ('l' | 't', Some(v)) => match Lifetime::parse(&v) {
                Some(l) => lifetime = Some(l),
                None => {
                    return Err(format!(
                        "'{v}' is not a lifetime (reboot or forever) or node section; cluster options are not kept here"
                    ));
                }
            },
            ('N' | 'U', v) => node = v,
            ('q', _) => quiet = true,
            ('d', v) => default = v,
            ('i' | 's' | 'V', _) => {}
            (other, _) => return Err(format!("option -{other} is not one {tool} takes")),
        }
    }
    if promotion {
        let rsc = promotion_rsc.or_else(|| env.resource_instance.clone());
        let Some(rsc) = rsc else {
            return Err("no resource given (-r, or OCF_RESOURCE_INSTANCE)".to_owned());
        };
        name = Some(format!("master-{rsc}"));
        lifetime = lifetime.or(Some(Lifetime::Reboot));
    }
    let Some(name) = name else {
        return Err("no attribute given (-n NAME or --promotion)".to_owned());
    };
    let lifetime = match (lifetime, &node) {
        (Some(l), _) => l,
        (None, Some(_)) => Lifetime::Forever,
        (None, None) => {
            return Err("cluster options are not kept by Lifeboat's executor; give a node (-N) or a lifetime (-l)".to_owned());
        }
    };
    let Some(node) = node.or_else(|| env.node.clone()) else {
        return Err(format!("no node given (-N) and {NODE_VAR} is not set"));
    };
    let Some(dir) = &env.attributes_dir else {
        return Ok(ToolOutput::fail(
            EX_ERROR,
            tool,
            &format!("{ATTRIBUTES_DIR_VAR} is not set: run under Lifeboat's executor"),
        ));
    };
    let store = AttributeStore::new(dir);
    let done = match command {
        Command::Update(value) => store.set(lifetime, &node, &name, &value).map(|()| None),
        Command::Delete => store.delete(lifetime, &node, &name).map(|()| None),
        Command::Query => store
            .get(lifetime, &node, &name)
            .map(|v| Some(v.or(default))),
    };
    Ok(match done {
        Ok(None) => ToolOutput::ok(String::new()),
        Ok(Some(Some(value))) if quiet => ToolOutput::ok(format!("{value}\n")),
        Ok(Some(Some(value))) => ToolOutput::ok(format!(
            "scope={}  name={name} value={value}\n",
            lifetime.scope()
        )),
        Ok(Some(None)) => ToolOutput::fail(
            EX_NOSUCH,
            "crm_attribute",
            "Error performing operation: No such device or address",
        ),
        Err(e) => ToolOutput::fail(EX_ERROR, tool, &e.to_string()),
    })
}

/// `crm_node -n` (the local node's name); nothing else of crm_node is served.
fn crm_node(args: &[String], env: &ToolEnv) -> Result<ToolOutput, String> {
    let options = parse(args, &[('n', "name", Arg::Flag), ('q', "quiet", Arg::Flag)])?;
    if !options.iter().any(|(o, _)| *o == 'n') {
        return Err("only -n/--name (the local node's name) is served here".to_owned());
    }
    match &env.node {
        Some(node) => Ok(ToolOutput::ok(format!("{node}\n"))),
        None => Ok(ToolOutput::fail(
            EX_ERROR,
            "crm_node",
            &format!("{NODE_VAR} is not set: run under Lifeboat's executor"),
        )),
    }
}

#[cfg(test)]
#[path = "tools_tests.rs"]
mod tests;

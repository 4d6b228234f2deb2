//! The binary under the names resource agents call (`crm_attribute`, `crm_master`,
//! `crm_node`): the executor's `HA_SBIN_DIR` holds links to it by those names.

use std::io::Write;
use std::process::ExitCode;

use lifeboat_crm_executor::tools::{ToolEnv, run_tool};

/// Runs the tool this process was started as, if it was started as one.
pub fn run_if_called_as_one() -> Option<ExitCode> {
    let mut args = std::env::args_os();
    let program = args.next()?.to_string_lossy().into_owned();
    let rest: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    let env = ToolEnv::from_lookup(|name| std::env::var(name).ok());
    let out = run_tool(&program, &rest, &env)?;
    // A closed stdout or stderr (an agent that does not read) changes nothing.
    let _ = std::io::stdout().write_all(out.stdout.as_bytes());
    let _ = std::io::stderr().write_all(out.stderr.as_bytes());
    Some(ExitCode::from(u8::try_from(out.code).unwrap_or(1)))
}

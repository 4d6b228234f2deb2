//! `lifeboat crm …`: read a cluster description, run the pure checks and conversions of
//! `lifeboat-crm`, print.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::CrmCommand;

/// Runs a `crm` subcommand.
pub fn run(command: CrmCommand) -> anyhow::Result<ExitCode> {
    match command {
        CrmCommand::Verify { xml_file } => verify(&xml_file),
    }
}

/// `crm verify`: silent on a usable CIB, like `crm_verify`; one line per problem otherwise.
fn verify(xml_file: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(xml_file)
        .with_context(|| format!("read {}", xml_file.display()))?;
    match lifeboat_crm::verify::verify_cib(&text) {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(problems) => {
            for p in &problems.0 {
                eprintln!("{}: {p}", xml_file.display());
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

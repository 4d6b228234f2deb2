//! `lifeboat crm …`: read a CIB, run the pure scheduler of `lifeboat-crm`, print.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::CrmCommand;

/// Runs a `crm` subcommand.
pub fn run(command: CrmCommand) -> anyhow::Result<ExitCode> {
    match command {
        CrmCommand::Simulate { xml_file } => {
            let text = std::fs::read_to_string(&xml_file)
                .with_context(|| format!("read {}", xml_file.display()))?;
            let cluster = lifeboat_crm::cib::parse(&text)
                .with_context(|| format!("read CIB {}", xml_file.display()))?;
            // "Now" is the CIB's execution-date when it has one (the scheduler applies it).
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            let transition = lifeboat_crm::schedule(&cluster, now);
            print!(
                "{}",
                lifeboat_crm::output::simulate_text(&cluster, &transition)
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

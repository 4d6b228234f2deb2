//! `lifeboat crm …`: read a cluster description, run the pure scheduler, checks and
//! conversions of `lifeboat-crm`, print.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use lifeboat_core::clock::{Clock as _, SystemClock};
use lifeboat_crm::convert::{self, Format, ReadError};

use crate::cli::{CrmCommand, CrmConfigCommand, CrmFormat};

/// Runs a `crm` subcommand.
pub fn run(command: CrmCommand) -> anyhow::Result<ExitCode> {
    match command {
        CrmCommand::Simulate { xml_file } => simulate(&xml_file),
        CrmCommand::Verify {
            xml_file,
            yaml_file,
        } => verify(xml_file, yaml_file),
        CrmCommand::Config { command } => config(command),
    }
}

/// `crm simulate`: the scheduler's decisions in crm_simulate's format.
fn simulate(xml_file: &Path) -> anyhow::Result<ExitCode> {
    let text = read(xml_file)?;
    let cluster = lifeboat_crm::cib::parse(&text)
        .with_context(|| format!("read CIB {}", xml_file.display()))?;
    // "Now" is the CIB's execution-date when it has one (the scheduler applies it).
    let now = SystemClock.now().timestamp();
    let transition = lifeboat_crm::schedule(&cluster, now);
    print!(
        "{}",
        lifeboat_crm::output::simulate_text(&cluster, &transition)
    );
    Ok(ExitCode::SUCCESS)
}

/// `crm verify`: silent on a usable description, like `crm_verify`; one line per problem
/// otherwise.
fn verify(xml_file: Option<PathBuf>, yaml_file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let (path, format) = match (xml_file, yaml_file) {
        (Some(path), _) => (path, Format::Xml),
        (None, Some(path)) => (path, Format::Yaml),
        (None, None) => anyhow::bail!("crm verify needs --xml-file or --yaml-file"),
    };
    let text = read(&path)?;
    let result = match format {
        Format::Xml => lifeboat_crm::verify::verify_cib(&text)
            .map(drop)
            .map_err(ReadError::from),
        Format::Yaml => lifeboat_crm::yaml::parse(&text)
            .map_err(ReadError::from)
            .and_then(|c| Ok(lifeboat_crm::verify::verify_model(&c)?)),
    };
    Ok(report(&path, result))
}

/// `crm config …`.
fn config(command: CrmConfigCommand) -> anyhow::Result<ExitCode> {
    match command {
        CrmConfigCommand::Export { file, format } => {
            let text = read(&file)?;
            let cluster = match convert::read(&text) {
                Ok(cluster) => cluster,
                Err(e) => return Ok(report(&file, Err(e))),
            };
            let format = match format {
                CrmFormat::Xml => Format::Xml,
                CrmFormat::Yaml => Format::Yaml,
            };
            let out = convert::write(&cluster, format)
                .with_context(|| format!("export {}", file.display()))?;
            print!("{out}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))
}

/// Each problem on its own line, prefixed by the file; exit 1 when there is any.
fn report(path: &Path, result: Result<(), ReadError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(ReadError::Verify(problems)) => {
            for p in &problems.0 {
                eprintln!("{}: {p}", path.display());
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}

//! `lifeboat crm …`: read a cluster description, run the pure scheduler, checks and
//! conversions of `lifeboat-crm`, print.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use lifeboat_core::clock::{Clock as _, SystemClock};
use lifeboat_crm::convert::{self, Format, ReadError};
use lifeboat_crm::simulate::{self as sim, InjectError, Injections, OpResult};

use crate::cli::{CrmCommand, CrmConfigCommand, CrmFormat, CrmInput, CrmSimulateArgs};

/// Runs a `crm` subcommand.
pub fn run(command: CrmCommand) -> anyhow::Result<ExitCode> {
    match command {
        CrmCommand::Simulate(args) => simulate(&args),
        CrmCommand::Verify { input } => verify(input),
        CrmCommand::Explain { input, resource } => explain(input, &resource),
        CrmCommand::Config { command } => config(command),
    }
}

/// `crm simulate`: crm_simulate's injections applied, the scheduler's decisions in
/// crm_simulate's format; bad injection values exit 2 with nothing printed.
fn simulate(args: &CrmSimulateArgs) -> anyhow::Result<ExitCode> {
    let injections = match injections(args) {
        Ok(i) => i,
        Err(e) => return Ok(usage_error(&e)),
    };
    let text = read(&args.xml_file)?;
    let cluster = lifeboat_crm::cib::parse(&text)
        .with_context(|| format!("read CIB {}", args.xml_file.display()))?;
    // "Now" is the CIB's execution-date when it has one (the scheduler applies it), and
    // --set-datetime wins over both.
    let now = SystemClock.now().timestamp();
    let simulation = match sim::run(&cluster, &injections, now) {
        Ok(s) => s,
        Err(e) => return Ok(usage_error(&e)),
    };
    if let Some(path) = &args.save_graph {
        let graph = lifeboat_crm::graph::build(&simulation.cluster, &simulation.transition);
        let json = serde_json::to_string_pretty(&graph).context("encode the action graph")?;
        std::fs::write(path, json + "\n").with_context(|| format!("write {}", path.display()))?;
    }
    print!("{}", simulation.text(args.show_scores));
    Ok(ExitCode::SUCCESS)
}

/// The injections the options ask for.
fn injections(args: &CrmSimulateArgs) -> Result<Injections, InjectError> {
    Ok(Injections {
        quorum: args.quorum.as_deref().map(sim::parse_quorum).transpose()?,
        node_up: args.node_up.clone(),
        node_down: args.node_down.clone(),
        node_fail: args.node_fail.clone(),
        ops: args
            .op_inject
            .iter()
            .map(|s| OpResult::parse("--op-inject", s))
            .collect::<Result<_, _>>()?,
        fail: args
            .op_fail
            .iter()
            .map(|s| OpResult::parse("--op-fail", s))
            .collect::<Result<_, _>>()?,
        now: args
            .set_datetime
            .as_deref()
            .map(sim::parse_datetime)
            .transpose()?,
    })
}

/// A bad option value: said on stderr, exit 2 (as for any usage error).
fn usage_error(e: &InjectError) -> ExitCode {
    eprintln!("lifeboat crm simulate: {e}");
    ExitCode::from(2)
}

/// `crm explain`: sentences on why a resource is (or will be) where it is; an unknown
/// resource exits 1.
fn explain(input: CrmInput, resource: &str) -> anyhow::Result<ExitCode> {
    let (path, _) = description(input, "explain")?;
    let text = read(&path)?;
    // Checked as `crm verify` checks it (either format, told apart by content).
    let cluster = match convert::read(&text) {
        Ok(c) => c,
        Err(e) => return Ok(report(&path, Err(e))),
    };
    let transition = lifeboat_crm::schedule(&cluster, SystemClock.now().timestamp());
    match lifeboat_crm::explain::explain(&cluster, &transition, resource) {
        Ok(explanation) => {
            print!("{explanation}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The description to read: --xml-file or --yaml-file.
fn description(input: CrmInput, command: &str) -> anyhow::Result<(PathBuf, Format)> {
    match (input.xml_file, input.yaml_file) {
        (Some(path), _) => Ok((path, Format::Xml)),
        (None, Some(path)) => Ok((path, Format::Yaml)),
        (None, None) => anyhow::bail!("crm {command} needs --xml-file or --yaml-file"),
    }
}

/// `crm verify`: silent on a usable description, like `crm_verify`; one line per problem
/// otherwise.
fn verify(input: CrmInput) -> anyhow::Result<ExitCode> {
    let (path, format) = description(input, "verify")?;
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

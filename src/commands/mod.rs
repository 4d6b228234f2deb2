//! One module per subcommand.

mod agent_metrics;
pub mod agent_tools;
mod crm;
mod fence;
mod manage;
mod monitors;
mod serve;
mod status;

use std::process::ExitCode;

use crate::cli::{Cli, Command, CrmCommand, ListenArgs};

/// Runs the chosen subcommand; errors are printed with their causes.
pub async fn run(cli: Cli) -> ExitCode {
    finish(match cli.command {
        Command::Serve(listen) => serve::run(&cli.config, serve::Parts::All, &listen).await,
        Command::Api(listen) => serve::run(&cli.config, serve::Parts::Api, &listen).await,
        Command::Engine => {
            serve::run(&cli.config, serve::Parts::Engine, &ListenArgs::default()).await
        }
        Command::Hostmonitor => monitors::run(&cli.config, monitors::Agents::HOST).await,
        Command::Processmonitor => monitors::run(&cli.config, monitors::Agents::PROCESS).await,
        Command::Instancemonitor => monitors::run(&cli.config, monitors::Agents::INSTANCE).await,
        Command::Monitors => monitors::run(&cli.config, monitors::Agents::ALL).await,
        Command::Manage { command } => manage::run(&cli.config, command).await,
        Command::Status(args) => status::run(&cli.config, &args).await,
        Command::Fence { command } => fence::run_device(command).await,
        Command::Crm { command } => crm::run(command),
    })
}

/// Runs a `crm` subcommand, which is synchronous and short-lived: `main` calls it before it
/// builds the async runtime, so none of the runtime's threads or memory are paid for.
pub fn run_crm(command: CrmCommand) -> ExitCode {
    finish(crm::run(command))
}

/// The exit code of a subcommand; an error is printed with its causes.
fn finish(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("lifeboat: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints configuration errors and gives the exit code for them.
fn config_failure(errors: &[String]) -> ExitCode {
    eprintln!("lifeboat: the configuration is not valid:");
    for e in errors {
        eprintln!("  - {e}");
    }
    ExitCode::from(2)
}

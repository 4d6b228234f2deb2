//! `lifeboat manage …`: the `masakari-manage` analogue. With no configuration at all, `config`
//! and `db` use the trial defaults, as `serve` does.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use lifeboat_core::config::Config;

use crate::cli::{ConfigArgs, ConfigCommand, DbCommand, ManageCommand, PolicyCommand};
use crate::{telemetry, wiring};

/// Runs a manage command.
pub async fn run(args: &ConfigArgs, command: ManageCommand) -> Result<ExitCode> {
    match command {
        ManageCommand::Config {
            command: ConfigCommand::Sample { monitors },
        } => {
            if monitors {
                print!("{}", lifeboat_monitors::config::MonitorsConfig::sample());
            } else {
                print!("{}", Config::sample());
            }
            Ok(ExitCode::SUCCESS)
        }
        ManageCommand::Config {
            command: ConfigCommand::Check,
        } => check_config(args),
        ManageCommand::Policy {
            command: PolicyCommand::Sample,
        } => {
            print!("{}", lifeboat_api::policy_sample::sample());
            Ok(ExitCode::SUCCESS)
        }
        ManageCommand::Fence { host, action } => super::fence::run_host(args, &host, action).await,
        ManageCommand::Db { command } => {
            let (loaded, _) = match wiring::load_config(args, true) {
                Ok(loaded) => loaded,
                Err(errors) => return Ok(super::config_failure(&errors)),
            };
            telemetry::init(loaded.config.default.debug);
            let url = loaded.config.database_url()?;
            match command {
                DbCommand::Sync => {
                    let options = lifeboat_store::StoreOptions {
                        migrate: true,
                        max_connections: 2,
                        ..lifeboat_store::StoreOptions::default()
                    };
                    lifeboat_store::open(&url, &options).await?;
                    let version = lifeboat_store::schema_version(&url).await?;
                    println!("database {url} is at schema version {version}");
                }
                DbCommand::Version => println!("{}", lifeboat_store::schema_version(&url).await?),
                DbCommand::ImportMasakari {
                    from,
                    into_non_empty,
                } => {
                    let source =
                        lifeboat_core::config::DatabaseUrl::parse(&from).context("--from")?;
                    let options = lifeboat_store::ImportOptions { into_non_empty };
                    let report = lifeboat_store::import_masakari(&source, &url, options)
                        .await
                        .with_context(|| format!("importing {source} into {url}"))?;
                    print_import(&source, &url, &report);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What `db import-masakari` copied, and what the engine will now take up.
fn print_import(
    source: &lifeboat_core::config::DatabaseUrl,
    target: &lifeboat_core::config::DatabaseUrl,
    report: &lifeboat_store::ImportReport,
) {
    println!("imported {source} into {target}:");
    for table in &report.tables {
        println!(
            "  {} {} ({} deleted)",
            table.total, table.rows, table.deleted
        );
    }
    if report.unfinished > 0 {
        println!(
            "note: {} notification(s) are still new, running or error: the recovery engine takes them up as Masakari's would have",
            report.unfinished
        );
    }
}

/// `manage config check`: loads the configuration as `serve` does and builds what `serve`
/// builds from it before opening the database (policy files, credential key, TLS files, listen
/// address); every failure is reported, with exit code 2.
fn check_config(args: &ConfigArgs) -> Result<ExitCode> {
    let (loaded, trial) = match wiring::load_config(args, true) {
        Ok(loaded) => loaded,
        Err(errors) => return Ok(super::config_failure(&errors)),
    };
    for warning in &loaded.warnings {
        println!("warning: {warning}");
    }
    let errors: Vec<String> = wiring::check(&loaded.config)
        .iter()
        .map(|e| format!("{e:#}"))
        .collect();
    if !errors.is_empty() {
        return Ok(super::config_failure(&errors));
    }
    if trial {
        println!("no configuration given: checked the trial defaults `lifeboat serve` runs with");
    }
    let url = loaded.config.database_url()?;
    println!("configuration is valid (database {url})");
    Ok(ExitCode::SUCCESS)
}

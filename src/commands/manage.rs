//! `lifeboat manage …`: the `masakari-manage` analogue.

use std::process::ExitCode;

use anyhow::Result;
use lifeboat_core::config::Config;

use crate::cli::{ConfigArgs, ConfigCommand, DbCommand, ManageCommand};
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
        } => match wiring::load_config(args, false) {
            Ok((loaded, _)) => {
                for warning in &loaded.warnings {
                    println!("warning: {warning}");
                }
                let url = loaded.config.database_url()?;
                println!("configuration is valid (database {url})");
                Ok(ExitCode::SUCCESS)
            }
            Err(errors) => Ok(super::config_failure(&errors)),
        },
        ManageCommand::Fence { host, action } => super::fence::run_host(args, &host, action).await,
        ManageCommand::Db { command } => {
            let (loaded, _) = match wiring::load_config(args, false) {
                Ok(loaded) => loaded,
                Err(errors) => return Ok(super::config_failure(&errors)),
            };
            telemetry::init(loaded.config.default.debug);
            let url = loaded.config.database_url()?;
            let options = lifeboat_store::StoreOptions {
                migrate: matches!(command, DbCommand::Sync),
                max_connections: 2,
                ..lifeboat_store::StoreOptions::default()
            };
            lifeboat_store::open(&url, &options).await?;
            match command {
                DbCommand::Sync => println!(
                    "database {url} is at schema version {}",
                    lifeboat_store::latest_schema_version()
                ),
                DbCommand::Version => println!("{}", lifeboat_store::latest_schema_version()),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

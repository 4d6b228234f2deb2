//! `lifeboat fence ipmi …` (a device by its parameters) and `lifeboat manage fence HOST …` (a
//! configured host through its topology). Exit codes as fence agents': 0 success (status: on),
//! 2 status off, 1 failure.

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use lifeboat_core::config::Secret;
use lifeboat_core::fencing::{PowerAction, PowerState};
use lifeboat_fence::ipmi::{IpmiClient, IpmiTarget, Timing, Verification};

use crate::cli::{ConfigArgs, DevicePowerAction, FenceCommand, HostPowerAction, IpmiArgs};
use crate::{telemetry, wiring};

/// Exit code of a fence agent's `status` for a host that is off.
const STATUS_OFF: u8 = 2;

/// Prints the outcome as fence agents do and gives their exit code.
fn report(action: PowerAction, state: PowerState, detail: &str) -> ExitCode {
    match (action, state) {
        (PowerAction::Status, PowerState::On) => {
            println!("Status: ON");
            ExitCode::SUCCESS
        }
        (PowerAction::Status, PowerState::Off) => {
            println!("Status: OFF");
            ExitCode::from(STATUS_OFF)
        }
        (PowerAction::Off, _) => {
            println!("Success: Powered OFF ({detail})");
            ExitCode::SUCCESS
        }
        (PowerAction::On, _) => {
            println!("Success: Powered ON ({detail})");
            ExitCode::SUCCESS
        }
        (PowerAction::Reboot, _) => {
            println!("Success: Rebooted ({detail})");
            ExitCode::SUCCESS
        }
    }
}

fn failed(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("Failed: {error}");
    ExitCode::FAILURE
}

fn seconds(value: f64, flag: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .with_context(|| format!("{flag} must be a positive number of seconds"))
}

/// Reads the password file (or standard input for `-`), without its final line break.
fn read_password(args: &IpmiArgs) -> Result<Secret> {
    let mut text = String::new();
    if args.password_file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the password from standard input")?;
    } else {
        text = std::fs::read_to_string(&args.password_file).with_context(|| {
            format!("reading the password file {}", args.password_file.display())
        })?;
    }
    let trimmed = text.strip_suffix('\n').unwrap_or(&text);
    Ok(Secret::new(trimmed.strip_suffix('\r').unwrap_or(trimmed)))
}

/// `lifeboat fence ipmi …`.
pub async fn run_device(command: FenceCommand) -> Result<ExitCode> {
    let FenceCommand::Ipmi(args) = command;
    let action = match args.action {
        DevicePowerAction::Status => PowerAction::Status,
        DevicePowerAction::Off => PowerAction::Off,
        DevicePowerAction::On => PowerAction::On,
        DevicePowerAction::Reboot => PowerAction::Reboot,
    };
    let timeout = seconds(args.timeout, "--timeout")?;
    let target = IpmiTarget {
        address: args.address.clone(),
        username: args.username.clone(),
        password: read_password(&args)?,
        kg: None,
        privilege: args.privilege.parse().map_err(anyhow::Error::msg)?,
        cipher: args.cipher.parse().map_err(anyhow::Error::msg)?,
    };
    let timing = Timing {
        retransmit: (timeout / 10).clamp(Duration::from_millis(100), Duration::from_secs(1)),
        timeout,
    };
    let verify = Verification {
        timeout: seconds(args.power_timeout, "--power-timeout")?,
        interval: Duration::from_secs(1),
    };
    match IpmiClient::new(target, timing).run(action, verify).await {
        Ok(outcome) => Ok(report(action, outcome.state, &outcome.message)),
        Err(e) => Ok(failed(&e)),
    }
}

/// `lifeboat manage fence HOST status|off|on`.
pub async fn run_host(args: &ConfigArgs, host: &str, action: HostPowerAction) -> Result<ExitCode> {
    let (loaded, _) = match wiring::load_config(args, false) {
        Ok(loaded) => loaded,
        Err(errors) => return Ok(super::config_failure(&errors)),
    };
    let config = loaded.config;
    telemetry::init(config.default.debug);
    let store = wiring::open_store(&config, false).await?;
    let fencer = wiring::fencer(&config, store, lifeboat_metrics::FenceMetrics::default())?;
    let action = match action {
        HostPowerAction::Status => PowerAction::Status,
        HostPowerAction::Off => PowerAction::Off,
        HostPowerAction::On => PowerAction::On,
    };
    match fencer.power(host, action).await {
        Ok(result) => {
            for a in &result.attempts {
                let verdict = if a.succeeded { "ok" } else { "failed" };
                println!(
                    "level {} {}: {verdict} in {} ms: {}",
                    a.level,
                    a.device,
                    a.duration.as_millis(),
                    a.message
                );
            }
            let detail = result
                .attempts
                .last()
                .map_or_else(String::new, |a| a.device.clone());
            Ok(report(action, result.state, &format!("by {detail}")))
        }
        Err(e) => Ok(failed(&e)),
    }
}

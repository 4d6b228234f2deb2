//! `lifeboat status`: one screen of what the API knows (segments and hosts, recoveries in
//! progress with each instance, recent failures, the engine and the storm guard), once or
//! refreshed in place. An HTTP client of Lifeboat's own API: `fetch` asks it, `snapshot` turns
//! the answers into the overview (a pure function), `render` prints that for people.

mod fetch;
mod render;
mod snapshot;

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use lifeboat_core::clock::{Clock, SystemClock};
use lifeboat_core::config::{AuthStrategy, Config, Secret};
use lifeboat_openstack::{HaAuth, HaClient, KeystoneSession};

use crate::cli::{ConfigArgs, StatusArgs, StatusFormat};
use crate::wiring;

/// The trial instance's API, asked when there is no configuration and no `--endpoint`.
const TRIAL_ENDPOINT: &str = "http://127.0.0.1:15868";

/// Prints the overview once, or every `--interval` with `--watch` until interrupted.
pub async fn run(args: &ConfigArgs, status: &StatusArgs) -> Result<ExitCode> {
    let (loaded, trial) = match wiring::load_config(args, true) {
        Ok(loaded) => loaded,
        Err(errors) => return Ok(super::config_failure(&errors)),
    };
    let config = &loaded.config;
    let endpoint = match &status.endpoint {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None if trial => TRIAL_ENDPOINT.to_owned(),
        None => endpoint_of(wiring::listen_address(config)?),
    };
    let interval = Duration::try_from_secs_f64(status.interval)
        .ok()
        .filter(|d| !d.is_zero())
        .with_context(|| format!("--interval {} is not a positive number", status.interval))?;
    let http = wiring::http_client(config)?;
    let client = HaClient::new(
        http.clone(),
        Some(endpoint.clone()),
        auth(config, status, &http),
    );
    let api = fetch::Api::new(client);
    let clock = SystemClock;
    if !status.watch {
        let snapshot = take(&api, &endpoint, status.failures, &clock).await?;
        print(&snapshot, status.output, false)?;
        return Ok(ExitCode::SUCCESS);
    }
    // Listening from the start: a Ctrl-C that comes while a snapshot is being taken (or before
    // the first) is kept for the next wait instead of being lost or killing the process.
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("listening for SIGINT")?;
    loop {
        let taken = tokio::select! {
            _ = interrupt.recv() => return Ok(ExitCode::SUCCESS),
            taken = take(&api, &endpoint, status.failures, &clock) => taken,
        };
        match taken {
            Ok(snapshot) => print(&snapshot, status.output, true)?,
            // A watch outlives an API restart: say so and look again.
            Err(e) => {
                if status.output == StatusFormat::Text {
                    print!("{CLEAR}");
                }
                println!("lifeboat: asking {endpoint} failed: {e:#}");
            }
        }
        tokio::select! {
            _ = interrupt.recv() => return Ok(ExitCode::SUCCESS),
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// Cursor home and clear screen: a watch redraws in place.
const CLEAR: &str = "\x1b[H\x1b[2J";

async fn take(
    api: &fetch::Api,
    endpoint: &str,
    failures: u32,
    clock: &dyn Clock,
) -> Result<snapshot::Snapshot> {
    let answers = api.gather(failures).await?;
    Ok(snapshot::Snapshot::build(
        endpoint,
        answers,
        failures as usize,
        clock.now(),
    ))
}

fn print(snapshot: &snapshot::Snapshot, format: StatusFormat, watching: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        StatusFormat::Json => {
            // One object; with --watch one a line, so tools can read them as they come.
            let text = if watching {
                serde_json::to_string(snapshot)?
            } else {
                serde_json::to_string_pretty(snapshot)?
            };
            writeln!(out, "{text}")?;
        }
        StatusFormat::Text => {
            if watching {
                write!(out, "{CLEAR}")?;
            }
            write!(out, "{}", render::text(snapshot))?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The URL of an API listening on `address` (a wildcard address is asked on loopback).
fn endpoint_of(address: SocketAddr) -> String {
    let ip = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, address.port()))
}

/// `--token`; else none for `noauth2`; else a token for `[keystone_authtoken]`'s user.
fn auth(config: &Config, status: &StatusArgs, http: &reqwest::Client) -> HaAuth {
    if let Some(token) = &status.token {
        return HaAuth::Token(Secret::new(token.clone()));
    }
    match (
        config.default.auth_strategy,
        wiring::service_credentials(config),
    ) {
        (AuthStrategy::Keystone, Some(credentials)) => HaAuth::Keystone {
            session: Box::new(KeystoneSession::new(
                http.clone(),
                credentials,
                Arc::new(SystemClock),
            )),
            interface: "public".into(),
            region: None,
        },
        _ => HaAuth::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_listen_address_is_asked_on_loopback() {
        let table = [
            ("0.0.0.0:15868", "http://127.0.0.1:15868"),
            ("[::]:8080", "http://[::1]:8080"),
            ("10.0.0.5:15868", "http://10.0.0.5:15868"),
        ];
        for (address, url) in table {
            assert_eq!(endpoint_of(address.parse().unwrap()), url, "{address}");
        }
    }
}

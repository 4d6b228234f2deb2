//! `lifeboat serve` (API and engine), `lifeboat api`, `lifeboat engine`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use lifeboat_api::{Policy, PolicyHandle};
use lifeboat_core::config::Config;
use lifeboat_engine::{Policies, PoliciesHandle};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::cli::{ConfigArgs, ListenArgs};
use crate::signals::{self, Hangups};
use crate::{http, systemd, telemetry, wiring};

/// Which parts run in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parts {
    /// API and engine (migrates SQLite; runs with no configuration at all as a trial).
    All,
    /// API only.
    Api,
    /// Engine only.
    Engine,
}

impl Parts {
    /// What runs, for the startup line.
    fn describe(self) -> &'static str {
        match self {
            Self::All => "API and engine",
            Self::Api => "API",
            Self::Engine => "engine",
        }
    }
}

/// Runs until SIGINT or SIGTERM; then stops the API and the engine (whose unfinished work
/// another engine resumes), each waiting at most `graceful_shutdown_timeout`. SIGHUP reloads
/// the policy files.
pub async fn run(args: &ConfigArgs, parts: Parts, listen_args: &ListenArgs) -> Result<ExitCode> {
    let (loaded, trial) = match wiring::load_config(args, parts == Parts::All) {
        Ok(loaded) => loaded,
        Err(errors) => return Ok(super::config_failure(&errors)),
    };
    let config = loaded.config;
    telemetry::init_daemon(config.default.debug, &config.logging)?;
    let shutdown = CancellationToken::new();
    let hangups = signals::install(shutdown.clone());
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let address = match listen_args.listen {
        Some(address) => address,
        None => wiring::listen_address(&config)?,
    };
    let database = wiring::database_shown(&config)?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        database = %database,
        "Lifeboat {} starting ({}) on database {database}",
        env!("CARGO_PKG_VERSION"),
        parts.describe(),
    );
    if trial {
        tracing::warn!(
            "no configuration given: running a local trial instance (no authentication, \
             listening on {address}, database {database}); pass --config-file for production"
        );
    }
    let limits = http::Limits::from_config(&config);
    let store = wiring::open_store(&config, parts == Parts::All).await?;
    let wake = Arc::new(Notify::new());
    // One registry for the process: the API serves what the engine and fencing count too.
    let metrics = lifeboat_metrics::Metrics::new();
    let fencer = wiring::fencer(&config, store.clone(), metrics.fence.clone())?;
    let mut reload = Reload {
        config: config.clone(),
        api: None,
        engine: None,
    };
    let engine = match parts {
        Parts::All | Parts::Engine => {
            let engine = wiring::engine(
                &config,
                store.clone(),
                fencer.clone(),
                wake.clone(),
                metrics.engine.clone(),
            )?;
            reload.engine = Some(engine.policies());
            let cancel = shutdown.child_token();
            Some(tokio::spawn(engine.run(cancel, limits.grace)))
        }
        Parts::Api => None,
    };
    match parts {
        Parts::All | Parts::Api => {
            let signal = (parts == Parts::All).then_some(wake);
            let state = lifeboat_api::AppState::new(
                wiring::api_dependencies(&config, store, fencer, signal, metrics).await?,
            );
            reload.api = Some(state.policy());
            tokio::spawn(reload.on_hangups(hangups));
            let listener = listen(address).await?;
            systemd::ready("serving the API");
            systemd::supervise(shutdown.clone());
            http::serve(
                listener,
                lifeboat_api::router(state),
                limits,
                shutdown.clone(),
            )
            .await;
        }
        Parts::Engine => {
            tokio::spawn(reload.on_hangups(hangups));
            systemd::ready("recovering");
            systemd::supervise(shutdown.clone());
            shutdown.cancelled().await;
        }
    }
    shutdown.cancel();
    if let Some(engine) = engine {
        let _ = engine.await;
    }
    tracing::info!("Lifeboat stopped");
    Ok(ExitCode::SUCCESS)
}

async fn listen(addr: SocketAddr) -> Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    tracing::info!(address = %addr, "Lifeboat API listening");
    Ok(listener)
}

/// What a SIGHUP reloads: the log file and the policy files of the parts running here (the
/// configuration itself is read at start only).
struct Reload {
    config: Config,
    api: Option<PolicyHandle>,
    engine: Option<PoliciesHandle>,
}

impl Reload {
    async fn on_hangups(self, mut hangups: Hangups) {
        loop {
            hangups.recv().await;
            tracing::info!(signal = "SIGHUP", "reloading");
            telemetry::reopen();
            if let Some(api) = &self.api {
                let path = self
                    .config
                    .resolve_path(&self.config.oslo_policy.policy_file);
                reload_file("policy", &path, Policy::load(&path), |p| api.replace(p));
            }
            if let Some(engine) = &self.engine {
                let path = self
                    .config
                    .resolve_path(&self.config.engine.workflow_policy_file);
                let loaded = Policies::load(&self.config, &path);
                reload_file("workflow policy", &path, loaded, |p| engine.replace(p));
            }
        }
    }
}

/// Puts a reloaded file in force, or keeps the one in force when the new one does not load.
fn reload_file<T, E: std::fmt::Display>(
    what: &str,
    path: &Path,
    loaded: Result<T, E>,
    replace: impl FnOnce(T),
) {
    let file = path.display().to_string();
    match loaded {
        Ok(new) => {
            replace(new);
            tracing::info!(file.path = %file, "{what} file reloaded");
        }
        Err(e) => tracing::error!(
            file.path = %file,
            error = %e,
            "the {what} file does not load; the one in force is kept"
        ),
    }
}

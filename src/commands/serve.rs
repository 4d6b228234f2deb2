//! `lifeboat serve` (API and engine), `lifeboat api`, `lifeboat engine`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use lifeboat_core::config::Config;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::cli::ConfigArgs;
use crate::{telemetry, wiring};

/// How long running recoveries get to reach a step boundary at shutdown.
const ENGINE_GRACE: Duration = Duration::from_secs(10);

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

/// Runs until SIGINT or SIGTERM; then stops the API, then the engine (whose unfinished work
/// another engine resumes).
pub async fn run(args: &ConfigArgs, parts: Parts) -> Result<ExitCode> {
    let (loaded, trial) = match wiring::load_config(args, parts == Parts::All) {
        Ok(loaded) => loaded,
        Err(errors) => return Ok(super::config_failure(&errors)),
    };
    let config = loaded.config;
    telemetry::init(config.default.debug);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    if trial {
        tracing::warn!(
            "no configuration given: running a local trial instance (no authentication, \
             127.0.0.1 only, database ./lifeboat.sqlite); pass --config-file for production"
        );
    }
    let store = wiring::open_store(&config, parts == Parts::All).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(wait_for_signal(shutdown.clone()));
    let wake = Arc::new(Notify::new());
    let fencer = wiring::fencer(&config, store.clone())?;
    let engine = match parts {
        Parts::All | Parts::Engine => {
            let engine = wiring::engine(&config, store.clone(), fencer.clone(), wake.clone())?;
            let cancel = shutdown.child_token();
            Some(tokio::spawn(engine.run(cancel, ENGINE_GRACE)))
        }
        Parts::Api => None,
    };
    match parts {
        Parts::All | Parts::Api => {
            let signal = (parts == Parts::All).then_some(wake);
            serve_api(&config, store, fencer, signal, shutdown.clone()).await?;
        }
        Parts::Engine => shutdown.cancelled().await,
    }
    shutdown.cancel();
    if let Some(engine) = engine {
        let _ = engine.await;
    }
    tracing::info!("Lifeboat stopped");
    Ok(ExitCode::SUCCESS)
}

async fn serve_api(
    config: &Config,
    store: Arc<dyn lifeboat_core::store::Store>,
    fencer: Arc<dyn lifeboat_core::fencing::Fencer>,
    wake: Option<Arc<Notify>>,
    shutdown: CancellationToken,
) -> Result<()> {
    let state =
        lifeboat_api::AppState::new(wiring::api_dependencies(config, store, fencer, wake).await?);
    let addr = wiring::listen_address(config)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    tracing::info!(address = %addr, "Lifeboat API listening");
    axum::serve(listener, lifeboat_api::router(state))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
        .context("serving the API")
}

pub(crate) async fn wait_for_signal(shutdown: CancellationToken) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
    shutdown.cancel();
}

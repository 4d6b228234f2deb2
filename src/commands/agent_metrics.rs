//! A monitor agent's optional metrics listener (`[metrics] <agent>_listen`): `GET /metrics`
//! and nothing else, with the API server's connection limits at small, fixed values.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use lifeboat_metrics::AgentMetrics;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::http::Limits;

/// A scraper needs one connection; a few more let an operator's curl in beside it.
const LIMITS: Limits = Limits {
    header_timeout: Duration::from_secs(10),
    keep_alive_timeout: Duration::from_secs(120),
    body_timeout: Duration::from_secs(10),
    max_connections: 8,
    grace: Duration::from_secs(1),
};

/// Binds `address` for `agent`'s metrics (at start, so that a taken port stops the agent with
/// the option named).
pub fn bind(agent: &str, address: SocketAddr) -> Result<TcpListener> {
    let listener = std::net::TcpListener::bind(address)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .and_then(TcpListener::from_std)
        .with_context(|| format!("listening on [metrics] {agent}_listen = {address}"))?;
    tracing::info!(agent, address = %address, "{agent}: serving metrics at GET /metrics");
    Ok(listener)
}

/// Serves `metrics` on `listener` until `shutdown`.
pub async fn serve(listener: TcpListener, metrics: AgentMetrics, shutdown: CancellationToken) {
    let router = Router::new()
        .route("/metrics", get(scrape))
        .with_state(metrics);
    crate::http::serve(listener, router, LIMITS, shutdown).await;
}

async fn scrape(State(metrics): State<AgentMetrics>) -> Response {
    lifeboat_api::openmetrics_response(metrics.encode())
}

//! `GET /metrics` (Prometheus; unauthenticated, as `/healthcheck`) and the per-request count:
//! requests by route template, method and status, with their latency.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// The label of requests that matched no route (a raw path would let clients mint series).
const UNMATCHED: &str = "unmatched";

/// The route template that served a request, handed from [`mark_route`] to [`count`].
#[derive(Debug, Clone)]
struct RouteTemplate(MatchedPath);

/// Route middleware: tells [`count`] which route template served the request.
pub(crate) async fn mark_route(request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(RouteTemplate(matched));
    }
    response
}

/// Middleware: counts every answer with its route template, method, status and latency.
pub(crate) async fn count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let started = tokio::time::Instant::now();
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<RouteTemplate>()
        .map_or(UNMATCHED, |r| r.0.as_str());
    state.inner.metrics.api.answered(
        route,
        method.as_str(),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// `GET /metrics`: every metric of this process in the OpenMetrics text format.
pub(crate) async fn scrape(State(state): State<AppState>) -> Response {
    openmetrics_response(state.inner.metrics.encode())
}

/// The answer to a scrape of `encoded` metrics (the agents' listeners answer the same way).
pub fn openmetrics_response(encoded: Result<String, std::fmt::Error>) -> Response {
    match encoded {
        Ok(text) => (
            [(header::CONTENT_TYPE, lifeboat_metrics::CONTENT_TYPE)],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "encoding the metrics failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

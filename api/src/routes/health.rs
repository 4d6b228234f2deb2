//! `/healthcheck`, as oslo.middleware's healthcheck with the disable-by-file backend, plus a
//! database check.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::AppState;

/// `GET /healthcheck`: 200 `OK`, or 503 when disabled by file or the database does not answer.
pub(crate) async fn check(State(state): State<AppState>) -> impl IntoResponse {
    let settings = &state.inner.settings;
    if let Some(path) = &settings.healthcheck_disable_file
        && path.exists()
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "DISABLED BY FILE".to_owned(),
        );
    }
    match state.inner.store.ping().await {
        Ok(()) if settings.healthcheck_detailed => {
            (StatusCode::OK, "OK: database answers".to_owned())
        }
        Ok(()) => (StatusCode::OK, "OK".to_owned()),
        Err(e) => {
            tracing::warn!(error = %crate::error::ErrorChain(&e), "health check: database unreachable");
            let body = if settings.healthcheck_detailed {
                format!("DATABASE UNREACHABLE: {e}")
            } else {
                "DATABASE UNREACHABLE".to_owned()
            };
            (StatusCode::SERVICE_UNAVAILABLE, body)
        }
    }
}

//! `/healthcheck`, as oslo.middleware's healthcheck with the disable-by-file backend, plus a
//! database check (a read and a write that changes nothing).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::AppState;

/// `GET /healthcheck`: 200 `OK`, or 503 when disabled by file or the database does not answer
/// or cannot be written.
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
    let store = &state.inner.store;
    // A database that answers reads may still refuse every write (full disk, read-only): the
    // service is not healthy then, so the check writes too.
    let failed = match store.ping().await {
        Ok(()) => store
            .check_writable()
            .await
            .err()
            .map(|e| ("DATABASE CANNOT BE WRITTEN", e)),
        Err(e) => Some(("DATABASE UNREACHABLE", e)),
    };
    match failed {
        None if settings.healthcheck_detailed => (
            StatusCode::OK,
            "OK: database answers and can be written".to_owned(),
        ),
        None => (StatusCode::OK, "OK".to_owned()),
        Some((what, e)) => {
            tracing::warn!(error = %crate::error::ErrorChain(&e), "health check: {}", what.to_lowercase());
            let body = if settings.healthcheck_detailed {
                format!("{what}: {e}")
            } else {
                what.to_owned()
            };
            (StatusCode::SERVICE_UNAVAILABLE, body)
        }
    }
}

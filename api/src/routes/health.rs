//! `/healthcheck`, as oslo.middleware's healthcheck with the disable-by-file backend, plus a
//! database check: a read, a write that changes nothing, and the memory of writes refused lately.

use std::sync::atomic::{AtomicI64, Ordering};

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::AppState;
use crate::error::DatabaseUnwritable;

/// How long a write the database refused keeps the service unhealthy when no write has
/// succeeded since. The probe alone is not enough on a disk full to the brim: its one-page
/// write can fit where a notification's few pages do not.
const REFUSED_WRITE_MEMORY: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

/// When the database last refused a client's write; cleared by the next write that succeeds.
#[derive(Debug, Default)]
pub(crate) struct WriteWatch {
    /// Milliseconds since the epoch; 0 when no refusal is remembered.
    refused_at: AtomicI64,
}

impl WriteWatch {
    fn refused(&self, now: DateTime<Utc>) {
        self.refused_at
            .store(now.timestamp_millis().max(1), Ordering::Relaxed);
    }

    fn succeeded(&self) {
        self.refused_at.store(0, Ordering::Relaxed);
    }

    /// The last refusal, if it is recent at `now`.
    fn recent_refusal(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let millis = self.refused_at.load(Ordering::Relaxed);
        let at = DateTime::from_timestamp_millis(millis).filter(|_| millis != 0)?;
        (now - at < REFUSED_WRITE_MEMORY).then_some(at)
    }
}

/// Middleware: remembers writes the database refused and forgets them when one succeeds.
pub(crate) async fn watch_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let response = next.run(request).await;
    let watch = &state.inner.write_watch;
    if response.extensions().get::<DatabaseUnwritable>().is_some() {
        watch.refused(state.inner.clock.now());
    } else if writes && response.status().is_success() {
        watch.succeeded();
    }
    response
}

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
    const UNWRITABLE: &str = "DATABASE CANNOT BE WRITTEN";
    if let Some(at) = state
        .inner
        .write_watch
        .recent_refusal(state.inner.clock.now())
    {
        let body = if settings.healthcheck_detailed {
            format!("{UNWRITABLE}: a write was refused at {at} and none succeeded since")
        } else {
            UNWRITABLE.to_owned()
        };
        return (StatusCode::SERVICE_UNAVAILABLE, body);
    }
    let store = &state.inner.store;
    // A database that answers reads may still refuse every write (full disk, read-only): the
    // service is not healthy then, so the check writes too.
    let failed = match store.ping().await {
        Ok(()) => store.check_writable().await.err().map(|e| (UNWRITABLE, e)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_write_is_remembered_until_a_write_succeeds_or_it_is_old() {
        let watch = WriteWatch::default();
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(watch.recent_refusal(t0), None);
        watch.refused(t0);
        assert_eq!(
            watch.recent_refusal(t0 + chrono::TimeDelta::seconds(9)),
            Some(t0)
        );
        assert_eq!(watch.recent_refusal(t0 + REFUSED_WRITE_MEMORY), None);
        watch.succeeded();
        assert_eq!(watch.recent_refusal(t0), None);
    }
}

//! `x-openstack-request-id` on every response, a span per request, one debug line per request.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The id of the request being served (`req-<uuid>`).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Assigns the request id and logs the request.
pub async fn layer(mut request: Request, next: Next) -> Response {
    let id = format!("req-{}", uuid::Uuid::new_v4());
    // A caller's `req-<uuid>` is kept as the global request id (for correlating logs).
    let global = request
        .headers()
        .get("x-openstack-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            v.strip_prefix("req-")
                .is_some_and(|u| uuid::Uuid::parse_str(u).is_ok())
        })
        .map(str::to_owned);
    let span = tracing::info_span!(
        "request",
        request.id = %id,
        request.global_id = global.as_deref().unwrap_or(""),
        http.method = %request.method(),
        http.path = %request.uri().path(),
        user.id = tracing::field::Empty,
    );
    request.extensions_mut().insert(RequestId(id.clone()));
    let started = tokio::time::Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::debug!(
            http.status = response.status().as_u16(),
            duration_ms = started.elapsed().as_millis() as u64,
            "served"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert("x-openstack-request-id", value);
    }
    response
}

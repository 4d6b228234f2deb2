//! The OpenAPI document of the API, served at `/openapi.json`. The source is `api/openapi.yaml`;
//! tests check that every route is in it and that responses match it (schemathesis).

use std::sync::LazyLock;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The document as written.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

static DOCUMENT: LazyLock<Result<Value, serde_yaml::Error>> =
    LazyLock::new(|| serde_yaml::from_str::<Value>(OPENAPI_YAML));

/// `GET /openapi.json`.
pub(crate) async fn document() -> Response {
    match &*DOCUMENT {
        Ok(doc) => Json(doc.clone()).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the embedded OpenAPI document does not parse");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

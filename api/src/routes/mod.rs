//! One module per resource.

pub(crate) mod extensions;
pub(crate) mod fencing;
pub(crate) mod health;
pub(crate) mod hosts;
pub(crate) mod notifications;
pub(crate) mod openapi;
pub(crate) mod segments;
pub(crate) mod versions;
pub(crate) mod vmoves;

use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::listing::{BaseUrl, next_links};

/// 405 for methods a resource does not have (PUT/DELETE on a notification, `…/action`).
pub(crate) async fn bad_method() -> ApiError {
    ApiError::bad_method()
}

/// Unknown paths: under `/v1` a JSON 404; elsewhere Masakari's 300 with the versions.
pub(crate) async fn fallback(base: BaseUrl, request: Request) -> Response {
    let path = request.uri().path();
    if path == "/v1" || path.starts_with("/v1/") {
        return ApiError::not_found("The resource could not be found.").into_response();
    }
    let mut choice = versions::version_document(&base);
    choice["links"] = json!([{"rel": "self", "href": format!("{}/v1{path}", base.0)}]);
    (
        StatusCode::MULTIPLE_CHOICES,
        Json(json!({"choices": [choice]})),
    )
        .into_response()
}

/// Parses a UUID from the path, or answers 404 with `not_found`'s message.
pub(crate) fn path_uuid(
    text: &str,
    not_found: impl FnOnce() -> ApiError,
) -> Result<Uuid, ApiError> {
    lifeboat_core::validation::parse_uuid_like(text).ok_or_else(not_found)
}

/// `{"<key>": [...], "<key>_links": [...]}`, serialised straight from the views (no
/// intermediate JSON tree: lists are the hot path).
#[derive(Debug)]
pub(crate) struct ListBody<T> {
    key: &'static str,
    items: Vec<T>,
    links: Option<Value>,
}

impl<T: Serialize> Serialize for ListBody<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1 + usize::from(self.links.is_some())))?;
        map.serialize_entry(self.key, &self.items)?;
        if let Some(links) = &self.links {
            map.serialize_entry(&format!("{}_links", self.key), links)?;
        }
        map.end()
    }
}

/// A list answer with a `next` link when the page is full.
pub(crate) fn list_body<T: Serialize>(
    key: &'static str,
    items: Vec<T>,
    page: (&BaseUrl, &str, &QueryParams, u32, Option<i64>),
) -> Json<ListBody<T>> {
    let (base, path, params, limit, last_id) = page;
    let links = next_links(base, path, params, limit, items.len(), last_id);
    Json(ListBody { key, items, links })
}

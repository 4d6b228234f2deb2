//! Request extractors that answer in Masakari's fault format: JSON bodies (content type, size,
//! syntax) and query strings with repeated keys.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use http_body_util::BodyExt;

use crate::AppState;
use crate::error::ApiError;

/// Content types a body may be sent as (Masakari also parses `text/plain` as JSON).
const ACCEPTED_CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/vnd.openstack.masakari+json",
    "text/plain",
];

/// A request body parsed as JSON (validation into domain types happens in the handler).
#[derive(Debug)]
pub struct JsonBody(pub serde_json::Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let max = state.inner.settings.max_request_body_size;
        if let Some(value) = request.headers().get(header::CONTENT_TYPE) {
            let text = value.to_str().unwrap_or_default();
            let media = text
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            if !ACCEPTED_CONTENT_TYPES.contains(&media.as_str()) {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!("Unsupported Content-Type {text}: send application/json"),
                ));
            }
        }
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Request is too large. Larger than max_request_body_size ({max})."),
            )
        };
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|len| len > max) {
            return Err(too_large());
        }
        let limited = http_body_util::Limited::new(request.into_body(), max);
        let bytes = match limited.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
            Err(_) => return Err(ApiError::bad_request("The request body could not be read.")),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(
                "Invalid input for field/attribute request body. The request body must be a JSON object",
            ));
        }
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|_| ApiError::bad_request("Malformed request body"))
    }
}

/// The query string, keeping repeated keys (`sort_key=a&sort_key=b`) in order.
#[derive(Debug, Clone, Default)]
pub struct QueryParams(pub Vec<(String, String)>);

impl QueryParams {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            raw.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
        )
    }

    /// The last value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The last value of `key`, owned.
    pub fn get_owned(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_owned)
    }

    /// Every value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::parse(parts.uri.query()))
    }
}

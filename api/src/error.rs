//! The API's one error type, and the only place errors become HTTP answers.
//!
//! Policy: every error a client can cause gets the right status and a message naming the field
//! or resource; anything else is a 500 with a generic message, and the cause is logged once,
//! with the request id, where the response is built. Internal error text never reaches a client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lifeboat_core::compute::ComputeError;
use lifeboat_core::store::StoreError;
use lifeboat_core::validation::ValidationError;

/// The text for unexpected errors. Masakari's sends users to Masakari's bug tracker; this
/// points at Lifeboat's own log, where the cause is, under the request id of the answer.
const UNEXPECTED: &str = "Unexpected API Error. The cause is in the Lifeboat API log, under the request id of this answer (x-openstack-request-id).";

/// The text when the database refuses writes (disk full, read-only).
const UNWRITABLE: &str =
    "The database cannot be written (its disk is full or it is read-only); try again later.";

/// The text when the database cannot be reached.
const UNREACHABLE: &str = "The database cannot be reached; try again later.";

/// An error answer: status, OpenStack fault name and message.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Text for the client.
    pub message: String,
    /// Extra headers (`WWW-Authenticate`).
    pub www_authenticate: Option<String>,
    /// The database refused the write (what `/healthcheck` remembers, see
    /// [`crate::routes::health::watch_writes`]).
    pub(crate) unwritable: bool,
}

/// Marks an answer given because the database refused a write.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DatabaseUnwritable;

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            www_authenticate: None,
            unwritable: false,
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 500 for an error the client cannot act on; the cause is logged here, once.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %ErrorChain(cause), "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, UNEXPECTED)
    }

    /// 503 for a database that cannot be written or reached: not the client's fault and not a
    /// bug, someone must free space or bring the database back. Logged here, once.
    fn database_unavailable(cause: &StoreError, message: &'static str) -> Self {
        tracing::error!(error = %ErrorChain(cause), "request failed");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// 405.
    pub fn bad_method() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "The method specified is not allowed for this resource.",
        )
    }
}

/// Formats an error with its causes, `a: b: c`.
#[derive(Debug)]
pub struct ErrorChain<'a>(pub &'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// Masakari's fault names by status.
pub fn fault_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "badRequest",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "itemNotFound",
        405 => "badMethod",
        409 => "conflictingRequest",
        413 | 429 => "overLimit",
        415 => "badMediaType",
        501 => "notImplemented",
        503 => "serviceUnavailable",
        _ => "masakariFault",
    }
}

/// A fault body response: `{"<name>": {"code": N, "message": "..."}}`.
pub fn fault_response(status: StatusCode, message: &str) -> Response {
    let body =
        serde_json::json!({ fault_name(status): { "code": status.as_u16(), "message": message } });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = fault_response(self.status, &self.message);
        if let Some(uri) = self
            .www_authenticate
            .and_then(|v| HeaderValue::from_str(&v).ok())
        {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, uri);
        }
        if self.unwritable {
            response.extensions_mut().insert(DatabaseUnwritable);
        }
        response
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Self::bad_request(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        use StoreError as E;
        let status = match &e {
            E::SegmentNotFound(_)
            | E::HostNotFound { .. }
            | E::NotificationNotFound(_)
            | E::VMoveNotFound { .. }
            | E::FenceDeviceNotFound { .. } => StatusCode::NOT_FOUND,
            E::SegmentNameTaken(_)
            | E::HostNameTaken(_)
            | E::SegmentInUse { .. }
            | E::HostInUse { .. }
            | E::HostOnMaintenance { .. }
            | E::DuplicateNotification { .. }
            | E::NotificationState { .. }
            | E::FenceDeviceNameTaken { .. } => StatusCode::CONFLICT,
            E::HostNameUnknown(_) | E::MarkerNotFound(_) => StatusCode::BAD_REQUEST,
            E::Unwritable { .. } => {
                let mut error = Self::database_unavailable(&e, UNWRITABLE);
                error.unwritable = true;
                return error;
            }
            E::Unreachable { .. } => return Self::database_unavailable(&e, UNREACHABLE),
            E::CorruptRow { .. } | E::Database { .. } => return Self::internal(&e),
        };
        Self::new(status, e.to_string())
    }
}

impl From<ComputeError> for ApiError {
    fn from(e: ComputeError) -> Self {
        tracing::error!(error = %ErrorChain(&e), "a Nova call failed");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Nova could not be asked about the host's compute service; try again later.",
        )
    }
}

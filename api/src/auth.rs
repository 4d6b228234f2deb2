//! Who is calling: Keystone token validation (or no-auth), the request context handlers use for
//! policy checks, and the `/v1/{project_id}/…` check.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lifeboat_core::auth::{TokenError, TokenValidator};

use crate::AppState;
use crate::error::ApiError;
use crate::policy::{Credentials, PolicyHandle};

/// How requests are authenticated.
#[derive(Debug, Clone)]
pub enum Authenticator {
    /// Every caller is an administrator (Masakari's `noauth2`).
    NoAuth,
    /// Keystone tokens.
    Keystone {
        /// Validates tokens.
        validator: Arc<dyn TokenValidator>,
        /// Advertised in `WWW-Authenticate` on 401.
        www_authenticate_uri: Option<String>,
    },
}

/// The caller of one request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// What policy checks look at.
    pub credentials: Credentials,
    /// Whether the project in the URL must match the token's (false without authentication).
    pub scoped: bool,
}

impl RequestContext {
    /// Fails with 403 unless `rule` allows this caller.
    pub fn authorize(&self, policy: &PolicyHandle, rule: &str) -> Result<(), ApiError> {
        let mut target: HashMap<&str, String> = HashMap::new();
        if let Some(project) = &self.credentials.project_id {
            target.insert("project_id", project.clone());
        }
        target.insert("user_id", self.credentials.user_id.clone());
        if policy.allows(rule, &self.credentials, &target) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("Policy doesn't allow {rule} to be performed."),
            ))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Self>().cloned().ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "The request you have made requires authentication.",
            )
        })
    }
}

fn unauthorized(uri: Option<&String>) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "The request you have made requires authentication.",
    );
    e.www_authenticate = uri.map(|u| format!("Keystone uri=\"{u}\""));
    e
}

/// Authenticates the request and stores its [`RequestContext`].
pub async fn layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let context = match &state.inner.authenticator {
        Authenticator::NoAuth => {
            // Masakari's noauth2: the token, if any, is "user[:project]"; everyone is admin.
            let (user, project) = match token.as_deref() {
                Some(t) if !t.is_empty() => match t.split_once(':') {
                    Some((u, p)) => (u.to_owned(), p.to_owned()),
                    None => (t.to_owned(), t.to_owned()),
                },
                _ => ("admin".to_owned(), "admin".to_owned()),
            };
            RequestContext {
                credentials: Credentials {
                    user_id: user,
                    project_id: Some(project),
                    roles: vec!["admin".to_owned()],
                    is_admin: true,
                },
                scoped: false,
            }
        }
        Authenticator::Keystone {
            validator,
            www_authenticate_uri,
        } => {
            let Some(token) = token.filter(|t| !t.is_empty()) else {
                return unauthorized(www_authenticate_uri.as_ref()).into_response();
            };
            let identity = match validator.validate(&token).await {
                Ok(identity) => identity,
                Err(TokenError::Invalid) => {
                    return unauthorized(www_authenticate_uri.as_ref()).into_response();
                }
                Err(e @ TokenError::Unavailable(_)) => {
                    tracing::error!(error = %e, "token validation is unavailable");
                    return ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The identity service could not validate the token; try again later.",
                    )
                    .into_response();
                }
            };
            let mut credentials = Credentials {
                user_id: identity.user_id,
                project_id: identity.project_id,
                roles: identity.roles,
                is_admin: false,
            };
            credentials.is_admin =
                state
                    .inner
                    .policy
                    .allows("context_is_admin", &credentials, &HashMap::new());
            RequestContext {
                credentials,
                scoped: true,
            }
        }
    };
    tracing::Span::current().record("user.id", context.credentials.user_id.as_str());
    request.extensions_mut().insert(context);
    next.run(request).await
}

/// The `{project_id}` of `/v1/{project_id}/…` routes.
#[derive(Debug, serde::Deserialize)]
pub struct ProjectPath {
    project_id: String,
}

/// Checks the project in the URL: only hex and dashes route at all (as Masakari's
/// `project_id_regex`), and with Keystone it must be the token's project.
pub async fn project_layer(
    Path(path): Path<ProjectPath>,
    request: Request,
    next: Next,
) -> Response {
    let routable = !path.project_id.is_empty()
        && path
            .project_id
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == '-');
    if !routable {
        return ApiError::not_found("The resource could not be found.").into_response();
    }
    if let Some(context) = request.extensions().get::<RequestContext>()
        && context.scoped
        && context.credentials.project_id.as_deref() != Some(path.project_id.as_str())
    {
        return ApiError::bad_request(format!(
            "Malformed request URL: URL's project_id '{}' doesn't match Context's project_id '{}'",
            path.project_id,
            context.credentials.project_id.as_deref().unwrap_or("None")
        ))
        .into_response();
    }
    next.run(request).await
}

//! A Keystone v3 password session: one token per process, reused until shortly before it
//! expires (Masakari asks Keystone for a new token on every Nova call).

use std::sync::Arc;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use lifeboat_core::clock::Clock;
use lifeboat_core::config::Secret;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

/// Renew a token this long before Keystone says it expires.
const RENEW_BEFORE_EXPIRY: ChronoDuration = ChronoDuration::seconds(120);

/// A user's password credentials.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Keystone URL, with or without `/v3`.
    pub auth_url: String,
    /// User name.
    pub username: String,
    /// Password.
    pub password: Secret,
    /// User's domain name.
    pub user_domain_name: String,
    /// Project to scope to (unless `system_scope`).
    pub project_name: Option<String>,
    /// Project's domain name.
    pub project_domain_name: String,
    /// System scope (e.g. `all`) instead of a project.
    pub system_scope: Option<String>,
}

/// Why Keystone did not give us what we asked for.
#[derive(Debug, thiserror::Error)]
pub enum KeystoneError {
    /// Keystone could not be reached.
    #[error("requesting a Keystone token from {url} failed: {source}")]
    Unreachable {
        /// Token URL.
        url: String,
        /// Transport error.
        #[source]
        source: reqwest::Error,
    },
    /// Keystone refused the credentials.
    #[error("Keystone refused the credentials of user {user} ({status}): {message}")]
    Refused {
        /// User name.
        user: String,
        /// HTTP status.
        status: u16,
        /// Keystone's message.
        message: String,
    },
    /// Keystone's answer could not be understood.
    #[error("Keystone's token response could not be read: {0}")]
    BadResponse(String),
    /// The catalog has no matching endpoint.
    #[error(
        "the Keystone catalog has no {interface} endpoint for service type {service_type}{region}"
    )]
    NoEndpoint {
        /// Service type.
        service_type: String,
        /// Interface.
        interface: String,
        /// `" in region X"` or empty.
        region: String,
    },
}

impl KeystoneError {
    /// Whether asking again may succeed: Keystone unreachable or failing (5xx), not refusing
    /// the credentials or missing an endpoint.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Refused { status, .. } => *status >= 500,
            Self::BadResponse(_) | Self::NoEndpoint { .. } => false,
        }
    }
}

/// One catalog endpoint.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct CatalogEndpoint {
    /// `public`, `internal` or `admin`.
    pub interface: String,
    /// Region id.
    #[serde(default)]
    pub region_id: Option<String>,
    /// URL.
    pub url: String,
}

/// One catalog service.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct CatalogService {
    /// Service type (`compute`, `instance-ha`, …).
    #[serde(rename = "type")]
    pub service_type: String,
    /// Service name (`nova`, …).
    #[serde(default)]
    pub name: Option<String>,
    /// Endpoints.
    #[serde(default)]
    pub endpoints: Vec<CatalogEndpoint>,
}

/// The service catalog that came with a token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog(pub Vec<CatalogService>);

impl Catalog {
    /// The URL of a service endpoint. `interface` accepts Keystone's (`public`) and the old
    /// `publicURL` spellings.
    pub fn endpoint(
        &self,
        service_type: &str,
        service_name: Option<&str>,
        interface: &str,
        region: Option<&str>,
    ) -> Result<String, KeystoneError> {
        let interface = interface.trim_end_matches("URL");
        self.0
            .iter()
            .filter(|s| s.service_type == service_type)
            .filter(|s| service_name.is_none_or(|n| n.is_empty() || s.name.as_deref() == Some(n)))
            .flat_map(|s| s.endpoints.iter())
            .find(|e| {
                e.interface == interface && region.is_none_or(|r| e.region_id.as_deref() == Some(r))
            })
            .map(|e| e.url.trim_end_matches('/').to_owned())
            .ok_or_else(|| KeystoneError::NoEndpoint {
                service_type: service_type.to_owned(),
                interface: interface.to_owned(),
                region: region
                    .map(|r| format!(" in region {r}"))
                    .unwrap_or_default(),
            })
    }
}

#[derive(Clone)]
struct Token {
    value: Secret,
    expires_at: DateTime<Utc>,
    catalog: Arc<Catalog>,
}

/// A Keystone session that keeps its token until near expiry.
#[derive(Clone)]
pub struct KeystoneSession {
    http: reqwest::Client,
    credentials: Credentials,
    clock: Arc<dyn Clock>,
    token: Arc<Mutex<Option<Token>>>,
}

impl std::fmt::Debug for KeystoneSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeystoneSession")
            .field("auth_url", &self.credentials.auth_url)
            .field("username", &self.credentials.username)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenBody {
    token: TokenInfo,
}

#[derive(Deserialize)]
struct TokenInfo {
    expires_at: String,
    #[serde(default)]
    catalog: Vec<CatalogService>,
}

/// `http://keystone:5000` and `http://keystone:5000/v3/` both become `.../v3`.
pub(crate) fn v3_url(auth_url: &str) -> String {
    let base = auth_url.trim_end_matches('/');
    if base.ends_with("/v3") {
        base.to_owned()
    } else {
        format!("{base}/v3")
    }
}

pub(crate) fn keystone_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(200).collect())
}

impl KeystoneSession {
    /// A session for `credentials` over `http`; `clock` tells when the token nears expiry.
    pub fn new(http: reqwest::Client, credentials: Credentials, clock: Arc<dyn Clock>) -> Self {
        Self {
            http,
            credentials,
            clock,
            token: Arc::new(Mutex::new(None)),
        }
    }

    /// The clock token expiries are compared with.
    pub(crate) fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The user name this session authenticates as.
    pub fn username(&self) -> &str {
        &self.credentials.username
    }

    /// A valid token and its catalog, fetching a new one only when needed.
    pub async fn token(&self) -> Result<(Secret, Arc<Catalog>), KeystoneError> {
        let mut guard = self.token.lock().await;
        if let Some(t) = guard.as_ref()
            && t.expires_at - RENEW_BEFORE_EXPIRY > self.clock.now()
        {
            return Ok((t.value.clone(), t.catalog.clone()));
        }
        let fresh = self.issue().await?;
        let out = (fresh.value.clone(), fresh.catalog.clone());
        *guard = Some(fresh);
        Ok(out)
    }

    /// Forgets the token (after a 401 from a service), so the next call gets a new one.
    pub async fn invalidate(&self) {
        *self.token.lock().await = None;
    }

    async fn issue(&self) -> Result<Token, KeystoneError> {
        let c = &self.credentials;
        let url = format!("{}/auth/tokens", v3_url(&c.auth_url));
        let scope = match (&c.system_scope, &c.project_name) {
            (Some(system), _) => json!({"system": {system.as_str(): true}}),
            (None, Some(project)) => {
                json!({"project": {"name": project, "domain": {"name": c.project_domain_name}}})
            }
            (None, None) => serde_json::Value::Null,
        };
        let mut auth = json!({
            "identity": {"methods": ["password"], "password": {"user": {
                "name": c.username, "domain": {"name": c.user_domain_name}, "password": c.password.expose()}}}
        });
        if !scope.is_null() {
            auth["scope"] = scope;
        }
        let started = tokio::time::Instant::now();
        let response = self
            .http
            .post(&url)
            .json(&json!({"auth": auth}))
            .send()
            .await
            .map_err(|source| KeystoneError::Unreachable {
                url: url.clone(),
                source,
            })?;
        let status = response.status();
        let header = response
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .text()
            .await
            .map_err(|source| KeystoneError::Unreachable {
                url: url.clone(),
                source,
            })?;
        if !status.is_success() {
            return Err(KeystoneError::Refused {
                user: c.username.clone(),
                status: status.as_u16(),
                message: keystone_message(&body),
            });
        }
        let value = header
            .ok_or_else(|| KeystoneError::BadResponse("no X-Subject-Token header".to_owned()))?;
        let parsed: TokenBody =
            serde_json::from_str(&body).map_err(|e| KeystoneError::BadResponse(e.to_string()))?;
        let expires_at = lifeboat_core::validation::parse_datetime(&parsed.token.expires_at)
            .ok_or_else(|| {
                KeystoneError::BadResponse(format!("bad expires_at {}", parsed.token.expires_at))
            })?;
        tracing::debug!(
            user.name = %c.username,
            duration_ms = started.elapsed().as_millis() as u64,
            "issued a Keystone token"
        );
        Ok(Token {
            value: Secret::new(value),
            expires_at,
            catalog: Arc::new(Catalog(parsed.token.catalog)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        serde_json::from_value::<Vec<CatalogService>>(json!([
            {"type": "compute", "name": "nova", "endpoints": [
                {"interface": "public", "region_id": "RegionOne", "url": "http://nova-public/v2.1/"},
                {"interface": "internal", "region_id": "RegionOne", "url": "http://nova-internal/v2.1"},
                {"interface": "public", "region_id": "RegionTwo", "url": "http://nova-two/v2.1"}]},
            {"type": "instance-ha", "name": "masakari", "endpoints": [
                {"interface": "public", "region_id": "RegionOne", "url": "http://ha/v1"}]}
        ]))
        .map(Catalog)
        .unwrap()
    }

    #[test]
    fn keystone_failing_may_pass_and_keystone_refusing_does_not() {
        let refused = |status| KeystoneError::Refused {
            user: "lifeboat".into(),
            status,
            message: "no".into(),
        };
        let table = [
            (refused(401), false),
            (refused(503), true),
            (KeystoneError::BadResponse("not JSON".into()), false),
            (
                KeystoneError::NoEndpoint {
                    service_type: "compute".into(),
                    interface: "public".into(),
                    region: String::new(),
                },
                false,
            ),
        ];
        for (e, retryable) in table {
            assert_eq!(e.is_retryable(), retryable, "{e}");
        }
    }

    #[test]
    fn catalog_lookup_honours_interface_region_and_name() {
        let c = catalog();
        assert_eq!(
            c.endpoint("compute", Some("nova"), "publicURL", None)
                .unwrap(),
            "http://nova-public/v2.1"
        );
        assert_eq!(
            c.endpoint("compute", None, "internal", Some("RegionOne"))
                .unwrap(),
            "http://nova-internal/v2.1"
        );
        assert_eq!(
            c.endpoint("compute", Some(""), "public", Some("RegionTwo"))
                .unwrap(),
            "http://nova-two/v2.1"
        );
        let err = c
            .endpoint("compute", Some("other"), "public", None)
            .unwrap_err();
        assert!(err.to_string().contains("compute"));
        assert!(c.endpoint("compute", None, "admin", None).is_err());
    }

    #[test]
    fn auth_urls_gain_v3_once() {
        assert_eq!(v3_url("http://k:5000"), "http://k:5000/v3");
        assert_eq!(v3_url("http://k:5000/v3/"), "http://k:5000/v3");
    }

    #[tokio::test]
    async fn the_token_is_kept_until_shortly_before_it_expires() {
        let clock = Arc::new(lifeboat_core::clock::ManualClock::new(
            lifeboat_core::validation::parse_datetime("2026-01-01T00:00:00Z").unwrap(),
        ));
        let calls = Arc::default();
        let url =
            crate::fake_keystone::serve("2026-01-01T01:00:00.000000Z", Arc::clone(&calls)).await;
        let session = crate::fake_keystone::session(&url, clock.clone());
        let token = || async { session.token().await.unwrap().0.expose().to_owned() };

        assert_eq!(token().await, "token-1");
        clock.advance(ChronoDuration::minutes(57));
        assert_eq!(token().await, "token-1", "still more than two minutes left");
        clock.advance(ChronoDuration::minutes(1) + ChronoDuration::seconds(1));
        assert_eq!(
            token().await,
            "token-2",
            "renewed inside the last two minutes"
        );
        assert_eq!(calls.issued.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}

//! A client for Lifeboat's (and Masakari's) own API, as the monitor agents use it: `POST
//! /v1/notifications` (and the hostmonitor's power status lookups) with masakari-monitors'
//! authentication choices.

use lifeboat_core::config::Secret;
use serde_json::Value;

use crate::keystone::{KeystoneError, KeystoneSession};

/// How the client authenticates.
#[derive(Debug, Clone)]
pub enum HaAuth {
    /// No authentication (the API runs `noauth2`). Sends `X-Auth-Token: notused`, as
    /// keystoneauth's `none` plugin does, because Masakari's noauth middleware answers a
    /// request without any token with an empty 204.
    None,
    /// A static token (`auth_type = admin_token`).
    Token(Secret),
    /// Keystone password credentials; the endpoint comes from the catalog (service type
    /// `instance-ha`) unless one is given.
    Keystone {
        /// The session (one token per process, renewed before expiry).
        session: Box<KeystoneSession>,
        /// Catalog interface.
        interface: String,
        /// Catalog region.
        region: Option<String>,
    },
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum HaClientError {
    /// Keystone failed.
    #[error(transparent)]
    Keystone(#[from] KeystoneError),
    /// The API could not be reached.
    #[error("{method} {url} failed: {source}")]
    Unreachable {
        /// The HTTP method.
        method: String,
        /// The URL.
        url: String,
        /// Transport error.
        #[source]
        source: reqwest::Error,
    },
    /// Neither an endpoint nor Keystone was configured.
    #[error("no API endpoint is configured")]
    NoEndpoint,
}

/// The API client.
#[derive(Debug, Clone)]
pub struct HaClient {
    http: reqwest::Client,
    endpoint: Option<String>,
    auth: HaAuth,
}

impl HaClient {
    /// A client over `http`; `endpoint` (e.g. `http://ha:15868/v1`) overrides the catalog.
    pub fn new(http: reqwest::Client, endpoint: Option<String>, auth: HaAuth) -> Self {
        Self {
            http,
            endpoint: endpoint.map(|e| e.trim_end_matches('/').to_owned()),
            auth,
        }
    }

    async fn target(&self) -> Result<(String, Option<Secret>), HaClientError> {
        match &self.auth {
            HaAuth::None => Ok((
                self.endpoint.clone().ok_or(HaClientError::NoEndpoint)?,
                Some(Secret::new("notused")),
            )),
            HaAuth::Token(token) => Ok((
                self.endpoint.clone().ok_or(HaClientError::NoEndpoint)?,
                Some(token.clone()),
            )),
            HaAuth::Keystone {
                session,
                interface,
                region,
            } => {
                let (token, catalog) = session.token().await?;
                let url = match &self.endpoint {
                    Some(e) => e.clone(),
                    None => catalog.endpoint("instance-ha", None, interface, region.as_deref())?,
                };
                Ok((url, Some(token)))
            }
        }
    }

    /// `<method> <endpoint><path>` (`path` starts with `/` and may carry a query), with
    /// `OpenStack-API-Version: instance-ha <microversion>` when one is given: the status and
    /// body of the answer. After a 401 with Keystone credentials a fresh token is fetched and
    /// the request sent once more.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        microversion: Option<&str>,
        body: Option<&Value>,
    ) -> Result<(u16, String), HaClientError> {
        let mut retried = false;
        loop {
            let (base, token) = self.target().await?;
            let url = format!("{base}{path}");
            let mut request = self.http.request(method.clone(), &url);
            if let Some(body) = body {
                request = request.json(body);
            }
            if let Some(version) = microversion {
                request = request.header("OpenStack-API-Version", format!("instance-ha {version}"));
            }
            if let Some(token) = &token {
                request = request.header("X-Auth-Token", token.expose());
            }
            let response = request
                .send()
                .await
                .map_err(|source| HaClientError::Unreachable {
                    method: method.to_string(),
                    url: url.clone(),
                    source,
                })?;
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            if status == 401
                && !retried
                && let HaAuth::Keystone { session, .. } = &self.auth
            {
                session.invalidate().await;
                retried = true;
                continue;
            }
            return Ok((status, text));
        }
    }
}

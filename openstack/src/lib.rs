//! Talking to OpenStack: a Keystone session (token reuse, catalog lookup), Keystone token
//! validation for the API, the Nova client, and the client of our own API that the monitors
//! use. Implements the `lifeboat-core` seams
//! [`TokenValidator`](lifeboat_core::auth::TokenValidator) and
//! [`Compute`](lifeboat_core::compute::Compute); the binary wires them in.

#[cfg(test)]
mod fake_keystone;
pub mod ha_client;
pub mod keystone;
pub mod nova;
pub mod token_validation;
pub mod webhook;

pub use ha_client::{HaAuth, HaClient, HaClientError};
pub use keystone::{Catalog, Credentials, KeystoneError, KeystoneSession};
pub use nova::{NovaAuth, NovaClient};
pub use token_validation::KeystoneTokenValidator;
pub use webhook::HttpWebhook;

/// Why the shared HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    /// The CA file could not be read.
    #[error("reading CA file {path} failed: {source}")]
    ReadCaFile {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The CA file is not a PEM certificate.
    #[error("parsing CA file {path} failed: {source}")]
    ParseCaFile {
        /// The file.
        path: String,
        /// Why.
        source: reqwest::Error,
    },
    /// The TLS backend refused the settings.
    #[error("building the HTTP client failed: {0}")]
    BuildClient(#[source] reqwest::Error),
}

/// Builds the shared HTTP client: one connection pool per process.
pub fn http_client(
    timeout: std::time::Duration,
    insecure: bool,
    ca_file: Option<&str>,
) -> Result<reqwest::Client, HttpClientError> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(std::time::Duration::from_secs(10)))
        .user_agent(concat!("lifeboat/", env!("CARGO_PKG_VERSION")))
        .danger_accept_invalid_certs(insecure);
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|source| HttpClientError::ReadCaFile {
            path: path.to_owned(),
            source,
        })?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|source| {
            HttpClientError::ParseCaFile {
                path: path.to_owned(),
                source,
            }
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build().map_err(HttpClientError::BuildClient)
}

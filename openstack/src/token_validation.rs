//! Keystone token validation for the API (what keystonemiddleware's auth_token does), with a
//! short in-process cache so a busy client costs Keystone one call per token per cache period.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lifeboat_core::auth::{Identity, TokenError, TokenValidator};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::keystone::{KeystoneSession, keystone_message, v3_url};

/// Invalid tokens are remembered this long, so a client retrying a bad token does not hammer
/// Keystone.
const NEGATIVE_CACHE_TIME: Duration = Duration::from_secs(10);
/// Above this many cached tokens, expired entries are pruned.
const CACHE_PRUNE_THRESHOLD: usize = 10_000;

#[derive(Clone)]
enum Cached {
    Valid(Identity),
    Invalid,
}

struct CacheEntry {
    value: Cached,
    until: DateTime<Utc>,
}

/// Validates user tokens against Keystone with the service's own credentials.
pub struct KeystoneTokenValidator {
    session: KeystoneSession,
    http: reqwest::Client,
    auth_url: String,
    cache_time: Duration,
    // Keyed by a hash of the token so raw tokens do not sit in memory longer than needed.
    cache: Mutex<HashMap<[u8; 32], CacheEntry>>,
}

impl std::fmt::Debug for KeystoneTokenValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeystoneTokenValidator")
            .field("auth_url", &self.auth_url)
            .field("cache_time", &self.cache_time)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct ValidationBody {
    token: ValidatedToken,
}

#[derive(Deserialize)]
struct Named {
    id: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct ValidatedToken {
    expires_at: String,
    user: Named,
    #[serde(default)]
    project: Option<Named>,
    #[serde(default)]
    roles: Vec<Named>,
}

impl KeystoneTokenValidator {
    /// A validator that authenticates to Keystone through `session`.
    pub fn new(
        session: KeystoneSession,
        http: reqwest::Client,
        auth_url: &str,
        cache_time: Duration,
    ) -> Self {
        Self {
            session,
            http,
            auth_url: v3_url(auth_url),
            cache_time,
            cache: Mutex::new(HashMap::new()),
        }
    }

    async fn ask_keystone(&self, token: &str) -> Result<Cached, TokenError> {
        let url = format!("{}/auth/tokens?nocatalog", self.auth_url);
        // One retry with a fresh service token, in case ours was revoked.
        for attempt in 0..2 {
            let (service_token, _) = self
                .session
                .token()
                .await
                .map_err(|e| TokenError::Unavailable(e.to_string()))?;
            let response = self
                .http
                .get(&url)
                .header("X-Auth-Token", service_token.expose())
                .header("X-Subject-Token", token)
                .send()
                .await
                .map_err(|e| TokenError::Unavailable(format!("GET {url}: {e}")))?;
            let status = response.status().as_u16();
            let body = response
                .text()
                .await
                .map_err(|e| TokenError::Unavailable(format!("GET {url}: {e}")))?;
            match status {
                200 => return parse_identity(&body).map(Cached::Valid),
                404 => return Ok(Cached::Invalid),
                401 if attempt == 0 => self.session.invalidate().await,
                _ => {
                    return Err(TokenError::Unavailable(format!(
                        "Keystone answered {status}: {}",
                        keystone_message(&body)
                    )));
                }
            }
        }
        Err(TokenError::Unavailable(
            "Keystone refused the service's own token twice".to_owned(),
        ))
    }
}

fn parse_identity(body: &str) -> Result<Identity, TokenError> {
    let parsed: ValidationBody = serde_json::from_str(body)
        .map_err(|e| TokenError::Unavailable(format!("unreadable token validation: {e}")))?;
    let t = parsed.token;
    Ok(Identity {
        user_name: t.user.name.unwrap_or_default(),
        user_id: t.user.id,
        project_name: t.project.as_ref().and_then(|p| p.name.clone()),
        project_id: t.project.map(|p| p.id),
        roles: t.roles.into_iter().filter_map(|r| r.name).collect(),
        expires_at: lifeboat_core::validation::parse_datetime(&t.expires_at),
    })
}

#[async_trait::async_trait]
impl TokenValidator for KeystoneTokenValidator {
    async fn validate(&self, token: &str) -> Result<Identity, TokenError> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = self.session.clock().now();
        if let Some(entry) = self.cache.lock().await.get(&key)
            && entry.until > now
        {
            return match &entry.value {
                Cached::Valid(identity) => Ok(identity.clone()),
                Cached::Invalid => Err(TokenError::Invalid),
            };
        }
        let answer = self.ask_keystone(token).await?;
        let ttl = match &answer {
            Cached::Valid(_) => self.cache_time,
            Cached::Invalid => NEGATIVE_CACHE_TIME,
        };
        let mut until = now + chrono::Duration::from_std(ttl).unwrap_or_default();
        if let Cached::Valid(Identity {
            expires_at: Some(expiry),
            ..
        }) = &answer
        {
            until = until.min(*expiry);
        }
        let mut cache = self.cache.lock().await;
        if cache.len() > CACHE_PRUNE_THRESHOLD {
            cache.retain(|_, e| e.until > now);
        }
        cache.insert(
            key,
            CacheEntry {
                value: answer.clone(),
                until,
            },
        );
        match answer {
            Cached::Valid(identity) => Ok(identity),
            Cached::Invalid => Err(TokenError::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use lifeboat_core::clock::ManualClock;

    use super::*;

    #[tokio::test]
    async fn a_validated_token_is_asked_about_again_only_after_the_cache_time() {
        let clock = Arc::new(ManualClock::new(
            lifeboat_core::validation::parse_datetime("2026-01-01T00:00:00Z").unwrap(),
        ));
        let calls: Arc<crate::fake_keystone::Calls> = Arc::default();
        let url = crate::fake_keystone::serve("2026-01-01T06:00:00Z", calls.clone()).await;
        let validator = KeystoneTokenValidator::new(
            crate::fake_keystone::session(&url, clock.clone()),
            reqwest::Client::new(),
            &url,
            Duration::from_secs(300),
        );
        let validated = || calls.validated.load(Ordering::SeqCst);

        let identity = validator.validate("user-token").await.unwrap();
        assert_eq!((identity.user_name.as_str(), validated()), ("alice", 1));
        clock.advance(chrono::Duration::seconds(299));
        validator.validate("user-token").await.unwrap();
        assert_eq!(validated(), 1, "cached for the cache time");
        clock.advance(chrono::Duration::seconds(2));
        validator.validate("user-token").await.unwrap();
        assert_eq!(validated(), 2, "asked again once the cache time is over");
    }
}

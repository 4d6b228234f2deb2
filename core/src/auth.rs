//! The authentication seam: who is calling, as Keystone (or no-auth) says.

/// The identity behind a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    /// User id.
    pub user_id: String,
    /// User name.
    pub user_name: String,
    /// Project the token is scoped to, if any.
    pub project_id: Option<String>,
    /// Project name.
    pub project_name: Option<String>,
    /// Role names in that project.
    pub roles: Vec<String>,
    /// When the token stops being valid.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Keystone says the token is invalid or expired.
    #[error("The request you have made requires authentication.")]
    Invalid,
    /// Keystone could not be asked.
    #[error("validating a token with Keystone failed: {0}")]
    Unavailable(String),
}

/// Validates user tokens (Keystone's `GET /v3/auth/tokens`).
#[async_trait::async_trait]
pub trait TokenValidator: Send + Sync + std::fmt::Debug {
    /// The identity behind `token`.
    async fn validate(&self, token: &str) -> Result<Identity, TokenError>;
}

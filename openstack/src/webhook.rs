//! Webhook calls for workflow custom steps.

use std::time::Duration;

use lifeboat_core::compute::{Webhook, WebhookError};

/// Posts JSON with the shared HTTP client.
#[derive(Debug, Clone)]
pub struct HttpWebhook {
    http: reqwest::Client,
}

impl HttpWebhook {
    /// A webhook client over `http`.
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }
}

#[async_trait::async_trait]
impl Webhook for HttpWebhook {
    async fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
        timeout: Duration,
    ) -> Result<u16, WebhookError> {
        self.http
            .post(url)
            .timeout(timeout)
            .json(body)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| WebhookError::Post {
                url: url.to_owned(),
                source: Box::new(e),
            })
    }
}

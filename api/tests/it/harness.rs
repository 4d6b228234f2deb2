//! `spawn_app()`: the router on 127.0.0.1:0 over a temporary SQLite database.

use std::sync::Arc;

use lifeboat_api::{AppState, Authenticator, Dependencies, Policy, Settings};
use lifeboat_core::clock::SystemClock;
use lifeboat_core::fencing::{CredentialSealer, Fencer};
use lifeboat_core::store::Store;
use lifeboat_test_support::store::TempStore;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    _store: TempStore,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The fault message of an error reply, asserting the envelope on the way.
    pub fn fault(&self) -> &str {
        let (name, fault) = self
            .body
            .as_object()
            .and_then(|o| o.iter().next())
            .expect("a fault body");
        assert_eq!(fault["code"], self.status.as_u16(), "fault code in {name}");
        fault["message"].as_str().expect("a fault message")
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default()).await
}

pub async fn spawn_app_with(settings: Settings) -> TestApp {
    spawn_app_custom(settings, false, &[]).await
}

/// With fencing: the real topology fencer over the app's store and a credential key.
pub async fn spawn_fencing_app() -> TestApp {
    spawn_fencing_app_with_policy(&[]).await
}

/// With fencing, and policy rules overriding the defaults (as a policy file would).
pub async fn spawn_fencing_app_with_policy(rules: &[(&str, &str)]) -> TestApp {
    spawn_app_custom(Settings::default(), true, rules).await
}

async fn spawn_app_custom(settings: Settings, fencing: bool, rules: &[(&str, &str)]) -> TestApp {
    let temp = TempStore::new().await;
    let store = temp.store.clone();
    let (fencer, sealer) = if fencing {
        let sealer: Arc<dyn CredentialSealer> =
            Arc::new(lifeboat_fence::KeySealer::new(&[9u8; 32]));
        let program = lifeboat_test_support::ipmi_sim::require_program("fence_ipmilan");
        let fence_settings = lifeboat_fence::FenceSettings {
            agent_dir: program.parent().unwrap().to_path_buf(),
            ..lifeboat_fence::FenceSettings::default()
        };
        let fencer: Arc<dyn Fencer> = Arc::new(lifeboat_fence::TopologyFencer::new(
            store.clone(),
            Some(sealer.clone()),
            fence_settings,
            Arc::new(SystemClock),
        ));
        (Some(fencer), Some(sealer))
    } else {
        (None, None)
    };
    let state = AppState::new(Dependencies {
        store: store.clone(),
        clock: Arc::new(SystemClock),
        authenticator: Authenticator::NoAuth,
        policy: Policy::new(
            &rules
                .iter()
                .map(|(name, check)| ((*name).to_owned(), (*check).to_owned()))
                .collect::<Vec<_>>(),
        )
        .unwrap(),
        compute: None,
        fencer,
        sealer,
        settings,
        new_notification: None,
        metrics: lifeboat_metrics::Metrics::new(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, lifeboat_api::router(state))
            .await
            .unwrap();
    });
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        store,
        _store: temp,
    }
}

impl TestApp {
    /// Sends a request; `version` becomes `OpenStack-API-Version: instance-ha <version>`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        version: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(v) = version {
            request = request.header("OpenStack-API-Version", format!("instance-ha {v}"));
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        Self::read(request.send().await.unwrap()).await
    }

    /// Sends raw bytes with a content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        Self::read(request.send().await.unwrap()).await
    }

    async fn read(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, None, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, None, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None, None).await
    }

    /// Creates a segment and returns its JSON.
    pub async fn segment(&self, name: &str, method: &str) -> Value {
        let reply = self
            .post("/v1/segments", json!({"segment": {"name": name, "recovery_method": method, "service_type": "COMPUTE"}}))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.body["segment"].clone()
    }

    /// Creates a host in a segment and returns its JSON.
    pub async fn host(&self, segment: &Value, name: &str) -> Value {
        let path = format!("/v1/segments/{}/hosts", segment["uuid"].as_str().unwrap());
        let reply = self
            .post(
                &path,
                json!({"host": {"name": name, "type": "COMPUTE", "control_attributes": "SSH"}}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.body["host"].clone()
    }

    /// Posts a host-down notification.
    pub async fn host_down(&self, host: &str, generated_time: &str) -> Reply {
        self.post(
            "/v1/notifications",
            json!({"notification": {"type": "COMPUTE_HOST", "hostname": host, "generated_time": generated_time,
                "payload": {"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"}}}),
        )
        .await
    }
}

//! Faults outside the request: the database's disk fills up, the database is read-only, the
//! database server restarts under load. Each scenario drives `lifeboat serve` over HTTP and
//! checks what clients see (503 saying why, never a 500), what `/healthcheck` says, and that
//! nothing accepted is lost and the engine finishes every accepted notification.

mod servers;
mod sqlite;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

/// The engine settings of these scenarios: a short lease, so that a notification whose
/// outcome could not be recorded is resumed within the test.
pub const ENGINE: &str = "[engine]\nlease = 5\npoll_interval = 1\n";

/// Lifeboat's API as these scenarios use it: one segment, one host, and process reports of
/// that host (a process Lifeboat does not recover: the engine finishes those without Nova).
#[derive(Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
    next: Arc<AtomicU64>,
}

impl Api {
    pub fn new(base: String) -> Self {
        Self {
            base,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            next: Arc::new(AtomicU64::new(0)),
        }
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Creates the segment and its host `host-1`.
    pub async fn segment_with_host(&self) {
        let (status, body) = self
            .call(self.http.post(format!("{}/v1/segments", self.base)).json(&json!({"segment": {"name": "faults", "recovery_method": "auto", "service_type": "COMPUTE"}})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let segment = body["segment"]["uuid"].as_str().unwrap().to_owned();
        let (status, body) = self
            .call(
                self.http
                    .post(format!("{}/v1/segments/{segment}/hosts", self.base))
                    .json(&json!({"host": {"name": "host-1", "type": "COMPUTE", "control_attributes": "SSH"}})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Reports a stopped process of a new name; the answer, and the id when accepted.
    pub async fn report(&self) -> Outcome {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let generated = crate::support::generated_now();
        let (status, body) = self
            .call(
                self.http
                    .post(format!("{}/v1/notifications", self.base))
                    .json(&json!({"notification": {
                "type": "PROCESS", "hostname": "host-1", "generated_time": generated,
                "payload": {"event": "STOPPED", "process_name": format!("faults-{n}")}}})),
            )
            .await;
        let id = (status == StatusCode::ACCEPTED).then(|| {
            body["notification"]["notification_uuid"]
                .as_str()
                .unwrap()
                .to_owned()
        });
        (status, body, id)
    }

    /// `/healthcheck`: status and body.
    pub async fn health(&self) -> (StatusCode, String) {
        let response = self
            .http
            .get(format!("{}/healthcheck", self.base))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap_or_default())
    }

    /// Waits until every notification of `ids` is `finished`; panics naming those that are not,
    /// with the server's `log`.
    pub async fn all_finished(&self, ids: &[String], timeout: Duration, log: impl Fn() -> String) {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut pending: Vec<String> = ids.to_vec();
        loop {
            let mut still = Vec::new();
            for id in pending {
                let (status, body) = self
                    .call(
                        self.http
                            .get(format!("{}/v1/notifications/{id}", self.base)),
                    )
                    .await;
                assert_eq!(
                    status,
                    StatusCode::OK,
                    "accepted notification {id} is lost: {body}"
                );
                if body["notification"]["status"] != "finished" {
                    still.push((id, body["notification"]["status"].clone()));
                }
            }
            if still.is_empty() {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} accepted notifications did not finish within {timeout:?}: {:?}\nlifeboat's log:\n{}",
                still.len(),
                &still[..still.len().min(5)],
                log()
            );
            pending = still.into_iter().map(|(id, _)| id).collect();
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// A failed answer is acceptable only as a 503 that says the database is the problem (and
/// never sends anyone to another project's bug tracker).
pub fn assert_database_503(status: StatusCode, body: &Value) {
    let text = body.to_string();
    assert!(
        !text.contains("launchpad"),
        "an answer points at Masakari's bug tracker: {text}"
    );
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "a database fault must answer 503: {text}"
    );
    let message = body["serviceUnavailable"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("database cannot be"),
        "the 503 must say the database is the problem: {text}"
    );
}

/// What a report got: status, body, and the id when accepted.
pub type Outcome = (StatusCode, Value, Option<String>);

/// Reports sent in the background by a few concurrent clients, until stopped.
pub struct Load {
    stop: Arc<AtomicBool>,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    pub fn start(api: &Api, clients: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let outcomes = Arc::new(Mutex::new(Vec::new()));
        let tasks = (0..clients)
            .map(|_| {
                let (api, stop, outcomes) = (api.clone(), stop.clone(), outcomes.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::SeqCst) {
                        let outcome = api.report().await;
                        outcomes.lock().unwrap().push(outcome);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                })
            })
            .collect();
        Self {
            stop,
            outcomes,
            tasks,
        }
    }

    /// How many reports were accepted so far.
    pub fn accepted(&self) -> usize {
        self.outcomes
            .lock()
            .unwrap()
            .iter()
            .filter(|o| o.2.is_some())
            .count()
    }

    /// Stops the clients; every answer they got.
    pub async fn stop(self) -> Vec<Outcome> {
        self.stop.store(true, Ordering::SeqCst);
        for task in self.tasks {
            task.await.unwrap();
        }
        std::mem::take(&mut *self.outcomes.lock().unwrap())
    }
}

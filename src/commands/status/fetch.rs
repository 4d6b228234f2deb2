//! What `lifeboat status` asks the API: every segment and its hosts (microversion 1.6, with why
//! a host is in maintenance), the notifications not yet ended, the running ones' steps (1.1)
//! and instance moves (1.3), the latest failures, and the engine's gauges from `/metrics`.

use anyhow::{Context, Result, bail};
use lifeboat_core::wire::{HostView, NotificationView, SegmentView, VMoveView};
use lifeboat_metrics::scrape::Scraped;
use lifeboat_openstack::HaClient;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Microversions asked for: host maintenance reasons, workflow steps, vmoves.
const HOSTS_VERSION: &str = "1.6";
const STEPS_VERSION: &str = "1.1";
const VMOVES_VERSION: &str = "1.3";

/// The API's answers, as they came.
#[derive(Debug, Default)]
pub struct Answers {
    /// Every segment, each with its hosts.
    pub segments: Vec<(SegmentView, Vec<HostView>)>,
    /// Notifications in `new`, `running` or `error`.
    pub open: Vec<NotificationView>,
    /// The running ones, with their steps, and their instances' moves.
    pub running: Vec<(NotificationView, Vec<VMoveView>)>,
    /// The latest `failed` notifications, newest first.
    pub failed: Vec<NotificationView>,
    /// `/metrics`, when this API serves it and it parses.
    pub metrics: Option<Scraped>,
}

/// The API, through the agents' client (the same authentication choices).
#[derive(Debug)]
pub struct Api {
    client: HaClient,
}

impl Api {
    /// Asks the API that `client` points at (its root URL, without `/v1`).
    pub fn new(client: HaClient) -> Self {
        Self { client }
    }

    /// Everything the overview shows, asked now.
    pub async fn gather(&self, failures: u32) -> Result<Answers> {
        let mut segments = Vec::new();
        for segment in self
            .all::<SegmentView>("/v1/segments", "segments", None)
            .await?
        {
            let path = format!("/v1/segments/{}/hosts", segment.uuid);
            let hosts = self.all(&path, "hosts", Some(HOSTS_VERSION)).await?;
            segments.push((segment, hosts));
        }
        let mut open = Vec::new();
        for status in ["running", "new", "error"] {
            let path = format!("/v1/notifications?status={status}");
            open.extend(
                self.all::<NotificationView>(&path, "notifications", None)
                    .await?,
            );
        }
        let mut running = Vec::new();
        for n in open.iter().filter(|n| n.status.to_string() == "running") {
            let path = format!("/v1/notifications/{}", n.notification_uuid);
            let shown: NotificationView =
                take(self.get(&path, Some(STEPS_VERSION)).await?, "notification")?;
            let moves = self
                .all(&format!("{path}/vmoves"), "vmoves", Some(VMOVES_VERSION))
                .await?;
            running.push((shown, moves));
        }
        let failed = if failures == 0 {
            Vec::new()
        } else {
            let path = format!(
                "/v1/notifications?status=failed&sort_key=updated_at&sort_dir=desc&limit={failures}"
            );
            take(self.get(&path, None).await?, "notifications")?
        };
        Ok(Answers {
            segments,
            open,
            running,
            failed,
            metrics: self.metrics().await,
        })
    }

    /// The body of a 200 answer to `GET path`; any other answer is an error naming it.
    async fn get(&self, path: &str, microversion: Option<&str>) -> Result<Value> {
        let (status, text) = self
            .client
            .request(Method::GET, path, microversion, None)
            .await?;
        if status != 200 {
            bail!("GET {path} answered {status}: {}", fault_message(&text));
        }
        serde_json::from_str(&text).with_context(|| format!("GET {path} answered no JSON"))
    }

    /// Every item of a list, page after page (`marker` is the last item's id).
    async fn all<T: DeserializeOwned>(
        &self,
        path: &str,
        key: &str,
        microversion: Option<&str>,
    ) -> Result<Vec<T>> {
        let mut items: Vec<Value> = Vec::new();
        let join = if path.contains('?') { '&' } else { '?' };
        loop {
            let page_path = match items.last() {
                Some(last) => format!("{path}{join}marker={}", last["id"]),
                None => path.to_owned(),
            };
            let page: Vec<Value> = take(self.get(&page_path, microversion).await?, key)?;
            if page.is_empty() {
                return serde_json::from_value(Value::Array(items))
                    .with_context(|| format!("the API's `{key}` are not readable"));
            }
            items.extend(page);
        }
    }

    /// This API process's metrics; none when it has none or they do not parse.
    async fn metrics(&self) -> Option<Scraped> {
        let (status, text) = self
            .client
            .request(Method::GET, "/metrics", None, None)
            .await
            .ok()?;
        (status == 200).then(|| Scraped::parse(&text).ok())?
    }
}

/// `body[key]` as a `T`.
fn take<T: DeserializeOwned>(mut body: Value, key: &str) -> Result<T> {
    serde_json::from_value(body[key].take())
        .with_context(|| format!("the API's answer has no readable `{key}`"))
}

/// The message of an OpenStack fault body, else the body itself (shortened).
fn fault_message(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| {
            v.as_object()?
                .values()
                .next()?
                .get("message")?
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| text.chars().take(200).collect())
}

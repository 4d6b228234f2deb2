//! Delivery, shared by every monitor: the reports (Masakari's notification payloads, exactly as
//! masakari-monitors sends them), the seam to the API, and the durable [`Outbox`].

mod outbox;

use chrono::{DateTime, Utc};
use lifeboat_core::model::{HostEvent, NotificationType, Payload};
use lifeboat_core::wire::{CreateNotification, CreateNotificationBody};
use serde_json::Value;

pub use outbox::{Outbox, OutboxError, OutboxSettings};

/// One failure report, as `POST /v1/notifications` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `COMPUTE_HOST`, `PROCESS` or `VM`.
    pub notification_type: NotificationType,
    /// The host the report is about (the failed host for COMPUTE_HOST, this node otherwise).
    pub hostname: String,
    /// When the failure was seen (kept through retries, so duplicates stay duplicates).
    pub generated_time: DateTime<Utc>,
    /// Type-specific details.
    pub payload: Payload,
}

fn payload(pairs: &[(&str, &str)]) -> Payload {
    Payload(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

/// `cluster_status` of a host report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterStatus {
    /// The host is a cluster member.
    Online,
    /// The host left.
    Offline,
}

/// `host_status` of a host report: NORMAL lets the engine recover, UNKNOWN (power state not
/// confirmed off) makes it hold back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostStatus {
    /// Safe to recover.
    Normal,
    /// Power state not confirmed.
    Unknown,
}

impl Report {
    /// A hostmonitor report about `host` (pacemaker and consul drivers' payload).
    pub fn compute_host(
        host: &str,
        event: HostEvent,
        host_status: HostStatus,
        at: DateTime<Utc>,
    ) -> Self {
        let cluster = match event {
            HostEvent::Started => "ONLINE",
            HostEvent::Stopped => "OFFLINE",
        };
        let status = match host_status {
            HostStatus::Normal => "NORMAL",
            HostStatus::Unknown => "UNKNOWN",
        };
        Self {
            notification_type: NotificationType::ComputeHost,
            hostname: host.to_owned(),
            generated_time: at,
            payload: payload(&[
                ("event", event.as_str()),
                ("cluster_status", cluster),
                ("host_status", status),
            ]),
        }
    }

    /// A processmonitor report: `process_name` is the text after the last `/` of the
    /// configured name, as masakari-monitors sends it.
    pub fn process(host: &str, event: HostEvent, process_name: &str, at: DateTime<Utc>) -> Self {
        let short = process_name.rsplit('/').next().unwrap_or(process_name);
        Self {
            notification_type: NotificationType::Process,
            hostname: host.to_owned(),
            generated_time: at,
            payload: payload(&[("event", event.as_str()), ("process_name", short)]),
        }
    }

    /// An instancemonitor report.
    pub fn vm(
        host: &str,
        instance_uuid: &str,
        event: &str,
        vir_domain_event: &str,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            notification_type: NotificationType::Vm,
            hostname: host.to_owned(),
            generated_time: at,
            payload: payload(&[
                ("event", event),
                ("instance_uuid", instance_uuid),
                ("vir_domain_event", vir_domain_event),
            ]),
        }
    }

    /// The request body.
    pub fn body(&self) -> Value {
        let body = CreateNotificationBody {
            notification: CreateNotification {
                notification_type: self.notification_type,
                hostname: self.hostname.clone(),
                generated_time: self.generated_time,
                payload: self.payload.clone(),
            },
        };
        // A struct of strings always serialises.
        serde_json::to_value(body).unwrap_or(Value::Null)
    }
}

/// The API's answer to one POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAnswer {
    /// HTTP status.
    pub status: u16,
    /// Response body (fault bodies name the reason).
    pub body: String,
}

/// Why a call got no answer from the API (an answer, whatever its status, is an [`ApiAnswer`]).
#[derive(Debug, thiserror::Error)]
pub enum ApiCallError {
    /// The request was not sent or its answer not read: connection, TLS, timeout, or getting
    /// a token. Always worth retrying.
    #[error("calling the API failed: {0}")]
    CallApi(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiCallError {
    /// A call that failed because of `cause`.
    pub fn call(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::CallApi(cause.into())
    }
}

/// The seam to the API: posts one notification body. The implementation (in the binary,
/// over `lifeboat-openstack`) handles authentication, including a fresh token after a 401.
#[async_trait::async_trait]
pub trait NotificationApi: Send + Sync + std::fmt::Debug {
    /// `POST <endpoint>/notifications` with `body`; `Err` when no answer came.
    async fn post_notification(&self, body: &Value) -> Result<ApiAnswer, ApiCallError>;
}

/// The HTTP method of an [`ApiRequests`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiMethod {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

/// The seam to the rest of the API, over the same client and authentication as
/// [`NotificationApi`] (the hostmonitor reads hosts, fence devices and power states with it).
#[async_trait::async_trait]
pub trait ApiRequests: Send + Sync + std::fmt::Debug {
    /// `<method> <endpoint><path>` (`path` starts with `/` and may carry a query), with
    /// `OpenStack-API-Version: instance-ha <microversion>` when one is given; `Err` when no
    /// answer came.
    async fn request(
        &self,
        method: ApiMethod,
        path: &str,
        microversion: Option<&str>,
        body: Option<&Value>,
    ) -> Result<ApiAnswer, ApiCallError>;
}

/// What an answer means for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The API has it (2xx).
    Delivered,
    /// The API already has it, or the host is under maintenance (409): delivered.
    AlreadyKnown,
    /// The API will never take it (400, 413, 422: e.g. a host name that is not registered):
    /// parked for an operator, never retried.
    Refused,
    /// Try again later (transport errors, 5xx, 401/403/404 until the configuration is fixed).
    Retry,
}

/// Classifies an answer.
pub fn verdict(answer: &Result<ApiAnswer, ApiCallError>) -> Verdict {
    match answer {
        Err(_) => Verdict::Retry,
        Ok(a) => match a.status {
            200..=299 => Verdict::Delivered,
            409 => Verdict::AlreadyKnown,
            400 | 413 | 422 => Verdict::Refused,
            _ => Verdict::Retry,
        },
    }
}

/// The message of an OpenStack fault body (`{"badRequest": {"message": …}}`), or the text.
pub fn fault_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.as_object()?
                .values()
                .find_map(|inner| inner.get("message")?.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| body.chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn payloads_are_masakari_monitors_payloads() {
        let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let host = Report::compute_host("compute-2", HostEvent::Stopped, HostStatus::Unknown, at);
        assert_eq!(
            host.body(),
            serde_json::json!({"notification": {"type": "COMPUTE_HOST", "hostname": "compute-2",
                "generated_time": "2026-01-02T03:04:05.000000",
                "payload": {"cluster_status": "OFFLINE", "event": "STOPPED", "host_status": "UNKNOWN"}}})
        );
        let started = Report::compute_host("c", HostEvent::Started, HostStatus::Normal, at);
        assert_eq!(started.payload.get("cluster_status"), Some("ONLINE"));
        let process = Report::process("c", HostEvent::Stopped, "/usr/bin/nova-compute", at);
        assert_eq!(process.payload.get("process_name"), Some("nova-compute"));
        let vm = Report::vm("c", "u", "LIFECYCLE", "STOPPED_FAILED", at);
        assert_eq!(vm.body()["notification"]["type"], "VM");
        // Every payload passes the API's own validation.
        for r in [host, started, process] {
            lifeboat_core::wire::parse_create_notification(&r.body()).unwrap();
        }
    }

    #[test]
    fn answers_are_classified_as_the_issue_says() {
        let a = |status| {
            Ok(ApiAnswer {
                status,
                body: String::new(),
            })
        };
        assert_eq!(verdict(&a(202)), Verdict::Delivered);
        assert_eq!(verdict(&a(409)), Verdict::AlreadyKnown);
        assert_eq!(verdict(&a(400)), Verdict::Refused);
        assert_eq!(verdict(&a(503)), Verdict::Retry);
        assert_eq!(verdict(&a(401)), Verdict::Retry);
        assert_eq!(
            verdict(&Err(ApiCallError::call("connection refused"))),
            Verdict::Retry
        );
        assert_eq!(
            fault_message(r#"{"badRequest": {"code": 400, "message": "Host x not found"}}"#),
            "Host x not found"
        );
    }
}

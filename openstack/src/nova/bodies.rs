//! What Nova answers, read into core's compute types: services, servers, migrations, faults
//! and paging links.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use lifeboat_core::compute::{ComputeError, ComputeService, Server, TaskState, VmState};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
pub(super) struct ServiceBody {
    pub(super) id: Value,
    pub(super) host: String,
    #[serde(default)]
    pub(super) status: String,
    #[serde(default)]
    pub(super) disabled_reason: Option<String>,
    #[serde(default)]
    pub(super) state: String,
    #[serde(default)]
    pub(super) forced_down: bool,
}

impl From<ServiceBody> for ComputeService {
    fn from(s: ServiceBody) -> Self {
        Self {
            id: match s.id {
                Value::String(text) => text,
                other => other.to_string(),
            },
            host: s.host,
            status: s.status,
            disabled_reason: s.disabled_reason,
            state: s.state,
            forced_down: s.forced_down,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ServerBody {
    pub(super) id: String,
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) status: String,
    #[serde(rename = "OS-EXT-STS:vm_state", default)]
    pub(super) vm_state: Option<String>,
    #[serde(rename = "OS-EXT-STS:task_state", default)]
    pub(super) task_state: Option<String>,
    #[serde(rename = "OS-EXT-SRV-ATTR:host", default)]
    pub(super) host: Option<String>,
    #[serde(default)]
    pub(super) locked: bool,
    #[serde(default)]
    pub(super) metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) flavor: Value,
}

impl From<ServerBody> for Server {
    fn from(s: ServerBody) -> Self {
        Self {
            id: s.id,
            name: s.name,
            status: s.status,
            vm_state: VmState::from(s.vm_state.as_deref().unwrap_or_default()),
            task_state: s.task_state.as_deref().map(TaskState::from),
            host: s.host,
            locked: s.locked,
            metadata: s.metadata,
            vcpus: s.flavor.get("vcpus").and_then(Value::as_u64),
            ram_mb: s.flavor.get("ram").and_then(Value::as_u64),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct MigrationBody {
    pub(super) id: u64,
    #[serde(default)]
    pub(super) instance_uuid: Option<String>,
    #[serde(default)]
    pub(super) status: String,
    #[serde(default)]
    pub(super) source_compute: Option<String>,
    #[serde(default)]
    pub(super) dest_compute: Option<String>,
    #[serde(default)]
    pub(super) migration_type: Option<String>,
    #[serde(default)]
    pub(super) updated_at: Option<String>,
}

/// Nova writes times as `2026-12-01T15:41:22.000000` (UTC, no zone) or with a zone.
pub(super) fn nova_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// The `marker` of a `migrations_links` next link, if there is one.
pub(super) fn next_marker(body: &Value) -> Option<String> {
    body["migrations_links"]
        .as_array()?
        .iter()
        .find(|l| l["rel"] == "next")?["href"]
        .as_str()?
        .split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix("marker="))
        .map(str::to_owned)
}

/// Nova's fault body is `{"<name>": {"message": ...}}`.
pub(super) fn fault_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.as_object()
                .and_then(|o| o.values().next())
                .and_then(|f| f["message"].as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| body.chars().take(200).collect())
}

pub(super) fn query_escape(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

pub(super) fn decode<T: serde::de::DeserializeOwned>(
    action: &str,
    value: Value,
) -> Result<T, ComputeError> {
    serde_json::from_value(value).map_err(|e| ComputeError::Refused {
        action: action.to_owned(),
        status: 200,
        message: format!("unreadable answer: {e}"),
    })
}

//! The overview `lifeboat status` shows, built from the API's answers: a pure function of them
//! and `now`, so its decisions (a host's state, what counts as a storm-guard pause) are tested
//! as tables.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use lifeboat_core::model::NotificationStatus;
use lifeboat_core::wire::{HostView, NotificationView};
use lifeboat_engine::decisions::STORM_GUARD_MESSAGE_PREFIX;
use serde::Serialize;
use uuid::Uuid;

use super::fetch::Answers;

/// Everything on the screen (and in `--output-as json`).
#[derive(Debug, Serialize)]
pub struct Snapshot {
    /// The API asked.
    pub endpoint: String,
    /// When.
    pub taken_at: DateTime<Utc>,
    /// The recovery engine(s), as far as this API can tell.
    pub engine: EngineState,
    /// Whether the storm guard has paused recoveries.
    pub storm_guard: StormGuard,
    /// Every segment with its hosts.
    pub segments: Vec<SegmentState>,
    /// Recoveries running now, each with its steps and instances.
    pub recoveries: Vec<Recovery>,
    /// The latest notifications in `error` or `failed`, newest first.
    pub recent_failures: Vec<Failure>,
}

/// A segment.
#[derive(Debug, Serialize)]
pub struct SegmentState {
    /// Its UUID.
    pub uuid: Uuid,
    /// Its name.
    pub name: String,
    /// `auto`, `reserved_host`, `auto_priority`, `rh_priority`.
    pub recovery_method: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Its hosts, by name.
    pub hosts: Vec<HostState>,
}

/// A host.
#[derive(Debug, Serialize)]
pub struct HostState {
    /// Its UUID.
    pub uuid: Uuid,
    /// Its name.
    pub name: String,
    /// `recovering` (a notification of it is not ended), `maintenance`, or `ok`.
    pub state: &'static str,
    /// Masakari's flag.
    pub on_maintenance: bool,
    /// Who put it in maintenance: `operator` or `recovery` (none when not in maintenance, or
    /// when the API is older than microversion 1.6).
    pub maintenance_reason: Option<String>,
    /// The notification whose recovery put it there.
    pub maintenance_notification_uuid: Option<Uuid>,
    /// A spare for `reserved_host` recoveries.
    pub reserved: bool,
}

/// A running recovery.
#[derive(Debug, Serialize)]
pub struct Recovery {
    /// The notification.
    pub notification_uuid: Uuid,
    /// Its type.
    pub r#type: String,
    /// The failed host's name (its UUID when it is no longer listed).
    pub host: String,
    /// When the notification last changed.
    pub updated_at: Option<DateTime<Utc>>,
    /// Its message so far.
    pub message: Option<String>,
    /// The workflow's steps in order.
    pub steps: Vec<Step>,
    /// Each instance being moved.
    pub instances: Vec<Instance>,
    /// How many instances are in each move status.
    pub instances_by_status: BTreeMap<String, usize>,
}

/// One workflow step.
#[derive(Debug, Serialize)]
pub struct Step {
    /// Its name (`EvacuateInstancesTask`, …).
    pub name: String,
    /// `RUNNING`, `SUCCESS`, `FAILURE`, …
    pub state: String,
    /// Between 0 and 1.
    pub progress: f64,
    /// Its latest progress line.
    pub last_message: Option<String>,
}

/// One instance's move.
#[derive(Debug, Serialize)]
pub struct Instance {
    /// Nova's server UUID.
    pub instance_uuid: String,
    /// Its name.
    pub instance_name: String,
    /// `pending`, `ongoing`, `succeeded`, `failed`, `ignored`.
    pub status: String,
    /// Where it was.
    pub source_host: Option<String>,
    /// Where it went.
    pub dest_host: Option<String>,
    /// Why it failed or was skipped.
    pub message: Option<String>,
}

/// A notification that did not end well.
#[derive(Debug, Serialize)]
pub struct Failure {
    /// The notification.
    pub notification_uuid: Uuid,
    /// Its type.
    pub r#type: String,
    /// `error` (retried later, or waiting for an operator) or `failed`.
    pub status: String,
    /// The host's name (its UUID when it is no longer listed).
    pub host: String,
    /// When it last changed.
    pub updated_at: Option<DateTime<Utc>>,
    /// Why.
    pub message: Option<String>,
}

/// The engines' work as the database shows it, and this API process's own engine.
#[derive(Debug, Serialize)]
pub struct EngineState {
    /// Whether an engine runs in the API's process (`serve`): from its `/metrics`; none when
    /// the API serves no metrics.
    pub in_api_process: Option<bool>,
    /// Recoveries running (any engine).
    pub running: usize,
    /// Notifications waiting for an engine (`new`).
    pub waiting: usize,
    /// Notifications in `error`, to be retried or waiting for an operator.
    pub in_error: usize,
    /// Claims made by the API process's engine since it started.
    pub claims: Option<u64>,
    /// Claims that engine lost to another engine since it started.
    pub lease_losses: Option<u64>,
}

/// The storm guard.
#[derive(Debug, Serialize)]
pub struct StormGuard {
    /// Whether any recovery is paused by it.
    pub tripped: bool,
    /// The paused notifications.
    pub paused: Vec<Failure>,
}

impl Snapshot {
    /// The overview of `answers`, taken at `now`, with at most `failures` recent failures.
    pub fn build(endpoint: &str, answers: Answers, failures: usize, now: DateTime<Utc>) -> Self {
        let names: HashMap<Uuid, String> = answers
            .segments
            .iter()
            .flat_map(|(_, hosts)| hosts.iter().map(|h| (h.uuid, h.name.clone())))
            .collect();
        let host_name = |uuid: Uuid| {
            names
                .get(&uuid)
                .cloned()
                .unwrap_or_else(|| uuid.to_string())
        };
        let failure = |n: &NotificationView| Failure {
            notification_uuid: n.notification_uuid,
            r#type: n.notification_type.to_string(),
            status: n.status.to_string(),
            host: host_name(n.source_host_uuid),
            updated_at: n.timestamps.updated_at,
            message: n.message.clone(),
        };
        let count =
            |status: NotificationStatus| answers.open.iter().filter(|n| n.status == status).count();
        let gauge = |family: &str| {
            answers
                .metrics
                .as_ref()
                .filter(|m| m.has("lifeboat_engine_up"))
                .map(|m| m.value(family, &[]) as u64)
        };
        let engine = EngineState {
            in_api_process: gauge("lifeboat_engine_up").map(|up| up > 0),
            running: count(NotificationStatus::Running),
            waiting: count(NotificationStatus::New),
            in_error: count(NotificationStatus::Error),
            claims: gauge("lifeboat_engine_claims"),
            lease_losses: gauge("lifeboat_engine_lease_losses"),
        };
        let errors: Vec<&NotificationView> = answers
            .open
            .iter()
            .filter(|n| n.status == NotificationStatus::Error)
            .collect();
        let paused: Vec<Failure> = errors
            .iter()
            .filter(|n| is_storm_pause(n))
            .map(|n| failure(n))
            .collect();
        let mut recent: Vec<Failure> = errors
            .iter()
            .map(|n| failure(n))
            .chain(answers.failed.iter().map(failure))
            .collect();
        recent.sort_by_key(|f| std::cmp::Reverse(f.updated_at));
        recent.truncate(failures);
        let segments = answers
            .segments
            .iter()
            .map(|(segment, hosts)| {
                let mut hosts: Vec<HostState> =
                    hosts.iter().map(|h| host_state(h, &answers.open)).collect();
                hosts.sort_by(|a, b| a.name.cmp(&b.name));
                SegmentState {
                    uuid: segment.uuid,
                    name: segment.name.clone(),
                    recovery_method: segment.recovery_method.to_string(),
                    enabled: segment.enabled,
                    hosts,
                }
            })
            .collect();
        let recoveries = answers
            .running
            .iter()
            .map(|(n, moves)| {
                let mut by_status = BTreeMap::new();
                for m in moves {
                    *by_status.entry(m.status.to_string()).or_insert(0) += 1;
                }
                Recovery {
                    notification_uuid: n.notification_uuid,
                    r#type: n.notification_type.to_string(),
                    host: host_name(n.source_host_uuid),
                    updated_at: n.timestamps.updated_at,
                    message: n.message.clone(),
                    steps: n
                        .recovery_workflow_details
                        .iter()
                        .flatten()
                        .map(|s| Step {
                            name: s.name.clone(),
                            state: s.state.clone(),
                            progress: s.progress,
                            last_message: s.progress_details.last().map(|d| d.message.clone()),
                        })
                        .collect(),
                    instances: moves
                        .iter()
                        .map(|m| Instance {
                            instance_uuid: m.instance_uuid.clone(),
                            instance_name: m.instance_name.clone(),
                            status: m.status.to_string(),
                            source_host: m.source_host.clone(),
                            dest_host: m.dest_host.clone(),
                            message: m.message.clone(),
                        })
                        .collect(),
                    instances_by_status: by_status,
                }
            })
            .collect();
        Self {
            endpoint: endpoint.to_owned(),
            taken_at: now,
            engine,
            storm_guard: StormGuard {
                tripped: !paused.is_empty(),
                paused,
            },
            segments,
            recoveries,
            recent_failures: recent,
        }
    }
}

/// A notification in `error` that the storm guard paused (it waits for an operator's retry).
fn is_storm_pause(n: &NotificationView) -> bool {
    n.status == NotificationStatus::Error
        && n.message
            .as_deref()
            .is_some_and(|m| m.starts_with(STORM_GUARD_MESSAGE_PREFIX))
}

/// A host's line: `recovering` while a notification of it is not ended, else `maintenance`
/// or `ok`.
fn host_state(h: &HostView, open: &[NotificationView]) -> HostState {
    let recovering = open.iter().any(|n| n.source_host_uuid == h.uuid);
    let maintenance = h.maintenance.as_ref();
    HostState {
        uuid: h.uuid,
        name: h.name.clone(),
        state: if recovering {
            "recovering"
        } else if h.on_maintenance {
            "maintenance"
        } else {
            "ok"
        },
        on_maintenance: h.on_maintenance,
        maintenance_reason: maintenance
            .and_then(|m| m.maintenance_reason)
            .map(|r| r.to_string()),
        maintenance_notification_uuid: maintenance.and_then(|m| m.maintenance_notification_uuid),
        reserved: h.reserved,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn notification(status: &str, message: Option<&str>, host: Uuid) -> NotificationView {
        serde_json::from_value(json!({
            "id": 1, "notification_uuid": Uuid::new_v4(), "type": "COMPUTE_HOST",
            "generated_time": "2026-01-01T00:00:00.000000", "source_host_uuid": host,
            "payload": {"event": "STOPPED"}, "status": status,
            "failover_segment_uuid": null, "message": message,
            "created_at": "2026-01-01T00:00:00.000000", "updated_at": null,
            "deleted_at": null, "deleted": false,
        }))
        .unwrap()
    }

    #[test]
    fn only_an_error_with_the_storm_guards_message_is_a_pause() {
        let host = Uuid::new_v4();
        let storm = "Storm guard: 3 of 4 hosts of the segment failed recently";
        let table = [
            ("error", Some(storm), true),
            ("failed", Some(storm), false),
            ("error", Some("Nova answered 500"), false),
            ("error", None, false),
        ];
        for (status, message, paused) in table {
            let n = notification(status, message, host);
            assert_eq!(is_storm_pause(&n), paused, "{status} {message:?}");
        }
    }

    #[test]
    fn a_host_recovering_outranks_its_maintenance() {
        let host: HostView = serde_json::from_value(json!({
            "id": 1, "uuid": Uuid::new_v4(), "name": "c1",
            "failover_segment_id": Uuid::new_v4(),
            "failover_segment": {"id": 1, "uuid": Uuid::new_v4(), "name": "s",
                "description": null, "recovery_method": "auto", "service_type": "COMPUTE",
                "enabled": true, "created_at": "2026-01-01T00:00:00.000000"},
            "type": "COMPUTE", "reserved": false, "control_attributes": "SSH",
            "on_maintenance": true, "maintenance_reason": "recovery",
            "maintenance_notification_uuid": null,
            "created_at": "2026-01-01T00:00:00.000000",
        }))
        .unwrap();
        let other = notification("running", None, Uuid::new_v4());
        let own = notification("running", None, host.uuid);
        assert_eq!(
            host_state(&host, std::slice::from_ref(&other)).state,
            "maintenance"
        );
        let state = host_state(&host, &[other, own]);
        assert_eq!(state.state, "recovering");
        assert_eq!(state.maintenance_reason.as_deref(), Some("recovery"));
    }
}

//! The engine's decisions, as pure functions of their inputs (tested as tables).

use std::cmp::Reverse;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lifeboat_core::compute::Server;
use lifeboat_core::model::{Notification, NotificationType};

/// oslo's `bool_from_string`: `1 t true on y yes`, any case.
pub fn truthy(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "t" | "true" | "on" | "y" | "yes"
        )
    })
}

/// What a notification asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A host died: fence it and evacuate its instances.
    RecoverHost,
    /// A host came back.
    HostBack,
    /// An instance failed.
    RecoverInstance {
        /// The Nova server id.
        instance: String,
    },
    /// A process stopped on a host.
    ProcessDown {
        /// The process.
        process: String,
    },
    /// A process came back.
    ProcessUp {
        /// The process.
        process: String,
    },
    /// Nothing to do; the reason becomes the notification's message.
    Ignore(String),
}

/// Libvirt events that mean an instance needs recovering (Masakari's three, plus a crash).
const RECOVERABLE_VM_EVENTS: &[(&str, &str)] = &[
    ("LIFECYCLE", "STOPPED_FAILED"),
    ("LIFECYCLE", "STOPPED_CRASHED"),
    ("QEMU_GUEST_AGENT_ERROR", "STOPPED_FAILED"),
    ("IO_ERROR", "IO_ERROR_REPORT"),
];

/// Decides what a notification asks for.
pub fn classify(n: &Notification) -> Action {
    let event = n.payload.get("event").unwrap_or_default();
    match n.notification_type {
        NotificationType::ComputeHost => match (event, n.payload.get("host_status")) {
            ("STARTED", _) => Action::HostBack,
            ("STOPPED", Some("NORMAL")) => Action::RecoverHost,
            // The monitor could not confirm the host is down (e.g. its power check failed):
            // acting on it could evacuate instances of a live host.
            ("STOPPED", Some(status)) => Action::Ignore(format!(
                "Host status is {status}: the monitor could not confirm the host is down, so it is not recovered."
            )),
            ("STOPPED", None) => Action::Ignore(
                "The notification has no host_status; the host is not recovered.".into(),
            ),
            (other, _) => Action::Ignore(format!("Unknown host event {other}.")),
        },
        NotificationType::Vm => {
            let detail = n.payload.get("vir_domain_event").unwrap_or_default();
            if RECOVERABLE_VM_EVENTS.contains(&(event, detail)) {
                Action::RecoverInstance {
                    instance: n
                        .payload
                        .get("instance_uuid")
                        .unwrap_or_default()
                        .to_owned(),
                }
            } else {
                Action::Ignore(format!(
                    "Instance event {event}/{detail} needs no recovery."
                ))
            }
        }
        NotificationType::Process => {
            let process = n.payload.get("process_name").unwrap_or_default().to_owned();
            match event {
                "STOPPED" => Action::ProcessDown { process },
                "STARTED" => Action::ProcessUp { process },
                other => Action::Ignore(format!("Unknown process event {other}.")),
            }
        }
    }
}

/// Which instances of a failed host to evacuate, and in what order.
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    /// Metadata key marking HA-enabled instances.
    pub ha_key: &'a str,
    /// Metadata key of a numeric priority (higher first).
    pub priority_key: &'a str,
    /// Also evacuate instances that are not HA-enabled (after the HA-enabled ones).
    pub evacuate_all: bool,
    /// Leave instances in error state alone.
    pub ignore_error: bool,
}

/// The instances to evacuate: HA-enabled first, then by priority (higher first), then by name,
/// so a recovery always proceeds in the same order. (Masakari evacuates HA-enabled ones last.)
pub fn select_instances(servers: &[Server], s: &Selection<'_>) -> Vec<Server> {
    let mut chosen: Vec<Server> = servers
        .iter()
        .filter(|v| !(s.ignore_error && v.vm_state == "error"))
        .filter(|v| s.evacuate_all || truthy(v.metadata.get(s.ha_key).map(String::as_str)))
        .cloned()
        .collect();
    chosen.sort_by_key(|v| {
        let ha = truthy(v.metadata.get(s.ha_key).map(String::as_str));
        let priority: i64 = v
            .metadata
            .get(s.priority_key)
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0);
        (Reverse(ha), Reverse(priority), v.name.clone(), v.id.clone())
    });
    chosen
}

/// A host an instance could be evacuated to, with its free capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Compute host name.
    pub host: String,
    /// Free vCPUs.
    pub free_vcpus: u64,
    /// Free RAM in MiB.
    pub free_ram_mb: u64,
}

/// Assigns each instance (in order) the target with the most free RAM that fits it, so the
/// load spreads and big instances are placed while room remains. `None`: nothing fits.
pub fn plan_targets(instances: &[Server], targets: &[Target]) -> Vec<Option<String>> {
    let mut room: Vec<Target> = targets.to_vec();
    instances
        .iter()
        .map(|server| {
            let (cpu, ram) = (server.vcpus.unwrap_or(1), server.ram_mb.unwrap_or(0));
            let best = room
                .iter_mut()
                .filter(|t| t.free_vcpus >= cpu && t.free_ram_mb >= ram)
                .max_by_key(|t| (t.free_ram_mb, t.free_vcpus, Reverse(t.host.clone())))?;
            best.free_vcpus -= cpu;
            best.free_ram_mb -= ram;
            Some(best.host.clone())
        })
        .collect()
}

/// Whether too many of a segment's hosts failed at once to recover automatically (a network
/// partition or a power event looks like many host failures; evacuating into the rest of a
/// dying segment makes things worse). Returns the reason when the guard trips.
pub fn storm(
    failed_hosts: u64,
    segment_hosts: u64,
    max_share: f64,
    min_hosts: u32,
) -> Option<String> {
    if max_share <= 0.0 || segment_hosts < u64::from(min_hosts) || segment_hosts == 0 {
        return None;
    }
    let share = failed_hosts as f64 / segment_hosts as f64;
    (share > max_share).then(|| {
        format!(
            "Storm guard: {failed_hosts} of {segment_hosts} hosts of the segment failed recently \
             (more than {:.0}%); automatic recovery is paused. Check the segment, then retry this \
             notification.",
            max_share * 100.0
        )
    })
}

/// When a notification in error is tried again: `backoff` doubled per attempt made, capped at
/// an hour; `None` once `max_attempts` attempts were made (the notification is then failed).
pub fn retry_at(
    attempt: i64,
    max_attempts: u32,
    backoff: Duration,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if attempt >= i64::from(max_attempts) {
        return None;
    }
    let factor = 1u32 << u32::try_from(attempt.clamp(1, 10) - 1).unwrap_or(0);
    let wait = (backoff * factor).min(Duration::from_secs(3600));
    Some(now + chrono::Duration::from_std(wait).unwrap_or_default())
}

/// How an evacuation is going, from one look at the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evacuation {
    /// On another host and settled.
    Done {
        /// Where it is now.
        host: String,
    },
    /// Still moving.
    Moving,
    /// It went to error.
    Failed(String),
}

/// Whether Nova is already rebuilding the server elsewhere: an evacuation passes through the
/// task states `rebuilding`, `rebuild_block_device_mapping` and `rebuild_spawning`, and on a
/// failed host no other rebuild can be under way. (An engine resumed after a crash finds its
/// predecessor's evacuations in any of them; resetting such a server would break them.)
pub fn evacuation_under_way(server: &Server) -> bool {
    server
        .task_state
        .as_deref()
        .is_some_and(|t| t.starts_with("rebuild"))
}

/// Judges an evacuation from the server's fields: done when it is on another host with no task
/// under way and in the state it should be in (active, or stopped if it was stopped).
pub fn evacuation_state(server: &Server, source: &str, original_vm_state: &str) -> Evacuation {
    let moved = server.host.as_deref().is_some_and(|h| h != source);
    // Only a settled error counts: an instance left in error by an earlier failed try reads
    // error while Nova is already rebuilding it (task_state `rebuilding`).
    if server.vm_state == "error" && server.task_state.is_none() && original_vm_state != "error" {
        return Evacuation::Failed(format!("instance {} went to error state", server.id));
    }
    let expected = match original_vm_state {
        "stopped" => "stopped",
        _ => "active",
    };
    match (&server.host, moved, server.task_state.as_deref()) {
        (Some(host), true, None) if server.vm_state == expected => {
            Evacuation::Done { host: host.clone() }
        }
        _ => Evacuation::Moving,
    }
}

/// How Nova's evacuation migration record says an evacuation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationEnd {
    /// `done` (rebuilt on the destination) or `completed` (and the source cleaned up).
    Succeeded,
    /// `failed` (the destination gave up) or `error` (the conductor found no host, …), as named.
    Failed(String),
}

/// Whether a migration status is an end, and which. An evacuation's record goes `accepted` →
/// `pre-migrating` → `done`, then `completed` once the source compute comes back; `failed` or
/// `error` when it gives up. Anything else (including a status this code does not know) is
/// still under way: the server record, looked at anyway now and then, has the last word.
pub fn migration_end(status: &str) -> Option<MigrationEnd> {
    match status {
        "done" | "completed" => Some(MigrationEnd::Succeeded),
        "failed" | "error" => Some(MigrationEnd::Failed(status.to_owned())),
        _ => None,
    }
}

/// Judges an evacuation from the server's fields and how Nova said its migration ended, if
/// it did. A migration that failed leaves the server settled (no task) wherever it stayed,
/// often not in error (Nova rolls back a failed claim): waiting longer would only run into
/// the deadline. A failed migration with the server still busy is judged on the next look.
pub fn evacuation_verdict(
    server: &Server,
    source: &str,
    original_vm_state: &str,
    migration: Option<&MigrationEnd>,
) -> Evacuation {
    match (
        evacuation_state(server, source, original_vm_state),
        migration,
    ) {
        (Evacuation::Moving, Some(MigrationEnd::Failed(status))) if server.task_state.is_none() => {
            Evacuation::Failed(format!(
                "Nova's evacuation of instance {} ended {status}; it is {} on host {}",
                server.id,
                server.vm_state,
                server.host.as_deref().unwrap_or("(none)")
            ))
        }
        (state, _) => state,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;
    use lifeboat_core::model::{NotificationStatus, Payload, Timestamps};

    use super::*;

    fn server(name: &str, meta: &[(&str, &str)], vm_state: &str) -> Server {
        Server {
            id: format!("id-{name}"),
            name: name.into(),
            status: "ACTIVE".into(),
            vm_state: vm_state.into(),
            task_state: None,
            host: Some("h1".into()),
            locked: false,
            metadata: meta
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect::<BTreeMap<_, _>>(),
            vcpus: Some(1),
            ram_mb: Some(512),
        }
    }

    fn notification(kind: NotificationType, payload: &[(&str, &str)]) -> Notification {
        Notification {
            id: 1,
            notification_uuid: uuid::Uuid::nil(),
            notification_type: kind,
            generated_time: Utc.timestamp_opt(0, 0).unwrap(),
            source_host_uuid: uuid::Uuid::nil(),
            payload: Payload(
                payload
                    .iter()
                    .map(|(k, v)| ((*k).into(), (*v).into()))
                    .collect(),
            ),
            status: NotificationStatus::New,
            failover_segment_uuid: None,
            message: None,
            timestamps: Timestamps {
                created_at: Utc.timestamp_opt(0, 0).unwrap(),
                updated_at: None,
                deleted_at: None,
                deleted: false,
            },
        }
    }

    #[test]
    fn notifications_are_classified_like_masakari_with_a_crash_mapped() {
        use NotificationType::*;
        assert_eq!(
            classify(&notification(
                ComputeHost,
                &[("event", "STOPPED"), ("host_status", "NORMAL")]
            )),
            Action::RecoverHost
        );
        assert!(matches!(
            classify(&notification(
                ComputeHost,
                &[("event", "STOPPED"), ("host_status", "UNKNOWN")]
            )),
            Action::Ignore(_)
        ));
        assert!(matches!(
            classify(&notification(ComputeHost, &[("event", "STOPPED")])),
            Action::Ignore(_)
        ));
        assert_eq!(
            classify(&notification(ComputeHost, &[("event", "STARTED")])),
            Action::HostBack
        );
        let vm = |e: &str, d: &str| {
            classify(&notification(
                Vm,
                &[
                    ("event", e),
                    ("vir_domain_event", d),
                    ("instance_uuid", "i"),
                ],
            ))
        };
        assert_eq!(
            vm("LIFECYCLE", "STOPPED_FAILED"),
            Action::RecoverInstance {
                instance: "i".into()
            }
        );
        assert_eq!(
            vm("LIFECYCLE", "STOPPED_CRASHED"),
            Action::RecoverInstance {
                instance: "i".into()
            }
        );
        assert_eq!(
            vm("IO_ERROR", "IO_ERROR_REPORT"),
            Action::RecoverInstance {
                instance: "i".into()
            }
        );
        assert!(matches!(
            vm("LIFECYCLE", "STOPPED_DESTROYED"),
            Action::Ignore(_)
        ));
        assert_eq!(
            classify(&notification(
                Process,
                &[("event", "STOPPED"), ("process_name", "nova-compute")]
            )),
            Action::ProcessDown {
                process: "nova-compute".into()
            }
        );
    }

    #[test]
    fn ha_enabled_instances_go_first_then_priority_then_name() {
        let servers = vec![
            server("c", &[], "active"),
            server("b", &[("HA_Enabled", "True")], "active"),
            server(
                "a",
                &[("HA_Enabled", "yes"), ("HA_Priority", "5")],
                "active",
            ),
            server("d", &[("HA_Priority", "9")], "active"),
            server("e", &[], "error"),
        ];
        let all = Selection {
            ha_key: "HA_Enabled",
            priority_key: "HA_Priority",
            evacuate_all: true,
            ignore_error: false,
        };
        let names = |v: Vec<Server>| v.into_iter().map(|s| s.name).collect::<Vec<_>>();
        assert_eq!(
            names(select_instances(&servers, &all)),
            ["a", "b", "d", "c", "e"]
        );
        assert_eq!(
            names(select_instances(
                &servers,
                &Selection {
                    ignore_error: true,
                    ..all.clone()
                }
            )),
            ["a", "b", "d", "c"]
        );
        assert_eq!(
            names(select_instances(
                &servers,
                &Selection {
                    evacuate_all: false,
                    ..all
                }
            )),
            ["a", "b"]
        );
    }

    #[test]
    fn targets_spread_by_free_room_and_unplaceable_instances_get_none() {
        let mut big = server("big", &[], "active");
        big.ram_mb = Some(4096);
        let small = server("s", &[], "active");
        let targets = vec![
            Target {
                host: "t1".into(),
                free_vcpus: 8,
                free_ram_mb: 2048,
            },
            Target {
                host: "t2".into(),
                free_vcpus: 8,
                free_ram_mb: 1536,
            },
        ];
        let plan = plan_targets(
            &[small.clone(), small.clone(), small.clone(), big],
            &targets,
        );
        assert_eq!(
            plan,
            vec![
                Some("t1".into()),
                Some("t2".into()),
                Some("t1".into()),
                None
            ]
        );
        assert_eq!(plan_targets(&[small], &[]), vec![None]);
    }

    #[test]
    fn the_storm_guard_trips_above_the_share_in_big_enough_segments() {
        assert!(storm(2, 4, 0.5, 3).is_none());
        assert!(storm(3, 4, 0.5, 3).is_some());
        assert!(
            storm(2, 2, 0.5, 3).is_none(),
            "two-host segments are too small to judge"
        );
        assert!(storm(9, 10, 0.0, 3).is_none(), "0 disables");
    }

    #[test]
    fn retries_back_off_and_stop() {
        let now = Utc.timestamp_opt(1000, 0).unwrap();
        let at = |attempt| {
            retry_at(attempt, 3, Duration::from_secs(30), now).map(|t| (t - now).num_seconds())
        };
        assert_eq!((at(1), at(2), at(3)), (Some(30), Some(60), None));
    }

    #[test]
    fn evacuations_are_done_when_settled_on_another_host() {
        let mut s = server("x", &[], "active");
        assert_eq!(evacuation_state(&s, "h1", "active"), Evacuation::Moving);
        s.host = Some("h2".into());
        s.task_state = Some("rebuilding".into());
        assert_eq!(evacuation_state(&s, "h1", "active"), Evacuation::Moving);
        s.task_state = None;
        assert_eq!(
            evacuation_state(&s, "h1", "active"),
            Evacuation::Done { host: "h2".into() }
        );
        assert_eq!(
            evacuation_state(&s, "h1", "stopped"),
            Evacuation::Moving,
            "a stopped instance must come back stopped"
        );
        s.vm_state = "error".into();
        assert!(matches!(
            evacuation_state(&s, "h1", "active"),
            Evacuation::Failed(_)
        ));
    }

    #[test]
    fn migration_statuses_end_evacuations_only_when_nova_is_done_with_them() {
        for status in [
            "accepted",
            "pre-migrating",
            "migrating",
            "queued",
            "",
            "new-in-nova",
        ] {
            assert_eq!(migration_end(status), None, "{status}");
        }
        for status in ["done", "completed"] {
            assert_eq!(
                migration_end(status),
                Some(MigrationEnd::Succeeded),
                "{status}"
            );
        }
        for status in ["failed", "error"] {
            assert_eq!(
                migration_end(status),
                Some(MigrationEnd::Failed(status.into())),
                "{status}"
            );
        }
    }

    #[test]
    fn a_failed_migration_fails_the_evacuation_once_the_server_settles() {
        let failed = MigrationEnd::Failed("failed".into());
        let mut s = server("x", &[], "active");
        s.host = Some("h1".into());
        s.task_state = Some("rebuilding".into());
        assert_eq!(
            evacuation_verdict(&s, "h1", "active", Some(&failed)),
            Evacuation::Moving,
            "Nova has not put the server back yet"
        );
        s.task_state = None;
        assert!(matches!(
            evacuation_verdict(&s, "h1", "active", Some(&failed)),
            Evacuation::Failed(why) if why.contains("ended failed")
        ));
        assert_eq!(
            evacuation_verdict(&s, "h1", "active", None),
            Evacuation::Moving,
            "without the migration, only the deadline ends it"
        );
        // The server record has the last word: settled elsewhere is done, whatever the record.
        s.host = Some("h2".into());
        assert_eq!(
            evacuation_verdict(&s, "h1", "active", Some(&failed)),
            Evacuation::Done { host: "h2".into() }
        );
        s.host = Some("h1".into());
        assert_eq!(
            evacuation_verdict(&s, "h1", "active", Some(&MigrationEnd::Succeeded)),
            Evacuation::Moving,
            "a done record with the server not yet moved is looked at again"
        );
    }

    #[test]
    fn every_rebuild_task_state_is_an_evacuation_under_way() {
        let mut s = server("a", &[], "active");
        assert!(!evacuation_under_way(&s));
        for task in [
            "rebuilding",
            "rebuild_block_device_mapping",
            "rebuild_spawning",
        ] {
            s.task_state = Some(task.into());
            assert!(evacuation_under_way(&s), "{task}");
        }
        s.task_state = Some("powering-off".into());
        assert!(!evacuation_under_way(&s));
    }
}

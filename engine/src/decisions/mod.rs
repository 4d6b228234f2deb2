//! The engine's decisions, as pure functions of their inputs (tested as tables): here what a
//! notification asks for and when to stop or retry; [`placement`] which instances move where;
//! [`evacuation`] how a move is going.

mod evacuation;
mod placement;

use std::time::Duration;

use chrono::{DateTime, Utc};
use lifeboat_core::model::{Notification, NotificationType};

pub use evacuation::*;
pub use placement::*;

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

/// How the storm guard's message starts (what `lifeboat status` recognises a pause by).
pub const STORM_GUARD_MESSAGE_PREFIX: &str = "Storm guard:";

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
            "{STORM_GUARD_MESSAGE_PREFIX} {failed_hosts} of {segment_hosts} hosts of the segment failed recently \
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
#[cfg(test)]
pub(crate) mod fixtures {
    use std::collections::BTreeMap;

    use lifeboat_core::compute::Server;

    pub(crate) fn server(name: &str, meta: &[(&str, &str)], vm_state: &str) -> Server {
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
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use lifeboat_core::model::{NotificationStatus, Payload, Timestamps};

    use super::*;

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
}

//! libvirt domain events, mapped to VM notifications exactly as masakari-monitors'
//! instancemonitor maps them, plus `STOPPED_CRASHED`, which it drops.

/// libvirt's domain event ids that are subscribed.
pub const SUBSCRIBED: &[(u32, u32)] = &[
    // (event id, callback message procedure)
    (EVENT_LIFECYCLE, 318),
    (EVENT_REBOOT, 319),
    (EVENT_WATCHDOG, 321),
    (EVENT_IO_ERROR, 322),
    (EVENT_IO_ERROR_REASON, 324),
    (EVENT_CONTROL_ERROR, 325),
];

/// `VIR_DOMAIN_EVENT_ID_LIFECYCLE`.
pub const EVENT_LIFECYCLE: u32 = 0;
/// `VIR_DOMAIN_EVENT_ID_REBOOT`.
pub const EVENT_REBOOT: u32 = 1;
/// `VIR_DOMAIN_EVENT_ID_WATCHDOG`.
pub const EVENT_WATCHDOG: u32 = 3;
/// `VIR_DOMAIN_EVENT_ID_IO_ERROR`.
pub const EVENT_IO_ERROR: u32 = 4;
/// `VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON`.
pub const EVENT_IO_ERROR_REASON: u32 = 6;
/// `VIR_DOMAIN_EVENT_ID_CONTROL_ERROR`.
pub const EVENT_CONTROL_ERROR: u32 = 7;

/// `VIR_DOMAIN_EVENT_STARTED`, a lifecycle event type.
pub const LIFECYCLE_STARTED: i32 = 2;

/// One event as it came off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainEvent {
    /// Event id.
    pub event_id: u32,
    /// Domain name.
    pub domain: String,
    /// Domain UUID (the Nova instance UUID).
    pub uuid: String,
    /// Lifecycle: event type; watchdog and I/O error: action.
    pub kind: i32,
    /// Lifecycle: detail.
    pub detail: i32,
}

/// Whether `e` says the guest (re)booted, so that its agent must answer afresh.
pub fn is_boot(e: &DomainEvent) -> bool {
    (e.event_id == EVENT_LIFECYCLE && e.kind == LIFECYCLE_STARTED) || e.event_id == EVENT_REBOOT
}

/// The `event` and `vir_domain_event` of the notification for `e`, or `None` for events
/// masakari-monitors does not report.
pub fn notification_for(e: &DomainEvent) -> Option<(&'static str, &'static str)> {
    let lifecycle = |kind: i32, detail: i32| -> Option<&'static str> {
        Some(match (kind, detail) {
            (3, 2) => "SUSPENDED_IOERROR",
            (3, 3) => "SUSPENDED_WATCHDOG",
            (3, 6) => "SUSPENDED_API_ERROR",
            (5, 0) => "STOPPED_SHUTDOWN",
            (5, 1) => "STOPPED_DESTROYED",
            // A guest panic; masakari-monitors drops it.
            (5, 2) => "STOPPED_CRASHED",
            (5, 5) => "STOPPED_FAILED",
            (6, 0) => "SHUTDOWN_FINISHED",
            _ => return None,
        })
    };
    match e.event_id {
        EVENT_LIFECYCLE => lifecycle(e.kind, e.detail).map(|v| ("LIFECYCLE", v)),
        EVENT_REBOOT => Some(("REBOOT", "UNKNOWN")),
        EVENT_WATCHDOG => {
            const ACTIONS: [&str; 6] = [
                "WATCHDOG_NONE",
                "WATCHDOG_PAUSE",
                "WATCHDOG_RESET",
                "WATCHDOG_POWEROFF",
                "WATCHDOG_SHUTDOWN",
                "WATCHDOG_DEBUG",
            ];
            usize::try_from(e.kind)
                .ok()
                .and_then(|i| ACTIONS.get(i))
                .map(|v| ("WATCHDOG", *v))
        }
        EVENT_IO_ERROR => {
            const ACTIONS: [&str; 3] = ["IO_ERROR_NONE", "IO_ERROR_PAUSE", "IO_ERROR_REPORT"];
            usize::try_from(e.kind)
                .ok()
                .and_then(|i| ACTIONS.get(i))
                .map(|v| ("IO_ERROR", *v))
        }
        EVENT_IO_ERROR_REASON => Some(("IO_ERROR_REASON", "UNKNOWN")),
        EVENT_CONTROL_ERROR => Some(("CONTROL_ERROR", "UNKNOWN")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event_id: u32, kind: i32, detail: i32) -> DomainEvent {
        DomainEvent {
            event_id,
            domain: "d".into(),
            uuid: "u".into(),
            kind,
            detail,
        }
    }

    #[test]
    fn the_masakari_filter_table() {
        let cases = [
            (ev(0, 3, 2), Some(("LIFECYCLE", "SUSPENDED_IOERROR"))),
            (ev(0, 3, 3), Some(("LIFECYCLE", "SUSPENDED_WATCHDOG"))),
            (ev(0, 3, 6), Some(("LIFECYCLE", "SUSPENDED_API_ERROR"))),
            (ev(0, 3, 0), None),
            (ev(0, 5, 0), Some(("LIFECYCLE", "STOPPED_SHUTDOWN"))),
            (ev(0, 5, 1), Some(("LIFECYCLE", "STOPPED_DESTROYED"))),
            (ev(0, 5, 2), Some(("LIFECYCLE", "STOPPED_CRASHED"))),
            (ev(0, 5, 5), Some(("LIFECYCLE", "STOPPED_FAILED"))),
            (ev(0, 6, 0), Some(("LIFECYCLE", "SHUTDOWN_FINISHED"))),
            (ev(0, 2, 0), None),
            (ev(1, 0, 0), Some(("REBOOT", "UNKNOWN"))),
            (ev(3, 2, 0), Some(("WATCHDOG", "WATCHDOG_RESET"))),
            (ev(3, 6, 0), None),
            (ev(4, 2, 0), Some(("IO_ERROR", "IO_ERROR_REPORT"))),
            (ev(6, 0, 0), Some(("IO_ERROR_REASON", "UNKNOWN"))),
            (ev(7, 0, 0), Some(("CONTROL_ERROR", "UNKNOWN"))),
            (ev(2, 0, 0), None),
        ];
        for (e, want) in cases {
            assert_eq!(notification_for(&e), want, "{e:?}");
        }
    }

    #[test]
    fn starts_and_reboots_are_boots() {
        assert!(is_boot(&ev(0, 2, 0)));
        assert!(is_boot(&ev(1, 0, 0)));
        assert!(!is_boot(&ev(0, 5, 5)));
        assert!(!is_boot(&ev(3, 2, 0)));
    }
}

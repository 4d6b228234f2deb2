//! How an evacuation is going, from the server's fields and Nova's migration record.

use lifeboat_core::compute::{Server, VmState};

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
    server.task_state.as_ref().is_some_and(|t| t.is_rebuild())
}

/// Whether the server must be reset (to error) before Nova accepts evacuating it: Nova refuses
/// an instance in the middle of a task or in a state other than active, stopped or error.
pub fn needs_reset(server: &Server) -> bool {
    let usual = matches!(
        server.vm_state,
        VmState::Active | VmState::Stopped | VmState::Error
    );
    server.task_state.is_some() || !usual
}

/// Judges an evacuation from the server's fields: done when it is on another host with no task
/// under way and in the state it should be in (active, or stopped if it was stopped).
pub fn evacuation_state(server: &Server, source: &str, original_vm_state: &VmState) -> Evacuation {
    let moved = server.host.as_deref().is_some_and(|h| h != source);
    // Only a settled error counts: an instance left in error by an earlier failed try reads
    // error while Nova is already rebuilding it (task_state `rebuilding`).
    if server.vm_state == VmState::Error
        && server.task_state.is_none()
        && *original_vm_state != VmState::Error
    {
        return Evacuation::Failed(format!("instance {} went to error state", server.id));
    }
    let expected = match original_vm_state {
        VmState::Stopped => VmState::Stopped,
        _ => VmState::Active,
    };
    match (&server.host, moved, server.task_state.as_ref()) {
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
    original_vm_state: &VmState,
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
    use super::super::fixtures::server;
    use super::*;
    use lifeboat_core::compute::TaskState;

    #[test]
    fn evacuations_are_done_when_settled_on_another_host() {
        let mut s = server("x", &[], "active");
        assert_eq!(
            evacuation_state(&s, "h1", &VmState::Active),
            Evacuation::Moving
        );
        s.host = Some("h2".into());
        s.task_state = Some(TaskState::Rebuilding);
        assert_eq!(
            evacuation_state(&s, "h1", &VmState::Active),
            Evacuation::Moving
        );
        s.task_state = None;
        assert_eq!(
            evacuation_state(&s, "h1", &VmState::Active),
            Evacuation::Done { host: "h2".into() }
        );
        assert_eq!(
            evacuation_state(&s, "h1", &VmState::Stopped),
            Evacuation::Moving,
            "a stopped instance must come back stopped"
        );
        s.vm_state = VmState::Error;
        assert!(matches!(
            evacuation_state(&s, "h1", &VmState::Active),
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
        s.task_state = Some(TaskState::Rebuilding);
        assert_eq!(
            evacuation_verdict(&s, "h1", &VmState::Active, Some(&failed)),
            Evacuation::Moving,
            "Nova has not put the server back yet"
        );
        s.task_state = None;
        assert!(matches!(
            evacuation_verdict(&s, "h1", &VmState::Active, Some(&failed)),
            Evacuation::Failed(why) if why.contains("ended failed")
        ));
        assert_eq!(
            evacuation_verdict(&s, "h1", &VmState::Active, None),
            Evacuation::Moving,
            "without the migration, only the deadline ends it"
        );
        // The server record has the last word: settled elsewhere is done, whatever the record.
        s.host = Some("h2".into());
        assert_eq!(
            evacuation_verdict(&s, "h1", &VmState::Active, Some(&failed)),
            Evacuation::Done { host: "h2".into() }
        );
        s.host = Some("h1".into());
        assert_eq!(
            evacuation_verdict(&s, "h1", &VmState::Active, Some(&MigrationEnd::Succeeded)),
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

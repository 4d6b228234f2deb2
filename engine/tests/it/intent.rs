//! Operator intent and a Nova-less instance: a `STARTED` report ends only the maintenance a
//! recovery set, and work that needs no Nova finishes without one.

use lifeboat_core::clock::{Clock, SystemClock};
use lifeboat_core::compute::Compute;
use lifeboat_core::model::{
    CANCEL_STEP, CANCELLED_MESSAGE, HostUpdate, MaintenanceReason, NotificationStatus,
    NotificationType,
};
use lifeboat_core::store::{OperatorRequest, StoreError};

use crate::fencing::Stack;

const NOVA_COMPUTE_DOWN: &[(&str, &str)] =
    &[("event", "STOPPED"), ("process_name", "nova-compute")];
const NOVA_COMPUTE_UP: &[(&str, &str)] = &[("event", "STARTED"), ("process_name", "nova-compute")];

async fn compute_1(stack: &Stack) -> lifeboat_core::model::Host {
    stack
        .store
        .get_host_by_name("compute-1")
        .await
        .unwrap()
        .unwrap()
}

async fn service_status(stack: &Stack) -> String {
    stack
        .nova
        .find_compute_service("compute-1")
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_report_ends_the_maintenance_its_recovery_set() {
    let stack = Stack::start().await;
    let failed = stack.host_fails().await;
    assert_eq!(failed.status, NotificationStatus::Finished, "{failed:?}");
    let m = compute_1(&stack).await.maintenance.unwrap();
    assert_eq!(
        (m.reason, m.notification_uuid),
        (MaintenanceReason::Recovery, Some(failed.notification_uuid))
    );
    let back = stack
        .report(
            NotificationType::ComputeHost,
            &[
                ("event", "STARTED"),
                ("host_status", "NORMAL"),
                ("cluster_status", "ONLINE"),
            ],
        )
        .await;
    assert_eq!(back.status, NotificationStatus::Finished, "{back:?}");
    assert_eq!(compute_1(&stack).await.maintenance, None);
    // The host failure's disable is the operator's to undo.
    assert_eq!(service_status(&stack).await, "disabled");
    stack.nova.enable_service("svc-compute-1").await.unwrap();

    let down = stack
        .report(NotificationType::Process, NOVA_COMPUTE_DOWN)
        .await;
    assert_eq!(down.status, NotificationStatus::Finished, "{down:?}");
    assert!(compute_1(&stack).await.in_recovery_maintenance());
    assert_eq!(service_status(&stack).await, "disabled");
    let up = stack
        .report(NotificationType::Process, NOVA_COMPUTE_UP)
        .await;
    assert_eq!(up.status, NotificationStatus::Finished, "{up:?}");
    assert_eq!(service_status(&stack).await, "enabled");
    assert_eq!(compute_1(&stack).await.maintenance, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_nova_only_the_work_that_needs_nova_ends_in_error() {
    let stack = Stack::start_with(false).await;
    // nova-compute back on a host no recovery touched: nothing to undo, no Nova needed.
    let up = stack
        .report(NotificationType::Process, NOVA_COMPUTE_UP)
        .await;
    assert_eq!(up.status, NotificationStatus::Finished, "{up:?}");
    assert!(
        up.message
            .as_deref()
            .unwrap_or_default()
            .contains("nothing to undo"),
        "{up:?}"
    );
    // A host whose monitor could not confirm it is down: not recovered, no Nova needed.
    let unknown = stack
        .report(
            NotificationType::ComputeHost,
            &[("event", "STOPPED"), ("host_status", "UNKNOWN")],
        )
        .await;
    assert_eq!(unknown.status, NotificationStatus::Ignored, "{unknown:?}");
    let host = compute_1(&stack).await;
    let segment = host.failover_segment.uuid;
    let edit = || HostUpdate {
        reserved: Some(true),
        ..HostUpdate::default()
    };
    stack
        .store
        .update_host(segment, host.uuid, edit(), SystemClock.now())
        .await
        .unwrap();

    // Disabling nova-compute's service needs Nova: that one ends in error, saying why.
    let down = stack
        .report(NotificationType::Process, NOVA_COMPUTE_DOWN)
        .await;
    assert_eq!(down.status, NotificationStatus::Error, "{down:?}");
    assert!(
        down.message
            .as_deref()
            .unwrap_or_default()
            .contains("No Nova endpoint is configured"),
        "{down:?}"
    );
    let locked = stack
        .store
        .update_host(segment, host.uuid, edit(), SystemClock.now())
        .await
        .unwrap_err();
    assert!(matches!(locked, StoreError::HostInUse { .. }), "{locked:?}");
    // The operator's way out.
    stack
        .store
        .request(
            down.notification_uuid,
            OperatorRequest::Cancel,
            SystemClock.now(),
        )
        .await
        .unwrap();
    stack
        .store
        .delete_host(segment, host.uuid, SystemClock.now())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_stops_a_running_recovery_at_its_next_step_and_is_recorded() {
    let stack = Stack::start().await;
    stack.nova.hold_listings();
    let n = stack
        .submit(
            NotificationType::ComputeHost,
            &[
                ("event", "STOPPED"),
                ("host_status", "NORMAL"),
                ("cluster_status", "OFFLINE"),
            ],
        )
        .await;
    let id = n.notification_uuid;
    for _ in 0..200 {
        if stack.store.get_notification(id).await.unwrap().status == NotificationStatus::Running {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let flagged = stack
        .store
        .request(id, OperatorRequest::Cancel, SystemClock.now())
        .await
        .unwrap();
    assert_eq!(flagged.status, NotificationStatus::Running, "{flagged:?}");
    stack.nova.release_listings();
    let ended = stack.settled(id).await;
    assert_eq!(
        (ended.status, ended.message.as_deref()),
        (NotificationStatus::Failed, Some(CANCELLED_MESSAGE))
    );
    assert!(stack.nova.evacuations().is_empty(), "nothing evacuated");
    let steps = stack.store.list_recovery_steps(id).await.unwrap();
    assert_eq!(
        steps.last().map(|s| s.name.as_str()),
        Some(CANCEL_STEP),
        "{steps:?}"
    );
    // Released: the operator may edit the host again.
    let host = compute_1(&stack).await;
    stack
        .store
        .update_host(
            host.failover_segment.uuid,
            host.uuid,
            HostUpdate {
                reserved: Some(true),
                ..HostUpdate::default()
            },
            SystemClock.now(),
        )
        .await
        .unwrap();
}

//! Only a failure that may go away is tried again: Nova refusing a request as bad ends the
//! notification `failed` at once, Nova failing for now leaves it in `error` for the next
//! attempt.

use lifeboat_core::model::NotificationStatus;

use crate::fencing::Stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_evacuation_nova_may_accept_later_is_retried() {
    for (status, expect) in [
        (400, NotificationStatus::Failed),
        (404, NotificationStatus::Failed),
        (503, NotificationStatus::Error),
        (409, NotificationStatus::Error),
    ] {
        let stack = Stack::start().await;
        stack.nova.refuse_evacuations(status);
        let n = stack.host_fails().await;
        assert_eq!(n.status, expect, "Nova answering {status}: {n:?}");
        let message = n.message.unwrap_or_default();
        assert!(
            message.contains(&format!("Nova answered {status}")),
            "{message}"
        );
        // Failed at the first attempt, not after using them all.
        assert!(!message.contains("gave up after"), "{message}");
        assert_eq!(stack.nova.evacuations().len(), 1, "asked once");
    }
}

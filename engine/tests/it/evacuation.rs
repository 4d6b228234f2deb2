//! Waiting for evacuations: on Nova's migration records when Nova lists them, on each server
//! when it does not.

use std::time::Duration;

use tokio::time::Instant;

use lifeboat_core::model::NotificationStatus;

use crate::fencing::Stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evacuations_are_seen_ending_in_the_migration_records() {
    let stack = Stack::start().await;
    let n = stack.host_fails().await;
    assert_eq!(n.status, NotificationStatus::Finished, "{n:?}");
    assert_eq!(
        stack.nova.evacuations(),
        vec![("s1".to_owned(), Some("compute-2".to_owned()))]
    );
    assert!(stack.nova.migration_listings() >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nova_that_refuses_to_list_migrations_gets_each_server_read_instead() {
    let stack = Stack::start().await;
    stack.nova.refuse_migration_listings(403);
    let started = Instant::now();
    let n = stack.host_fails().await;
    assert_eq!(n.status, NotificationStatus::Finished, "{n:?}");
    assert_eq!(
        stack.nova.evacuations(),
        vec![("s1".to_owned(), Some("compute-2".to_owned()))]
    );
    assert_eq!(
        stack.nova.migration_listings(),
        1,
        "refused once, not asked again"
    );
    // Read as often as before (from 250 ms), not only at the slow fallback (5 s).
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

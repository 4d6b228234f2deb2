//! A backlog of one host's notifications: the engine takes the next one as soon as the one
//! before it ends, not at its next poll.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use lifeboat_core::clock::{Clock, SystemClock};
use lifeboat_core::config::Config;
use lifeboat_core::model::{NewNotification, NotificationStatus, NotificationType, Payload};
use lifeboat_core::store::{ListQuery, NotificationFilter};
use lifeboat_core::validation::Hostname;
use lifeboat_engine::{Engine, EngineDeps, EngineSettings, Policies, Policy};
use lifeboat_test_support::fixtures::segment_with_hosts;
use lifeboat_test_support::store::TempStore;
use serde_json::json;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hosts_backlog_is_worked_off_without_waiting_for_polls() {
    let temp = TempStore::new().await;
    let store = temp.store.clone();
    let now = SystemClock.now();
    segment_with_hosts(&*store, &["compute-1"], now).await;
    const BACKLOG: usize = 12;
    for i in 0..BACKLOG {
        // A process Lifeboat does not recover: finished at once, with no Nova.
        let payload = BTreeMap::from([
            ("event".to_owned(), "STOPPED".to_owned()),
            ("process_name".to_owned(), format!("backlog-{i}")),
        ]);
        store
            .create_notification(
                NewNotification {
                    notification_type: NotificationType::Process,
                    hostname: Hostname::parse("hostname", &json!("compute-1")).unwrap(),
                    generated_time: now,
                    payload: Payload(payload),
                },
                Duration::from_secs(180),
                SystemClock.now(),
            )
            .await
            .unwrap();
    }
    let poll_interval = Duration::from_secs(10);
    let engine = Engine::new(
        EngineDeps {
            store: store.clone(),
            compute: None,
            fencer: None,
            clock: Arc::new(SystemClock),
            policies: Arc::new(Policies::only(
                Policy::from_config(&Config::default()).unwrap(),
            )),
            webhook: None,
            metrics: lifeboat_metrics::EngineMetrics::default(),
        },
        EngineSettings {
            engine_id: "engine-backlog".into(),
            lease: Duration::from_secs(30),
            poll_interval,
            max_concurrent: 4,
            max_attempts: 3,
            retry_backoff: Duration::from_secs(3600),
        },
        Arc::new(tokio::sync::Notify::new()),
    );
    let cancel = CancellationToken::new();
    let started = Instant::now();
    let running = tokio::spawn(engine.run(cancel.clone(), Duration::from_secs(1)));
    let query = ListQuery::<NotificationFilter>::default();
    loop {
        let all = store.list_notifications(&query).await.unwrap();
        let finished = all
            .iter()
            .filter(|n| n.status == NotificationStatus::Finished)
            .count();
        if finished == BACKLOG {
            break;
        }
        assert!(
            started.elapsed() < poll_interval / 2,
            "{finished} of {BACKLOG} finished after {:?}: the engine waits for its polls",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "{BACKLOG} notifications of one host worked off in {:?}",
        started.elapsed()
    );
    cancel.cancel();
    running.await.unwrap();
}

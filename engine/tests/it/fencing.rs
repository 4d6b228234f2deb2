//! No evacuation without a verified power-off: the host-failure workflow with real fencing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::clock::{Clock, SystemClock};
use lifeboat_core::config::Config;
use lifeboat_core::fencing::{CredentialSealer, Fencer};
use lifeboat_core::model::{
    FenceDriver, NewNotification, Notification, NotificationStatus, NotificationType, Payload,
    RecoveryStep,
};
use lifeboat_core::store::Store;
use lifeboat_core::validation::Hostname;
use lifeboat_engine::{Engine, EngineDeps, EngineSettings, Policies, Policy};
use lifeboat_fence::ipmi::{Timing, Verification};
use lifeboat_fence::{FenceSettings, KeySealer, TopologyFencer};
use lifeboat_test_support::fixtures::{fence_device, segment_with_hosts};
use lifeboat_test_support::ipmi_sim::{IpmiSim, free_udp_port};
use lifeboat_test_support::store::TempStore;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::compute::FakeCompute;

pub(crate) struct Stack {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) nova: Arc<FakeCompute>,
    /// What the engine and the fencer counted.
    pub(crate) metrics: lifeboat_metrics::Metrics,
    sealer: KeySealer,
    segment: uuid::Uuid,
    cancel: CancellationToken,
    _store: TempStore,
}

impl Stack {
    /// A segment with hosts compute-1 (which fails) and compute-2, one server on compute-1,
    /// and an engine running.
    pub(crate) async fn start() -> Self {
        Self::start_with(true).await
    }

    /// As [`Stack::start`]; without Nova when `nova` is false (as a trial instance runs).
    pub(crate) async fn start_with(nova: bool) -> Self {
        let temp = TempStore::new().await;
        let store = temp.store.clone();
        let (segment, _) =
            segment_with_hosts(&*store, &["compute-1", "compute-2"], SystemClock.now()).await;
        let nova_configured = nova;
        let nova = Arc::new(FakeCompute::with_hosts(&["compute-1", "compute-2"]));
        nova.add_server("s1", "compute-1");
        let sealer = KeySealer::new(&[3u8; 32]);
        let metrics = lifeboat_metrics::Metrics::new();
        let fencer: Arc<dyn Fencer> = Arc::new(
            TopologyFencer::new(
                store.clone(),
                Some(Arc::new(KeySealer::new(&[3u8; 32])) as Arc<dyn CredentialSealer>),
                FenceSettings {
                    ipmi: Timing {
                        retransmit: Duration::from_millis(100),
                        timeout: Duration::from_millis(300),
                    },
                    verify: Verification {
                        timeout: Duration::from_secs(3),
                        interval: Duration::from_millis(200),
                    },
                    ..FenceSettings::default()
                },
                Arc::new(SystemClock),
            )
            .with_metrics(metrics.fence.clone()),
        );
        let deps = EngineDeps {
            store: store.clone(),
            compute: nova_configured
                .then(|| nova.clone() as Arc<dyn lifeboat_core::compute::Compute>),
            fencer: Some(fencer),
            clock: Arc::new(SystemClock),
            policies: Arc::new(Policies::only(
                Policy::from_config(&Config::default()).unwrap(),
            )),
            webhook: None,
            metrics: metrics.engine.clone(),
        };
        let settings = EngineSettings {
            engine_id: "engine-test".into(),
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_millis(50),
            max_concurrent: 2,
            max_attempts: 3,
            // Far away: each test sees exactly one attempt.
            retry_backoff: Duration::from_secs(3600),
        };
        let cancel = CancellationToken::new();
        let engine = Engine::new(deps, settings, Arc::new(tokio::sync::Notify::new()));
        tokio::spawn(engine.run(cancel.clone(), Duration::from_secs(1)));
        Self {
            store,
            nova,
            metrics,
            sealer,
            segment,
            cancel,
            _store: temp,
        }
    }

    async fn add_ipmi(&self, device: &str, level: u32, address: &str) {
        let host = self
            .store
            .get_host_by_name("compute-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(host.failover_segment.uuid, self.segment);
        self.store
            .create_fence_device(
                host.uuid,
                fence_device(
                    device,
                    level,
                    FenceDriver::Ipmi,
                    address,
                    "password",
                    &self.sealer,
                    &[("cipher", "3")],
                ),
                SystemClock.now(),
            )
            .await
            .unwrap();
    }

    /// The `FenceHostTask` step recorded for `n`.
    pub(crate) async fn fence_step(&self, n: &Notification) -> RecoveryStep {
        self.store
            .list_recovery_steps(n.notification_uuid)
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.name == "FenceHostTask")
            .unwrap()
    }

    /// Reports compute-1 down and waits for the engine to settle the notification.
    pub(crate) async fn host_fails(&self) -> Notification {
        self.report(
            NotificationType::ComputeHost,
            &[
                ("event", "STOPPED"),
                ("host_status", "NORMAL"),
                ("cluster_status", "OFFLINE"),
            ],
        )
        .await
    }

    /// Reports from compute-1 and waits for the engine to settle the notification.
    pub(crate) async fn report(
        &self,
        kind: NotificationType,
        pairs: &[(&str, &str)],
    ) -> Notification {
        let n = self.submit(kind, pairs).await;
        self.settled(n.notification_uuid).await
    }

    /// Reports from compute-1.
    pub(crate) async fn submit(
        &self,
        kind: NotificationType,
        pairs: &[(&str, &str)],
    ) -> Notification {
        let payload: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.store
            .create_notification(
                NewNotification {
                    notification_type: kind,
                    hostname: Hostname::parse("hostname", &json!("compute-1")).unwrap(),
                    generated_time: SystemClock.now(),
                    payload: Payload(payload),
                },
                Duration::from_secs(180),
                SystemClock.now(),
            )
            .await
            .unwrap()
    }

    /// Waits for the engine to settle a notification (anything but new or running).
    pub(crate) async fn settled(&self, id: uuid::Uuid) -> Notification {
        for _ in 0..200 {
            let now = self.store.get_notification(id).await.unwrap();
            if !matches!(
                now.status,
                NotificationStatus::New | NotificationStatus::Running
            ) {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the engine did not settle the notification within 10 s");
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_bmc_means_no_evacuation_and_the_notification_says_why() {
    let stack = Stack::start().await;
    let dead = format!("127.0.0.1:{}", free_udp_port());
    stack.add_ipmi("bmc", 1, &dead).await;

    let n = stack.host_fails().await;
    assert_eq!(n.status, NotificationStatus::Error, "{n:?}");
    let message = n.message.clone().unwrap_or_default();
    assert!(
        message.contains("Fencing host compute-1 failed")
            && message.contains("did not answer")
            && message.contains("no instance was evacuated"),
        "{message}"
    );
    assert!(
        stack.nova.evacuations().is_empty(),
        "{:?}",
        stack.nova.evacuations()
    );
    assert!(
        stack.nova.forced_down().is_empty(),
        "nothing after fencing may run"
    );
    let fence = stack.fence_step(&n).await;
    assert_eq!(fence.state.as_str(), "FAILURE");
    let history = stack.store.fence_history("compute-1", 10).await.unwrap();
    assert_eq!(history.len(), 1);
    assert!(!history[0].succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_level_that_powers_off_lets_the_evacuation_go_ahead() {
    let sim = IpmiSim::start();
    let stack = Stack::start().await;
    let dead = format!("127.0.0.1:{}", free_udp_port());
    stack.add_ipmi("dead-bmc", 1, &dead).await;
    stack.add_ipmi("bmc", 2, &sim.address()).await;

    let n = stack.host_fails().await;
    assert_eq!(n.status, NotificationStatus::Finished, "{n:?}");
    assert!(
        !sim.power_on(),
        "compute-1 must be off before its instances move"
    );
    assert_eq!(
        stack.nova.evacuations(),
        vec![("s1".to_owned(), Some("compute-2".to_owned()))]
    );
    let fence = stack.fence_step(&n).await;
    assert_eq!(fence.state.as_str(), "SUCCESS");
    assert!(
        fence
            .details
            .iter()
            .any(|d| d.message.contains("verified by bmc (level 2)")),
        "{:?}",
        fence.details
    );
    let text = stack.metrics.encode().unwrap();
    let scrape = lifeboat_metrics::scrape::Scraped::parse(&text).unwrap();
    for result in ["failure", "success"] {
        let labels = [("action", "off"), ("result", result)];
        assert_eq!(
            scrape.value("lifeboat_fence_attempts", &labels),
            1.0,
            "{text}"
        );
        assert_eq!(
            scrape.count("lifeboat_fence_attempt_duration_seconds", &labels),
            1,
            "{text}"
        );
    }
    let evacuated = [("result", "evacuated")];
    assert_eq!(
        scrape.value("lifeboat_instance_evacuations", &evacuated),
        1.0,
        "{text}"
    );
    assert_eq!(scrape.value("lifeboat_engine_claims", &[]), 1.0, "{text}");
    let finished = [("type", "COMPUTE_HOST"), ("outcome", "finished")];
    assert_eq!(
        scrape.count("lifeboat_recovery_duration_seconds", &finished),
        1,
        "{text}"
    );
    let reached = [("type", "COMPUTE_HOST"), ("status", "finished")];
    assert_eq!(
        scrape.value("lifeboat_notifications", &reached),
        1.0,
        "{text}"
    );
}

//! The driver's transitions, settings and report queueing.

use super::*;

#[test]
fn transitions_follow_the_matrix_and_report_each_change_once() {
    let up = Tracked {
        stopped: false,
        down: vec![false, false],
        reported: false,
    };
    let stopped = Tracked {
        stopped: true,
        down: vec![true, true],
        reported: true,
    };
    assert_eq!(transition(&up, &[true, true], true), Some(Change::Stopped));
    assert_eq!(transition(&stopped, &[true, true], true), None);
    assert_eq!(
        transition(&stopped, &[false, false], false),
        Some(Change::Started)
    );
    assert_eq!(transition(&up, &[false, false], false), None);
    assert_eq!(
        transition(&up, &[false, true], false),
        Some(Change::Degraded)
    );
    let degraded = Tracked {
        stopped: false,
        down: vec![false, true],
        reported: false,
    };
    assert_eq!(transition(&degraded, &[false, true], false), None);
    assert_eq!(
        transition(&degraded, &[true, true], true),
        Some(Change::Stopped)
    );
}

#[test]
fn settings_need_three_agents_including_this_one_on_consistent_networks() {
    let list = |s: &str| s.split(',').map(str::to_owned).collect::<Vec<_>>();
    let m = list("a=10.0.0.1,b=10.0.0.2,c=10.0.0.3");
    let t = list("a=10.1.0.1,b=10.1.0.2,c=10.1.0.3");
    let d = Duration::from_secs(1);
    let ok = PeerSettings::from_lists("a", [&m, &t, &[]], 4950, d, d, d, None).unwrap();
    assert_eq!(ok.network_names, vec!["manage", "tenant"]);
    assert_eq!(ok.segment.hosts, vec!["a", "b", "c"]);
    let err = |r: Result<PeerSettings, PeerError>| r.unwrap_err().to_string();
    assert!(
        err(PeerSettings::from_lists(
            "z",
            [&m, &[], &[]],
            1,
            d,
            d,
            d,
            None
        ))
        .contains("not in the list")
    );
    assert!(
        err(PeerSettings::from_lists(
            "a",
            [&m[..2], &[], &[]],
            1,
            d,
            d,
            d,
            None
        ))
        .contains("at least 3")
    );
    assert!(
        err(PeerSettings::from_lists(
            "a",
            [&m, &t[..2], &[]],
            1,
            d,
            d,
            d,
            None
        ))
        .contains("differ")
    );
    assert!(
        err(PeerSettings::from_lists(
            "a",
            [&list("a=x"), &[], &[]],
            1,
            d,
            d,
            d,
            None
        ))
        .contains("not an IP")
    );
}

/// A BMC that takes 5 s to say a host is off.
#[derive(Debug)]
struct SlowBmc;

#[async_trait::async_trait]
impl crate::host::PowerReader for SlowBmc {
    async fn has_device(&self, _host: &str) -> bool {
        true
    }
    async fn power_status(
        &self,
        _host: &str,
    ) -> Result<lifeboat_core::fencing::PowerState, lifeboat_core::fencing::FenceError> {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(lifeboat_core::fencing::PowerState::Off)
    }
}

/// Takes every report, in order.
#[derive(Debug, Default)]
struct Api(std::sync::Mutex<Vec<serde_json::Value>>);

#[async_trait::async_trait]
impl crate::delivery::NotificationApi for Api {
    async fn post_notification(
        &self,
        body: &serde_json::Value,
    ) -> Result<crate::delivery::ApiAnswer, crate::delivery::ApiCallError> {
        self.0.lock().unwrap().push(body.clone());
        Ok(crate::delivery::ApiAnswer {
            status: 202,
            body: String::new(),
        })
    }
}

/// A reporter of three agents whose power check takes 5 s, and its outbox.
fn slow_reporter(dir: &std::path::Path) -> (PeerMonitor, Arc<Outbox>) {
    let settings = crate::delivery::OutboxSettings {
        max_reports: 10,
        retry_initial: Duration::from_millis(100),
        retry_max: Duration::from_millis(100),
    };
    let outbox = Outbox::open(dir, settings, "hostmonitor", Default::default()).unwrap();
    let peers = ["c1=127.0.0.1", "c2=127.0.0.2", "c3=127.0.0.3"].map(String::from);
    let second = Duration::from_secs(1);
    let settings =
        PeerSettings::from_lists("c1", [&peers, &[], &[]], 4950, second, second, second, None)
            .unwrap();
    let power = PowerCheck {
        reader: Some(Arc::new(SlowBmc)),
        retries: 0,
        interval: Duration::ZERO,
        timeout: Duration::from_secs(10),
    };
    let monitor = PeerMonitor::new(
        settings,
        outbox.clone(),
        Arc::new(lifeboat_core::clock::SystemClock),
        power,
    );
    (monitor, outbox)
}

fn verdict(down: bool) -> Verdict {
    Verdict {
        host: "c2".into(),
        down: vec![down],
        reporter: true,
    }
}

#[tokio::test(start_paused = true)]
async fn an_agent_that_becomes_the_first_live_one_reports_a_host_still_silent() {
    let dir = tempfile::tempdir().unwrap();
    let (monitor, outbox) = slow_reporter(dir.path());
    let (mut tracked, mut queued) = (HashMap::new(), HashMap::new());
    let not_mine = Verdict {
        reporter: false,
        ..verdict(true)
    };
    monitor.apply(&mut tracked, &mut queued, &not_mine);
    assert!(queued.is_empty(), "another agent is first: it reports");
    monitor.apply(&mut tracked, &mut queued, &not_mine);
    assert!(queued.is_empty());
    // That agent is counted out now: this one is first.
    monitor.apply(&mut tracked, &mut queued, &verdict(true));
    monitor.apply(&mut tracked, &mut queued, &verdict(true));
    finish_reports(queued).await;
    assert_eq!(outbox.pending(), 1, "one STOPPED report, once");
}

#[tokio::test(start_paused = true)]
async fn stopping_waits_for_a_report_whose_power_check_is_running() {
    let dir = tempfile::tempdir().unwrap();
    let (monitor, outbox) = slow_reporter(dir.path());
    let (mut tracked, mut queued) = (HashMap::new(), HashMap::new());
    let started = Instant::now();
    monitor.apply(&mut tracked, &mut queued, &verdict(true));
    finish_reports(queued).await;
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    assert_eq!(outbox.pending(), 1, "the STOPPED report is in the outbox");
}

#[tokio::test(start_paused = true)]
async fn a_power_check_holds_neither_the_loop_nor_the_order_of_a_hosts_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (monitor, outbox) = slow_reporter(dir.path());
    let (mut tracked, mut queued) = (HashMap::new(), HashMap::new());
    let started = Instant::now();
    monitor.apply(&mut tracked, &mut queued, &verdict(true));
    // c2 is back while its power is still being read.
    monitor.apply(&mut tracked, &mut queued, &verdict(false));
    assert_eq!(started.elapsed(), Duration::ZERO, "apply waited");
    assert_eq!(outbox.pending(), 0);
    queued.remove("c2").unwrap().await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    assert_eq!(outbox.pending(), 2);

    let api = Arc::new(Api::default());
    let cancel = CancellationToken::new();
    tokio::spawn(outbox.clone().run(api.clone(), cancel.clone()));
    while outbox.pending() > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cancel.cancel();
    let events: Vec<_> = api
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|b| b["notification"]["payload"]["event"].clone())
        .collect();
    assert_eq!(events, ["STOPPED", "STARTED"]);
}

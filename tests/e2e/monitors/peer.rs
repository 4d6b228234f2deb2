//! The `peer` hostmonitor on 3–5 namespaced hosts: cut links, partitions, a lost tenant
//! network and packet loss, judged by what `lifeboat serve` accepted.

use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::model::Notification;
use lifeboat_core::store::Store;
use lifeboat_test_support::ipmi_sim::IpmiSim;
use tokio::time::Instant;

use super::lab::Lab;
use super::{eventually, notifications, notifications_of, register};
use crate::fence::{ipmi_device, post_v15};

/// Hosts' names, for registration.
fn names(n: usize) -> Vec<String> {
    (1..=n).map(Lab::host_name).collect()
}

async fn lab_with_api(
    prefix: &str,
    hosts: usize,
    networks: usize,
    extra: &str,
) -> (Lab, Arc<dyn Store>) {
    let mut lab = Lab::new(prefix, hosts, networks);
    let store = lab.start_api().await;
    register_and_start_agents(&mut lab, &store, extra).await;
    (lab, store)
}

/// Registers the lab's hosts in one segment, starts their agents with `extra` and waits until
/// every agent hears every other.
pub(super) async fn register_and_start_agents(lab: &mut Lab, store: &Arc<dyn Store>, extra: &str) {
    let (prefix, hosts) = (lab.prefix.clone(), lab.hosts);
    let names = names(hosts);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    register(store, &format!("seg-{prefix}"), &refs).await;
    lab.start_agents(extra);
    // Every agent hears every other before anything is done to them.
    let settled = eventually(Duration::from_secs(15), || async {
        (1..=hosts).all(|i| lab.agent_log(i).contains("peer hostmonitor running"))
    })
    .await;
    assert!(settled, "{}", lab.logs());
    tokio::time::sleep(Duration::from_secs(4)).await;
}

/// Whether a STARTED report about `host` arrives within `timeout`.
async fn started_within(store: &Arc<dyn Store>, host: &str, timeout: Duration) -> bool {
    eventually(timeout, || async {
        notifications_of(store, host)
            .await
            .iter()
            .any(|n| n.payload.get("event") == Some("STARTED"))
    })
    .await
}

#[tokio::test]
async fn a_host_whose_links_are_cut_is_reported_once_within_5_seconds_and_started_when_back() {
    let (lab, store) = lab_with_api("lbcut", 5, 2, "").await;
    assert!(notifications(&store).await.is_empty(), "{}", lab.logs());
    let cut = Instant::now();
    lab.cut(3, &[0, 1, 2]);
    let seen = eventually(Duration::from_secs(5), || async {
        !notifications_of(&store, "compute-3").await.is_empty()
    })
    .await;
    let latency = cut.elapsed();
    assert!(
        seen,
        "compute-3 was not reported within 5 s:\n{}",
        lab.logs()
    );
    eprintln!("peer detection latency: {latency:?}");
    // Exactly one report, with the pacemaker/consul drivers' payload, and nobody else reported.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let all = notifications(&store).await;
    assert_eq!(all.len(), 1, "{all:?}\n{}", lab.logs());
    let n = &all[0];
    assert_eq!(n.notification_type.as_str(), "COMPUTE_HOST");
    assert_eq!(n.payload.get("event"), Some("STOPPED"));
    assert_eq!(n.payload.get("cluster_status"), Some("OFFLINE"));
    assert_eq!(n.payload.get("host_status"), Some("NORMAL"));
    let reporters = (1..=5)
        .filter(|i| lab.agent_log(*i).contains("report delivered"))
        .count();
    assert_eq!(reporters, 1, "one elected reporter:\n{}", lab.logs());
    assert!(
        !lab.server_log().contains("notification refused"),
        "{}",
        lab.server_log()
    );

    lab.restore(3, &[0, 1, 2]);
    let back = started_within(&store, "compute-3", Duration::from_secs(8)).await;
    assert!(
        back,
        "no STARTED after the links came back:\n{}",
        lab.logs()
    );
    assert_eq!(notifications(&store).await.len(), 2, "{}", lab.logs());
}

#[tokio::test]
async fn a_minority_partition_reports_nobody() {
    let (lab, store) = lab_with_api("lbpart", 5, 1, "").await;
    lab.partition(&[1, 2]);
    // The majority {3, 4, 5} reports 1 and 2, once each.
    let both = eventually(Duration::from_secs(8), || async {
        !notifications_of(&store, "compute-1").await.is_empty()
            && !notifications_of(&store, "compute-2").await.is_empty()
    })
    .await;
    assert!(both, "{}", lab.logs());
    tokio::time::sleep(Duration::from_secs(5)).await;
    for i in 3..=5 {
        let about = notifications_of(&store, &Lab::host_name(i)).await;
        assert!(
            about.is_empty(),
            "the minority reported compute-{i}: {about:?}\n{}",
            lab.logs()
        );
    }
    assert_eq!(notifications(&store).await.len(), 2, "{}", lab.logs());
    for i in 1..=2 {
        assert!(
            lab.agent_log(i).contains("minority"),
            "{}",
            lab.agent_log(i)
        );
    }
}

#[tokio::test]
async fn a_host_that_loses_only_its_tenant_network_follows_the_matrix() {
    // Default matrix: recovery only when every network is down, so nothing is reported.
    let (lab, store) = lab_with_api("lbten", 3, 2, "").await;
    lab.cut(2, &[2]);
    let warned = eventually(Duration::from_secs(8), || async {
        lab.agent_log(1)
            .contains("compute-2 is silent on tenant only")
    })
    .await;
    assert!(warned, "{}", lab.logs());
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(notifications(&store).await.is_empty(), "{}", lab.logs());
    drop(lab);

    // A matrix that recovers on tenant loss reports it.
    let dir = tempfile::tempdir().unwrap();
    let matrix = dir.path().join("matrix.yaml");
    std::fs::write(
        &matrix,
        "sequence: [manage, tenant]\nmatrix:\n  - health: [\"*\", down]\n    action: [recovery]\n",
    )
    .unwrap();
    let (lab, store) = lab_with_api(
        "lbte2",
        3,
        2,
        &format!("matrix_config_file = {}\n", matrix.display()),
    )
    .await;
    lab.cut(2, &[2]);
    let reported = eventually(Duration::from_secs(8), || async {
        notifications_of(&store, "compute-2").await.len() == 1
    })
    .await;
    assert!(reported, "{}", lab.logs());
}

#[tokio::test]
async fn ten_percent_packet_loss_on_every_link_raises_no_false_report() {
    let (lab, store) = lab_with_api("lbloss", 5, 2, "").await;
    lab.packet_loss(10);
    let soak = Duration::from_secs(
        std::env::var("LIFEBOAT_TEST_LOSS_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(120),
    );
    tokio::time::sleep(soak).await;
    let all = notifications(&store).await;
    assert!(
        all.is_empty(),
        "false reports under packet loss: {all:?}\n{}",
        lab.logs()
    );
    // Nothing is waiting to be delivered either.
    let outbox_empty = (1..=5).all(|i| {
        std::fs::read_dir(lab.outbox(i).join("hostmonitor"))
            .map(|d| d.filter_map(Result::ok).all(|e| e.file_name() == "parked"))
            .unwrap_or(true)
    });
    assert!(
        outbox_empty,
        "a report is waiting in an outbox:\n{}",
        lab.logs()
    );
}

/// The password of the BMC user the fence devices use (ipmi_sim's operator).
const BMC_PASSWORD: &str = "operpass";

/// STOPPED reports about `host`, oldest first.
async fn stopped_reports(store: &Arc<dyn Store>, host: &str) -> Vec<Notification> {
    let mut stopped: Vec<_> = notifications_of(store, host)
        .await
        .into_iter()
        .filter(|n| n.payload.get("event") == Some("STOPPED"))
        .collect();
    stopped.sort_by_key(|n| n.generated_time);
    stopped
}

/// Cuts host `i`'s links and waits (15 s at most) for one more STOPPED report about it; prints
/// how long that took (`what` says the case) and returns its host_status.
async fn cut_until_reported(lab: &Lab, store: &Arc<dyn Store>, i: usize, what: &str) -> String {
    let host = Lab::host_name(i);
    let before = stopped_reports(store, &host).await.len();
    let cut = Instant::now();
    lab.cut(i, &[0, 1]);
    let reported = eventually(Duration::from_secs(15), || async {
        stopped_reports(store, &host).await.len() > before
    })
    .await;
    eprintln!("detection and power check, {what}: {:?}", cut.elapsed());
    assert!(reported, "{host} was not reported:\n{}", lab.logs());
    let stopped = stopped_reports(store, &host).await;
    assert_eq!(stopped.len(), before + 1, "{stopped:?}");
    stopped[before]
        .payload
        .get("host_status")
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_host_is_unknown_while_its_bmc_reads_on_or_cannot_be_read_and_normal_once_off() {
    // Hosts with an IPMI fence device in the API, their BMCs on a network only the API (in
    // the switch namespace) reaches: the agents ask the API, never a BMC. compute-4's BMC is
    // an ipmi_sim; compute-5's stops answering.
    let mut lab = Lab::new("lbpwr", 5, 1);
    let (bmc_ip, api) = lab.link_to_test(7);
    let bmc = IpmiSim::start_at(&bmc_ip);
    let dead = IpmiSim::start_at(&bmc_ip);
    let key = lab.dir.path().join("fence.key");
    std::fs::write(&key, "0123456789abcdef".repeat(4)).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let store = lab
        .start_api_with(
            "0.0.0.0",
            &format!(
                "[fencing]\ncredential_key_file = {}\nipmi_timeout = 1\n",
                key.display()
            ),
        )
        .await;
    register_and_start_agents(
        &mut lab,
        &store,
        "[host]\nipmi_retry_max = 2\nipmi_retry_interval = 1.5\nipmi_timeout = 5\n",
    )
    .await;
    let http = reqwest::Client::new();
    for (name, sim) in [("compute-4", &bmc), ("compute-5", &dead)] {
        let host = store.get_host_by_name(name).await.unwrap().unwrap();
        let url = format!(
            "{api}/v1/segments/{}/hosts/{}/fence_devices",
            host.failover_segment.uuid, host.uuid
        );
        let created = post_v15(
            &http,
            &url,
            &ipmi_device(sim, "oper", BMC_PASSWORD, "operator"),
        )
        .await;
        assert_eq!(created.status(), 201, "{}", lab.server_log());
    }
    // compute-5's BMC goes away: its address no longer answers.
    drop(dead);

    // Power unreadable: UNKNOWN after 3 reads (about 6 s). The reporter keeps heartbeating
    // meanwhile, so compute-2..4, a majority, do not take it for failed.
    let status = cut_until_reported(&lab, &store, 5, "BMC not answering").await;
    assert_eq!(status, "UNKNOWN", "{}", lab.logs());
    assert!(
        lab.logs().contains("power status of compute-5 failed"),
        "{}",
        lab.logs()
    );
    // Power on: UNKNOWN.
    let status = cut_until_reported(&lab, &store, 4, "BMC reading on").await;
    assert_eq!(status, "UNKNOWN", "{}", lab.logs());
    let logs = lab.logs();
    assert!(
        logs.contains("compute-4 is silent but its power reads on"),
        "{logs}"
    );
    // The engine holds back on UNKNOWN, and agents never power a host.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for i in 1..=3 {
        let about = notifications_of(&store, &Lab::host_name(i)).await;
        assert!(about.is_empty(), "compute-{i}: {about:?}\n{}", lab.logs());
    }
    assert!(bmc.power_on());
    assert!(
        bmc.power_commands().is_empty(),
        "{:?}",
        bmc.power_commands()
    );

    // Back, then silent again with its power off: NORMAL.
    lab.restore(4, &[0, 1]);
    let back = started_within(&store, "compute-4", Duration::from_secs(10)).await;
    assert!(back, "{}", lab.logs());
    bmc.set_power_on(false);
    let status = cut_until_reported(&lab, &store, 4, "BMC reading off").await;
    let logs = lab.logs();
    for line in logs.lines().filter(|l| l.contains("read through the API")) {
        eprintln!("{line}");
    }
    assert_eq!(status, "NORMAL", "{logs}");
    // The BMC password stays in the API: not in any agent's configuration or log.
    for i in 1..=5 {
        let conf = std::fs::read_to_string(lab.agent_conf_path(i)).unwrap();
        assert!(!conf.contains(BMC_PASSWORD), "{conf}");
        assert!(!lab.agent_log(i).contains(BMC_PASSWORD), "agent {i}");
    }
    assert!(!lab.server_log().contains(BMC_PASSWORD));
}

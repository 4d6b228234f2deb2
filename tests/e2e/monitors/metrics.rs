//! The agents' `[metrics]` listeners, scraped and read with a conforming OpenMetrics parser: a
//! processmonitor's deliveries failing while the API is stopped and succeeding once it is back,
//! and a `peer` hostmonitor counting a cut peer lost and down.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lifeboat_metrics::scrape::Scraped;

use super::lab::Lab;
use super::process::entry;
use super::{Agent, agent_conf, eventually, notifications_of, register};
use crate::support::{Server, free_port};

/// `text` parsed; the test fails with the text when it does not parse.
fn parse(text: &str) -> Scraped {
    Scraped::parse(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The agent's metrics at `url`, parsed, and their text; none while it does not answer.
async fn scrape(url: &str) -> Option<(Scraped, String)> {
    let response = reqwest::get(url).await.ok()?;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    Some((parse(&text), text))
}

/// A processmonitor configuration reporting one process that cannot start to the API at
/// `api`, serving its metrics at `listen`.
fn processmonitor_conf(dir: &Path, api: &str, listen: &str) -> PathBuf {
    let list = dir.join("process_list.yaml");
    let process = format!("sleep 6{}.7", std::process::id() % 1000);
    std::fs::write(&list, entry(&process, "/bin/false")).unwrap();
    let conf = dir.join("monitors.conf");
    std::fs::write(
        &conf,
        format!(
            "{}[process]\ncheck_interval = 0.5\nrestart_retries = 0\nrestart_interval = 0.5\n\
             process_list_path = {}\n[metrics]\nprocessmonitor_listen = {listen}\n",
            agent_conf("compute-am", &format!("{api}/v1"), &dir.join("outbox")),
            list.display()
        ),
    )
    .unwrap();
    conf
}

#[tokio::test]
async fn a_listen_address_in_use_stops_the_agent_naming_the_option() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let conf = processmonitor_conf(dir.path(), "http://127.0.0.1:9", &address);
    let mut agent = Agent::start("processmonitor", &conf, None);
    let status = agent.exit_within(Duration::from_secs(15)).await;
    assert!(status.is_some_and(|s| !s.success()), "{}", agent.log());
    let named = format!("[metrics] processmonitor_listen = {address}");
    assert!(agent.log().contains(&named), "{}", agent.log());
}

#[tokio::test]
async fn a_processmonitors_listener_counts_deliveries_failing_until_the_api_is_back() {
    let mut server = Server::start("").await;
    let store = server.store().await;
    register(&store, "seg-agent-metrics", &["compute-am"]).await;
    server.pause().await;
    let dir = tempfile::tempdir().unwrap();
    let address = format!("127.0.0.1:{}", free_port());
    let conf = processmonitor_conf(dir.path(), &server.url(), &address);
    let agent = Agent::start("processmonitor", &conf, None);
    let url = format!("http://{address}/metrics");
    let agent_label = ("agent", "processmonitor");
    let failed = [agent_label, ("result", "failed")];
    let delivered = [agent_label, ("result", "delivered")];

    // The API is stopped: the report waits in the outbox and each attempt fails (timeout 5 s).
    let last = std::cell::RefCell::new(String::new());
    let (url, last) = (&url, &last);
    let waiting = eventually(Duration::from_secs(30), || async move {
        let Some((m, text)) = scrape(url).await else {
            return false;
        };
        *last.borrow_mut() = text;
        m.value("lifeboat_outbox_reports", &[agent_label]) == 1.0
            && m.value("lifeboat_outbox_deliveries", &failed) >= 1.0
    })
    .await;
    assert!(waiting, "{}\n{}", last.borrow(), agent.log());
    let (during, text) = scrape(url).await.unwrap();
    assert_eq!(
        during.value("lifeboat_outbox_deliveries", &delivered),
        0.0,
        "{text}"
    );
    assert!(!during.has("lifeboat_peer_quorum"), "{text}");

    server.resume().await;
    let arrived = eventually(Duration::from_secs(20), || async {
        !notifications_of(&store, "compute-am").await.is_empty()
    })
    .await;
    assert!(arrived, "{}", agent.log());
    let (after, text) = scrape(url).await.unwrap();
    assert_eq!(
        after.value("lifeboat_outbox_deliveries", &delivered),
        1.0,
        "{text}"
    );
    assert_eq!(
        after.value("lifeboat_outbox_reports", &[agent_label]),
        0.0,
        "{text}"
    );
    assert!(
        after.value("lifeboat_outbox_deliveries", &failed)
            >= during.value("lifeboat_outbox_deliveries", &failed),
        "{text}"
    );
    assert_eq!(
        after.count("lifeboat_outbox_delivery_duration_seconds", &delivered),
        1,
        "{text}"
    );
    // The listener serves its metrics and nothing else.
    let client = reqwest::Client::new();
    let root = client
        .get(format!("http://{address}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), reqwest::StatusCode::NOT_FOUND);
    let post = client.post(url).send().await.unwrap();
    assert_eq!(post.status(), reqwest::StatusCode::METHOD_NOT_ALLOWED);
    agent.kill().await;
    server.stop().await;
}

/// Agent `i`'s metrics, scraped from inside its namespace (the listener is on its loopback).
async fn scrape_in(lab: &Lab, i: usize) -> (Scraped, String) {
    let out = tokio::process::Command::new("ip")
        .args(["netns", "exec", &format!("{}-h{i}", lab.prefix)])
        .args(["curl", "-sf", "http://127.0.0.1:9105/metrics"])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "curl failed: {text}\n{}", lab.logs());
    (parse(&text), text)
}

#[tokio::test]
async fn a_peer_hostmonitor_counts_heartbeats_and_a_cut_peer_lost_and_down() {
    let mut lab = Lab::new("lbmet", 3, 1);
    let store = lab.start_api().await;
    let extra = "[metrics]\nhostmonitor_listen = 127.0.0.1:9105";
    super::peer::register_and_start_agents(&mut lab, &store, extra).await;
    let (before, text) = scrape_in(&lab, 1).await;
    let c2 = [("peer", "compute-2"), ("network", "manage")];
    let c3 = [("peer", "compute-3"), ("network", "manage")];
    assert!(
        before.value("lifeboat_peer_heartbeats", &c3) > 0.0,
        "{text}"
    );
    assert_eq!(before.value("lifeboat_peer_heard", &c3), 1.0, "{text}");
    assert_eq!(before.value("lifeboat_peer_quorum", &[]), 1.0, "{text}");
    assert_eq!(before.value("lifeboat_peer_hosts_down", &[]), 0.0, "{text}");
    let lost_before = before.value("lifeboat_peer_heartbeat_losses", &c3);

    lab.cut(3, &[0, 1]);
    let reported = eventually(Duration::from_secs(10), || async {
        !notifications_of(&store, "compute-3").await.is_empty()
    })
    .await;
    assert!(reported, "{}", lab.logs());
    let (after, text) = scrape_in(&lab, 1).await;
    assert_eq!(
        after.value("lifeboat_peer_heartbeat_losses", &c3),
        lost_before + 1.0,
        "{text}"
    );
    assert_eq!(after.value("lifeboat_peer_heard", &c3), 0.0, "{text}");
    assert_eq!(after.value("lifeboat_peer_heard", &c2), 1.0, "{text}");
    assert_eq!(
        after.value("lifeboat_peer_heartbeat_losses", &c2),
        before.value("lifeboat_peer_heartbeat_losses", &c2),
        "{text}"
    );
    assert_eq!(after.value("lifeboat_peer_hosts_down", &[]), 1.0, "{text}");
    assert_eq!(after.value("lifeboat_peer_quorum", &[]), 1.0, "{text}");
    // compute-1, the first live agent by name, reported it.
    let delivered = [("agent", "hostmonitor"), ("result", "delivered")];
    assert_eq!(
        after.value("lifeboat_outbox_deliveries", &delivered),
        1.0,
        "{text}"
    );

    // Cut off from both others, compute-3 sees a minority.
    let last = std::cell::RefCell::new(String::new());
    let (lab, last) = (&lab, &last);
    let minority = eventually(Duration::from_secs(5), || async move {
        let (isolated, text) = scrape_in(lab, 3).await;
        *last.borrow_mut() = text;
        isolated.value("lifeboat_peer_quorum", &[]) == 0.0
    })
    .await;
    assert!(minority, "{}", last.borrow());
}

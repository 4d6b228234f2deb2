//! processmonitor: restarts, STOPPED once, STARTED, and delivery through API outages and agent
//! restarts (the durable outbox), against `lifeboat serve`.

use std::path::Path;
use std::time::Duration;

use super::{Agent, agent_conf, eventually, notifications_of, register};
use crate::support::Server;

/// A process list entry whose start and restart commands are `command`.
pub(super) fn entry(process_name: &str, command: &str) -> String {
    format!(
        "- process_name: \"{process_name}\"\n  start_command: {command}\n  pre_start_command:\n  \
         post_start_command:\n  restart_command: {command}\n  pre_restart_command:\n  \
         post_restart_command:\n  run_as_root: false\n"
    )
}

/// Processes whose command line contains `marker` (pids), read from /proc.
fn pids_of(marker: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let zombie = stat.rsplit(')').next()?.trim_start().starts_with('Z');
            (cmd.trim_end() == marker && !zombie).then_some(pid)
        })
        .collect()
}

fn kill_all(marker: &str) {
    for pid in pids_of(marker) {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
}

/// A `sleep` command line no other test uses.
fn marker(base: u32) -> String {
    format!(
        "sleep {}.{}",
        base + rand::random::<u32>() % 1000,
        std::process::id() % 97 + 1
    )
}

fn write_conf(
    dir: &Path,
    host: &str,
    server: &Server,
    list: &Path,
    retries: u32,
) -> std::path::PathBuf {
    let conf = dir.join("monitors.conf");
    std::fs::write(
        &conf,
        format!(
            "{}[process]\ncheck_interval = 0.5\nrestart_retries = {retries}\nrestart_interval = 0.5\nprocess_list_path = {}\n",
            agent_conf(host, &format!("{}/v1", server.url()), &dir.join("outbox")),
            list.display()
        ),
    )
    .unwrap();
    conf
}

#[tokio::test]
async fn a_killed_process_is_restarted_unreported_and_one_that_cannot_be_is_reported_once() {
    let server = Server::start("").await;
    let store = server.store().await;
    register(&store, "seg-process", &["compute-p"]).await;
    let dir = tempfile::tempdir().unwrap();
    let (good, bad) = (marker(7000), marker(8000));
    let list = dir.path().join("process_list.yaml");
    std::fs::write(
        &list,
        format!(
            "{}{}",
            entry(&good, &format!("setsid -f {good}")),
            entry(&bad, "/bin/false")
        ),
    )
    .unwrap();
    let conf = write_conf(dir.path(), "compute-p", &server, &list, 1);
    let agent = Agent::start("processmonitor", &conf, None);

    // Started at start-up, then restarted after a kill.
    assert!(
        eventually(Duration::from_secs(10), || async {
            pids_of(&good).len() == 1
        })
        .await,
        "{good} was not started: {}",
        agent.log()
    );
    let first = pids_of(&good)[0];
    kill_all(&good);
    assert!(
        eventually(Duration::from_secs(10), || async {
            pids_of(&good).iter().any(|p| *p != first)
        })
        .await,
        "{good} was not restarted: {}",
        agent.log()
    );

    // The one that cannot be restarted: one STOPPED report, with masakari-monitors' payload.
    assert!(
        eventually(Duration::from_secs(15), || async {
            !notifications_of(&store, "compute-p").await.is_empty()
        })
        .await,
        "no report arrived: {}",
        agent.log()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let reports = notifications_of(&store, "compute-p").await;
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].notification_type.as_str(), "PROCESS");
    assert_eq!(reports[0].payload.get("event"), Some("STOPPED"));
    assert_eq!(reports[0].payload.get("process_name"), Some(bad.as_str()));

    // Once it runs again (started by hand), STARTED follows.
    let _ = std::process::Command::new("setsid")
        .arg("-f")
        .args(bad.split(' '))
        .status();
    assert!(
        eventually(Duration::from_secs(10), || async {
            notifications_of(&store, "compute-p").await.len() == 2
        })
        .await,
        "no STARTED report: {}",
        agent.log()
    );
    let reports = notifications_of(&store, "compute-p").await;
    assert!(
        reports
            .iter()
            .any(|n| n.payload.get("event") == Some("STARTED")),
        "{reports:?}"
    );
    assert!(
        !agent
            .log()
            .contains(&format!("{good} could not be restarted"))
    );
    agent.kill().await;
    kill_all(&good);
    kill_all(&bad);
    server.stop().await;
}

#[tokio::test]
async fn reports_arrive_after_a_minute_of_api_outage_and_an_agent_restart() {
    let mut server = Server::start("").await;
    let store = server.store().await;
    register(&store, "seg-outbox", &["compute-o"]).await;
    server.pause().await;
    let down_since = tokio::time::Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (marker(9000), marker(9500));
    let list = dir.path().join("process_list.yaml");
    std::fs::write(&list, entry(&a, "/bin/false")).unwrap();
    let conf = write_conf(dir.path(), "compute-o", &server, &list, 0);

    let agent = Agent::start("processmonitor", &conf, None);
    assert!(
        eventually(Duration::from_secs(15), || async {
            agent.log().contains("report queued")
        })
        .await,
        "{}",
        agent.log()
    );
    agent.kill().await;

    // The second run has another failing process; the first run's report is still queued.
    std::fs::write(&list, entry(&b, "/bin/false")).unwrap();
    let agent = Agent::start("processmonitor", &conf, None);
    assert!(
        eventually(Duration::from_secs(15), || async {
            let log = agent.log();
            log.contains("undelivered reports from an earlier run") && log.contains("report queued")
        })
        .await,
        "{}",
        agent.log()
    );
    let outage = Duration::from_secs(60);
    tokio::time::sleep(outage.saturating_sub(down_since.elapsed())).await;
    server.resume().await;
    assert!(
        eventually(Duration::from_secs(15), || async {
            notifications_of(&store, "compute-o").await.len() == 2
        })
        .await,
        "{}",
        agent.log()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut names: Vec<String> = notifications_of(&store, "compute-o")
        .await
        .iter()
        .map(|n| n.payload.get("process_name").unwrap().to_owned())
        .collect();
    names.sort();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(names, expected);
    agent.kill().await;
    server.stop().await;
}

#[tokio::test]
async fn a_report_the_api_refuses_is_parked_loudly_and_not_retried() {
    let server = Server::start("").await;
    let dir = tempfile::tempdir().unwrap();
    let bad = marker(6000);
    let list = dir.path().join("process_list.yaml");
    std::fs::write(&list, entry(&bad, "/bin/false")).unwrap();
    // No host of this name is registered: the API answers 400.
    let conf = write_conf(dir.path(), "ghost-host", &server, &list, 0);
    let agent = Agent::start("processmonitor", &conf, None);
    assert!(
        eventually(Duration::from_secs(15), || async {
            agent.log().contains("THE API REFUSED THIS REPORT")
        })
        .await,
        "{}",
        agent.log()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let parked = std::fs::read_dir(dir.path().join("outbox/processmonitor/parked"))
        .unwrap()
        .count();
    assert_eq!(parked, 1);
    assert_eq!(
        server.log().matches("notification refused").count(),
        1,
        "{}",
        server.log()
    );
    agent.kill().await;
    server.stop().await;
}

//! `lifeboat status` against a running `lifeboat serve`: the JSON overview says what the API
//! says (segments, hosts, maintenance and why, failures, the engine), the text screen names the
//! hosts and their states, and `--watch` redraws until interrupted.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Server, run};

async fn post(url: String, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

/// A segment with three hosts: `c1` failed (its notification ends in error: no Nova), `c2` put
/// in maintenance by an operator, `c3` a spare.
async fn fill(server: &Server) {
    let base = format!("{}/v1", server.url());
    let seg = post(
        format!("{base}/segments"),
        json!({"segment": {"name": "seg-a", "recovery_method": "reserved_host", "service_type": "COMPUTE"}}),
    )
    .await;
    let seg = seg["segment"]["uuid"].as_str().unwrap().to_owned();
    for (name, extra) in [
        ("c1", json!({})),
        ("c2", json!({"on_maintenance": true})),
        ("c3", json!({"reserved": true})),
    ] {
        let mut host = json!({"name": name, "type": "COMPUTE", "control_attributes": "SSH"});
        host.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        post(
            format!("{base}/segments/{seg}/hosts"),
            json!({ "host": host }),
        )
        .await;
    }
    post(
        format!("{base}/notifications"),
        json!({"notification": {"type": "COMPUTE_HOST", "hostname": "c1",
            "generated_time": "2026-01-01T00:00:00",
            "payload": {"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"}}}),
    )
    .await;
}

async fn status(server: &Server, args: &[&str]) -> String {
    status_of(&server.url(), args).await
}

/// `lifeboat status --endpoint <endpoint> <args>`'s output.
async fn status_of(endpoint: &str, args: &[&str]) -> String {
    let (ok, out, err) = run(
        tokio::process::Command::new(env!("CARGO_BIN_EXE_lifeboat"))
            .args(["status", "--endpoint", endpoint])
            .args(args),
        Duration::from_secs(30),
    )
    .await;
    assert!(ok, "{out}{err}");
    out
}

/// The JSON overview of the API at `endpoint` (for the recovery scenarios).
pub async fn overview(endpoint: &str) -> Value {
    serde_json::from_str(&status_of(endpoint, &["--output-as", "json"]).await).unwrap()
}

#[tokio::test]
async fn status_shows_segments_hosts_failures_and_the_engine_as_json_and_text() {
    let server = Server::start("").await;
    fill(&server).await;
    // The engine takes the report and ends it in error (no Nova): wait for that.
    let mut overview = Value::Null;
    for _ in 0..100 {
        overview = serde_json::from_str(&status(&server, &["--output-as", "json"]).await).unwrap();
        if overview["recent_failures"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(overview["endpoint"], server.url());
    let segment = &overview["segments"][0];
    assert_eq!(segment["name"], "seg-a", "{overview:#}");
    assert_eq!(segment["recovery_method"], "reserved_host");
    let hosts: Vec<(String, String, Value, bool)> = segment["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["name"].as_str().unwrap().to_owned(),
                h["state"].as_str().unwrap().to_owned(),
                h["maintenance_reason"].clone(),
                h["reserved"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        hosts,
        vec![
            ("c1".into(), "recovering".into(), Value::Null, false),
            ("c2".into(), "maintenance".into(), json!("operator"), false),
            ("c3".into(), "ok".into(), Value::Null, true),
        ],
        "{overview:#}"
    );
    let failure = &overview["recent_failures"][0];
    assert_eq!(failure["host"], "c1", "{overview:#}");
    assert_eq!(failure["status"], "error");
    assert!(
        failure["message"].as_str().unwrap().contains("No Nova"),
        "{failure}"
    );
    assert_eq!(overview["engine"]["in_api_process"], true, "{overview:#}");
    assert_eq!(overview["engine"]["in_error"], 1);
    assert_eq!(overview["engine"]["claims"], 1);
    assert_eq!(overview["storm_guard"]["tripped"], false);
    assert_eq!(overview["recoveries"], json!([]));

    let text = status(&server, &[]).await;
    for line in [
        "Segment seg-a (reserved_host), 3 hosts",
        "Storm guard: not tripped",
        "Recent failures: 1",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    let row = |name: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no line for {name}:\n{text}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(row("c1")[1..4], ["recovering", "no", "no"], "{text}");
    assert_eq!(
        row("c2")[1..6],
        ["maintenance", "no", "yes,", "by", "operator"],
        "{text}"
    );
    assert_eq!(row("c3")[1..4], ["ok", "yes", "no"], "{text}");
}

#[tokio::test]
async fn status_watch_prints_a_fresh_overview_each_interval_until_interrupted() {
    let server = Server::start("").await;
    fill(&server).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_lifeboat"))
        .args([
            "status",
            "--endpoint",
            &server.url(),
            "--watch",
            "--interval",
            "0.2",
        ])
        .args(["--output-as", "json"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Three snapshots (however slow this machine is), then Ctrl-C.
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    let three = tokio::time::timeout(Duration::from_secs(30), async {
        use tokio::io::AsyncBufReadExt as _;
        while text.lines().count() < 3 {
            if stdout.read_line(&mut text).await.unwrap() == 0 {
                break;
            }
        }
    })
    .await;
    assert!(three.is_ok(), "fewer than three snapshots in 30 s: {text}");
    crate::support::send_signal(child.id().unwrap(), "INT");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("status --watch did not stop on SIGINT")
        .unwrap();
    assert!(status.success(), "{status:?}");
    {
        use tokio::io::AsyncReadExt as _;
        stdout.read_to_string(&mut text).await.unwrap();
    }
    let taken: Vec<String> = text
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            v["taken_at"].as_str().unwrap().to_owned()
        })
        .collect();
    assert!(taken.len() >= 3, "{text}");
    assert!(taken.windows(2).all(|w| w[0] < w[1]), "{taken:?}");
}

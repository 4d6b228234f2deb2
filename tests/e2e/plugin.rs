//! Lifeboat's own `openstack` CLI plugin (`client/`, installed beside python-masakariclient by
//! `scripts/setup/python.sh`): notification cancel, retry and progress; fence devices, fence
//! history and power actions against ipmi_sim; without authentication and through Keystone.

use std::process::Stdio;
use std::time::Duration;

use lifeboat_core::clock::{Clock, SystemClock};
use lifeboat_core::model::VMoveStatus;
use lifeboat_core::store::VMoveUpdate;
use lifeboat_test_support::ipmi_sim::IpmiSim;
use serde_json::Value;

use crate::cli::{Osc, record_vmoves};
use crate::keystone::{Keystone, keystone_config};
use crate::support::{Server, free_port, venv_tool};

/// ipmi_sim's operator account; the password is the marker no output may contain.
const USER: &str = "oper";
const PASSWORD: &str = "operpass";

/// `[fencing]` with a credential key in `dir`, and a short BMC timeout.
fn fencing_config(dir: &std::path::Path) -> String {
    let key = dir.join("fence.key");
    std::fs::write(&key, "0123456789abcdef".repeat(4)).unwrap();
    format!(
        "[fencing]\ncredential_key_file = {}\nipmi_timeout = 1\n",
        key.display()
    )
}

/// Runs a command that must succeed with `-f json`, asserting the password is nowhere in what
/// it printed (stdout and stderr), and returns its output.
async fn json_without_password(osc: &Osc, args: &[&str]) -> Value {
    let mut full = args.to_vec();
    full.extend(["-f", "json"]);
    let (ok, out, err) = osc.command(&full).await;
    assert!(ok, "openstack {} failed:\n{err}\n{out}", args.join(" "));
    assert!(
        !out.contains(PASSWORD) && !err.contains(PASSWORD),
        "openstack {} printed the password:\n{out}\n{err}",
        args.join(" ")
    );
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"))
}

/// A segment `seg1` with host `c1`, through the stock CLI.
async fn segment_with_host(osc: &Osc) {
    osc.json(&["segment", "create", "seg1", "auto", "COMPUTE"])
        .await;
    osc.json(&["segment", "host", "create", "c1", "COMPUTE", "SSH", "seg1"])
        .await;
}

/// `openstack segment host fence device VERB seg1 c1 ARGS…` with `-f json`, password-free.
async fn device(osc: &Osc, verb: &str, args: &[&str]) -> Value {
    let mut full = vec!["segment", "host", "fence", "device", verb, "seg1", "c1"];
    full.extend_from_slice(args);
    json_without_password(osc, &full).await
}

/// `openstack segment host power ACTION seg1 c1` as (succeeded, printed text).
async fn power_text(osc: &Osc, action: &str) -> (bool, String) {
    osc.text(&["segment", "host", "power", action, "seg1", "c1"])
        .await
}

/// `openstack segment host power ACTION seg1 c1 -f json`.
async fn power(osc: &Osc, action: &str) -> Value {
    osc.json(&["segment", "host", "power", action, "seg1", "c1"])
        .await
}

/// Fence device create/list/show/set/delete, power status/off/on/reboot and fence history on
/// host `c1` of `seg1`, whose BMC is `sim`.
async fn fence_commands(osc: &Osc, sim: &IpmiSim) {
    let address = sim.address();
    let created = device(
        osc,
        "create",
        &[
            "bmc",
            "--driver",
            "ipmi",
            "--address",
            &address,
            "--username",
            USER,
            "--password",
            PASSWORD,
            "--option",
            "privilege=operator",
        ],
    )
    .await;
    assert_eq!(created["name"], "bmc");
    assert_eq!(created["level"], 1);
    assert_eq!(created["password_set"], true);
    assert_eq!(created["options"]["privilege"], "operator");

    let listed = device(osc, "list", &[]).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["name"], "bmc");
    assert_eq!(listed[0]["password_set"], true);
    assert_eq!(listed[0]["address"], address.as_str());
    // The table form, too.
    let (ok, table) = osc
        .text(&["segment", "host", "fence", "device", "list", "seg1", "c1"])
        .await;
    assert!(
        ok && table.contains("bmc") && !table.contains(PASSWORD),
        "{table}"
    );

    // By name, then a change: options are merged, the password kept.
    let shown = device(osc, "show", &["bmc"]).await;
    assert_eq!(shown["uuid"], created["uuid"]);
    let changed = device(
        osc,
        "set",
        &["bmc", "--level", "2", "--option", "cipher=auto"],
    )
    .await;
    assert_eq!(changed["level"], 2);
    assert_eq!(changed["options"]["privilege"], "operator");
    assert_eq!(changed["options"]["cipher"], "auto");
    assert_eq!(changed["password_set"], true);

    // Power, through the API and the BMC.
    let status = power(osc, "status").await;
    assert_eq!(status["state"], "on", "{status}");
    assert_eq!(status["action"], "status");
    assert_eq!(status["host"], "c1");
    assert_eq!(status["attempts"][0]["device"], "bmc");
    assert_eq!(status["attempts"][0]["result"], "success");
    assert_eq!(power(osc, "off").await["state"], "off");
    assert!(!sim.power_on());
    let (ok, text) = power_text(osc, "status").await;
    assert!(
        ok && text.contains("off") && text.contains("level 2 bmc: success"),
        "{text}"
    );
    assert_eq!(power(osc, "on").await["state"], "on");
    assert!(sim.power_on());
    assert_eq!(power(osc, "reboot").await["action"], "reboot");
    assert!(sim.power_on());

    // A wrong password: the action fails with the API's reason, and the history says so.
    device(osc, "set", &["bmc", "--password", "wrongpass"]).await;
    let (ok, refused) = power_text(osc, "off").await;
    assert!(!ok, "{refused}");
    assert!(
        refused.contains("Power off of host c1 failed") && refused.contains("HTTP 503"),
        "{refused}"
    );
    assert!(!refused.contains("wrongpass"), "{refused}");
    assert!(sim.power_on());
    let history = osc
        .json(&["segment", "host", "fence", "history", "seg1", "c1"])
        .await;
    let actions: Vec<(&str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["result"].as_str().unwrap()))
        .collect();
    // Newest first: the refused off, then at least the reboot, on, off and status that worked.
    assert_eq!(actions[0], ("off", "failure"), "{history}");
    for done in ["reboot", "on", "off", "status"] {
        assert!(actions.contains(&(done, "success")), "{done}: {history}");
    }
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["device"] == "bmc")
    );
    let limited = osc
        .json(&[
            "segment", "host", "fence", "history", "seg1", "c1", "--limit", "1",
        ])
        .await;
    assert_eq!(limited.as_array().unwrap().len(), 1);

    // Names that do not exist, then the device removed: power has nothing to act through.
    let (ok, missing) = osc
        .text(&[
            "segment", "host", "fence", "device", "show", "seg1", "c1", "nope",
        ])
        .await;
    assert!(
        !ok && missing.contains("No fence device named nope"),
        "{missing}"
    );
    let (ok, out) = osc
        .text(&[
            "segment", "host", "fence", "device", "delete", "seg1", "c1", "bmc",
        ])
        .await;
    assert!(ok, "{out}");
    assert!(
        device(osc, "list", &[])
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (ok, none) = power_text(osc, "status").await;
    assert!(
        !ok && none.contains("No fence device is configured for host c1.")
            && none.contains("HTTP 409"),
        "{none}"
    );
}

/// `fence device create seg1 c1 NAME … --password-prompt` on a terminal (a pseudo-terminal of
/// util-linux's `script`), the password typed at each prompt; all the terminal showed.
async fn create_with_prompt(osc: &Osc, name: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let line = format!(
        "{} segment host fence device create seg1 c1 {name} --driver ipmi --address 127.0.0.1:1 \
         --username {USER} --password-prompt -f json",
        venv_tool("clients", "openstack").display()
    );
    let mut command = tokio::process::Command::new("script");
    command
        .args(["-qec", &line, "/dev/null"])
        .envs(osc.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("OS_CLIENT_CONFIG_FILE", "/nonexistent/clouds.yaml")
        .env_remove("OS_CLOUD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("script (util-linux) is needed: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (mut seen, mut typed, mut buf) = (String::new(), 0, [0u8; 4096]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    // Typed only once the prompt shows, so the terminal no longer echoes.
    while typed < 2 {
        let n = tokio::time::timeout_at(deadline, stdout.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no password prompt: {seen}"))
            .unwrap();
        assert!(n > 0, "the CLI ended before prompting twice: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        if seen.matches("password: ").count() > typed {
            stdin
                .write_all(format!("{PASSWORD}\n").as_bytes())
                .await
                .unwrap();
            typed += 1;
        }
    }
    let mut rest = Vec::new();
    tokio::time::timeout_at(deadline, stdout.read_to_end(&mut rest))
        .await
        .unwrap_or_else(|_| panic!("the CLI did not finish: {seen}"))
        .unwrap();
    seen.push_str(&String::from_utf8_lossy(&rest));
    let status = child.wait().await.unwrap();
    assert!(status.success(), "{seen}");
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_manages_fence_devices_and_powers_a_host_without_authentication() {
    let sim = IpmiSim::start();
    let keys = tempfile::tempdir().unwrap();
    let server = Server::start(&fencing_config(keys.path())).await;
    let osc = Osc::noauth(&server);
    segment_with_host(&osc).await;
    fence_commands(&osc, &sim).await;

    // `--debug` prints every request and answer, but not the one that carries a password.
    let (ok, out, err) = osc
        .command(&[
            "--debug",
            "segment",
            "host",
            "fence",
            "device",
            "create",
            "seg1",
            "c1",
            "bmc2",
            "--driver",
            "ipmi",
            "--address",
            "127.0.0.1:1",
            "--username",
            USER,
            "--password",
            PASSWORD,
        ])
        .await;
    assert!(ok, "{out}\n{err}");
    assert!(err.contains("fence_devices"), "requests are logged: {err}");
    assert!(
        !out.contains(PASSWORD) && !err.contains(PASSWORD),
        "--debug printed the password:\n{out}\n{err}"
    );
    // The password typed at a prompt: stored, and not shown on the terminal.
    let shown = create_with_prompt(&osc, "bmc3").await;
    assert!(
        !shown.contains(PASSWORD),
        "the terminal showed the password:\n{shown}"
    );
    let json = &shown[shown.find('{').unwrap()..=shown.rfind('}').unwrap()];
    let prompted: Value = serde_json::from_str(json).unwrap();
    assert_eq!(prompted["name"], "bmc3");
    assert_eq!(prompted["password_set"], true);

    // Why a host is in maintenance: not at all, then by the operator's hand.
    let shown = osc
        .json(&["segment", "host", "maintenance", "show", "seg1", "c1"])
        .await;
    assert_eq!(shown["on_maintenance"], false, "{shown}");
    assert_eq!(shown["reason"], Value::Null, "{shown}");
    osc.json(&[
        "segment",
        "host",
        "update",
        "seg1",
        "c1",
        "--on_maintenance",
        "True",
    ])
    .await;
    let shown = osc
        .json(&["segment", "host", "maintenance", "show", "seg1", "c1"])
        .await;
    assert_eq!(shown["on_maintenance"], true, "{shown}");
    assert_eq!(shown["reason"], "operator", "{shown}");
    assert_eq!(shown["notification"], Value::Null, "{shown}");

    // The stock commands are left alone, and at their own microversion.
    let hosts = osc.json(&["segment", "host", "list", "seg1"]).await;
    assert_eq!(hosts[0]["name"], "c1");
    assert!(!server.log().contains(PASSWORD));
    server.stop().await;
}

/// The notification's status and message as the API shows them now.
async fn status_of(server: &Server, uuid: &str) -> (String, String) {
    let body: Value = reqwest::get(format!("{}/v1/notifications/{uuid}", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let n = &body["notification"];
    (
        n["status"].as_str().unwrap_or_default().to_owned(),
        n["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Polls until the notification's status is one of `wanted`.
async fn wait_status(server: &Server, uuid: &str, wanted: &[&str]) -> (String, String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (status, message) = status_of(server, uuid).await;
        if wanted.contains(&status.as_str()) {
            return (status, message);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{uuid} still {status} ({message}), not {wanted:?}:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A host failure report for `host`, through the stock CLI; its UUID.
async fn report_failure(osc: &Osc, host: &str) -> String {
    let n = osc
        .json(&[
            "notification",
            "create",
            "COMPUTE_HOST",
            host,
            "2026-01-01T00:00:00",
            r#"{"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"}"#,
        ])
        .await;
    n["notification_uuid"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_cancels_retries_and_shows_the_progress_of_recoveries() {
    // Two attempts 45 s apart (time for CLI calls while one waits in `error`, on a busy CI
    // machine too). Hosts
    // are made while no Nova is configured (Nova would have to know their names), then Nova is
    // one that refuses every connection, so each recovery attempt ends in error.
    let mut server = Server::start("[engine]\nmax_attempts = 2\nretry_backoff = 45\n").await;
    let osc = Osc::noauth(&server);
    segment_with_host(&osc).await;
    osc.json(&["segment", "host", "create", "c2", "COMPUTE", "SSH", "seg1"])
        .await;
    server.pause().await;
    let conf = server.dir.path().join("lifeboat.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(
        &conf,
        format!(
            "{text}\n[nova]\nendpoint_override = http://127.0.0.1:{}/v2.1\ntoken = t\ntimeout = 2\n",
            free_port()
        ),
    )
    .unwrap();
    server.resume().await;

    let first = report_failure(&osc, "c1").await;
    let second = report_failure(&osc, "c2").await;

    // Cancel. Today the engine ends it at the next step of its scheduled retry, as `failed`;
    // a cancel that ends an `error` at once (and may name its own terminal status) is coming,
    // so only the end is asserted: terminal, and saying it was cancelled.
    wait_status(&server, &first, &["error"]).await;
    let cancelled = osc.json(&["notification", "cancel", &first]).await;
    assert_eq!(cancelled["notification_uuid"], first.as_str());

    // Meanwhile, progress: the status, the message the stock `notification show` leaves out,
    // the steps.
    let (_, message) = wait_status(&server, &second, &["error"]).await;
    assert!(!message.is_empty());
    // The recovery put its host in maintenance, and says so.
    let shown = osc
        .json(&["segment", "host", "maintenance", "show", "seg1", "c2"])
        .await;
    assert_eq!(shown["reason"], "recovery", "{shown}");
    assert_eq!(shown["notification"], second.as_str(), "{shown}");
    let progress = osc.json(&["notification", "progress", &second]).await;
    assert_eq!(progress["notification_uuid"], second.as_str());
    assert_eq!(progress["status"], "error", "{progress}");
    assert_eq!(progress["message"], message.as_str());
    let steps = progress["steps"].as_array().unwrap();
    assert!(!steps.is_empty(), "{progress}");
    assert!(
        steps
            .iter()
            .all(|s| s["name"].is_string() && s["state"].is_string())
    );
    assert_eq!(progress["instances"], serde_json::json!([]));
    assert_eq!(progress["instances_summary"], "0 instances");
    let stock = osc.json(&["notification", "show", &second]).await;
    assert!(
        stock.get("message").is_none(),
        "the stock view has no message: {stock}"
    );
    // Retry, without waiting for the scheduled one: `new` again, and recovered once more.
    let retried = osc.json(&["notification", "retry", &second]).await;
    assert_eq!(retried["status"], "new", "{retried}");
    assert!(retried["message"].is_null(), "{retried}");
    wait_status(&server, &second, &["error", "failed"]).await;
    let (ok, refused) = osc
        .text(&[
            "notification",
            "retry",
            "00000000-0000-0000-0000-000000000000",
        ])
        .await;
    assert!(!ok && refused.contains("HTTP 404"), "{refused}");

    let (status, message) = wait_status(&server, &first, &["failed", "cancelled"]).await;
    assert!(
        message.to_lowercase().contains("cancel"),
        "{status}: {message}"
    );
    // A finished recovery cannot be cancelled: the API's reason, and a failed command.
    let (ok, refused) = osc.text(&["notification", "cancel", &first]).await;
    assert!(!ok, "{refused}");
    assert!(
        refused.contains("HTTP 409") && refused.contains("cancelled"),
        "{refused}"
    );

    // Per-instance progress, from the vmoves as the engine records them.
    let moves = record_vmoves(&server, &second, &["vm-a", "vm-b", "vm-c"], "c2").await;
    let store = server.store().await;
    let update = |status, dest: Option<&str>, message: Option<&str>| VMoveUpdate {
        status: Some(status),
        dest_host: Some(dest.map(str::to_owned)),
        message: Some(message.map(str::to_owned)),
        ..VMoveUpdate::default()
    };
    store
        .update_vmove(
            moves[0].uuid,
            update(VMoveStatus::Succeeded, Some("c1"), None),
            SystemClock.now(),
        )
        .await
        .unwrap();
    store
        .update_vmove(
            moves[1].uuid,
            update(VMoveStatus::Failed, None, Some("No valid host was found.")),
            SystemClock.now(),
        )
        .await
        .unwrap();
    let progress = osc.json(&["notification", "progress", &second]).await;
    assert_eq!(
        progress["instances_summary"],
        "3 instances: 1 failed, 1 pending, 1 succeeded"
    );
    let by_name = |name: &str| {
        progress["instances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["instance_name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} missing: {progress}"))
    };
    assert_eq!(by_name("vm-a")["status"], "succeeded");
    assert_eq!(by_name("vm-a")["dest_host"], "c1");
    assert_eq!(by_name("vm-b")["message"], "No valid host was found.");
    assert_eq!(by_name("vm-c")["status"], "pending");
    // And as a person reads it.
    let (ok, table) = osc.text(&["notification", "progress", &second]).await;
    assert!(ok, "{table}");
    assert!(table.contains("vm-a") && table.contains("-> c1"), "{table}");
    assert!(
        table.contains("failed: c2 -> - (No valid host was found.)"),
        "{table}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_works_through_keystone() {
    let sim = IpmiSim::start();
    let keys = tempfile::tempdir().unwrap();
    let port = free_port();
    let keystone = Keystone::start(&format!("http://127.0.0.1:{port}")).await;
    let server = Server::start_on(
        port,
        &format!(
            "{}{}",
            keystone_config(&keystone),
            fencing_config(keys.path())
        ),
    )
    .await;
    // Through the catalog: `/v1/<project_id>/…` URLs, the admin's token.
    let osc = keystone.osc();
    segment_with_host(&osc).await;
    fence_commands(&osc, &sim).await;
    // A host failure with no Nova to recover through: in progress (`error`, retried later).
    let n = report_failure(&osc, "c1").await;
    let progress = osc.json(&["notification", "progress", &n]).await;
    assert_eq!(progress["notification_uuid"], n.as_str());
    assert_eq!(progress["instances_summary"], "0 instances");
    let cancelled = osc.json(&["notification", "cancel", &n]).await;
    assert_eq!(cancelled["notification_uuid"], n.as_str());
    server.stop().await;
}

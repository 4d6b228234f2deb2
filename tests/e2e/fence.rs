//! `lifeboat fence ipmi …` and `lifeboat manage fence HOST …` against ipmi_sim: exit codes as
//! fence agents', the password from a file only.

use std::time::Duration;

use lifeboat_test_support::ipmi_sim::{IpmiSim, free_udp_port};
use reqwest::StatusCode;
use serde_json::json;
use tokio::process::Command;

use crate::support::Server;

/// `POST <url>` with `body` at microversion 1.5 (fence devices and power actions).
pub async fn post_v15(
    http: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> reqwest::Response {
    http.post(url)
        .header("OpenStack-API-Version", "instance-ha 1.5")
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url} failed: {e}"))
}

/// The body of a level-1 `ipmi` fence device named `bmc` on `sim`, as one of its users at its
/// privilege (`administrator`, `operator`).
pub fn ipmi_device(
    sim: &IpmiSim,
    username: &str,
    password: &str,
    privilege: &str,
) -> serde_json::Value {
    json!({"fence_device": {"name": "bmc", "driver": "ipmi", "address": sim.address(),
        "username": username, "password": password, "options": {"privilege": privilege}}})
}

fn lifeboat() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lifeboat"))
}

async fn exit_code(command: &mut Command) -> (i32, String, String) {
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let out = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .unwrap()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fence_ipmi_tests_a_bmc_by_its_parameters_with_fence_agent_exit_codes() {
    let sim = IpmiSim::start();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("pw");
    std::fs::write(&good, "password\n").unwrap();
    let bad = dir.path().join("bad");
    std::fs::write(&bad, "wrong\n").unwrap();
    let ipmi = |file: &std::path::Path, action: &str, address: &str| {
        let mut c = lifeboat();
        c.args([
            "fence",
            "ipmi",
            "--address",
            address,
            "--username",
            "admin",
            "--password-file",
        ])
        .arg(file)
        .args(["--action", action, "--timeout", "0.5"]);
        c
    };
    let address = sim.address();
    let (code, out, _) = exit_code(&mut ipmi(&good, "status", &address)).await;
    assert_eq!((code, out.trim()), (0, "Status: ON"));
    let (code, out, err) = exit_code(&mut ipmi(&good, "off", &address)).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("Success: Powered OFF"), "{out}");
    assert!(!sim.power_on());
    let (code, out, _) = exit_code(&mut ipmi(&good, "status", &address)).await;
    assert_eq!((code, out.trim()), (2, "Status: OFF"));
    let (code, _, _) = exit_code(&mut ipmi(&good, "reboot", &address)).await;
    assert_eq!(code, 0);
    assert!(sim.power_on());

    let (code, out, err) = exit_code(&mut ipmi(&bad, "off", &address)).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("wrong password") && !err.contains("wrong\n"),
        "{err}"
    );
    assert!(sim.power_on());

    let dead = format!("127.0.0.1:{}", free_udp_port());
    let started = tokio::time::Instant::now();
    let (code, _, err) = exit_code(&mut ipmi(&good, "status", &dead)).await;
    assert_eq!(code, 1);
    assert!(err.contains("did not answer"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // The password is never an argument.
    let (code, _, err) = exit_code(lifeboat().args([
        "fence",
        "ipmi",
        "--address",
        &address,
        "--username",
        "admin",
        "--password",
        "password",
        "--action",
        "status",
    ]))
    .await;
    assert_eq!(code, 2, "clap refuses the unknown flag: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manage_fence_powers_a_host_configured_through_the_api() {
    let sim = IpmiSim::start();
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("fence.key");
    std::fs::write(&key, "0123456789abcdef".repeat(4)).unwrap();
    let server = Server::start(&format!(
        "[fencing]\ncredential_key_file = {}\nipmi_timeout = 1\n",
        key.display()
    ))
    .await;
    let http = reqwest::Client::new();
    let (http, base) = (&http, server.url());
    let call = move |path: String, body: serde_json::Value| {
        let url = format!("{base}{path}");
        async move { post_v15(http, &url, &body).await }
    };
    let seg: serde_json::Value = call(
        "/v1/segments".into(),
        json!({"segment": {"name": "s", "recovery_method": "auto", "service_type": "COMPUTE"}}),
    )
    .await
    .json()
    .await
    .unwrap();
    let seg = seg["segment"]["uuid"].as_str().unwrap().to_owned();
    let host: serde_json::Value = call(
        format!("/v1/segments/{seg}/hosts"),
        json!({"host": {"name": "c1", "type": "COMPUTE", "control_attributes": "SSH"}}),
    )
    .await
    .json()
    .await
    .unwrap();
    let host = host["host"]["uuid"].as_str().unwrap().to_owned();
    let created = call(
        format!("/v1/segments/{seg}/hosts/{host}/fence_devices"),
        ipmi_device(&sim, "admin", "password", "administrator"),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);

    let conf = server.dir.path().join("lifeboat.conf");
    let manage = |action: &str| {
        let mut c = lifeboat();
        c.arg("--config-file")
            .arg(&conf)
            .args(["manage", "fence", "c1", action]);
        c
    };
    let (code, out, err) = exit_code(&mut manage("status")).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Status: ON"), "{out}");
    let (code, out, err) = exit_code(&mut manage("off")).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("level 1 bmc: ok"), "{out}");
    assert!(!sim.power_on());
    let (code, _, _) = exit_code(&mut manage("status")).await;
    assert_eq!(code, 2);
    let (code, _, _) = exit_code(&mut manage("on")).await;
    assert_eq!(code, 0);
    assert!(sim.power_on());
    let (code, _, err) = exit_code(
        lifeboat()
            .arg("--config-file")
            .arg(&conf)
            .args(["manage", "fence", "nobody", "status"]),
    )
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("no fence device"), "{err}");
    assert!(
        !server.log().contains("password\""),
        "the server log must not hold the password"
    );
    server.stop().await;
}

//! The binary's configuration handling: the committed sample, masakari.conf compatibility, the
//! trial mode of `serve`, and `manage` commands.

use std::time::Duration;

use reqwest::StatusCode;
use tokio::process::Command;

use crate::support::{Server, free_port, run, wait_http};

fn lifeboat() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lifeboat"));
    // Environment overrides from the developer's shell must not leak into these tests.
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("LIFEBOAT__")) {
        cmd.env_remove(key);
    }
    cmd
}

/// Runs `lifeboat --config-file conf <args>` to completion.
async fn with_config(conf: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    run(
        lifeboat().arg("--config-file").arg(conf).args(args),
        Duration::from_secs(30),
    )
    .await
}

#[tokio::test]
async fn the_committed_sample_is_what_manage_config_sample_prints() {
    let (ok, out, err) = run(
        lifeboat().args(["manage", "config", "sample"]),
        Duration::from_secs(30),
    )
    .await;
    assert!(ok, "{err}");
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/etc/lifeboat.conf.sample"
    ))
    .unwrap();
    assert_eq!(
        out, committed,
        "etc/lifeboat.conf.sample is stale: regenerate it with `lifeboat manage config sample > etc/lifeboat.conf.sample`"
    );
}

#[tokio::test]
async fn a_masakari_conf_works_as_is_and_manage_commands_use_it() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("masakari.conf");
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\nauth_strategy = noauth2\nmasakari_api_listen = 127.0.0.1\nmasakari_api_listen_port = {port}\n\
             transport_url = rabbit://guest:guest@127.0.0.1:5672/\nnotification_delay_max = 5\n\
             [database]\nconnection = sqlite:///{}/masakari.sqlite\n[taskflow]\nconnection = sqlite://\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let (ok, out, err) = with_config(&conf, &["manage", "config", "check"]).await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("transport_url") && out.contains("configuration is valid"),
        "{out}"
    );
    // `api` needs a migrated database; `manage db sync` makes it.
    let (ok, _, err) = with_config(&conf, &["api"]).await;
    assert!(!ok && err.contains("manage db sync"), "{err}");
    let (ok, out, err) = with_config(&conf, &["manage", "db", "sync"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("schema version"), "{out}");
    let mut api = lifeboat()
        .arg("--config-file")
        .arg(&conf)
        .arg("api")
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    assert!(
        wait_http(
            &format!("http://127.0.0.1:{port}/healthcheck"),
            Duration::from_secs(20)
        )
        .await
    );
    let _ = api.kill().await;
}

#[tokio::test]
async fn bad_configuration_is_refused_with_every_error_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bad.conf");
    std::fs::write(&conf, "[DEFAULT]\nmasakari_api_listen_port = 99999\n[keystone_authtoken]\npassword = hunter2-secret\n").unwrap();
    let (ok, out, err) = with_config(&conf, &["serve"]).await;
    assert!(!ok);
    let text = format!("{out}{err}");
    assert!(text.contains("masakari_api_listen_port"), "{text}");
    assert!(
        text.contains("auth_url"),
        "keystone needs its credentials: {text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test]
async fn serve_with_no_configuration_starts_a_local_trial_instance() {
    let dir = tempfile::tempdir().unwrap();
    // The trial instance listens on the default port; skip nothing, but say clearly if it is taken.
    if std::net::TcpListener::bind("127.0.0.1:15868").is_err() {
        panic!("port 15868 is in use; stop whatever listens there to run this test");
    }
    let mut child = lifeboat()
        .arg("serve")
        .current_dir(dir.path())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    assert!(
        wait_http(
            "http://127.0.0.1:15868/healthcheck",
            Duration::from_secs(20)
        )
        .await,
        "trial serve did not start"
    );
    let r = reqwest::get("http://127.0.0.1:15868/v1/segments")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        dir.path().join("lifeboat.sqlite").exists(),
        "the trial database lives in the working directory"
    );
    crate::trial::a_trial_finishes_what_needs_no_nova_and_keeps_its_hosts_editable(
        "http://127.0.0.1:15868",
    )
    .await;
    let _ = child.kill().await;
}

#[tokio::test]
async fn environment_overrides_apply_over_files() {
    let server = Server::start_with(
        free_port(),
        "[DEFAULT]\nosapi_max_limit = 5\n",
        &[("LIFEBOAT__DEFAULT__OSAPI_MAX_LIMIT", "2")],
    )
    .await;
    for i in 0..3 {
        reqwest::Client::new()
            .post(format!("{}/v1/segments", server.url()))
            .json(&serde_json::json!({"segment": {"name": format!("s{i}"), "recovery_method": "auto", "service_type": "C"}}))
            .send()
            .await
            .unwrap();
    }
    let page: serde_json::Value = reqwest::get(format!("{}/v1/segments", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["segments"].as_array().unwrap().len(),
        2,
        "the environment overrides the file"
    );
    server.stop().await;
}

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
async fn serve_listens_where_told_and_its_startup_line_names_the_version_and_the_database_file() {
    // The trial instance, moved off its default port.
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("serve.log");
    let mut child = crate::support::spawn_logged(
        lifeboat()
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .current_dir(dir.path()),
        &log,
    );
    let url = format!("http://127.0.0.1:{port}/healthcheck");
    assert!(
        wait_http(&url, Duration::from_secs(20)).await,
        "trial serve did not listen on {port}: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let database = dir.path().canonicalize().unwrap().join("lifeboat.sqlite");
    let startup = text
        .lines()
        .find(|l| l.contains("starting"))
        .unwrap_or_else(|| panic!("no startup line: {text}"));
    assert!(
        startup.contains(&format!("Lifeboat {}", env!("CARGO_PKG_VERSION")))
            && startup.contains(&database.display().to_string()),
        "{startup}"
    );
    let _ = child.kill().await;

    // A configured instance: --listen wins over masakari_api_listen_port.
    let configured = free_port();
    let port = free_port();
    let conf = dir.path().join("lifeboat.conf");
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\nauth_strategy = noauth2\nmasakari_api_listen = 127.0.0.1\n\
             masakari_api_listen_port = {configured}\n[database]\nconnection = sqlite:///{}\n",
            dir.path().join("other.sqlite").display()
        ),
    )
    .unwrap();
    let mut child = crate::support::spawn_logged(
        lifeboat().arg("--config-file").arg(&conf).args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ]),
        &dir.path().join("configured.log"),
    );
    assert!(
        wait_http(
            &format!("http://127.0.0.1:{port}/healthcheck"),
            Duration::from_secs(20)
        )
        .await
    );
    assert!(
        reqwest::get(format!("http://127.0.0.1:{configured}/healthcheck"))
            .await
            .is_err(),
        "the configured port must not be listened on"
    );
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

/// Writes `text` as `name` in `dir` and returns its path.
fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const NOAUTH: &str = "[DEFAULT]\nauth_strategy = noauth2\nmasakari_api_listen = 127.0.0.1\n";

#[tokio::test]
async fn config_check_refuses_a_misspelt_word_naming_the_option_and_its_words() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "lifeboat.conf",
        &format!(
            "{NOAUTH}[host_failure]\nfencing = requird\nauto_placement = nearby\n\
             [instance_failure]\nrecovery_action = reboot\n\
             [database]\nconnection = sqlite:///{}/lifeboat.sqlite\n",
            dir.path().display()
        ),
    );
    let (ok, out, err) = with_config(&conf, &["manage", "config", "check"]).await;
    assert!(!ok, "{out}{err}");
    assert!(!out.contains("configuration is valid"), "{out}");
    for needle in [
        "[host_failure] fencing (",
        "'requird' is not one of auto, required, best_effort, disabled",
        "[host_failure] auto_placement (",
        "'nearby' is not one of segment, scheduler",
        "[instance_failure] recovery_action (",
        "'reboot' is not one of stop_start, hard_reboot",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    // `serve` refuses it with the same words, before opening anything.
    let (ok, _, serve_err) = with_config(&conf, &["serve"]).await;
    assert!(
        !ok && serve_err.contains("'requird' is not one of"),
        "{serve_err}"
    );
}

#[tokio::test]
async fn config_check_loads_the_policy_and_workflow_policy_files_as_serve_does() {
    let dir = tempfile::tempdir().unwrap();
    let policy = "[oslo_policy]\npolicy_file = policy.yaml\n";
    let workflows = "[engine]\nworkflow_policy_file = workflows.yaml\n";
    // `serve` opens the database before it loads the workflow policies: keep it here.
    let database = format!(
        "[database]\nconnection = sqlite:///{}/lifeboat.sqlite\n",
        dir.path().display()
    );
    let conf = write(
        dir.path(),
        "lifeboat.conf",
        &format!("{NOAUTH}{policy}{workflows}{database}"),
    );
    let good_policy = "\"os_masakari_api:segments:index\": \"rule:admin_api\"\n";
    let good_workflows =
        "policies:\n  gold:\n    host_failure:\n      fencing: required\nsegments:\n  s1: gold\n";
    // (policy file, workflow policy file, what the refusal names; none: valid)
    let cases = [
        (good_policy, good_workflows, None),
        (
            "\"os_masakari_api:segments:index\": [unclosed\n",
            good_workflows,
            Some("policy.yaml"),
        ),
        (
            "{}\n",
            "policies:\n  gold:\n    host_failure:\n      fencing: sometimes\n",
            Some("sometimes"),
        ),
    ];
    for (policy_text, workflows_text, refused) in cases {
        write(dir.path(), "policy.yaml", policy_text);
        write(dir.path(), "workflows.yaml", workflows_text);
        let (ok, out, err) = with_config(&conf, &["manage", "config", "check"]).await;
        match refused {
            None => assert!(ok && out.contains("configuration is valid"), "{out}{err}"),
            Some(needle) => assert!(
                !ok && err.contains(needle),
                "{policy_text}{workflows_text}: {out}{err}"
            ),
        }
    }
    // `serve` refuses the same file.
    let (ok, _, serve_err) = with_config(&conf, &["serve"]).await;
    assert!(!ok && serve_err.contains("workflows.yaml"), "{serve_err}");
}

#[tokio::test]
async fn config_check_with_no_configuration_checks_the_trial_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let check = || async {
        run(
            lifeboat()
                .args(["manage", "config", "check"])
                .current_dir(dir.path()),
            Duration::from_secs(30),
        )
        .await
    };
    let (ok, out, err) = check().await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("trial defaults") && out.contains("configuration is valid"),
        "{out}"
    );
    // The trial's policy file is ./policy.yaml, as for `serve`: a broken one is found.
    write(dir.path(), "policy.yaml", "[not a mapping\n");
    let (ok, out, err) = check().await;
    assert!(!ok && err.contains("policy.yaml"), "{out}{err}");
}

#[tokio::test]
async fn db_version_is_0_on_an_unmigrated_database_and_the_latest_after_sync() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.sqlite");
    let conf = write(
        dir.path(),
        "lifeboat.conf",
        &format!(
            "{NOAUTH}[database]\nconnection = sqlite:///{}\n",
            db.display()
        ),
    );
    let (ok, out, err) = with_config(&conf, &["manage", "db", "version"]).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "0");
    assert!(!db.exists(), "db version created the database");
    // An empty SQLite file is a database without Lifeboat's tables.
    std::fs::write(&db, b"").unwrap();
    let (ok, out, err) = with_config(&conf, &["manage", "db", "version"]).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "0");
    let (ok, synced, err) = with_config(&conf, &["manage", "db", "sync"]).await;
    assert!(ok, "{err}");
    let latest = synced.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(latest.parse::<u32>().unwrap() > 0, "{synced}");
    let (ok, out, err) = with_config(&conf, &["manage", "db", "version"]).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), latest);
}

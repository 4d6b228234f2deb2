//! Packaging: the systemd units pass `systemd-analyze verify`, and the processes speak systemd's
//! notify protocol (READY=1 once serving, watchdog pings, STOPPING=1) as the units promise.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tokio::time::Instant;

use crate::support::{Server, free_port, send_signal};

fn units() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("etc/systemd");
    let mut units: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "service"))
        .collect();
    units.sort();
    units
}

#[test]
fn every_systemd_unit_passes_systemd_analyze_verify() {
    let Ok(output) = Command::new("systemd-analyze").arg("--version").output() else {
        panic!("systemd-analyze is missing: apt-get install systemd");
    };
    assert!(output.status.success());
    let units = units();
    let names: Vec<String> = units
        .iter()
        .map(|u| u.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "lifeboat.service",
        "lifeboat-api.service",
        "lifeboat-engine.service",
        "lifeboat-hostmonitor.service",
        "lifeboat-processmonitor.service",
        "lifeboat-instancemonitor.service",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing");
    }
    // verify checks that ExecStart's program exists: point it at the binary under test.
    let dir = tempfile::tempdir().unwrap();
    for unit in &units {
        let text = std::fs::read_to_string(unit).unwrap();
        assert!(text.contains("\nType=notify\n"), "{}", unit.display());
        assert!(text.contains("\nWatchdogSec="), "{}", unit.display());
        assert!(text.contains("\nExecReload=/bin/kill -HUP $MAINPID\n"));
        let text = text.replace("/usr/local/bin/lifeboat", env!("CARGO_BIN_EXE_lifeboat"));
        std::fs::write(dir.path().join(unit.file_name().unwrap()), text).unwrap();
    }
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .args(
            names
                .iter()
                .map(|n| dir.path().join(n).display().to_string()),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify: {stderr}"
    );
}

/// Datagrams received on `socket` until `until` holds for them or `timeout` passes.
fn receive_until(
    socket: &UnixDatagram,
    timeout: Duration,
    until: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !until(&got) && Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    got
}

/// A datagram socket standing in for systemd's, in a temporary folder (kept alive by the first
/// value), and its path for `NOTIFY_SOCKET`.
fn notify_socket() -> (tempfile::TempDir, UnixDatagram, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let notify = path.display().to_string();
    (dir, socket, notify)
}

#[tokio::test]
async fn serve_says_ready_pings_the_watchdog_and_says_stopping() {
    let (_dir, socket, notify) = notify_socket();
    let mut server = Server::start_with(
        free_port(),
        "",
        &[("NOTIFY_SOCKET", &notify), ("WATCHDOG_USEC", "400000")],
    )
    .await;
    let got = receive_until(&socket, Duration::from_secs(10), |got| {
        got.iter().filter(|m| *m == "WATCHDOG=1").count() >= 3
    });
    let ready = got.iter().position(|m| m.starts_with("READY=1"));
    assert!(ready.is_some(), "no READY=1 in {got:?}");
    assert!(
        got.iter().filter(|m| *m == "WATCHDOG=1").count() >= 3,
        "watchdog pings every 0.2 s expected: {got:?}\n{}",
        server.log()
    );
    send_signal(server.pid(), "TERM");
    let got = receive_until(&socket, Duration::from_secs(5), |got| {
        got.iter().any(|m| m == "STOPPING=1")
    });
    assert!(got.iter().any(|m| m == "STOPPING=1"), "{got:?}");
    assert!(server.exit_within(Duration::from_secs(10)).await.is_some());
}

#[tokio::test]
async fn a_watchdog_meant_for_another_process_is_not_pinged() {
    let (_dir, socket, notify) = notify_socket();
    let server = Server::start_with(
        free_port(),
        "",
        &[
            ("NOTIFY_SOCKET", &notify),
            ("WATCHDOG_USEC", "200000"),
            ("WATCHDOG_PID", "1"),
        ],
    )
    .await;
    let got = receive_until(&socket, Duration::from_secs(2), |_| false);
    assert!(got.iter().any(|m| m.starts_with("READY=1")), "{got:?}");
    assert!(!got.iter().any(|m| m == "WATCHDOG=1"), "{got:?}");
    server.stop().await;
}

#[test]
fn manage_policy_sample_prints_every_rule_commented_out_with_its_calls() {
    let output = Command::new(env!("CARGO_BIN_EXE_lifeboat"))
        .args(["manage", "policy", "sample"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let rules: Vec<&str> = text.lines().filter(|l| l.starts_with("#\"")).collect();
    assert_eq!(
        rules.len(),
        lifeboat_api::policy::default_rules().len(),
        "{text}"
    );
    assert!(
        text.contains(
            "# POST /v1/segments/{segment_id}/hosts/{host_id}/fence_devices\n\
             #\"os_masakari_api:fence-devices:create\": \"rule:admin_api\"\n"
        ),
        "{text}"
    );
    assert!(
        text.lines().all(|l| l.is_empty() || l.starts_with('#')),
        "every line is a comment: the sample as written changes nothing"
    );
}

/// The Containerfile cannot be built here (no container registry to pull its base images
/// from), so what can be checked without one is: every file it copies exists, the binary it
/// builds is this one, and the command it runs is one the binary accepts.
#[test]
fn the_containerfile_copies_files_that_exist_and_runs_a_command_the_binary_accepts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("Containerfile")).unwrap();
    let copies: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from="))
        .flat_map(|l| {
            let parts: Vec<&str> = l.split_whitespace().skip(1).collect();
            parts[..parts.len() - 1].to_vec()
        })
        .filter(|source| *source != ".")
        .collect();
    assert!(
        !copies.is_empty(),
        "no COPY of the repository's files:\n{text}"
    );
    for source in copies {
        assert!(
            root.join(source).exists(),
            "the Containerfile copies {source}, which is not here"
        );
    }
    assert!(text.contains("--bin lifeboat"), "{text}");
    let cmd = text
        .lines()
        .find_map(|l| l.strip_prefix("CMD "))
        .expect("a CMD line");
    let args: Vec<String> = serde_json::from_str(cmd).unwrap();
    // The image's command, with `--help` so that it only parses: options and subcommand must exist.
    let out = Command::new(env!("CARGO_BIN_EXE_lifeboat"))
        .args(&args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?} --help: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

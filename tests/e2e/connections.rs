//! The API's connections and the process's signals: clients that stall are disconnected after
//! the timeouts, a shutdown waits at most its grace period, idle sockets at a low open-file
//! limit do not shut out a new client, and SIGHUP reloads instead of killing.

use std::time::Duration;

use tokio::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::monitors::{Agent, agent_conf, eventually};
use crate::support::{Server, free_port, send_signal};

/// A client that has sent `bytes` and then nothing more.
async fn stalled_client(server: &Server, bytes: &str) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    stream.write_all(bytes.as_bytes()).await.unwrap();
    stream
}

/// Reads until the server closes the connection: what it sent and how long that took, or
/// `None` if it kept the connection open for `limit`.
async fn closed_within(mut stream: TcpStream, limit: Duration) -> Option<(Duration, String)> {
    let start = Instant::now();
    let mut received = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| {
        (
            start.elapsed(),
            String::from_utf8_lossy(&received).into_owned(),
        )
    })
}

const PARTIAL_HEADERS: &str = "GET /v1/segments HTTP/1.1\r\nHost: lifeboat\r\nAccept: application/";
const PARTIAL_BODY: &str = "POST /v1/segments HTTP/1.1\r\nHost: lifeboat\r\n\
    Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"segment\": {\"name\":";
const ONE_REQUEST: &str = "GET /healthcheck HTTP/1.1\r\nHost: lifeboat\r\n\r\n";

async fn still_running(server: &mut Server) -> bool {
    server
        .exit_within(Duration::from_millis(100))
        .await
        .is_none()
}

fn within(elapsed: Duration, from: f64, to: f64) -> bool {
    (from..=to).contains(&elapsed.as_secs_f64())
}

#[tokio::test]
async fn stalled_clients_are_disconnected_after_the_timeouts() {
    let server = Server::start(
        "[DEFAULT]\napi_header_timeout = 1\napi_keep_alive_timeout = 2.5\napi_body_timeout = 1\n",
    )
    .await;
    let limit = Duration::from_secs(8);
    let (silent, headers, body, kept_alive) = tokio::join!(
        async { closed_within(stalled_client(&server, "").await, limit).await },
        async { closed_within(stalled_client(&server, PARTIAL_HEADERS).await, limit).await },
        async { closed_within(stalled_client(&server, PARTIAL_BODY).await, limit).await },
        async { closed_within(stalled_client(&server, ONE_REQUEST).await, limit).await },
    );
    let log = server.log();
    let (t, _) = silent.unwrap_or_else(|| panic!("a silent client was kept: {log}"));
    assert!(within(t, 0.8, 3.0), "silent client closed after {t:?}");
    let (t, _) = headers.unwrap_or_else(|| panic!("half the headers kept the connection: {log}"));
    assert!(within(t, 0.8, 3.0), "partial headers closed after {t:?}");
    let (t, answer) = body.unwrap_or_else(|| panic!("half a body kept the connection: {log}"));
    assert!(within(t, 0.8, 3.0), "partial body closed after {t:?}");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    // Kept alive after its answer for api_keep_alive_timeout, not the shorter header timeout.
    let (t, answer) = kept_alive.unwrap_or_else(|| panic!("an idle connection was kept: {log}"));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        within(t, 2.2, 5.0),
        "idle kept-alive connection closed after {t:?}"
    );
    // The server serves on.
    let r = reqwest::get(format!("{}/v1/segments", server.url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn sigterm_exits_within_the_grace_with_stalled_clients_connected() {
    let mut server = Server::start(
        "[DEFAULT]\napi_header_timeout = 60\napi_keep_alive_timeout = 60\napi_body_timeout = 60\n\
         graceful_shutdown_timeout = 2\n",
    )
    .await;
    let mut clients = Vec::new();
    for bytes in ["", PARTIAL_HEADERS, PARTIAL_BODY, ONE_REQUEST] {
        clients.push(stalled_client(&server, bytes).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = Instant::now();
    send_signal(server.pid(), "TERM");
    let status = server.exit_within(Duration::from_secs(8)).await;
    let elapsed = start.elapsed();
    let log = server.log();
    let status = status.unwrap_or_else(|| panic!("still running 8 s after SIGTERM: {log}"));
    assert!(status.success(), "{status:?}: {log}");
    // The request in flight (half a body) was waited for during the grace, then closed.
    assert!(
        within(elapsed, 1.8, 4.0),
        "exited {elapsed:?} after SIGTERM: {log}"
    );
    assert!(
        log.contains("closing connections still open after the grace period"),
        "{log}"
    );
    drop(clients);
}

#[tokio::test]
async fn a_second_stop_signal_exits_at_once() {
    let mut server =
        Server::start("[DEFAULT]\napi_body_timeout = 60\ngraceful_shutdown_timeout = 60\n").await;
    let client = stalled_client(&server, PARTIAL_BODY).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    send_signal(server.pid(), "TERM");
    assert!(
        server.exit_within(Duration::from_secs(1)).await.is_none(),
        "a request in flight should hold the first SIGTERM up"
    );
    let start = Instant::now();
    send_signal(server.pid(), "INT");
    let status = server.exit_within(Duration::from_secs(3)).await;
    let log = server.log();
    let status = status.unwrap_or_else(|| panic!("a second signal did not end it: {log}"));
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(status.code(), Some(130), "{log}");
    drop(client);
}

/// Opens 300 connections that never send anything to a server whose open-file limit is 256,
/// then asks it something: it must answer.
async fn idle_sockets_then_a_new_client(server: &Server) {
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(
            TcpStream::connect(("127.0.0.1", server.port))
                .await
                .unwrap(),
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let start = Instant::now();
    let answer = client
        .get(format!("{}/v1/segments", server.url()))
        .send()
        .await;
    let elapsed = start.elapsed();
    let log = server.log();
    let answer = answer.unwrap_or_else(|e| panic!("shut out for {elapsed:?}: {e}; {log}"));
    assert_eq!(answer.status(), 200, "{log}");
    assert!(
        elapsed < Duration::from_secs(10),
        "answered after {elapsed:?}"
    );
    drop(idle);
}

#[tokio::test]
async fn idle_sockets_at_a_low_open_file_limit_do_not_shut_out_a_new_client() {
    let server = Server::start_under(
        &["prlimit", "--nofile=256:256"],
        free_port(),
        "[DEFAULT]\napi_header_timeout = 2\n",
        &[],
    )
    .await;
    idle_sockets_then_a_new_client(&server).await;
    assert!(
        server
            .log()
            .contains("api_max_connections lowered to fit the open-file limit"),
        "{}",
        server.log()
    );
}

#[tokio::test]
async fn a_server_out_of_descriptors_neither_spins_nor_dies_and_serves_again() {
    // The limit is lowered under the running server, so the bound still exceeds it and
    // accepting fails with EMFILE until the header timeout closes idle connections.
    let mut server = Server::start("[DEFAULT]\napi_header_timeout = 2\n").await;
    let status = std::process::Command::new("prlimit")
        .args(["--pid", &server.pid().to_string(), "--nofile=256:256"])
        .status()
        .unwrap();
    assert!(status.success(), "prlimit failed (util-linux is needed)");
    idle_sockets_then_a_new_client(&server).await;
    assert!(still_running(&mut server).await, "{}", server.log());
}

#[tokio::test]
async fn sighup_keeps_serve_running_reopens_its_log_and_reloads_the_policy_files() {
    let logs = tempfile::tempdir().unwrap();
    let (log_file, rotated) = (logs.path().join("api.log"), logs.path().join("api.log.1"));
    let mut server =
        Server::start(&format!("[DEFAULT]\nlog_file = {}\n", log_file.display())).await;
    let log = || std::fs::read_to_string(&log_file).unwrap_or_default();
    let url = format!("{}/v1/segments", server.url());
    let status = || async { reqwest::get(&url).await.unwrap().status().as_u16() };
    assert_eq!(status().await, 200);
    assert!(log().contains("Lifeboat API listening"), "{}", log());

    // As logrotate does: move the file away, then SIGHUP; with a new policy meanwhile.
    std::fs::rename(&log_file, &rotated).unwrap();
    let policy = server.dir.path().join("policy.yaml");
    std::fs::write(&policy, "\"os_masakari_api:segments:index\": \"!\"\n").unwrap();
    send_signal(server.pid(), "HUP");
    assert!(
        eventually(Duration::from_secs(5), || async { status().await == 403 }).await,
        "the new policy is not in force: {}",
        log()
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            log().contains("policy file reloaded")
        })
        .await,
        "nothing logged in a new {}: {}",
        log_file.display(),
        std::fs::read_to_string(&rotated).unwrap()
    );
    assert!(log().contains("log file reopened"), "{}", log());
    assert!(
        !std::fs::read_to_string(&rotated)
            .unwrap()
            .contains("policy file reloaded")
    );

    // Broken files: the ones in force stay, and the log says so.
    std::fs::write(&policy, "\"os_masakari_api:segments:index\": [unclosed\n").unwrap();
    std::fs::write(
        server.dir.path().join("workflow-policies.yaml"),
        "policies: {x: {host_failure: {fencing: sometimes}}}\n",
    )
    .unwrap();
    send_signal(server.pid(), "HUP");
    let reported = "the workflow policy file does not load";
    eventually(Duration::from_secs(5), || async {
        log().contains(reported)
    })
    .await;
    let log = log();
    assert!(
        log.contains("ERROR")
            && log.contains("the policy file does not load; the one in force is kept"),
        "{log}"
    );
    assert!(log.contains(reported), "{log}");
    assert!(log.contains("file.path="), "{log}");
    assert_eq!(status().await, 403, "the old policy was not kept");
    assert!(still_running(&mut server).await, "{log}");
}

#[tokio::test]
async fn sighup_keeps_an_agent_running_and_reopens_its_log_and_sigterm_stops_it_in_the_grace() {
    let server = Server::start("").await;
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("process_list.yaml");
    // A start command that takes 20 s keeps the processmonitor busy when SIGTERM comes.
    std::fs::write(
        &list,
        format!(
            "- process_name: lifeboat-grace-test-{}\n  start_command: sleep 20\n  \
             pre_start_command:\n  post_start_command:\n  restart_command: sleep 20\n  \
             pre_restart_command:\n  post_restart_command:\n  run_as_root: false\n",
            std::process::id()
        ),
    )
    .unwrap();
    let (log_file, rotated) = (dir.path().join("agent.log"), dir.path().join("agent.log.1"));
    let conf = dir.path().join("monitors.conf");
    let defaults = format!(
        "[DEFAULT]\ngraceful_shutdown_timeout = 2\nlog_file = {}\n",
        log_file.display()
    );
    let endpoint = format!("{}/v1", server.url());
    std::fs::write(
        &conf,
        format!(
            "{}[process]\nprocess_list_path = {}\n",
            agent_conf("compute-hup", &endpoint, &dir.path().join("outbox")).replacen(
                "[DEFAULT]\n",
                &defaults,
                1
            ),
            list.display()
        ),
    )
    .unwrap();
    let mut agent = Agent::start("processmonitor", &conf, None);
    let log = || std::fs::read_to_string(&log_file).unwrap_or_default();
    let running = "Lifeboat monitors running";
    assert!(
        eventually(Duration::from_secs(10), || async {
            log().contains(running)
        })
        .await,
        "{} {}",
        log(),
        agent.log()
    );
    std::fs::rename(&log_file, &rotated).unwrap();
    send_signal(agent.pid(), "HUP");
    assert!(
        agent.exit_within(Duration::from_secs(1)).await.is_none(),
        "SIGHUP ended the agent: {}",
        agent.log()
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            log().contains("log file reopened")
        })
        .await,
        "{}",
        std::fs::read_to_string(&rotated).unwrap()
    );
    let start = Instant::now();
    send_signal(agent.pid(), "TERM");
    let status = agent.exit_within(Duration::from_secs(5)).await;
    let status = status.unwrap_or_else(|| panic!("still running after SIGTERM: {}", log()));
    assert!(status.success(), "{status:?}: {}", log());
    assert!(within(start.elapsed(), 1.8, 4.0), "{:?}", start.elapsed());
    assert!(
        log().contains("stopping the agents still busy after the grace period"),
        "{}",
        log()
    );
    assert!(log().contains("Lifeboat monitors stopped"), "{}", log());
}

//! Starting `lifeboat` and the Python tools.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::clock::{Clock, SystemClock};
use lifeboat_core::store::Store;
use tokio::process::{Child, Command};

/// Where `scripts/setup/python.sh` puts the virtualenvs.
pub fn test_root() -> PathBuf {
    std::env::var_os("LIFEBOAT_TEST_ROOT").map_or_else(
        || {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
                .join(".cache/lifeboat-test")
        },
        PathBuf::from,
    )
}

/// A program of one of the test virtualenvs; fails the test with the install hint if missing.
pub fn venv_tool(venv: &str, tool: &str) -> PathBuf {
    let path = test_root().join(venv).join("bin").join(tool);
    assert!(
        path.exists(),
        "{} is missing: run `scripts/test-setup.sh` (or `scripts/setup/python.sh`) to install the \
         test tools (set LIFEBOAT_TEST_ROOT if they live elsewhere)",
        path.display()
    );
    path
}

/// The Python helpers of these tests.
pub fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/python")
}

/// A port nothing listens on right now.
/// Now, as a report's `generated_time` (UTC, microseconds, no zone): the server compares it
/// with its own clock, so a real peer's time.
pub fn generated_now() -> String {
    SystemClock
        .now()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Polls `url` until it answers 2xx.
pub async fn wait_http(url: &str, timeout: Duration) -> bool {
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Runs a command to completion with a deadline; returns (status ok, stdout, stderr).
pub async fn run(command: &mut Command, timeout: Duration) -> (bool, String, String) {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("starting {command:?} failed: {e}"));
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{command:?} did not finish within {timeout:?}"))
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The `lifeboat` binary as the last argument of `wrapper` (a program that executes its
/// arguments, such as `prlimit --nofile=256` or `ip netns exec NS`); directly when it is empty.
pub fn lifeboat_under(wrapper: &[&str]) -> Command {
    under(wrapper, Path::new(env!("CARGO_BIN_EXE_lifeboat")))
}

/// `binary` as the last argument of `wrapper`; itself when `wrapper` is empty.
fn under(wrapper: &[&str], binary: &Path) -> Command {
    match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(binary);
            c
        }
        None => Command::new(binary),
    }
}

/// Waits up to `timeout` for `child` to exit: how it exited, or `None` if it still runs.
pub async fn exit_within(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    tokio::time::timeout(timeout, child.wait())
        .await
        .ok()
        .map(Result::unwrap)
}

/// Spawns a long-running process with stdout and stderr going to `log` (killed on drop).
pub fn spawn_logged(command: &mut Command, log: &Path) -> Child {
    let file = std::fs::File::create(log).unwrap();
    command
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {command:?} failed: {e}"))
}

/// A process in a process group of its own, the whole group killed (SIGKILL) and the process
/// reaped when dropped, even on a panic: for servers that fork workers (masakari-api,
/// `socat … fork`), whose children would outlive a kill of the parent alone.
pub struct ProcessGroup {
    child: std::process::Child,
}

impl ProcessGroup {
    /// Spawns `command` with stdout and stderr going to `log`.
    pub fn spawn(command: &mut std::process::Command, log: &Path) -> Self {
        use std::os::unix::process::CommandExt as _;
        let file = std::fs::File::create(log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {command:?} failed: {e}"));
        Self { child }
    }

    /// Whether the group's leader has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .output();
        let _ = self.child.wait();
    }
}

/// A running `lifeboat serve` on its own port and SQLite file; killed when dropped.
pub struct Server {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Server {
    /// Starts `lifeboat serve` with noauth plus `extra` config lines (later keys win).
    pub async fn start(extra: &str) -> Self {
        Self::start_on(free_port(), extra).await
    }

    /// As [`Server::start`] on a chosen port.
    pub async fn start_on(port: u16, extra: &str) -> Self {
        Self::start_with(port, extra, &[]).await
    }

    /// As [`Server::start_on`] with extra environment variables.
    pub async fn start_with(port: u16, extra: &str, env: &[(&str, &str)]) -> Self {
        Self::start_under(&[], port, extra, env).await
    }

    /// As [`Server::start_with`], as the last argument of `wrapper` (such as `prlimit
    /// --nofile=256`); directly when `wrapper` is empty.
    pub async fn start_under(
        wrapper: &[&str],
        port: u16,
        extra: &str,
        env: &[(&str, &str)],
    ) -> Self {
        let server = Self::spawn_under(wrapper, port, extra, env, None);
        if !wait_http(
            &format!("{}/healthcheck", server.url()),
            Duration::from_secs(20),
        )
        .await
        {
            panic!("lifeboat did not start; its log:\n{}", server.log());
        }
        server
    }

    /// Spawns `lifeboat serve` as [`Server::start_with`] does, as user `uid` if given, without
    /// waiting for it to be healthy.
    pub fn spawn(port: u16, extra: &str, env: &[(&str, &str)], uid: Option<u32>) -> Self {
        Self::spawn_under(&[], port, extra, env, uid)
    }

    /// As [`Server::spawn`], under `wrapper` as [`Server::start_under`] runs it.
    fn spawn_under(
        wrapper: &[&str],
        port: u16,
        extra: &str,
        env: &[(&str, &str)],
        uid: Option<u32>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("lifeboat.conf");
        let db = dir.path().join("lifeboat.sqlite");
        std::fs::write(
            &conf,
            format!(
                "[DEFAULT]\nauth_strategy = noauth2\nmasakari_api_listen = 127.0.0.1\nmasakari_api_listen_port = {port}\n\
                 [database]\nconnection = sqlite:///{}\n{extra}\n",
                db.display()
            ),
        )
        .unwrap();
        let mut binary = std::path::PathBuf::from(env!("CARGO_BIN_EXE_lifeboat"));
        if uid.is_some() {
            // The build directory may be closed to other users.
            let copy = dir.path().join("lifeboat");
            std::fs::copy(&binary, &copy).unwrap();
            binary = copy;
        }
        let mut command = under(wrapper, &binary);
        command
            .arg("serve")
            .arg("--config-file")
            .arg(&conf)
            .envs(env.iter().copied());
        if let Some(uid) = uid {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            command.uid(uid).gid(uid);
        }
        let child = spawn_logged(&mut command, &dir.path().join("lifeboat.log"));
        Self { port, dir, child }
    }

    /// The process id (to send it signals).
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server has not been reaped")
    }

    /// Waits up to `timeout` for the process to exit: how it exited, or `None` if it still runs.
    pub async fn exit_within(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        exit_within(&mut self.child, timeout).await
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("lifeboat.log")).unwrap_or_default()
    }

    /// The server's database, opened from the test.
    pub async fn store(&self) -> Arc<dyn Store> {
        lifeboat_test_support::store::open_sqlite(&self.dir.path().join("lifeboat.sqlite"), false)
            .await
    }

    /// Kills the server process, keeping its database (see [`Server::resume`]).
    pub async fn pause(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Starts the server again on the same port, config and database.
    pub async fn resume(&mut self) {
        self.child = spawn_logged(
            Command::new(env!("CARGO_BIN_EXE_lifeboat"))
                .arg("serve")
                .arg("--config-file")
                .arg(self.dir.path().join("lifeboat.conf")),
            &self.dir.path().join("lifeboat-resumed.log"),
        );
        assert!(
            wait_http(
                &format!("{}/healthcheck", self.url()),
                Duration::from_secs(20)
            )
            .await,
            "lifeboat did not start again"
        );
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    /// Kills the process at once (SIGKILL: no shutdown) and starts it again on the same
    /// configuration and database, as after a crash.
    pub async fn crash_and_restart(&mut self) {
        let _ = self.child.kill().await;
        let conf = self.dir.path().join("lifeboat.conf");
        self.child = spawn_logged(
            Command::new(env!("CARGO_BIN_EXE_lifeboat"))
                .arg("serve")
                .arg("--config-file")
                .arg(&conf),
            &self.dir.path().join("lifeboat-restarted.log"),
        );
        assert!(
            wait_http(
                &format!("{}/healthcheck", self.url()),
                Duration::from_secs(20)
            )
            .await,
            "lifeboat did not restart:\n{}",
            std::fs::read_to_string(self.dir.path().join("lifeboat-restarted.log"))
                .unwrap_or_default()
        );
    }

    /// A second `lifeboat serve` on the same configuration and database, on another port.
    pub async fn twin(&self) -> Self {
        let port = free_port();
        let text = std::fs::read_to_string(self.dir.path().join("lifeboat.conf")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("lifeboat.conf");
        std::fs::write(
            &conf,
            format!("{text}\n[DEFAULT]\nmasakari_api_listen_port = {port}\n"),
        )
        .unwrap();
        let child = spawn_logged(
            Command::new(env!("CARGO_BIN_EXE_lifeboat"))
                .arg("serve")
                .arg("--config-file")
                .arg(&conf),
            &dir.path().join("lifeboat.log"),
        );
        let twin = Self { port, dir, child };
        assert!(
            wait_http(
                &format!("{}/healthcheck", twin.url()),
                Duration::from_secs(20)
            )
            .await,
            "twin did not start:\n{}",
            twin.log()
        );
        twin
    }
}

/// Sends `signal` (`HUP`, `TERM`, ...) to process `pid`.
pub fn send_signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -s {signal} {pid} failed");
}

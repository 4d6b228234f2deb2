//! Running one agent process: in a process group of its own, with a clean environment, its
//! output captured up to a bound, and at its timeout the whole group terminated (SIGTERM,
//! then SIGKILL after a grace). A run dropped before its agent ends (a cancelled action)
//! kills the group at once.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::time::Instant;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal it was not sent by the executor ended it.
    Signal,
    /// It ran past its timeout; its group was killed.
    TimedOut,
}

/// A finished run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// How it ended.
    pub exit: Exit,
    /// Its stdout (at most the limit).
    pub stdout: String,
    /// Its stderr (at most the limit).
    pub stderr: String,
    /// Whether output beyond the limit was dropped.
    pub truncated: bool,
    /// How long it ran.
    pub duration: Duration,
    /// Its process group id (its pid).
    pub pgid: i32,
}

/// The limits of one run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long it may run.
    pub timeout: Duration,
    /// Between SIGTERM and SIGKILL to its group at the timeout.
    pub kill_grace: Duration,
    /// Bytes kept of each of stdout and stderr.
    pub output: usize,
}

/// After the agent exits, how long its output pipes may stay open (a daemon it started and
/// that kept them) before what was read is taken as all.
const DRAIN: Duration = Duration::from_millis(500);

/// Runs `program args…` with exactly `env`. An `Err` is a failure to start it (the caller
/// maps the OS error as Pacemaker does).
pub async fn run(
    program: &Path,
    args: &[&str],
    env: &BTreeMap<String, String>,
    limits: Limits,
) -> std::io::Result<Finished> {
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()?;
    let pgid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .unwrap_or(0);
    let mut guard = GroupGuard { pgid, armed: true };
    let stdout = Capture::start(child.stdout.take(), limits.output);
    let stderr = Capture::start(child.stderr.take(), limits.output);
    let exit = match tokio::time::timeout(limits.timeout, child.wait()).await {
        Ok(status) => match status?.code() {
            Some(code) => Exit::Code(code),
            None => Exit::Signal,
        },
        Err(_) => {
            terminate_group(pgid, &mut child, limits.kill_grace).await;
            Exit::TimedOut
        }
    };
    let duration = started.elapsed();
    // It ended (or was killed): whatever it left running is the resource's business.
    guard.armed = false;
    let (out, out_cut) = stdout.finish().await;
    let (err, err_cut) = stderr.finish().await;
    Ok(Finished {
        exit,
        stdout: out,
        stderr: err,
        truncated: out_cut || err_cut,
        duration,
        pgid,
    })
}

/// Kills the agent's whole group when a run is dropped before its agent ends (the caller
/// cancelled the action): `kill_on_drop` alone reaches only the group's leader.
struct GroupGuard {
    pgid: i32,
    armed: bool,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pid) = Pid::from_raw(self.pgid).filter(|_| self.armed) {
            let _ = kill_process_group(pid, Signal::KILL);
        }
    }
}

/// SIGTERM to the group; SIGKILL once `grace` has passed and any of it is still there.
async fn terminate_group(pgid: i32, child: &mut tokio::process::Child, grace: Duration) {
    let Some(pid) = Pid::from_raw(pgid) else {
        return;
    };
    // The group may already be gone (ESRCH): nothing to do then.
    let _ = kill_process_group(pid, Signal::TERM);
    let deadline = Instant::now() + grace;
    let mut reaped = false;
    while Instant::now() < deadline {
        if !reaped {
            reaped = matches!(child.try_wait(), Ok(Some(_)));
        }
        if reaped && !group_exists(pgid) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = kill_process_group(pid, Signal::KILL);
    let _ = child.wait().await;
}

/// Whether any process of group `pgid` is still there (zombies not yet reaped count).
pub fn group_exists(pgid: i32) -> bool {
    Pid::from_raw(pgid).is_some_and(|pid| test_kill_process_group(pid).is_ok())
}

/// One output pipe read into a bounded buffer by its own task.
struct Capture {
    kept: Arc<Mutex<(Vec<u8>, bool)>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Capture {
    fn start(pipe: Option<impl AsyncRead + Unpin + Send + 'static>, limit: usize) -> Self {
        let kept = Arc::new(Mutex::new((Vec::new(), false)));
        let task = pipe.map(|mut pipe| {
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut chunk = [0u8; 8192];
                // Read to the end (an agent blocked on a full pipe would never finish), keep
                // the first `limit` bytes.
                while let Ok(n @ 1..) = pipe.read(&mut chunk).await {
                    if let Ok(mut kept) = kept.lock() {
                        let room = limit.saturating_sub(kept.0.len());
                        kept.0.extend_from_slice(&chunk[..n.min(room)]);
                        kept.1 |= n > room;
                    }
                }
            })
        });
        Self { kept, task }
    }

    async fn finish(mut self) -> (String, bool) {
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(DRAIN, task).await.is_err() {
                abort.abort();
            }
        }
        let kept = self.kept.lock().map(|k| k.clone()).unwrap_or_default();
        (String::from_utf8_lossy(&kept.0).into_owned(), kept.1)
    }
}

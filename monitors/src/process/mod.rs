//! The processmonitor: keeps the processes of `process_list.yaml` running, restarting a missing
//! one up to `restart_retries` more times, and reports PROCESS STOPPED when that fails and
//! PROCESS STARTED when it runs again.
//!
//! Differences from masakari-monitors, on purpose: a restart that succeeds on the last attempt
//! is not reported; a restart succeeds only when the process is seen running again; output on
//! stderr is not a failure (output is discarded); a bad reload keeps the previous list instead of stopping; STARTED
//! is reported.

mod list;
mod table;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::clock::Clock;
use lifeboat_core::model::HostEvent;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

pub use list::{
    ProcessEntry, ProcessListError, load as load_process_list, parse as parse_process_list,
};
pub use table::{ProcFs, ProcessInfo, ProcessTable, is_running};

use crate::delivery::{Outbox, Report};

/// Longest time one command may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Processmonitor settings (`[process]`).
#[derive(Debug, Clone)]
pub struct ProcessMonitorSettings {
    /// This node's name.
    pub hostname: String,
    /// The process list file.
    pub process_list_path: PathBuf,
    /// Between two looks at the table.
    pub check_interval: Duration,
    /// Restart attempts after the first.
    pub restart_retries: u32,
    /// Between two attempts, and how long a restarted process has to appear.
    pub restart_interval: Duration,
}

/// What the monitor knows of one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    Running,
    /// Reported STOPPED; not restarted again until it runs.
    Reported,
}

/// The processmonitor.
#[derive(Debug)]
pub struct ProcessMonitor {
    settings: ProcessMonitorSettings,
    table: Arc<dyn ProcessTable>,
    outbox: Arc<Outbox>,
    clock: Arc<dyn Clock>,
    known: HashMap<String, Known>,
    list: Vec<ProcessEntry>,
}

/// The command line that runs `argv`. A `run_as_root` command of an agent that is not root goes
/// through `sudo -n` (never prompting: a missing sudoers rule fails the command at once, and is
/// logged); otherwise the command runs as the agent's own user, as masakari-monitors' privsep
/// runs a command without the flag.
fn command_line(argv: &[String], run_as_root: bool, euid: Option<u32>) -> Vec<String> {
    if argv.is_empty() || !run_as_root || euid == Some(0) {
        return argv.to_vec();
    }
    ["sudo", "-n", "--"]
        .into_iter()
        .map(str::to_owned)
        .chain(argv.iter().cloned())
        .collect()
}

/// This process's effective user id, from `/proc/self/status`.
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Runs one command of `entry` (whitespace-split, no shell); true on exit status 0. Output goes
/// nowhere: a daemon the command forks would keep a pipe open for as long as it runs.
async fn run_command(entry: &ProcessEntry, argv: &[String], what: &str) -> bool {
    let process = entry.process_name.as_str();
    let argv = command_line(argv, entry.run_as_root, effective_uid());
    let Some((program, args)) = argv.split_first() else {
        return true;
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let status = match tokio::time::timeout(COMMAND_TIMEOUT, command.status()).await {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => {
            tracing::warn!(process.name = process, command = %argv.join(" "), error = %e, "{what} of {process} could not run");
            return false;
        }
        Err(_) => {
            tracing::warn!(process.name = process, command = %argv.join(" "), "{what} of {process} timed out");
            return false;
        }
    };
    if !status.success() {
        tracing::warn!(process.name = process, command = %argv.join(" "), status = %status, "{what} of {process} failed");
    }
    status.success()
}

impl ProcessMonitor {
    /// A monitor over `table`, reporting through `outbox`. The list is read by [`Self::run`].
    pub fn new(
        settings: ProcessMonitorSettings,
        table: Arc<dyn ProcessTable>,
        outbox: Arc<Outbox>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            settings,
            table,
            outbox,
            clock,
            known: HashMap::new(),
            list: Vec::new(),
        }
    }

    fn running(&self, name: &str) -> bool {
        is_running(&self.table.snapshot(), name, std::process::id())
    }

    /// Reloads the list; a bad file keeps the previous one (masakari-monitors stops).
    fn reload(&mut self) -> Result<(), ProcessListError> {
        match load_process_list(&self.settings.process_list_path) {
            Ok(list) => {
                if list != self.list {
                    tracing::info!(processes = list.len(), "process list loaded");
                }
                self.known
                    .retain(|name, _| list.iter().any(|e| &e.process_name == name));
                self.list = list;
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, "the process list could not be read; the previous one stays in force");
                Err(e)
            }
        }
    }

    /// Starts what is not running, then checks every `check_interval` until `cancel`.
    pub async fn run(mut self, cancel: CancellationToken) -> Result<(), ProcessListError> {
        // A list that cannot be read at start is an error worth stopping for.
        self.reload()?;
        for entry in self.list.clone() {
            if self.running(&entry.process_name) {
                continue;
            }
            if !run_command(&entry, &entry.pre_start_command, "pre_start_command").await {
                continue;
            }
            if run_command(&entry, &entry.start_command, "start_command").await {
                run_command(&entry, &entry.post_start_command, "post_start_command").await;
            }
        }
        loop {
            tokio::select! {
                () = tokio::time::sleep(self.settings.check_interval) => {}
                () = cancel.cancelled() => return Ok(()),
            }
            let _ = self.reload();
            self.check_once(&cancel).await;
        }
    }

    /// One look at every process (one read of the process table for all of them).
    pub async fn check_once(&mut self, cancel: &CancellationToken) {
        let table = self.table.snapshot();
        let me = std::process::id();
        for entry in self.list.clone() {
            if cancel.is_cancelled() {
                return;
            }
            let name = entry.process_name.clone();
            let known = self.known.get(&name).copied();
            if is_running(&table, &name, me) {
                if known == Some(Known::Reported) {
                    tracing::info!(process.name = %name, "process {name} runs again");
                    self.report(&name, HostEvent::Started).await;
                }
                self.known.insert(name, Known::Running);
                continue;
            }
            if known == Some(Known::Reported) {
                continue;
            }
            tracing::warn!(process.name = %name, "process {name} is not running; restarting it");
            if self.restart(&entry, cancel).await {
                self.known.insert(name, Known::Running);
            } else {
                tracing::error!(process.name = %name, attempts = self.settings.restart_retries + 1, "process {name} could not be restarted");
                self.report(&name, HostEvent::Stopped).await;
                self.known.insert(name, Known::Reported);
            }
        }
    }

    /// Up to `restart_retries + 1` attempts; true as soon as one brings the process back.
    async fn restart(&self, entry: &ProcessEntry, cancel: &CancellationToken) -> bool {
        let name = &entry.process_name;
        let attempts = self.settings.restart_retries + 1;
        for attempt in 1..=attempts {
            let ok = run_command(entry, &entry.pre_restart_command, "pre_restart_command").await
                && run_command(entry, &entry.restart_command, "restart_command").await
                && run_command(entry, &entry.post_restart_command, "post_restart_command").await;
            if ok && self.appears(name).await {
                tracing::info!(process.name = %name, attempt, "process {name} restarted");
                return true;
            }
            tracing::warn!(process.name = %name, attempt, attempts, "restart attempt of {name} failed");
            if attempt < attempts {
                tokio::select! {
                    () = tokio::time::sleep(self.settings.restart_interval) => {}
                    () = cancel.cancelled() => return false,
                }
            }
        }
        false
    }

    /// Whether `name` shows up within `restart_interval` (daemons fork after their command
    /// returns).
    async fn appears(&self, name: &str) -> bool {
        let deadline = tokio::time::Instant::now() + self.settings.restart_interval;
        loop {
            if self.running(name) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn report(&self, name: &str, event: HostEvent) {
        let report = Report::process(&self.settings.hostname, event, name, self.clock.now());
        // A full outbox is logged by the outbox itself.
        let _ = self.outbox.push(&report).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn run_as_root_commands_of_an_unprivileged_agent_go_through_sudo_without_a_prompt() {
        let restart = argv("systemctl restart nova-compute");
        assert_eq!(
            command_line(&restart, true, Some(1000)),
            argv("sudo -n -- systemctl restart nova-compute")
        );
        assert_eq!(
            command_line(&restart, true, None),
            argv("sudo -n -- systemctl restart nova-compute")
        );
        assert_eq!(command_line(&restart, true, Some(0)), restart);
        assert_eq!(command_line(&restart, false, Some(1000)), restart);
        assert!(command_line(&[], true, Some(1000)).is_empty());
    }

    #[test]
    fn the_effective_uid_is_read() {
        use std::os::unix::fs::MetadataExt as _;
        // The kernel gives /proc/self to the effective user.
        let owner = std::fs::metadata("/proc/self").unwrap().uid();
        assert_eq!(effective_uid(), Some(owner));
    }
}

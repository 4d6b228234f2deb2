//! The process table, read from `/proc` (masakari-monitors runs `ps -ef` once per process
//! per cycle and searches its text).

use std::path::{Path, PathBuf};

/// One process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Process id.
    pub pid: u32,
    /// Command line, arguments joined by spaces (as `ps` shows it).
    pub cmdline: String,
}

/// A source of the running processes.
pub trait ProcessTable: Send + Sync + std::fmt::Debug {
    /// The processes running now (zombies excluded: a killed, unreaped process is not running).
    fn snapshot(&self) -> Vec<ProcessInfo>;
}

/// Whether `process_name` appears in a running process's command line (masakari-monitors'
/// substring rule), ignoring `ignore_pid` (this agent).
pub fn is_running(table: &[ProcessInfo], process_name: &str, ignore_pid: u32) -> bool {
    table
        .iter()
        .any(|p| p.pid != ignore_pid && p.cmdline.contains(process_name))
}

/// The `/proc` file system.
#[derive(Debug, Clone)]
pub struct ProcFs {
    root: PathBuf,
}

impl Default for ProcFs {
    fn default() -> Self {
        Self {
            root: PathBuf::from("/proc"),
        }
    }
}

fn is_zombie(dir: &Path) -> bool {
    // `/proc/<pid>/stat`: "pid (comm) S …"; comm may contain spaces and parentheses.
    std::fs::read_to_string(dir.join("stat"))
        .ok()
        .and_then(|s| {
            s.rfind(')').and_then(|i| {
                s[i + 1..]
                    .split_whitespace()
                    .next()
                    .map(|st| st == "Z" || st == "X")
            })
        })
        .unwrap_or(true)
}

impl ProcessTable for ProcFs {
    fn snapshot(&self) -> Vec<ProcessInfo> {
        let Ok(dir) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        dir.filter_map(|e| {
            let entry = e.ok()?;
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let raw = std::fs::read(entry.path().join("cmdline")).ok()?;
            if raw.is_empty() || is_zombie(&entry.path()) {
                return None;
            }
            let cmdline = raw
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ");
            Some(ProcessInfo { pid, cmdline })
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proc_table_sees_this_test_and_a_child_but_not_a_zombie() {
        let table = ProcFs::default().snapshot();
        let me = std::process::id();
        assert!(table.iter().any(|p| p.pid == me), "own pid missing");
        let mut child = std::process::Command::new("sleep")
            .arg("30.5")
            .spawn()
            .unwrap();
        assert!(is_running(&ProcFs::default().snapshot(), "sleep 30.5", me));
        child.kill().unwrap();
        // Killed but not yet reaped: a zombie, which does not count as running.
        for _ in 0..1000 {
            if !is_running(&ProcFs::default().snapshot(), "sleep 30.5", me) {
                break;
            }
            std::thread::yield_now();
        }
        assert!(!is_running(&ProcFs::default().snapshot(), "sleep 30.5", me));
        child.wait().unwrap();
    }
}

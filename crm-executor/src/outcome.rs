//! What an action came to: the agent's answer mapped to the OCF return codes (as Pacemaker's
//! executor maps OCF and LSB exits), and whether the agent ran to its end at all.

use std::time::Duration;

use crate::Action;

/// The OCF return codes (OCF 1.1; Pacemaker's names in the docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OcfRc {
    /// 0 `OCF_SUCCESS`.
    Ok,
    /// 1 `OCF_ERR_GENERIC`.
    Generic,
    /// 2 `OCF_ERR_ARGS`.
    Args,
    /// 3 `OCF_ERR_UNIMPLEMENTED`.
    Unimplemented,
    /// 4 `OCF_ERR_PERM`.
    Perm,
    /// 5 `OCF_ERR_INSTALLED`.
    NotInstalled,
    /// 6 `OCF_ERR_CONFIGURED`.
    NotConfigured,
    /// 7 `OCF_NOT_RUNNING`.
    NotRunning,
    /// 8 `OCF_RUNNING_PROMOTED`.
    RunningPromoted,
    /// 9 `OCF_FAILED_PROMOTED`.
    FailedPromoted,
    /// 190 `OCF_DEGRADED`.
    Degraded,
    /// 191 `OCF_DEGRADED_PROMOTED`.
    DegradedPromoted,
}

impl OcfRc {
    /// The number an agent exits with.
    pub fn code(self) -> i32 {
        match self {
            Self::Ok => 0,
            Self::Generic => 1,
            Self::Args => 2,
            Self::Unimplemented => 3,
            Self::Perm => 4,
            Self::NotInstalled => 5,
            Self::NotConfigured => 6,
            Self::NotRunning => 7,
            Self::RunningPromoted => 8,
            Self::FailedPromoted => 9,
            Self::Degraded => 190,
            Self::DegradedPromoted => 191,
        }
    }

    /// An OCF agent's exit status: 0–9, 190 and 191 as they are, anything else a generic
    /// error (Pacemaker's `services__ocf2ocf`).
    pub fn from_ocf_exit(code: i32) -> Self {
        match code {
            0 => Self::Ok,
            2 => Self::Args,
            3 => Self::Unimplemented,
            4 => Self::Perm,
            5 => Self::NotInstalled,
            6 => Self::NotConfigured,
            7 => Self::NotRunning,
            8 => Self::RunningPromoted,
            9 => Self::FailedPromoted,
            190 => Self::Degraded,
            191 => Self::DegradedPromoted,
            _ => Self::Generic,
        }
    }

    /// An LSB init script's exit status (Pacemaker's `services__lsb2ocf`): `status` (what a
    /// monitor runs) has its own codes, 0 running, 1–3 not running (1 and 2: stale pid or
    /// lock file), 150 not installed, 151 insufficient privileges, anything else a generic
    /// error; every other action shares codes 0–7 with OCF, and higher ones are generic.
    pub fn from_lsb_exit(action: Action, code: i32) -> Self {
        if action != Action::Monitor {
            return if (0..=7).contains(&code) {
                Self::from_ocf_exit(code)
            } else {
                Self::Generic
            };
        }
        match code {
            0 => Self::Ok,
            1..=3 => Self::NotRunning,
            150 => Self::NotInstalled,
            151 => Self::Perm,
            _ => Self::Generic,
        }
    }
}

/// Whether the agent ran to its end: the executor's op-status, apart from the rc.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpStatus {
    /// It ran and exited; the rc is its answer.
    Done,
    /// It ran past its timeout and its process group was killed.
    Timeout,
    /// The agent (script, init script) is not there or cannot be executed as a program.
    NotInstalled,
    /// It could not be started, or a signal ended it.
    Error,
}

/// The outcome of one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpResult {
    /// The OCF rc (for a timeout: generic error; for a missing agent: not installed).
    pub rc: OcfRc,
    /// Whether the agent ran to its end.
    pub status: OpStatus,
    /// The agent's exit code as it was (None when it did not exit by itself).
    pub exit_code: Option<i32>,
    /// The last `ocf-exit-reason:` line on stderr (OCF agents), or the executor's reason.
    pub exit_reason: Option<String>,
    /// What it printed on stdout, at most the executor's output limit.
    pub stdout: String,
    /// What it printed on stderr, likewise.
    pub stderr: String,
    /// Whether output beyond the limit was dropped.
    pub truncated: bool,
    /// How long it ran.
    pub duration: Duration,
    /// The timeout it ran under.
    pub timeout: Duration,
}

impl OpResult {
    /// Whether the agent ran to its end and answered 0.
    pub fn succeeded(&self) -> bool {
        self.status == OpStatus::Done && self.rc == OcfRc::Ok
    }
}

/// Pacemaker's prefix for an exit reason on an OCF agent's stderr.
pub const EXIT_REASON_PREFIX: &str = "ocf-exit-reason:";

/// The last exit reason an agent printed (up to the end of its line, at most 128 characters,
/// as Pacemaker keeps it).
pub fn exit_reason(stderr: &str) -> Option<String> {
    let (_, after) = stderr.rsplit_once(EXIT_REASON_PREFIX)?;
    let line = after.lines().next().unwrap_or_default();
    let reason: String = line.chars().take(128).collect();
    (!reason.is_empty()).then_some(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ocf_exits_map_as_pacemaker_maps_them() {
        for code in (0..=9).chain([190, 191]) {
            assert_eq!(OcfRc::from_ocf_exit(code).code(), code);
        }
        for odd in [-1, 10, 99, 189, 192, 255] {
            assert_eq!(OcfRc::from_ocf_exit(odd), OcfRc::Generic, "exit {odd}");
        }
    }

    #[test]
    fn lsb_status_codes_have_their_own_meaning() {
        let m = Action::Monitor;
        assert_eq!(OcfRc::from_lsb_exit(m, 0), OcfRc::Ok);
        for stopped in [1, 2, 3] {
            assert_eq!(OcfRc::from_lsb_exit(m, stopped), OcfRc::NotRunning);
        }
        assert_eq!(OcfRc::from_lsb_exit(m, 4), OcfRc::Generic);
        assert_eq!(OcfRc::from_lsb_exit(m, 7), OcfRc::Generic);
        assert_eq!(OcfRc::from_lsb_exit(m, 150), OcfRc::NotInstalled);
        assert_eq!(OcfRc::from_lsb_exit(m, 151), OcfRc::Perm);
        // Other actions share OCF's codes up to 7.
        assert_eq!(OcfRc::from_lsb_exit(Action::Start, 5), OcfRc::NotInstalled);
        assert_eq!(OcfRc::from_lsb_exit(Action::Stop, 7), OcfRc::NotRunning);
        assert_eq!(OcfRc::from_lsb_exit(Action::Start, 8), OcfRc::Generic);
        assert_eq!(OcfRc::from_lsb_exit(Action::Start, 150), OcfRc::Generic);
    }

    #[test]
    fn the_last_exit_reason_is_kept_and_bounded() {
        let stderr = "noise\nocf-exit-reason:first\nmore\nocf-exit-reason:state file gone\n";
        assert_eq!(exit_reason(stderr).as_deref(), Some("state file gone"));
        assert_eq!(exit_reason("nothing here\n"), None);
        assert_eq!(exit_reason("ocf-exit-reason:\n"), None);
        let long = format!("ocf-exit-reason:{}", "x".repeat(300));
        assert_eq!(exit_reason(&long).map(|r| r.len()), Some(128));
    }
}

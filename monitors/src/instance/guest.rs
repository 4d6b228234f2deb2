//! The guest-agent heartbeat's per-domain judgement (masakari's introspectiveinstancemonitor,
//! in effect, without its quirks): pure, driven by ping outcomes and lifecycle resets.
//!
//! * A guest that has never answered since it (re)started is not judged. A domain without a
//!   working agent (agent not installed, or still booting) must not be reported: it would be
//!   restarted again and again by the engine, for a guest that was never going to answer.
//! * Once it has answered, the `threshold`-th consecutive failed ping reports it (masakari
//!   reports at threshold + 2 through an off-by-one). With pings every `interval`, that is
//!   between `(threshold - 1) × interval` and `threshold × interval` (plus the ping timeout)
//!   after the guest stopped answering: 20–30 s with the defaults.
//! * One report per failure episode; an answer after the report ends the episode (the next
//!   failure is reported again), as does a restart or reboot, after which the guest must
//!   answer again before it is judged.

use std::time::Duration;

use tokio::time::Instant;

/// What one ping showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ping {
    /// The agent answered.
    Answered,
    /// It did not (libvirt's "guest agent is not connected", a timeout, an agent error).
    Failed,
}

/// Where a domain stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not answered since the monitor saw it start: not judged.
    Unproven,
    /// Answered last time.
    Healthy,
    /// `failures` consecutive failed pings since `since` (the first of them), not reported yet.
    Failing {
        /// Consecutive failures.
        failures: u32,
        /// When the first of them was seen.
        since: Instant,
    },
    /// Reported; silent since `since`.
    Reported {
        /// When the first failure of the episode was seen.
        since: Instant,
    },
}

/// What to do after a ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing to tell.
    Nothing,
    /// Report the guest (`QEMU_GUEST_AGENT_ERROR`); it has been silent for the duration.
    Report(Duration),
    /// The agent answers again after a report (logged; a new episode can be reported).
    Recovered,
    /// The agent answered for the first time (logged: the domain is now protected).
    Proven,
}

/// One domain's heartbeat judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestHealth {
    /// Where it stands.
    pub phase: Phase,
}

impl Default for GuestHealth {
    fn default() -> Self {
        Self {
            phase: Phase::Unproven,
        }
    }
}

impl GuestHealth {
    /// Takes one ping's outcome at `now`; `threshold` (at least 1) consecutive failures report.
    pub fn observe(&mut self, ping: Ping, threshold: u32, now: Instant) -> Decision {
        let threshold = threshold.max(1);
        let (phase, decision) = match (self.phase, ping) {
            (Phase::Unproven, Ping::Answered) => (Phase::Healthy, Decision::Proven),
            (Phase::Unproven, Ping::Failed) => (Phase::Unproven, Decision::Nothing),
            (Phase::Reported { .. }, Ping::Answered) => (Phase::Healthy, Decision::Recovered),
            (_, Ping::Answered) => (Phase::Healthy, Decision::Nothing),
            (Phase::Healthy, Ping::Failed) => Self::failed(1, now, threshold, now),
            (Phase::Failing { failures, since }, Ping::Failed) => {
                Self::failed(failures.saturating_add(1), since, threshold, now)
            }
            (Phase::Reported { since }, Ping::Failed) => {
                (Phase::Reported { since }, Decision::Nothing)
            }
        };
        self.phase = phase;
        decision
    }

    fn failed(failures: u32, since: Instant, threshold: u32, now: Instant) -> (Phase, Decision) {
        if failures >= threshold {
            (
                Phase::Reported { since },
                Decision::Report(now.saturating_duration_since(since)),
            )
        } else {
            (Phase::Failing { failures, since }, Decision::Nothing)
        }
    }

    /// The domain started or rebooted: its agent must answer again before it is judged.
    pub fn reset(&mut self) {
        self.phase = Phase::Unproven;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(10);

    fn run(h: &mut GuestHealth, pings: &[Ping], threshold: u32, t0: Instant) -> Vec<Decision> {
        pings
            .iter()
            .enumerate()
            .map(|(i, p)| h.observe(*p, threshold, t0 + S * u32::try_from(i).unwrap()))
            .collect()
    }

    use Decision::{Nothing, Proven, Recovered, Report};
    use Ping::{Answered as Ok_, Failed as F};

    #[tokio::test(start_paused = true)]
    async fn a_guest_that_never_answered_is_never_reported() {
        let mut h = GuestHealth::default();
        let d = run(&mut h, &[F; 50], 3, Instant::now());
        assert!(d.iter().all(|d| *d == Nothing), "{d:?}");
        assert_eq!(h.phase, Phase::Unproven);
    }

    #[tokio::test(start_paused = true)]
    async fn the_threshold_th_consecutive_failure_reports_once() {
        let mut h = GuestHealth::default();
        let d = run(&mut h, &[Ok_, F, F, F, F, F], 3, Instant::now());
        // Failures at t=10, 20, 30: reported at the third, 20 s after the first.
        assert_eq!(
            d,
            vec![Proven, Nothing, Nothing, Report(S * 2), Nothing, Nothing]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_between_failures_restarts_the_count() {
        let mut h = GuestHealth::default();
        let d = run(
            &mut h,
            &[Ok_, F, F, Ok_, F, F, Ok_, F, F, F],
            3,
            Instant::now(),
        );
        assert_eq!(d.iter().filter(|d| matches!(d, Report(_))).count(), 1);
        assert!(matches!(d[9], Report(_)), "{d:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_after_the_report_ends_the_episode_and_the_next_one_is_reported() {
        let mut h = GuestHealth::default();
        let d = run(&mut h, &[Ok_, F, F, Ok_, F, F], 2, Instant::now());
        assert_eq!(
            d,
            vec![Proven, Nothing, Report(S), Recovered, Nothing, Report(S)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_restart_makes_the_guest_unproven_again() {
        let t0 = Instant::now();
        let mut h = GuestHealth::default();
        run(&mut h, &[Ok_, F], 3, t0);
        h.reset();
        // A booting guest's agent is silent: not judged until it answers again.
        assert!(run(&mut h, &[F; 5], 3, t0).iter().all(|d| *d == Nothing));
        h.reset();
        let d = run(&mut h, &[Ok_, F, F, F], 3, t0);
        assert!(matches!(d[3], Report(_)), "{d:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_threshold_of_one_reports_the_first_failure() {
        let mut h = GuestHealth::default();
        let d = run(&mut h, &[Ok_, F], 1, Instant::now());
        assert_eq!(d, vec![Proven, Report(Duration::ZERO)]);
        let mut h = GuestHealth::default();
        let d = run(&mut h, &[Ok_, F], 0, Instant::now());
        assert_eq!(d, vec![Proven, Report(Duration::ZERO)]);
    }
}

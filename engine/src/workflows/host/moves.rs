//! Moving instances: a batch with bounded parallelism, one move (evacuate, then wait until it
//! settles), and recording how each ended.

use std::collections::HashMap;
use std::sync::Arc;

use lifeboat_core::compute::{Compute, ComputeError, Server, VmState};
use lifeboat_core::model::{VMove, VMoveStatus};
use lifeboat_core::store::VMoveUpdate;
use tokio::sync::Semaphore;

use super::super::Ctx;
use super::super::evacuation_watch::{Cue, EvacuationWatch, Waiter};
use crate::decisions::{self, Evacuation, MigrationEnd};
use crate::wait::{self, Look, WaitError};

/// A moving instance is read every this many `verify_interval`s even while the evacuation
/// watch says nothing, so progress never rests on the migration listing alone.
const FALLBACK_LOOKS: u32 = 5;

/// Where one instance is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Destination {
    /// Wherever Nova's scheduler puts it.
    Scheduler,
    /// This host.
    Host(String),
    /// No host of the segment has room for it: it is not evacuated.
    NoRoom,
}

/// Why one instance was not moved, and whether another attempt of the recovery may move it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NotMoved {
    pub(super) why: String,
    pub(super) retryable: bool,
}

impl NotMoved {
    pub(super) fn new(why: impl Into<String>, retryable: bool) -> Self {
        Self {
            why: why.into(),
            retryable,
        }
    }

    pub(super) fn retryable(why: impl Into<String>) -> Self {
        Self::new(why, true)
    }

    /// A failed Nova call, retryable if Nova may answer otherwise later.
    fn nova(e: &ComputeError) -> Self {
        Self::new(e.to_string(), e.is_retryable())
    }
}

/// The result of moving one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Moved {
    To(String),
    Gone,
    Failed(NotMoved),
}

/// Evacuates `moves` (each to its target) with bounded parallelism; returns the ones that
/// failed. `servers` holds the instances as they were before
/// this recovery touched them (an earlier failed try may have left one in error).
pub(super) async fn evacuate_batch(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
    watch: &EvacuationWatch,
    moves: Vec<VMove>,
    targets: Vec<Destination>,
    servers: &HashMap<String, Server>,
) -> Vec<(VMove, NotMoved)> {
    let permits = Arc::new(Semaphore::new(ctx.policy.host.parallelism.max(1)));
    let jobs = moves.into_iter().zip(targets).map(|(m, target)| {
        let permits = permits.clone();
        async move {
            let _permit = permits.acquire_owned().await;
            let target = match &target {
                // Room may free up (or hosts come back) before the next attempt.
                Destination::NoRoom => None,
                Destination::Scheduler => Some(None),
                Destination::Host(host) => Some(Some(host.as_str())),
            };
            let result = match target {
                None => Moved::Failed(NotMoved::retryable(format!(
                    "no host of segment {} has room for it",
                    ctx.host.failover_segment.name
                ))),
                Some(target) => {
                    let original = servers.get(&m.instance_uuid).map(|s| &s.vm_state);
                    move_one(ctx, nova, watch, &m, target, original).await
                }
            };
            // Recorded as each move ends, so progress shows while the others still run.
            record_move(ctx, &m, result).await.map(|why| (m, why))
        }
    });
    futures::future::join_all(jobs)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Records how a move ended; returns the failure, if it failed.
async fn record_move(ctx: &Ctx<'_>, m: &VMove, result: Moved) -> Option<NotMoved> {
    ctx.deps.metrics.instance_moved(match &result {
        Moved::To(_) => "evacuated",
        Moved::Gone => "gone",
        Moved::Failed(_) => "failed",
    });
    let (update, failure) = ended(result, ctx.now());
    if let Err(e) = ctx.deps.store.update_vmove(m.uuid, update, ctx.now()).await {
        tracing::warn!(vmove.id = %m.uuid, error = %e, "recording a vmove failed");
    }
    failure
}

/// What the vmove records for how a move ended, and the failure, if it failed.
fn ended(result: Moved, now: chrono::DateTime<chrono::Utc>) -> (VMoveUpdate, Option<NotMoved>) {
    match result {
        Moved::To(host) => (
            VMoveUpdate {
                status: Some(VMoveStatus::Succeeded),
                dest_host: Some(Some(host)),
                end_time: Some(Some(now)),
                message: Some(None),
                ..VMoveUpdate::default()
            },
            None,
        ),
        Moved::Gone => (
            VMoveUpdate {
                status: Some(VMoveStatus::Ignored),
                end_time: Some(Some(now)),
                message: Some(Some("The instance no longer exists.".into())),
                ..VMoveUpdate::default()
            },
            None,
        ),
        Moved::Failed(failure) => (
            VMoveUpdate {
                status: Some(VMoveStatus::Failed),
                end_time: Some(Some(now)),
                message: Some(Some(format!("Failed reason: {}", failure.why))),
                ..VMoveUpdate::default()
            },
            Some(failure),
        ),
    }
}

/// Moves one instance off the failed host and waits until it is settled elsewhere. Safe to run
/// again after an engine restart: an instance already on another host, or already rebuilding,
/// is only waited for, never evacuated a second time.
async fn move_one(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
    watch: &EvacuationWatch,
    m: &VMove,
    target: Option<&str>,
    known_state: Option<&VmState>,
) -> Moved {
    let id = &m.instance_uuid;
    let source = ctx.host.name.as_str();
    let p = &ctx.policy.host;
    // A failed read is Nova (or the network) blinking, not the instance failing: look again
    // until the deadline, and say what went wrong if it passes.
    let last_error = std::sync::Mutex::new(None::<String>);
    let first = wait::until(p.instance_timeout, p.verify_interval, || async {
        Ok::<_, ComputeError>(match look_at(nova, id, &last_error).await? {
            Some(s) => Look::Done(s),
            None => Look::Pending,
        })
    })
    .await;
    let server = match first {
        Ok(s) => s,
        Err(WaitError::Look(e)) if e.is_not_found() => return Moved::Gone,
        Err(e) => return Moved::Failed(failure(e, &last_error)),
    };
    let moved_already = server.host.as_deref().is_some_and(|h| h != source);
    let rebuilding = decisions::evacuation_under_way(&server);
    let original =
        (!moved_already && !rebuilding).then(|| known_state.unwrap_or(&server.vm_state).clone());
    if !moved_already && !rebuilding {
        if decisions::needs_reset(&server)
            && let Err(e) = nova.reset_state(id, VmState::Error).await
        {
            return Moved::Failed(NotMoved::nova(&e));
        }
        let started = VMoveUpdate {
            status: Some(VMoveStatus::Ongoing),
            start_time: Some(Some(ctx.now())),
            ..VMoveUpdate::default()
        };
        if let Err(e) = ctx
            .deps
            .store
            .update_vmove(m.uuid, started, ctx.now())
            .await
        {
            return Moved::Failed(NotMoved::retryable(format!(
                "recording the start of the move failed: {e}"
            )));
        }
        tracing::info!(instance.uuid = %id, host.name = source, target = target.unwrap_or("(scheduler)"), "evacuating");
        if let Err(e) = nova.evacuate(id, target).await {
            return Moved::Failed(NotMoved::nova(&e));
        }
    }
    let expect = original.clone().unwrap_or(VmState::Active);
    let judge = |s: &Server, ended: Option<&MigrationEnd>| match decisions::evacuation_verdict(
        s, source, &expect, ended,
    ) {
        Evacuation::Done { host } => Look::Done(host),
        Evacuation::Failed(why) => Look::Failed(why),
        // Resumed without knowing the original state: a settled stopped instance is done too.
        Evacuation::Moving
            if original.is_none()
                && s.task_state.is_none()
                && s.vm_state == VmState::Stopped
                && s.host.as_deref().is_some_and(|h| h != source) =>
        {
            Look::Done(s.host.clone().unwrap_or_default())
        }
        Evacuation::Moving => Look::Pending,
    };
    // Already moving or moved (a resumed recovery): what was just read may say it is done.
    let read = (moved_already || rebuilding).then_some(&server);
    let settled = settle(nova, watch.waiter(id), read, p, &last_error, judge).await;
    match settled {
        Ok(host) => {
            if original == Some(VmState::Error) {
                // Nova boots an evacuated error-state instance; Masakari puts it back in error so
                // the operator still sees it needs attention.
                let _ = nova.reset_state(id, VmState::Error).await;
            }
            Moved::To(host)
        }
        Err(e) => Moved::Failed(failure(e, &last_error)),
    }
}

/// Waits for an evacuated instance to settle, until `instance_timeout`: reads the server when
/// the watch says its migration ended, and every [`FALLBACK_LOOKS`] `verify_interval`s anyway.
/// Once the listing does not answer, or told its end but the server is not settled yet (the
/// conductor closes a failed migration before it puts the server back), reads it as often as
/// it always did.
/// `read`: the server as just read, if it was already moving or moved.
async fn settle(
    nova: &Arc<dyn Compute>,
    mut waiter: Waiter,
    read: Option<&Server>,
    p: &crate::policy::HostPolicy,
    last_error: &std::sync::Mutex<Option<String>>,
    judge: impl Fn(&Server, Option<&MigrationEnd>) -> Look<String>,
) -> Result<String, WaitError<ComputeError>> {
    match read.map(|s| judge(s, None)) {
        Some(Look::Done(host)) => return Ok(host),
        Some(Look::Failed(why)) => return Err(WaitError::Failed(why)),
        Some(Look::Pending) | None => {}
    }
    let id = waiter.instance().to_owned();
    let started = tokio::time::Instant::now();
    let mut pause = wait::first_pause(p.verify_interval);
    let mut ended: Option<MigrationEnd> = None;
    loop {
        let elapsed = started.elapsed();
        if elapsed >= p.instance_timeout {
            return Err(WaitError::Timeout(p.instance_timeout));
        }
        let polling = ended.is_some() || !waiter.listing();
        let wait = if polling {
            let now = pause;
            pause = wait::next_pause(pause, p.verify_interval);
            now
        } else {
            p.verify_interval * FALLBACK_LOOKS
        };
        if let Cue::Ended(end) = waiter.cue(wait.min(p.instance_timeout - elapsed)).await {
            ended = Some(end);
        }
        let Some(s) = look_at(nova, &id, last_error)
            .await
            .map_err(WaitError::Look)?
        else {
            continue;
        };
        match judge(&s, ended.as_ref()) {
            Look::Done(host) => return Ok(host),
            Look::Failed(why) => return Err(WaitError::Failed(why)),
            Look::Pending => {}
        }
    }
}

/// Reads a server; a failure worth retrying is logged, kept in `last_error` and reads as `None`.
async fn look_at(
    nova: &Arc<dyn Compute>,
    id: &str,
    last_error: &std::sync::Mutex<Option<String>>,
) -> Result<Option<Server>, ComputeError> {
    match nova.get_server(id).await {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.is_retryable() => {
            tracing::warn!(instance.uuid = %id, error = %e, "reading the server failed; looking again");
            *last_error
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e.to_string());
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Why waiting for an instance failed, with the last Nova error when it timed out. Only a read
/// Nova refused is not worth another attempt: a deadline may be met, and a failed rebuild may
/// succeed, next time.
fn failure(e: WaitError<ComputeError>, last_error: &std::sync::Mutex<Option<String>>) -> NotMoved {
    let last = last_error
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    match (e, last) {
        (WaitError::Timeout(after), Some(last)) => {
            NotMoved::retryable(format!("timeout after {after:?}; last error: {last}"))
        }
        (WaitError::Look(e), _) => NotMoved::nova(&e),
        (e, _) => NotMoved::retryable(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn refused(status: u16) -> ComputeError {
        ComputeError::Refused {
            action: "evacuating server s1".into(),
            status,
            message: "no".into(),
        }
    }

    #[test]
    fn how_a_move_ended_is_what_its_vmove_records() {
        let now = chrono::DateTime::UNIX_EPOCH;
        let why = NotMoved::retryable("timed out");
        let table = [
            (
                Moved::To("h2".into()),
                VMoveStatus::Succeeded,
                Some("h2"),
                None,
            ),
            (
                Moved::Gone,
                VMoveStatus::Ignored,
                None,
                Some("The instance no longer exists."),
            ),
            (
                Moved::Failed(why.clone()),
                VMoveStatus::Failed,
                None,
                Some("Failed reason: timed out"),
            ),
        ];
        for (moved, status, dest, message) in table {
            let failed = matches!(moved, Moved::Failed(_));
            let (update, failure) = ended(moved, now);
            assert_eq!(update.status, Some(status));
            assert_eq!(update.dest_host.flatten().as_deref(), dest);
            assert_eq!(update.message.flatten().as_deref(), message);
            assert_eq!(update.end_time, Some(Some(now)));
            assert_eq!(failure, failed.then(|| why.clone()));
        }
    }

    #[test]
    fn only_a_nova_refusal_that_may_pass_leaves_a_move_to_retry() {
        for (status, retryable) in [
            (400, false),
            (404, false),
            (403, false),
            (409, true),
            (500, true),
            (503, true),
        ] {
            assert_eq!(
                NotMoved::nova(&refused(status)).retryable,
                retryable,
                "{status}"
            );
        }
        let none = std::sync::Mutex::new(None);
        let table = [
            (WaitError::Timeout(Duration::from_secs(1)), true),
            (WaitError::Failed("went to error state".into()), true),
            (WaitError::Look(refused(403)), false),
            (WaitError::Look(refused(502)), true),
        ];
        for (e, retryable) in table {
            let what = e.to_string();
            assert_eq!(failure(e, &none).retryable, retryable, "{what}");
        }
        let last = std::sync::Mutex::new(Some("Nova answered 502".to_owned()));
        assert_eq!(
            failure(WaitError::Timeout(Duration::from_secs(1)), &last),
            NotMoved::retryable("timeout after 1s; last error: Nova answered 502")
        );
    }
}

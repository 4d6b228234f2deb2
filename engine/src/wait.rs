//! Waiting for Nova to get somewhere: poll with backoff until a condition holds or a deadline
//! passes. No fixed sleeps; tokio time, so tests can pause it.

use std::future::Future;
use std::time::Duration;

use lifeboat_core::store::StoreError;
use tokio::time::Instant;

/// The first look comes after this; later looks back off up to the configured interval.
const FIRST_LOOK: Duration = Duration::from_millis(250);

/// What one look found.
#[derive(Debug)]
pub enum Look<T> {
    /// Done, with a result.
    Done(T),
    /// Not yet.
    Pending,
    /// Will not get there.
    Failed(String),
}

/// Why waiting ended without success.
#[derive(Debug, thiserror::Error)]
pub enum WaitError<E> {
    /// The deadline passed.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The condition can no longer hold.
    #[error("{0}")]
    Failed(String),
    /// Looking failed.
    #[error(transparent)]
    Look(E),
}

/// Looks with `look` until it is done, fails, or `deadline` passes. The pause between looks
/// starts at 250 ms and grows by half each time up to `max_interval`.
pub async fn until<T, E, F, Fut>(
    deadline: Duration,
    max_interval: Duration,
    mut look: F,
) -> Result<T, WaitError<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Look<T>, E>>,
{
    let started = Instant::now();
    let mut pause = first_pause(max_interval);
    loop {
        match look().await.map_err(WaitError::Look)? {
            Look::Done(value) => return Ok(value),
            Look::Failed(why) => return Err(WaitError::Failed(why)),
            Look::Pending => {}
        }
        let elapsed = started.elapsed();
        if elapsed >= deadline {
            return Err(WaitError::Timeout(deadline));
        }
        tokio::time::sleep(pause.min(deadline - elapsed)).await;
        pause = next_pause(pause, max_interval);
    }
}

/// How long a recovery waits for the database to come back (a server restarting, a disk
/// being freed) before it gives up on a read it cannot do without.
pub(crate) const STORE_PATIENCE: Duration = Duration::from_secs(15);

/// The longest pause between tries of a store call.
const STORE_MAX_PAUSE: Duration = Duration::from_secs(2);

/// Calls the store until it answers, trying again while its failures are transient, for up to
/// `patience`; then (or at once, for a failure that is no passing condition) the error.
pub(crate) async fn store<T, F, Fut>(
    patience: Duration,
    what: &str,
    mut call: F,
) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let started = Instant::now();
    let mut pause = FIRST_LOOK;
    let mut warned = false;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(e) if e.is_transient() && started.elapsed() + pause < patience => {
                if !warned {
                    tracing::warn!(error = %e, "{what} failed; trying again while the database recovers");
                    warned = true;
                }
                tokio::time::sleep(pause).await;
                pause = next_pause(pause, STORE_MAX_PAUSE);
            }
            Err(e) => return Err(e),
        }
    }
}

/// The first pause between looks.
pub(crate) fn first_pause(max_interval: Duration) -> Duration {
    FIRST_LOOK.min(max_interval.max(Duration::from_millis(10)))
}

/// The pause after `pause`: half as long again, up to `max_interval`.
pub(crate) fn next_pause(pause: Duration, max_interval: Duration) -> Duration {
    (pause + pause / 2).min(max_interval.max(FIRST_LOOK))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waits_with_backoff_until_done() {
        let looks = AtomicU32::new(0);
        let started = Instant::now();
        let result: Result<u32, WaitError<()>> =
            until(Duration::from_secs(60), Duration::from_secs(2), || async {
                let n = looks.fetch_add(1, Ordering::SeqCst) + 1;
                Ok(if n == 6 { Look::Done(n) } else { Look::Pending })
            })
            .await;
        assert_eq!(result.unwrap(), 6);
        // 250 + 375 + 562 + 843 + 1264 ms of pauses, not five fixed seconds.
        let waited = started.elapsed();
        assert!(
            waited > Duration::from_millis(3200) && waited < Duration::from_millis(3400),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_at_the_deadline_or_on_failure() {
        let timeout: Result<(), WaitError<()>> =
            until(Duration::from_secs(5), Duration::from_secs(1), || async {
                Ok(Look::Pending)
            })
            .await;
        assert!(matches!(timeout, Err(WaitError::Timeout(_))));
        let failed: Result<(), WaitError<()>> =
            until(Duration::from_secs(5), Duration::from_secs(1), || async {
                Ok(Look::Failed("error state".into()))
            })
            .await;
        assert!(matches!(failed, Err(WaitError::Failed(m)) if m == "error state"));
    }
}

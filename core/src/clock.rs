//! Wall-clock time behind a seam, so decisions can be tested at any instant. This module is the
//! one place that reads the system's clocks (clippy's `disallowed-methods` refuses them
//! elsewhere); monotonic durations use `tokio::time::Instant`, which tokio's paused time drives.

use chrono::{DateTime, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "the one reading of the wall clock; everything else asks a Clock"
    )]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until a test moves it. Compiled only with the `test-util`
/// feature, which only dev-dependencies enable, so it never reaches a production build.
#[cfg(feature = "test-util")]
#[derive(Debug)]
pub struct ManualClock {
    now: std::sync::Mutex<DateTime<Utc>>,
}

#[cfg(feature = "test-util")]
impl ManualClock {
    /// A clock reading `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self {
            now: std::sync::Mutex::new(at),
        }
    }

    /// A clock reading a fixed, arbitrary instant (2026-01-01T00:00:00Z): for tests that only
    /// need some time, the same on every run.
    pub fn fixed() -> Self {
        Self::new(DateTime::UNIX_EPOCH + chrono::Duration::days(20_454))
    }

    /// Moves the clock by `by` (backwards if negative).
    pub fn advance(&self, by: chrono::Duration) {
        *self.lock() += by;
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.lock() = at;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        // A test that panicked while holding the lock has already failed; the time it left is
        // as good as any.
        self.now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(feature = "test-util")]
impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved() {
        let clock = ManualClock::fixed();
        let start = clock.now();
        assert_eq!(start.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        assert_eq!(clock.now(), start);
        clock.advance(chrono::Duration::seconds(90));
        assert_eq!(clock.now() - start, chrono::Duration::seconds(90));
        clock.set(start);
        assert_eq!(clock.now(), start);
    }
}

//! What Lifeboat's tests share, in one place: a temporary SQLite store ([`store`]), the
//! segment and host fixtures ([`fixtures`]) and a real simulated BMC ([`ipmi_sim`]).
//!
//! A dev-dependency only: the binary never links it, so its fakes and panicking helpers never
//! ship. Fixtures take the time as an argument: tests that control time pass
//! [`ManualClock`](lifeboat_core::clock::ManualClock)'s (this crate turns on core's `test-util`
//! for its dependents), and the system clock's only where a real peer's time matters (a running
//! engine, server or fencer).

pub mod fixtures;
pub mod ipmi_sim;
pub mod store;

/// Fails the test with `message`: a failed setup fails the test that needed it.
#[expect(clippy::panic, reason = "test harness: a failed setup fails the test")]
pub(crate) fn fail(message: &str) -> ! {
    panic!("{message}")
}

//! The API against a real SQLite store, over HTTP on a loopback port.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]

mod bad_input;
mod fencing;
mod harness;
mod hosts;
mod notifications;
mod paging;
mod protocol;
mod segments;

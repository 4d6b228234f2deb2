//! The engine against a real SQLite store and real fencing (ipmi_sim through the native IPMI
//! client), with a hand-written Nova fake for what Nova does (tests/e2e runs a real Nova).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]

mod backlog;
mod compute;
mod evacuation;
mod fencing;
mod intent;
mod retries;

//! The executor against real agents: Debian's resource-agents (`ocf:heartbeat:Dummy`), test
//! scripts in a temporary `OCF_ROOT` (an agent that hangs), and an LSB init script.
//! `scripts/setup/crm-executor.sh` installs the agents.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]

mod lsb;
mod ocf;
mod support;

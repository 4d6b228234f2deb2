//! lifeboat-fence against real peers: ipmi_sim (Debian openipmi) as the BMC, and fence_ipmilan
//! (Debian fence-agents) through the agent runner. `scripts/setup/fence.sh` installs them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]

mod agent;
mod ipmi;
mod topology;

//! The hostmonitor: reports compute hosts that left (STOPPED) or came back (STARTED), with
//! masakari-monitors' payloads. Two drivers: [`pacemaker`] reads membership and quorum from a
//! Pacemaker cluster as masakari-monitors' default driver does; [`peer`] needs no cluster
//! stack at all: the agents of a segment heartbeat each other. Both check a failed host's
//! power with a [`PowerCheck`]; [`api_power`] reads it through the Lifeboat API's fence
//! devices, so compute nodes hold no BMC password.

pub mod api_power;
pub mod pacemaker;
pub mod peer;

use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::fencing::{FenceError, PowerState};

use crate::delivery::HostStatus;

/// What a hostmonitor may know of a host's power: whether it can be read, and what it reads.
/// Agents hold no BMC passwords and power nothing, so there is nothing else to ask.
#[async_trait::async_trait]
pub trait PowerReader: Send + Sync + std::fmt::Debug {
    /// Whether a power state can be read for `host` (true when that cannot be told: the read
    /// is then tried, and its failure makes the host UNKNOWN).
    async fn has_device(&self, host: &str) -> bool;
    /// `host`'s power state.
    async fn power_status(&self, host: &str) -> Result<PowerState, FenceError>;
}

/// How a failed host's power state is checked before it is reported: through a
/// [`PowerReader`] (the API's fence devices, [`api_power::ApiPowerStatus`], in the binary),
/// `1 + retries` times, `interval` apart.
#[derive(Debug, Clone)]
pub struct PowerCheck {
    /// The power reader; `None` (or `disable_ipmi_check`) reports NORMAL without asking.
    pub reader: Option<Arc<dyn PowerReader>>,
    /// Retries after the first query.
    pub retries: u32,
    /// Between two queries.
    pub interval: Duration,
    /// Per query.
    pub timeout: Duration,
}

impl PowerCheck {
    /// No power check: every STOPPED host is NORMAL (masakari's `disable_ipmi_check`).
    pub fn disabled() -> Self {
        Self {
            reader: None,
            retries: 0,
            interval: Duration::ZERO,
            timeout: Duration::ZERO,
        }
    }

    /// NORMAL when the host's power reads off (or no check is configured), UNKNOWN when it
    /// reads on or cannot be read: the engine then holds back, since a host that still runs
    /// must not have its instances started elsewhere.
    pub async fn host_status(&self, host: &str) -> HostStatus {
        let Some(reader) = &self.reader else {
            return HostStatus::Normal;
        };
        if !reader.has_device(host).await {
            tracing::info!(
                host.name = host,
                "no fence device for {host}: reported as NORMAL"
            );
            return HostStatus::Normal;
        }
        for attempt in 0..=self.retries {
            if attempt > 0 {
                tokio::time::sleep(self.interval).await;
            }
            match tokio::time::timeout(self.timeout, reader.power_status(host)).await {
                Ok(Ok(PowerState::Off)) => return HostStatus::Normal,
                Ok(Ok(PowerState::On)) => {
                    tracing::warn!(
                        host.name = host,
                        attempt,
                        "{host} is silent but its power reads on"
                    );
                }
                Ok(Err(e)) => {
                    tracing::warn!(host.name = host, attempt, error = %e, "power status of {host} failed")
                }
                Err(_) => tracing::warn!(
                    host.name = host,
                    attempt,
                    "power status of {host} timed out"
                ),
            }
        }
        HostStatus::Unknown
    }
}

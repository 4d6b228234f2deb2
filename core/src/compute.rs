//! The Nova seam: what Lifeboat asks of the compute service.

use std::collections::BTreeMap;

/// A `nova-compute` service as Nova lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputeService {
    /// Nova's service id (a UUID from microversion 2.53).
    pub id: String,
    /// The service's host name (what Lifeboat host names must match).
    pub host: String,
    /// `enabled` or `disabled`.
    pub status: String,
    /// Why it was disabled, if it was.
    pub disabled_reason: Option<String>,
    /// `up` or `down`.
    pub state: String,
    /// Whether the service is forced down.
    pub forced_down: bool,
}

impl ComputeService {
    /// Whether the service takes new instances (enabled and up).
    pub fn is_usable(&self) -> bool {
        self.is_enabled() && self.state == "up" && !self.forced_down
    }

    /// Whether the service is enabled (`status` is `enabled`).
    pub fn is_enabled(&self) -> bool {
        self.status == "enabled"
    }
}

/// `OS-EXT-STS:vm_state`: the states Lifeboat acts on by name, any other as Nova spelled it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VmState {
    /// `active`: running.
    Active,
    /// `stopped`: powered off.
    Stopped,
    /// `error`.
    Error,
    /// `paused`.
    Paused,
    /// `rescued`.
    Rescued,
    /// `resized`: a resize waits to be confirmed.
    Resized,
    /// Any other state (empty when Nova did not show one).
    Other(String),
}

impl VmState {
    /// Nova's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Active => "active",
            Self::Stopped => "stopped",
            Self::Error => "error",
            Self::Paused => "paused",
            Self::Rescued => "rescued",
            Self::Resized => "resized",
            Self::Other(s) => s,
        }
    }
}

impl From<&str> for VmState {
    fn from(s: &str) -> Self {
        match s {
            "active" => Self::Active,
            "stopped" => Self::Stopped,
            "error" => Self::Error,
            "paused" => Self::Paused,
            "rescued" => Self::Rescued,
            "resized" => Self::Resized,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl std::fmt::Display for VmState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `OS-EXT-STS:task_state`: the task under way. Only the rebuild tasks of an evacuation are
/// named; any other is kept as Nova spelled it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskState {
    /// `rebuilding`.
    Rebuilding,
    /// `rebuild_block_device_mapping`.
    RebuildBlockDeviceMapping,
    /// `rebuild_spawning`.
    RebuildSpawning,
    /// Any other task.
    Other(String),
}

impl TaskState {
    /// Whether this is a step of a rebuild (what an evacuation goes through).
    pub fn is_rebuild(&self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// Nova's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Rebuilding => "rebuilding",
            Self::RebuildBlockDeviceMapping => "rebuild_block_device_mapping",
            Self::RebuildSpawning => "rebuild_spawning",
            Self::Other(s) => s,
        }
    }
}

impl From<&str> for TaskState {
    fn from(s: &str) -> Self {
        match s {
            "rebuilding" => Self::Rebuilding,
            "rebuild_block_device_mapping" => Self::RebuildBlockDeviceMapping,
            "rebuild_spawning" => Self::RebuildSpawning,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// A server (instance) as Nova shows it to an administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Server id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `ACTIVE`, `SHUTOFF`, `ERROR`, …
    pub status: String,
    /// `OS-EXT-STS:vm_state`.
    pub vm_state: VmState,
    /// `OS-EXT-STS:task_state`, when a task is under way.
    pub task_state: Option<TaskState>,
    /// `OS-EXT-SRV-ATTR:host`: the compute host it is on.
    pub host: Option<String>,
    /// Whether it is locked.
    pub locked: bool,
    /// Metadata (`HA_Enabled`, priorities, …).
    pub metadata: BTreeMap<String, String>,
    /// Flavor vCPUs, if Nova showed them.
    pub vcpus: Option<u64>,
    /// Flavor RAM in MiB, if Nova showed it.
    pub ram_mb: Option<u64>,
}

/// A host aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    /// Aggregate id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Member hosts.
    pub hosts: Vec<String>,
}

/// A hypervisor's capacity, for choosing evacuation targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hypervisor {
    /// The compute service host it belongs to.
    pub host: String,
    /// vCPUs.
    pub vcpus: u64,
    /// vCPUs in use.
    pub vcpus_used: u64,
    /// RAM in MiB.
    pub memory_mb: u64,
    /// RAM in use in MiB.
    pub memory_mb_used: u64,
}

/// An evacuation as Nova's migration records show it (`GET /os-migrations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvacuationMigration {
    /// The record's id; a later evacuation of the same instance has a higher one.
    pub id: u64,
    /// The instance being evacuated.
    pub instance_uuid: String,
    /// `accepted`, `pre-migrating`, `done`, `completed`, `failed`, `error`, …
    pub status: String,
    /// Where it goes, once known (hidden from users without the `index:host` policy).
    pub dest_compute: Option<String>,
    /// When Nova last changed the record (Nova's clock, one-second resolution on some
    /// databases); `None` for a record never changed since it was created.
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Why a Nova call failed.
#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    /// Nova could not be reached or did not answer in time.
    #[error("{action} failed: Nova is unreachable")]
    Unreachable {
        /// What was being done.
        action: String,
        /// The transport error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Nova answered with an error status.
    #[error("{action} failed: Nova answered {status}: {message}")]
    Refused {
        /// What was being done.
        action: String,
        /// HTTP status.
        status: u16,
        /// Nova's fault message.
        message: String,
    },
    /// Keystone would not give us a token or a compute endpoint.
    #[error("{action} failed: {message}")]
    Auth {
        /// What was being done.
        action: String,
        /// Why.
        message: String,
        /// Whether asking again may succeed (Keystone unreachable or failing, not refusing).
        retryable: bool,
    },
}

impl ComputeError {
    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Refused { status, .. } => *status >= 500 || *status == 409,
            Self::Auth { retryable, .. } => *retryable,
        }
    }

    /// Whether Nova said the thing does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Refused { status: 404, .. })
    }
}

/// Nova, as the API and the engine use it.
#[async_trait::async_trait]
pub trait Compute: Send + Sync + std::fmt::Debug {
    /// The `nova-compute` service of `host` (exact, case-sensitive match), if there is one.
    async fn find_compute_service(
        &self,
        host: &str,
    ) -> Result<Option<ComputeService>, ComputeError>;
    /// Every `nova-compute` service.
    async fn compute_services(&self) -> Result<Vec<ComputeService>, ComputeError>;
    /// Marks a service forced down (or clears it). Forcing down first makes Nova treat the host
    /// as dead at once (no wait for `service_down_time`).
    async fn set_forced_down(
        &self,
        service_id: &str,
        forced_down: bool,
    ) -> Result<(), ComputeError>;
    /// Disables a service with a reason.
    async fn disable_service(&self, service_id: &str, reason: &str) -> Result<(), ComputeError>;
    /// Enables a service.
    async fn enable_service(&self, service_id: &str) -> Result<(), ComputeError>;
    /// Every server on `host`, of every project, through every page.
    async fn servers_on_host(&self, host: &str) -> Result<Vec<Server>, ComputeError>;
    /// One server.
    async fn get_server(&self, id: &str) -> Result<Server, ComputeError>;
    /// Rebuilds a server on another host (`target`, or one the scheduler picks).
    async fn evacuate(&self, id: &str, target: Option<&str>) -> Result<(), ComputeError>;
    /// Stops a server.
    async fn stop_server(&self, id: &str) -> Result<(), ComputeError>;
    /// Starts a server.
    async fn start_server(&self, id: &str) -> Result<(), ComputeError>;
    /// Hard-reboots a server.
    async fn hard_reboot(&self, id: &str) -> Result<(), ComputeError>;
    /// Resets a server's state (Nova takes [`VmState::Active`] or [`VmState::Error`]).
    async fn reset_state(&self, id: &str, state: VmState) -> Result<(), ComputeError>;
    /// Every host aggregate.
    async fn aggregates(&self) -> Result<Vec<Aggregate>, ComputeError>;
    /// Adds a host to an aggregate (already a member counts as done).
    async fn add_host_to_aggregate(
        &self,
        aggregate_id: &str,
        host: &str,
    ) -> Result<(), ComputeError>;
    /// Removes a host from an aggregate (not a member counts as done).
    async fn remove_host_from_aggregate(
        &self,
        aggregate_id: &str,
        host: &str,
    ) -> Result<(), ComputeError>;
    /// Hypervisor capacity, per compute host.
    async fn hypervisors(&self) -> Result<Vec<Hypervisor>, ComputeError>;
    /// The evacuation migrations from `source` whose records changed at or after `since`
    /// (Nova's clock), through every page.
    async fn evacuation_migrations(
        &self,
        source: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<EvacuationMigration>, ComputeError>;
}

/// Why a webhook call got no answer.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The request could not be sent or no answer came in time.
    #[error("calling {url} failed: {source}")]
    Post {
        /// The webhook's URL.
        url: String,
        /// The transport error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Outbound HTTP for workflow webhooks (custom steps that call an operator's endpoint).
#[async_trait::async_trait]
pub trait Webhook: Send + Sync + std::fmt::Debug {
    /// POSTs `body` as JSON to `url`; the HTTP status on an answer, or why there was none.
    async fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
        timeout: std::time::Duration,
    ) -> Result<u16, WebhookError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nova_states_read_back_as_nova_spells_them() {
        for s in [
            "active", "stopped", "error", "paused", "rescued", "resized", "shelved", "",
        ] {
            assert_eq!(VmState::from(s).as_str(), s);
        }
        assert_eq!(VmState::from("shelved"), VmState::Other("shelved".into()));
        for (s, rebuild) in [
            ("rebuilding", true),
            ("rebuild_block_device_mapping", true),
            ("rebuild_spawning", true),
            ("powering-off", false),
        ] {
            let t = TaskState::from(s);
            assert_eq!((t.as_str(), t.is_rebuild()), (s, rebuild));
        }
    }
}

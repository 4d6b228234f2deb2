//! The sections Lifeboat reads, with Masakari's names and defaults.

use super::choices::{Fencing, InstanceAction, Placement};
use super::values::{AuthStrategy, Seconds, Secret};
use crate::config_section;

config_section! {
    /// Service-wide options (Masakari's `[DEFAULT]`).
    pub struct DefaultSection in "DEFAULT" {
        /// How API requests are authenticated: `keystone` (tokens validated with the
        /// `[keystone_authtoken]` credentials) or `noauth2` (everyone is an administrator; for
        /// tests and trials only).
        pub auth_strategy: AuthStrategy = "keystone";
        /// Address the API listens on.
        pub masakari_api_listen: String = "0.0.0.0";
        /// Port the API listens on.
        pub masakari_api_listen_port: u16 = "15868";
        /// Accepted for compatibility with masakari.conf. Lifeboat serves every request from one
        /// asynchronous process; the value is not used.
        pub masakari_api_workers: Option<u32> = "";
        /// Directory for local state; the default SQLite database lives here.
        pub state_path: String = "/var/lib/lifeboat";
        /// Name of this node, used in logs and as the engine's identity.
        pub host: Option<String> = "";
        /// Largest page a list returns.
        pub osapi_max_limit: u32 = "1000";
        /// Base URL to use in links instead of the request's own (e.g. behind a proxy).
        pub osapi_masakari_link_prefix: Option<String> = "";
        /// Take the client address from X-Forwarded-For (for logs).
        pub use_forwarded_for: bool = "false";
        /// Two notifications from one host with the same type and payload, generated less than
        /// this many seconds apart, are the same report: the second is refused with 409.
        pub duplicate_notification_detection_interval: Seconds = "180";
        /// Accepted for compatibility. Masakari sleeps a random 0..N seconds per notification to
        /// dodge duplicate races; Lifeboat detects duplicates in one database transaction and
        /// never sleeps.
        pub notification_delay_max: Option<u32> = "";
        /// Log at debug level.
        pub debug: bool = "false";
        /// Keystone user the service uses for Nova (Masakari's privileged user).
        pub os_privileged_user_name: Option<String> = "";
        /// Password of the privileged user.
        pub os_privileged_user_password: Option<Secret> = "";
        /// Project of the privileged user.
        pub os_privileged_user_tenant: Option<String> = "";
        /// Keystone URL for the privileged user; setting it enables Nova access.
        pub os_privileged_user_auth_url: Option<String> = "";
        /// Domain of the privileged user.
        pub os_user_domain_name: String = "default";
        /// Domain of the privileged user's project.
        pub os_project_domain_name: String = "default";
        /// System scope for the privileged user (e.g. `all`) instead of a project.
        pub os_system_scope: Option<String> = "";
        /// Region of the Nova endpoint in the catalog.
        pub os_region_name: Option<String> = "";
        /// Nova's catalog entry as `service_type:service_name:endpoint_type`.
        pub nova_catalog_admin_info: String = "compute:nova:publicURL";
        /// Skip TLS verification towards Nova.
        pub nova_api_insecure: bool = "false";
        /// CA bundle for Nova's TLS certificate.
        pub nova_ca_certificates_file: Option<String> = "";
    }
}

config_section! {
    /// The database.
    pub struct DatabaseSection in "database" {
        /// SQLAlchemy-style URL: `sqlite:///relative.db`, `sqlite:////abs/path.db`,
        /// `postgresql://user:pass@host/db`, `mysql+pymysql://user:pass@host/db`. Empty: a SQLite
        /// file `lifeboat.sqlite` under `[DEFAULT] state_path`.
        pub connection: Option<Secret> = "";
        /// Most connections kept open to the database.
        pub max_pool_size: u32 = "10";
        /// Seconds to wait for a free connection before failing a request.
        pub pool_timeout: Seconds = "30";
    }
}

config_section! {
    /// Keystone token validation (keystonemiddleware's options).
    pub struct KeystoneAuthtokenSection in "keystone_authtoken" {
        /// Keystone URL advertised to clients in `WWW-Authenticate`.
        pub www_authenticate_uri: Option<String> = "", aliases = ["auth_uri"];
        /// Keystone URL the service authenticates against (v3).
        pub auth_url: Option<String> = "";
        /// Auth plugin; only `password` is supported.
        pub auth_type: String = "password";
        /// Service user.
        pub username: Option<String> = "";
        /// Service user's password.
        pub password: Option<Secret> = "";
        /// Service user's project.
        pub project_name: Option<String> = "";
        /// Service user's domain.
        pub user_domain_name: String = "Default";
        /// Service project's domain.
        pub project_domain_name: String = "Default";
        /// Region (unused for validation, accepted for compatibility).
        pub region_name: Option<String> = "";
        /// Keystone interface (unused for validation, accepted for compatibility).
        pub interface: String = "internal";
        /// Seconds a validated token is remembered before Keystone is asked again.
        pub token_cache_time: Seconds = "300";
        /// Skip TLS verification towards Keystone.
        pub insecure: bool = "false";
        /// CA bundle for Keystone's TLS certificate.
        pub cafile: Option<String> = "";
        /// Seconds to wait for Keystone.
        pub http_connect_timeout: Seconds = "10";
        /// Accepted for compatibility; tokens are cached in process.
        pub memcached_servers: Option<String> = "";
        /// Accepted for compatibility.
        pub service_token_roles_required: bool = "false";
    }
}

config_section! {
    /// Policy (oslo.policy's options).
    pub struct OsloPolicySection in "oslo_policy" {
        /// YAML or JSON file of rules overriding the defaults; relative paths are looked up next
        /// to the first config file. A missing file means the defaults.
        pub policy_file: String = "policy.yaml";
    }
}

config_section! {
    /// Request limits (oslo.middleware's options).
    pub struct OsloMiddlewareSection in "oslo_middleware" {
        /// Largest request body accepted, in bytes; larger ones get 413.
        pub max_request_body_size: usize = "114688";
    }
}

config_section! {
    /// `/healthcheck` (oslo.middleware's healthcheck options).
    pub struct HealthcheckSection in "healthcheck" {
        /// While this file exists, `/healthcheck` answers 503 (take a node out of a load balancer).
        pub disable_by_file_path: Option<String> = "";
        /// Include details (database check) in the answer.
        pub detailed: bool = "false";
    }
}

config_section! {
    /// Nova access without Keystone (Lifeboat's addition, for Nova deployments with no-auth).
    pub struct NovaSection in "nova" {
        /// Nova API URL (e.g. `http://nova:8774/v2.1`); overrides the catalog lookup.
        pub endpoint_override: Option<String> = "";
        /// Static token sent to Nova when no privileged user is configured.
        pub token: Option<Secret> = "";
        /// Seconds to wait for Nova per request.
        pub timeout: Seconds = "30";
    }
}

config_section! {
    /// Recovery engine timings (Masakari's `[DEFAULT]` engine options, same names).
    pub struct EngineTimingSection in "DEFAULT" {
        /// Seconds an evacuated instance may take to come up on its new host before its move
        /// counts as failed.
        pub wait_period_after_evacuation: Seconds = "300";
        /// Seconds between two looks at an instance or service while waiting (the first look
        /// is sooner; waits back off up to this).
        pub verify_interval: Seconds = "1";
        /// Seconds a stopped instance may take to read stopped.
        pub wait_period_after_power_off: Seconds = "180";
        /// Seconds a started instance may take to read active.
        pub wait_period_after_power_on: Seconds = "60";
        /// Seconds a disabled compute service may take to read disabled.
        pub wait_period_after_service_update: Seconds = "180";
        /// Instances evacuated at the same time per host failure (Masakari: 3).
        pub host_failure_recovery_threads: u32 = "10";
    }
}

config_section! {
    /// How host failures are recovered (Masakari's `[host_failure]`).
    pub struct HostFailureSection in "host_failure" {
        /// Evacuate every instance of a failed host, not only HA-enabled ones (HA-enabled ones
        /// go first).
        pub evacuate_all_instances: bool = "true";
        /// Metadata key that marks an instance HA-enabled (value true/yes/1/on).
        pub ha_enabled_instance_metadata_key: String = "HA_Enabled";
        /// Leave instances in error state where they are.
        pub ignore_instances_in_error_state: bool = "false";
        /// Add an activated reserved host to the failed host's aggregates (and take it out again
        /// if the recovery is rolled back).
        pub add_reserved_host_to_aggregate: bool = "false";
        /// Reason recorded on the compute service of a failed host.
        pub service_disable_reason: String = "Masakari detected host failed.";
        /// Metadata key of an instance's evacuation priority (higher first, after HA-enabled).
        pub priority_metadata_key: String = "HA_Priority";
        /// Where `auto` evacuations go: `segment` (a host of the failed host's segment with room,
        /// chosen by Lifeboat) or `scheduler` (anywhere Nova's scheduler picks, as Masakari).
        pub auto_placement: Placement = "segment";
        /// Fencing before evacuation: `auto` (required when a fence device is configured for
        /// the host, else skipped with a warning), `required`, `best_effort` or `disabled`.
        pub fencing: Fencing = "auto";
        /// When more than this share of a segment's hosts failed within
        /// `storm_window`, automatic recovery stops and waits for an operator (0 disables).
        pub storm_max_failed_share: f64 = "0.5";
        /// Seconds over which failed hosts are counted for the storm guard.
        pub storm_window: Seconds = "300";
        /// The storm guard only applies to segments with at least this many hosts.
        pub storm_min_hosts: u32 = "3";
        /// Take a host out of maintenance when it reports STARTED again (Masakari never does).
        pub unset_maintenance_on_host_started: bool = "true";
    }
}

config_section! {
    /// How instance failures are recovered (Masakari's `[instance_failure]`).
    pub struct InstanceFailureSection in "instance_failure" {
        /// Recover every instance, not only HA-enabled ones.
        pub process_all_instances: bool = "false";
        /// Metadata key that marks an instance HA-enabled.
        pub ha_enabled_instance_metadata_key: String = "HA_Enabled";
        /// `stop_start` (Masakari) or `hard_reboot`.
        pub recovery_action: InstanceAction = "stop_start";
    }
}

config_section! {
    /// How process failures are recovered (Masakari's `[process_failure]`).
    pub struct ProcessFailureSection in "process_failure" {
        /// Reason recorded on the compute service when nova-compute fails.
        pub service_disable_reason: String = "Masakari detected process failed.";
        /// Re-enable the compute service (if it was disabled for this reason) and take the host
        /// out of maintenance when nova-compute reports STARTED.
        pub reenable_on_started: bool = "true";
    }
}

config_section! {
    /// The recovery engine itself (Lifeboat's options).
    pub struct EngineSection in "engine" {
        /// Seconds an engine's claim on a notification lasts without renewal; when an engine
        /// dies, another resumes its work this long after.
        pub lease: Seconds = "30";
        /// Seconds between looks for work when nothing wakes the engine.
        pub poll_interval: Seconds = "2";
        /// Notifications recovered at the same time by one engine.
        pub max_concurrent_notifications: u32 = "8";
        /// Recovery attempts before a notification is `failed`.
        pub max_attempts: u32 = "3";
        /// Seconds before the first retry of a notification in `error`; doubles per attempt.
        pub retry_backoff: Seconds = "30";
        /// Workflow policies file (YAML): named policies per failure type and which segments
        /// use them; relative to the first config file. Missing: the options above apply.
        pub workflow_policy_file: String = "workflow-policies.yaml";
        /// Name of this engine in claims (default: the host name and process id).
        pub engine_id: Option<String> = "";
    }
}

config_section! {
    /// Masakari's task lists; accepted and mapped onto Lifeboat's steps.
    pub struct RecoveryFlowsSection in "taskflow_driver_recovery_flows" {
        /// Host failure tasks for `auto`, Masakari's dict-of-lists syntax.
        pub host_auto_failure_recovery_tasks: String = "pre:['disable_compute_service_task'],main:['prepare_HA_enabled_instances_task'],post:['evacuate_instances_task']";
        /// Host failure tasks for `reserved_host`.
        pub host_rh_failure_recovery_tasks: String = "pre:['disable_compute_service_task'],main:['prepare_HA_enabled_instances_task','evacuate_instances_task'],post:[]";
        /// Instance failure tasks.
        pub instance_failure_recovery_tasks: String = "pre:['stop_instance_task'],main:['start_instance_task'],post:['confirm_instance_active_task']";
        /// Process failure tasks.
        pub process_failure_recovery_tasks: String = "pre:['disable_compute_node_task'],main:['confirm_compute_node_disabled_task'],post:[]";
    }
}

config_section! {
    /// Fencing: a failed host is powered off, and the power-off verified, before its instances
    /// are evacuated (Lifeboat's addition; devices are configured per host through the API).
    pub struct FencingSection in "fencing" {
        /// File holding the key that seals BMC passwords before they are stored in the database:
        /// 32 random bytes written as 64 hexadecimal characters (`openssl rand -hex 32`). Keep
        /// it readable by Lifeboat only and out of database backups. Without it, fence devices
        /// cannot be given passwords.
        pub credential_key_file: Option<String> = "";
        /// Seconds a power-off (or power-on) may take to read as done; anything not verified
        /// within this time is a failure.
        pub power_timeout: Seconds = "20";
        /// Longest pause, in seconds, between two power status reads while verifying (the
        /// first read is immediate, later ones back off up to this).
        pub power_poll_interval: Seconds = "1";
        /// Seconds to wait for a BMC's answer before sending an IPMI request again.
        pub ipmi_retransmit_interval: Seconds = "0.5";
        /// Seconds one IPMI request, with its retransmissions, may take: an unreachable BMC
        /// fails after this.
        pub ipmi_timeout: Seconds = "5";
        /// Directory of the fence agents (`fence_ipmilan`, `fence_redfish`, ...).
        pub agent_dir: String = "/usr/sbin";
        /// Seconds one fence agent run may take before it is killed and counted as failed.
        pub agent_timeout: Seconds = "60";
    }
}

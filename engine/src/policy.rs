//! Workflow policies: how each kind of failure is recovered, per segment.
//!
//! The default policy comes from the configuration (Masakari's option names). A YAML file
//! (`[engine] workflow_policy_file`) can define named policies that override any part of it,
//! add custom steps (run a command, call a webhook, wait) before or after evacuation, and say
//! which segments use which policy:
//!
//! ```yaml
//! policies:
//!   gold:
//!     host_failure:
//!       fencing: required
//!       parallelism: 20
//!       post:
//!         - name: page-oncall
//!           webhook: http://alerts.example/hooks/ha
//!           timeout: 10
//!     instance_failure:
//!       action: hard_reboot
//! segments:
//!   production: gold
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use lifeboat_core::config::Config;
pub use lifeboat_core::config::{Fencing, InstanceAction, Placement};
use serde::Deserialize;

/// What a custom step does.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomStep {
    /// Shown in `recovery_workflow_details`.
    pub name: String,
    /// A command and its arguments (no shell). It gets `LIFEBOAT_NOTIFICATION`,
    /// `LIFEBOAT_HOST`, `LIFEBOAT_SEGMENT` and `LIFEBOAT_EVENT` in its environment.
    #[serde(default)]
    pub run: Option<Vec<String>>,
    /// A URL to POST the notification to (as JSON); any 2xx is success.
    #[serde(default)]
    pub webhook: Option<String>,
    /// Seconds to wait.
    #[serde(default)]
    pub wait: Option<u64>,
    /// Wait for a condition: a command (no shell, same environment as `run`) run again until it
    /// exits 0, at most every `interval` seconds, for up to `timeout`.
    #[serde(default)]
    pub until: Option<Vec<String>>,
    /// Seconds between looks for `until` (default 2).
    #[serde(default)]
    pub interval: Option<u64>,
    /// Seconds the step may take (default 60).
    #[serde(default)]
    pub timeout: Option<u64>,
    /// Extra tries after a failure (default 0).
    #[serde(default)]
    pub retries: Option<u32>,
    /// `abort` (default: the recovery fails) or `continue`.
    #[serde(default)]
    pub on_failure: Option<String>,
}

impl CustomStep {
    /// How long one try may take.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout.unwrap_or(60))
    }

    /// Whether a failure stops the recovery.
    pub fn aborts_on_failure(&self) -> bool {
        self.on_failure.as_deref() != Some("continue")
    }
}

/// How host failures are recovered.
#[derive(Debug, Clone, PartialEq)]
pub struct HostPolicy {
    /// Fencing before evacuation.
    pub fencing: Fencing,
    /// Storm guard share (0 disables).
    pub storm_max_failed_share: f64,
    /// Storm guard window.
    pub storm_window: Duration,
    /// Storm guard minimum segment size.
    pub storm_min_hosts: u32,
    /// Evacuate instances that are not HA-enabled too.
    pub evacuate_all_instances: bool,
    /// Leave error-state instances alone.
    pub ignore_instances_in_error_state: bool,
    /// Metadata key of HA-enabled instances.
    pub ha_enabled_key: String,
    /// Metadata key of evacuation priority.
    pub priority_key: String,
    /// Where `auto` goes.
    pub placement: Placement,
    /// Parallel evacuations.
    pub parallelism: usize,
    /// Deadline per evacuated instance.
    pub instance_timeout: Duration,
    /// Longest pause between looks.
    pub verify_interval: Duration,
    /// Add activated reserved hosts to the failed host's aggregates.
    pub reserved_host_to_aggregate: bool,
    /// Reason on the failed host's compute service.
    pub disable_reason: String,
    /// Take the host out of maintenance when it reports STARTED.
    pub unset_maintenance_on_started: bool,
    /// Disable the failed host's compute service (Masakari's `disable_compute_service_task`).
    pub disable_compute_service: bool,
    /// Evacuate (Masakari's `evacuate_instances_task`); without it the flow only prepares.
    pub evacuate: bool,
    /// Custom steps before evacuation.
    pub pre: Vec<CustomStep>,
    /// Custom steps after evacuation.
    pub post: Vec<CustomStep>,
}

/// How instance failures are recovered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstancePolicy {
    /// Recover instances that are not HA-enabled too.
    pub process_all_instances: bool,
    /// Metadata key of HA-enabled instances.
    pub ha_enabled_key: String,
    /// Stop/start or hard reboot.
    pub action: InstanceAction,
    /// Deadline for stopping.
    pub power_off_timeout: Duration,
    /// Deadline for starting.
    pub power_on_timeout: Duration,
    /// Longest pause between looks.
    pub verify_interval: Duration,
}

/// How process failures are recovered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessPolicy {
    /// Reason on the compute service when nova-compute fails.
    pub disable_reason: String,
    /// Re-enable when nova-compute comes back.
    pub reenable_on_started: bool,
    /// Deadline for the service to read disabled.
    pub service_timeout: Duration,
    /// Longest pause between looks.
    pub verify_interval: Duration,
}

/// One policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Its name (`default` for the one from the configuration).
    pub name: String,
    /// Host failures.
    pub host: HostPolicy,
    /// Instance failures.
    pub instance: InstancePolicy,
    /// Process failures.
    pub process: ProcessPolicy,
}

/// Why the policies could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file does not parse.
    #[error("reading workflow policies from {path} failed: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A value is not allowed.
    #[error("workflow policy {policy}: {reason}")]
    Invalid {
        /// The policy.
        policy: String,
        /// Why.
        reason: String,
    },
}

/// Why a workflow policy file was not taken.
#[derive(Debug, thiserror::Error)]
pub enum PolicyParseError {
    /// The YAML does not read as policies.
    #[error(transparent)]
    ReadYaml(#[from] serde_yaml::Error),
    /// A custom step says more (or less) than one thing to do.
    #[error("policy {policy}: custom step {step} needs exactly one of run, webhook, wait, until")]
    CustomStepKinds {
        /// The policy.
        policy: String,
        /// The step.
        step: String,
    },
    /// A segment names a policy the file does not define.
    #[error("segment {segment} uses policy {policy}, which is not defined")]
    UndefinedPolicy {
        /// The segment.
        segment: String,
        /// The policy it names.
        policy: String,
    },
}

/// Masakari task names in a `[taskflow_driver_recovery_flows]` list.
fn task_names(list: &str) -> Vec<String> {
    list.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|t| t.ends_with("_task") || *t == "no_op")
        .map(str::to_owned)
        .collect()
}

impl Policy {
    /// The default policy, from the configuration.
    pub fn from_config(c: &Config) -> Result<Self, PolicyError> {
        let name = "default";
        let hf = &c.host_failure;
        let t = &c.engine_timing;
        let auto_tasks = task_names(&c.recovery_flows.host_auto_failure_recovery_tasks);
        let known = [
            "disable_compute_service_task",
            "prepare_HA_enabled_instances_task",
            "evacuate_instances_task",
            "no_op",
        ];
        if let Some(unknown) = auto_tasks.iter().find(|t| !known.contains(&t.as_str())) {
            return Err(PolicyError::Invalid {
                policy: name.into(),
                reason: format!(
                    "Masakari task {unknown} in host_auto_failure_recovery_tasks has no Lifeboat \
                     equivalent; express it as a custom step in the workflow policy file"
                ),
            });
        }
        Ok(Self {
            name: name.into(),
            host: HostPolicy {
                fencing: hf.fencing,
                storm_max_failed_share: hf.storm_max_failed_share,
                storm_window: hf.storm_window.0,
                storm_min_hosts: hf.storm_min_hosts,
                evacuate_all_instances: hf.evacuate_all_instances,
                ignore_instances_in_error_state: hf.ignore_instances_in_error_state,
                ha_enabled_key: hf.ha_enabled_instance_metadata_key.clone(),
                priority_key: hf.priority_metadata_key.clone(),
                placement: hf.auto_placement,
                parallelism: usize::try_from(t.host_failure_recovery_threads.max(1)).unwrap_or(1),
                instance_timeout: t.wait_period_after_evacuation.0,
                verify_interval: t.verify_interval.0,
                reserved_host_to_aggregate: hf.add_reserved_host_to_aggregate,
                disable_reason: hf.service_disable_reason.clone(),
                unset_maintenance_on_started: hf.unset_maintenance_on_host_started,
                disable_compute_service: auto_tasks
                    .iter()
                    .any(|t| t == "disable_compute_service_task"),
                evacuate: auto_tasks.iter().any(|t| t == "evacuate_instances_task"),
                pre: Vec::new(),
                post: Vec::new(),
            },
            instance: InstancePolicy {
                process_all_instances: c.instance_failure.process_all_instances,
                ha_enabled_key: c.instance_failure.ha_enabled_instance_metadata_key.clone(),
                action: c.instance_failure.recovery_action,
                power_off_timeout: t.wait_period_after_power_off.0,
                power_on_timeout: t.wait_period_after_power_on.0,
                verify_interval: t.verify_interval.0,
            },
            process: ProcessPolicy {
                disable_reason: c.process_failure.service_disable_reason.clone(),
                reenable_on_started: c.process_failure.reenable_on_started,
                service_timeout: t.wait_period_after_service_update.0,
                verify_interval: t.verify_interval.0,
            },
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostOverrides {
    fencing: Option<Fencing>,
    storm_max_failed_share: Option<f64>,
    storm_window: Option<u64>,
    storm_min_hosts: Option<u32>,
    evacuate_all_instances: Option<bool>,
    ignore_instances_in_error_state: Option<bool>,
    ha_enabled_instance_metadata_key: Option<String>,
    priority_metadata_key: Option<String>,
    placement: Option<Placement>,
    parallelism: Option<usize>,
    instance_timeout: Option<u64>,
    add_reserved_host_to_aggregate: Option<bool>,
    service_disable_reason: Option<String>,
    unset_maintenance_on_host_started: Option<bool>,
    #[serde(default)]
    pre: Vec<CustomStep>,
    #[serde(default)]
    post: Vec<CustomStep>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InstanceOverrides {
    process_all_instances: Option<bool>,
    ha_enabled_instance_metadata_key: Option<String>,
    action: Option<InstanceAction>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcessOverrides {
    service_disable_reason: Option<String>,
    reenable_on_started: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyOverrides {
    #[serde(default)]
    host_failure: HostOverrides,
    #[serde(default)]
    instance_failure: InstanceOverrides,
    #[serde(default)]
    process_failure: ProcessOverrides,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    policies: HashMap<String, PolicyOverrides>,
    #[serde(default)]
    segments: HashMap<String, String>,
}

macro_rules! apply {
    ($target:expr, $source:expr, $( $field:ident => $into:ident $(via $f:expr)? ),* $(,)?) => {
        $( if let Some(v) = $source.$field.clone() { $target.$into = apply!(@conv v $(, $f)?); } )*
    };
    (@conv $v:expr) => { $v };
    (@conv $v:expr, $f:expr) => { $f($v) };
}

/// Every policy, and which segment uses which.
#[derive(Debug, Clone)]
pub struct Policies {
    default: Policy,
    named: HashMap<String, Policy>,
    segments: HashMap<String, String>,
}

impl Policies {
    /// Only the default policy.
    pub fn only(default: Policy) -> Self {
        Self {
            default,
            named: HashMap::new(),
            segments: HashMap::new(),
        }
    }

    /// The default from `config` plus the policy file at `path`, if it exists.
    pub fn load(config: &Config, path: &Path) -> Result<Self, PolicyError> {
        let default = Policy::from_config(config)?;
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::only(default)),
            Err(e) => {
                return Err(PolicyError::File {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
        };
        Self::parse(default, &text).map_err(|e| PolicyError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    /// The default plus policies written in YAML.
    pub fn parse(default: Policy, text: &str) -> Result<Self, PolicyParseError> {
        let file: PolicyFile = serde_yaml::from_str(text)?;
        let mut named = HashMap::new();
        for (name, o) in file.policies {
            let mut p = default.clone();
            p.name = name.clone();
            let h = &o.host_failure;
            apply!(p.host, h,
                fencing => fencing,
                storm_max_failed_share => storm_max_failed_share,
                storm_window => storm_window via Duration::from_secs,
                storm_min_hosts => storm_min_hosts,
                evacuate_all_instances => evacuate_all_instances,
                ignore_instances_in_error_state => ignore_instances_in_error_state,
                ha_enabled_instance_metadata_key => ha_enabled_key,
                priority_metadata_key => priority_key,
                placement => placement,
                parallelism => parallelism via |v: usize| v.max(1),
                instance_timeout => instance_timeout via Duration::from_secs,
                add_reserved_host_to_aggregate => reserved_host_to_aggregate,
                service_disable_reason => disable_reason,
                unset_maintenance_on_host_started => unset_maintenance_on_started,
            );
            p.host.pre.extend(h.pre.iter().cloned());
            p.host.post.extend(h.post.iter().cloned());
            for step in p.host.pre.iter().chain(&p.host.post) {
                let kinds = usize::from(step.run.is_some())
                    + usize::from(step.webhook.is_some())
                    + usize::from(step.wait.is_some())
                    + usize::from(step.until.is_some());
                if kinds != 1 {
                    return Err(PolicyParseError::CustomStepKinds {
                        policy: name,
                        step: step.name.clone(),
                    });
                }
            }
            let i = &o.instance_failure;
            apply!(p.instance, i,
                process_all_instances => process_all_instances,
                ha_enabled_instance_metadata_key => ha_enabled_key,
                action => action,
            );
            let pr = &o.process_failure;
            apply!(p.process, pr,
                service_disable_reason => disable_reason,
                reenable_on_started => reenable_on_started,
            );
            named.insert(name, p);
        }
        for (segment, policy) in &file.segments {
            if policy != "default" && !named.contains_key(policy) {
                return Err(PolicyParseError::UndefinedPolicy {
                    segment: segment.clone(),
                    policy: policy.clone(),
                });
            }
        }
        Ok(Self {
            default,
            named,
            segments: file.segments,
        })
    }

    /// The policy a segment uses.
    pub fn for_segment(&self, segment_name: &str) -> &Policy {
        self.segments
            .get(segment_name)
            .and_then(|name| self.named.get(name))
            .unwrap_or(&self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default() -> Policy {
        Policy::from_config(&Config::default()).unwrap()
    }

    #[test]
    fn the_default_policy_follows_the_configuration() {
        let p = default();
        assert_eq!(p.host.fencing, Fencing::Auto);
        assert_eq!(p.host.placement, Placement::Segment);
        assert!(p.host.disable_compute_service && p.host.evacuate);
        assert_eq!(p.host.ha_enabled_key, "HA_Enabled");
        assert_eq!(p.instance.action, InstanceAction::StopStart);
    }

    #[test]
    fn a_policy_file_overrides_per_segment_and_adds_custom_steps() {
        let yaml = r#"
policies:
  gold:
    host_failure:
      fencing: required
      parallelism: 20
      post:
        - name: page
          webhook: http://127.0.0.1:1/hook
    instance_failure:
      action: hard_reboot
segments:
  prod: gold
"#;
        let p = Policies::parse(default(), yaml).unwrap();
        let gold = p.for_segment("prod");
        assert_eq!(
            (gold.host.fencing, gold.host.parallelism),
            (Fencing::Required, 20)
        );
        assert_eq!(gold.host.post[0].name, "page");
        assert_eq!(gold.instance.action, InstanceAction::HardReboot);
        assert_eq!(
            gold.host.placement,
            Placement::Segment,
            "unset fields keep the default"
        );
        assert_eq!(p.for_segment("other").name, "default");
        assert!(
            Policies::parse(default(), "segments:\n  prod: missing\n")
                .unwrap_err()
                .to_string()
                .contains("not defined")
        );
        assert!(
            Policies::parse(
                default(),
                "policies:\n  x:\n    host_failure:\n      fencing: sometimes\n"
            )
            .is_err()
        );
        let two_kinds = "policies:\n  x:\n    host_failure:\n      pre:\n        - {name: a, wait: 1, run: [true]}\n";
        assert!(
            Policies::parse(default(), two_kinds)
                .unwrap_err()
                .to_string()
                .contains("exactly one")
        );
    }

    #[test]
    fn the_example_policy_file_parses() {
        let p =
            Policies::parse(default(), include_str!("../../etc/workflow-policies.yaml")).unwrap();
        let gold = p.for_segment("production");
        assert_eq!(gold.host.fencing, Fencing::Required);
        assert_eq!(gold.host.pre[0].until.as_ref().map(Vec::len), Some(2));
        assert!(!gold.host.post[0].aborts_on_failure());
        assert_eq!(p.for_segment("lab-segment").host.fencing, Fencing::Disabled);
    }

    #[test]
    fn masakari_task_lists_map_onto_steps() {
        let mut c = Config::default();
        c.recovery_flows.host_auto_failure_recovery_tasks =
            "pre:['no_op'],main:['prepare_HA_enabled_instances_task'],post:['evacuate_instances_task']".into();
        let p = Policy::from_config(&c).unwrap();
        assert!(!p.host.disable_compute_service && p.host.evacuate);
        c.recovery_flows.host_auto_failure_recovery_tasks = "pre:['my_custom_task']".into();
        assert!(
            Policy::from_config(&c)
                .unwrap_err()
                .to_string()
                .contains("my_custom_task")
        );
    }
}

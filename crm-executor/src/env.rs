//! The environment an OCF agent runs in, built from nothing (the executor's own environment
//! is not passed through) as Pacemaker 2.1.5's executor and controller set it.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::executor::{ExecutorConfig, OpRequest};
use crate::outcome::EXIT_REASON_PREFIX;

/// The variable that tells `crm_attribute` / `crm_master` (the `lifeboat` binary under those
/// names) where the node attribute store is.
pub const ATTRIBUTES_DIR_VAR: &str = "LIFEBOAT_CRM_ATTRIBUTES";
/// The variable that tells them (and `crm_node -n`) the local node's name.
pub const NODE_VAR: &str = "LIFEBOAT_CRM_NODE";
/// The CIB feature set agents are told (Pacemaker 2.1.5's).
pub const CRM_FEATURE_SET: &str = "3.16.1";
/// The search path agents get; the executor's tool directory goes first.
const SYSTEM_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// A clone notification's variables (`OCF_RESKEY_CRM_meta_notify_*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyVars {
    /// `pre` or `post`.
    pub kind: String,
    /// The operation notified about: start, stop, promote, demote.
    pub operation: String,
    /// Instances starting, stopping, promoted, demoted by this transition.
    pub start: Vec<InstanceOn>,
    /// Instances stopping.
    pub stop: Vec<InstanceOn>,
    /// Instances being promoted.
    pub promote: Vec<InstanceOn>,
    /// Instances being demoted.
    pub demote: Vec<InstanceOn>,
    /// Instances active now.
    pub active: Vec<InstanceOn>,
    /// Instances not active.
    pub inactive: Vec<InstanceOn>,
    /// Instances promoted now.
    pub promoted: Vec<InstanceOn>,
    /// Instances unpromoted now.
    pub unpromoted: Vec<InstanceOn>,
    /// Every node of the cluster.
    pub all_nodes: Vec<String>,
    /// Nodes the clone may run on.
    pub available_nodes: Vec<String>,
}

/// A clone instance and its node, in notification lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceOn {
    /// The instance (`rsc:N`).
    pub resource: String,
    /// The node it is (or will be) on.
    pub node: String,
}

/// The whole environment of an OCF agent for `request`, under `timeout`.
pub fn ocf_environment(
    request: &OpRequest,
    provider: &str,
    config: &ExecutorConfig,
    timeout: Duration,
) -> BTreeMap<String, String> {
    let mut env = base_environment(config);
    let ocf_root = config.dirs.ocf_root.display().to_string();
    for (key, value) in &request.params {
        env.insert(format!("OCF_RESKEY_{key}"), value.clone());
    }
    for (key, value) in &request.meta {
        env.insert(meta_var(key), value.clone());
    }
    let instance = request.resource.rsplit_once(':').map(|(_, n)| n);
    if let Some(n) = instance.filter(|n| n.parse::<u32>().is_ok()) {
        env.insert(meta_var("clone"), n.to_owned());
    }
    if let Some(notify) = &request.notify {
        notify_vars(&mut env, notify);
    }
    let fixed = [
        ("OCF_ROOT", ocf_root.clone()),
        ("OCF_FUNCTIONS_DIR", format!("{ocf_root}/lib/heartbeat")),
        ("OCF_RA_VERSION_MAJOR", "1".to_owned()),
        ("OCF_RA_VERSION_MINOR", "1".to_owned()),
        ("OCF_EXIT_REASON_PREFIX", EXIT_REASON_PREFIX.to_owned()),
        ("OCF_OUTPUT_FORMAT", "text".to_owned()),
        ("OCF_RESOURCE_INSTANCE", request.resource.clone()),
        ("OCF_RESOURCE_TYPE", request.agent.kind.clone()),
        ("OCF_RESOURCE_PROVIDER", provider.to_owned()),
        ("OCF_RESKEY_crm_feature_set", CRM_FEATURE_SET.to_owned()),
    ];
    env.extend(fixed.map(|(k, v)| (k.to_owned(), v)));
    let op = [
        ("name", request.action.as_str().to_owned()),
        ("interval", request.interval_ms.to_string()),
        ("timeout", timeout.as_millis().to_string()),
        ("on_node", config.node.clone()),
    ];
    env.extend(op.map(|(k, v)| (meta_var(k), v)));
    if let Some(uuid) = &config.node_uuid {
        env.insert(meta_var("on_node_uuid"), uuid.clone());
    }
    if let Some(level) = request.check_level {
        env.insert("OCF_CHECK_LEVEL".to_owned(), level.to_string());
    }
    env
}

/// What every agent (OCF or LSB) gets: the search path with the executor's tools first, the
/// tools' directory as `HA_SBIN_DIR`, and where the node attribute store is.
pub fn base_environment(config: &ExecutorConfig) -> BTreeMap<String, String> {
    let sbin = config.sbin_dir.display().to_string();
    let mut env = BTreeMap::from([
        ("PATH".to_owned(), format!("{sbin}:{SYSTEM_PATH}")),
        ("HA_SBIN_DIR".to_owned(), sbin),
        (
            ATTRIBUTES_DIR_VAR.to_owned(),
            config.attributes_dir.display().to_string(),
        ),
        (NODE_VAR.to_owned(), config.node.clone()),
        ("LC_ALL".to_owned(), "C".to_owned()),
    ]);
    if let Some(tmp) = &config.rsc_tmp {
        env.insert("HA_RSCTMP".to_owned(), tmp.display().to_string());
    }
    env
}

/// `OCF_RESKEY_CRM_meta_<name>`, dashes turned into underscores (`clone-max` → `clone_max`).
pub fn meta_var(name: &str) -> String {
    format!("OCF_RESKEY_CRM_meta_{}", name.replace('-', "_"))
}

fn notify_vars(env: &mut BTreeMap<String, String>, notify: &NotifyVars) {
    let mut put = |name: &str, value: String| {
        // Pacemaker gives an empty list as one space.
        let value = if value.is_empty() {
            " ".to_owned()
        } else {
            value
        };
        env.insert(meta_var(&format!("notify_{name}")), value);
    };
    put("type", notify.kind.clone());
    put("operation", notify.operation.clone());
    let sets = [
        ("start", &notify.start),
        ("stop", &notify.stop),
        ("promote", &notify.promote),
        ("demote", &notify.demote),
        ("active", &notify.active),
        ("inactive", &notify.inactive),
        ("promoted", &notify.promoted),
        ("unpromoted", &notify.unpromoted),
        // The names agents written before Pacemaker 2.1 read.
        ("master", &notify.promoted),
        ("slave", &notify.unpromoted),
    ];
    for (set, list) in sets {
        let join = |f: fn(&InstanceOn) -> &str| list.iter().map(f).collect::<Vec<_>>().join(" ");
        put(&format!("{set}_resource"), join(|i| &i.resource));
        put(&format!("{set}_uname"), join(|i| &i.node));
    }
    put("all_uname", notify.all_nodes.join(" "));
    put("available_uname", notify.available_nodes.join(" "));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Action, AgentDirs, AgentSpec};

    fn config() -> ExecutorConfig {
        let mut c = ExecutorConfig::new("node1", "/var/lib/lifeboat/crm/tools", "/run/attrs");
        c.dirs = AgentDirs {
            ocf_root: "/usr/lib/ocf".into(),
            lsb_dir: "/etc/init.d".into(),
            systemd: false,
        };
        c.node_uuid = Some("1".into());
        c
    }

    fn request() -> OpRequest {
        let mut r = OpRequest::new(
            "stateful:2",
            AgentSpec {
                class: "ocf".into(),
                provider: Some("pacemaker".into()),
                kind: "Stateful".into(),
            },
            Action::Monitor,
        );
        r.interval_ms = 10_000;
        r.params.insert("state".into(), "/tmp/s".into());
        r.meta.insert("clone-max".into(), "3".into());
        r.meta.insert("promoted-max".into(), "1".into());
        r.meta.insert("on-fail".into(), "restart".into());
        r.check_level = Some(10);
        r
    }

    #[test]
    fn the_environment_is_pacemakers() {
        let env = ocf_environment(&request(), "pacemaker", &config(), Duration::from_secs(20));
        let get = |k: &str| env.get(k).map(String::as_str);
        assert_eq!(get("OCF_ROOT"), Some("/usr/lib/ocf"));
        assert_eq!(get("OCF_FUNCTIONS_DIR"), Some("/usr/lib/ocf/lib/heartbeat"));
        assert_eq!(get("OCF_RA_VERSION_MAJOR"), Some("1"));
        assert_eq!(get("OCF_RA_VERSION_MINOR"), Some("1"));
        assert_eq!(get("OCF_EXIT_REASON_PREFIX"), Some("ocf-exit-reason:"));
        assert_eq!(get("OCF_RESOURCE_INSTANCE"), Some("stateful:2"));
        assert_eq!(get("OCF_RESOURCE_TYPE"), Some("Stateful"));
        assert_eq!(get("OCF_RESOURCE_PROVIDER"), Some("pacemaker"));
        assert_eq!(get("OCF_RESKEY_state"), Some("/tmp/s"));
        assert_eq!(get("OCF_RESKEY_crm_feature_set"), Some("3.16.1"));
        assert_eq!(get("OCF_RESKEY_CRM_meta_name"), Some("monitor"));
        assert_eq!(get("OCF_RESKEY_CRM_meta_interval"), Some("10000"));
        assert_eq!(get("OCF_RESKEY_CRM_meta_timeout"), Some("20000"));
        assert_eq!(get("OCF_RESKEY_CRM_meta_clone"), Some("2"));
        assert_eq!(get("OCF_RESKEY_CRM_meta_clone_max"), Some("3"));
        assert_eq!(get("OCF_RESKEY_CRM_meta_promoted_max"), Some("1"));
        assert_eq!(get("OCF_RESKEY_CRM_meta_on_fail"), Some("restart"));
        assert_eq!(get("OCF_RESKEY_CRM_meta_on_node"), Some("node1"));
        assert_eq!(get("OCF_RESKEY_CRM_meta_on_node_uuid"), Some("1"));
        assert_eq!(get("OCF_CHECK_LEVEL"), Some("10"));
        assert_eq!(get("HA_SBIN_DIR"), Some("/var/lib/lifeboat/crm/tools"));
        assert_eq!(
            get("PATH"),
            Some("/var/lib/lifeboat/crm/tools:/usr/sbin:/usr/bin:/sbin:/bin")
        );
        assert_eq!(get(ATTRIBUTES_DIR_VAR), Some("/run/attrs"));
        assert_eq!(get(NODE_VAR), Some("node1"));
        assert_eq!(
            get("HOME"),
            None,
            "nothing of the executor's own environment"
        );
    }

    #[test]
    fn the_operation_wins_over_meta_attributes_of_the_same_name() {
        let mut r = request();
        r.meta.insert("timeout".into(), "999".into());
        r.meta.insert("interval".into(), "1".into());
        r.resource = "plain".into();
        let env = ocf_environment(&r, "pacemaker", &config(), Duration::from_millis(1500));
        assert_eq!(env["OCF_RESKEY_CRM_meta_timeout"], "1500");
        assert_eq!(env["OCF_RESKEY_CRM_meta_interval"], "10000");
        assert!(
            !env.contains_key("OCF_RESKEY_CRM_meta_clone"),
            "not a clone"
        );
        r.resource = "odd:name".into();
        let env = ocf_environment(&r, "pacemaker", &config(), Duration::from_millis(1500));
        assert!(
            !env.contains_key("OCF_RESKEY_CRM_meta_clone"),
            "no instance number"
        );
        assert!(!env.contains_key("OCF_RESKEY_CRM_meta_notify_type"));
    }

    #[test]
    fn notifications_list_instances_and_nodes() {
        let mut r = request();
        r.action = Action::Notify;
        let on = |resource: &str, node: &str| InstanceOn {
            resource: resource.into(),
            node: node.into(),
        };
        r.notify = Some(NotifyVars {
            kind: "pre".into(),
            operation: "start".into(),
            start: vec![on("stateful:0", "node1"), on("stateful:1", "node2")],
            promoted: vec![on("stateful:2", "node3")],
            all_nodes: vec!["node1".into(), "node2".into(), "node3".into()],
            ..NotifyVars::default()
        });
        let env = ocf_environment(&r, "pacemaker", &config(), Duration::from_secs(5));
        let get = |k: &str| env[&format!("OCF_RESKEY_CRM_meta_notify_{k}")].as_str();
        assert_eq!(get("type"), "pre");
        assert_eq!(get("operation"), "start");
        assert_eq!(get("start_resource"), "stateful:0 stateful:1");
        assert_eq!(get("start_uname"), "node1 node2");
        assert_eq!(get("promoted_resource"), "stateful:2");
        assert_eq!(get("master_uname"), "node3");
        assert_eq!(get("stop_resource"), " ");
        assert_eq!(get("all_uname"), "node1 node2 node3");
        assert_eq!(get("available_uname"), " ");
    }
}

//! The executor with the `lifeboat` binary as the agents' `crm_attribute` / `crm_master`
//! (links in `HA_SBIN_DIR`, `scripts/setup/crm-executor.sh` installs the agents): Pacemaker's
//! and resource-agents' `Stateful` through start, promote, a promoted monitor (8), demote and
//! stop, their promotion scores landing in the executor's node attribute store.

use std::path::Path;

use lifeboat_crm_executor::attributes::{AttributeStore, Lifetime};
use lifeboat_crm_executor::tools::install_links;
use lifeboat_crm_executor::{Action, AgentSpec, Executor, ExecutorConfig, OcfRc, OpRequest};

fn stateful_cycle(provider: &str) {
    let agent = Path::new("/usr/lib/ocf/resource.d")
        .join(provider)
        .join("Stateful");
    assert!(
        agent.is_file(),
        "{} is missing: run scripts/setup/crm-executor.sh",
        agent.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let sbin = dir.path().join("sbin");
    install_links(&sbin, Path::new(env!("CARGO_BIN_EXE_lifeboat"))).unwrap();
    let config = ExecutorConfig::new("node1", &sbin, dir.path().join("attrs"));
    let exec = Executor::new(config);
    let store = AttributeStore::new(dir.path().join("attrs"));
    let spec = AgentSpec {
        class: "ocf".into(),
        provider: Some(provider.into()),
        kind: "Stateful".into(),
    };
    let state = dir.path().join("stateful.state");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let run = |action: Action, interval_ms: u64| {
        let mut r = OpRequest::new("stateful:0", spec.clone(), action);
        r.interval_ms = interval_ms;
        r.params.insert("state".into(), state.display().to_string());
        r.meta.insert("promotable".into(), "true".into());
        r.meta.insert("clone-max".into(), "1".into());
        r.meta.insert("globally-unique".into(), "false".into());
        let result = runtime.block_on(exec.execute(&r)).unwrap();
        // Our tools print `crm_attribute: …` / `crm_master: …` when they refuse.
        assert!(
            !result.stderr.contains("crm_"),
            "{action}: {}",
            result.stderr
        );
        result
    };
    // The score as the scheduler will read it: master-<instance> in the status section.
    let score = || {
        store
            .get(Lifetime::Reboot, "node1", "master-stateful:0")
            .unwrap()
    };
    assert_eq!(run(Action::Monitor, 0).rc, OcfRc::NotRunning, "probe");
    assert_eq!(score(), None);
    let start = run(Action::Start, 0);
    assert_eq!(start.rc, OcfRc::Ok, "{start:?}");
    assert_eq!(
        score().as_deref(),
        Some("5"),
        "unpromoted score after start"
    );
    assert_eq!(run(Action::Monitor, 11_000).rc, OcfRc::Ok);
    assert_eq!(run(Action::Promote, 0).rc, OcfRc::Ok);
    assert_eq!(
        score().as_deref(),
        Some("10"),
        "promoted score after promote"
    );
    assert_eq!(run(Action::Monitor, 10_000).rc, OcfRc::RunningPromoted);
    assert_eq!(run(Action::Demote, 0).rc, OcfRc::Ok);
    assert_eq!(score().as_deref(), Some("5"));
    assert_eq!(run(Action::Monitor, 11_000).rc, OcfRc::Ok);
    assert_eq!(run(Action::Stop, 0).rc, OcfRc::Ok);
    assert_eq!(run(Action::Monitor, 0).rc, OcfRc::NotRunning);
    if provider == "pacemaker" {
        // Pacemaker's agent removes its score when it stops.
        assert_eq!(score(), None, "score deleted at stop");
    }
}

#[test]
fn pacemakers_stateful_sets_its_promotion_score_through_lifeboat() {
    stateful_cycle("pacemaker");
}

#[test]
fn resource_agents_stateful_sets_its_promotion_score_through_lifeboat() {
    stateful_cycle("heartbeat");
}

#[test]
fn the_binary_answers_as_crm_attribute_and_crm_node() {
    let dir = tempfile::tempdir().unwrap();
    let sbin = dir.path().join("sbin");
    install_links(&sbin, Path::new(env!("CARGO_BIN_EXE_lifeboat"))).unwrap();
    let tool = |name: &str, args: &[&str]| {
        std::process::Command::new(sbin.join(name))
            .args(args)
            .env_clear()
            .env("LIFEBOAT_CRM_ATTRIBUTES", dir.path().join("attrs"))
            .env("LIFEBOAT_CRM_NODE", "node7")
            .output()
            .unwrap()
    };
    let set = tool(
        "crm_attribute",
        &["-N", "node2", "-n", "pingd", "-v", "100"],
    );
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let get = tool("crm_attribute", &["-N", "node2", "-n", "pingd", "-G", "-q"]);
    assert_eq!(String::from_utf8_lossy(&get.stdout), "100\n");
    let missing = tool("crm_attribute", &["-N", "node2", "-n", "nope", "-G"]);
    assert_eq!(missing.status.code(), Some(105));
    let node = tool("crm_node", &["-n"]);
    assert_eq!(String::from_utf8_lossy(&node.stdout), "node7\n");
    let usage = tool("crm_master", &["-v", "1"]);
    assert_eq!(usage.status.code(), Some(64), "no resource");
}

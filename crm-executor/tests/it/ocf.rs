use std::path::Path;
use std::time::Duration;

use lifeboat_crm_executor::{Action, AgentSpec, ExecError, OcfRc, OpStatus};

use crate::support::{OCF_ROOT, executor, group_gone, installed, ocf, request, script};

#[tokio::test]
async fn dummy_starts_monitors_and_stops() {
    installed("heartbeat", "Dummy");
    let dir = tempfile::tempdir().unwrap();
    let exec = executor(dir.path(), Path::new(OCF_ROOT));
    let dummy = ocf("heartbeat", "Dummy");
    let state = dir.path().join("dummy1.state");
    let state_param = state.to_str().unwrap();
    let run = |action: Action| {
        let r = request("dummy1", &dummy, action, &[("state", state_param)]);
        let exec = &exec;
        async move { exec.execute(&r).await.unwrap() }
    };
    let probe = run(Action::Monitor).await;
    assert_eq!(
        (probe.status, probe.rc),
        (OpStatus::Done, OcfRc::NotRunning)
    );
    let start = run(Action::Start).await;
    assert!(start.succeeded(), "{start:?}");
    assert!(state.exists(), "Dummy keeps its state where it was told");
    assert_eq!(run(Action::Monitor).await.rc, OcfRc::Ok);
    assert_eq!(
        run(Action::Start).await.rc,
        OcfRc::Ok,
        "start is idempotent"
    );
    assert_eq!(run(Action::Stop).await.rc, OcfRc::Ok);
    assert!(!state.exists());
    assert_eq!(run(Action::Monitor).await.rc, OcfRc::NotRunning);
    assert_eq!(run(Action::Stop).await.rc, OcfRc::Ok, "stop is idempotent");
    let validate = run(Action::ValidateAll).await;
    assert_eq!(validate.rc, OcfRc::Ok);
    assert_eq!(
        start.timeout,
        Duration::from_secs(20),
        "Dummy's own start timeout"
    );
}

#[tokio::test]
async fn dummys_meta_data_is_read_from_the_agent() {
    installed("heartbeat", "Dummy");
    let dir = tempfile::tempdir().unwrap();
    let exec = executor(dir.path(), Path::new(OCF_ROOT));
    let m = exec.metadata(&ocf("heartbeat", "Dummy")).await.unwrap();
    assert_eq!(m.name, "Dummy");
    let state = m.parameter("state").expect("Dummy has a state parameter");
    assert!(state.unique && !state.required);
    assert!(
        state
            .default
            .as_deref()
            .is_some_and(|d| d.ends_with(".state"))
    );
    assert_eq!(
        m.parameter("fake").and_then(|p| p.default.as_deref()),
        Some("dummy")
    );
    let monitor = m.actions.iter().find(|a| a.name == "monitor").unwrap();
    assert_eq!(monitor.interval, Some(Duration::from_secs(10)));
    assert_eq!(monitor.timeout, Some(Duration::from_secs(20)));
    for name in [
        "start",
        "stop",
        "migrate_to",
        "migrate_from",
        "meta-data",
        "validate-all",
    ] {
        assert!(m.actions.iter().any(|a| a.name == name), "{name}");
    }
    let again = exec.metadata(&ocf("heartbeat", "Dummy")).await.unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&m, &again),
        "asked once, then remembered"
    );
}

#[tokio::test]
async fn a_missing_agent_is_not_installed() {
    let dir = tempfile::tempdir().unwrap();
    let exec = executor(dir.path(), Path::new(OCF_ROOT));
    let r = request("x", &ocf("heartbeat", "NoSuchAgent"), Action::Start, &[]);
    let result = exec.execute(&r).await.unwrap();
    assert_eq!(
        (result.status, result.rc),
        (OpStatus::NotInstalled, OcfRc::NotInstalled)
    );
    assert!(
        result
            .exit_reason
            .unwrap()
            .contains("NoSuchAgent is not installed")
    );
    let r = request("x", &ocf("nobody", "Dummy"), Action::Monitor, &[]);
    assert_eq!(
        exec.execute(&r).await.unwrap().status,
        OpStatus::NotInstalled
    );
}

/// A test agent in a temporary OCF_ROOT.
fn test_agent(root: &Path, kind: &str, body: &str) -> AgentSpec {
    script(
        &root.join("resource.d/test").join(kind),
        &format!("#!/bin/sh\n{body}\n"),
    );
    ocf("test", kind)
}

#[tokio::test]
async fn a_hanging_agent_and_its_children_are_killed_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ocf");
    let pids = dir.path().join("pids");
    // It ignores SIGTERM (its child too), so only SIGKILL to the group ends them.
    let hang = test_agent(
        &root,
        "Hang",
        &format!(
            "trap '' TERM\necho $$ > {0}\nsleep 300 &\necho $! >> {0}\nwait\nwait\nexit 0",
            pids.display()
        ),
    );
    let exec = executor(dir.path(), &root);
    let mut r = request("hang", &hang, Action::Start, &[]);
    r.timeout_ms = Some(1000);
    let result = exec.execute(&r).await.unwrap();
    assert_eq!(
        (result.status, result.rc),
        (OpStatus::Timeout, OcfRc::Generic)
    );
    assert_eq!(result.timeout, Duration::from_secs(1));
    // SIGTERM was ignored: SIGKILL came after the grace (500 ms here).
    assert!(
        result.duration >= Duration::from_millis(1500),
        "{:?}",
        result.duration
    );
    assert!(
        result.duration < Duration::from_secs(5),
        "{:?}",
        result.duration
    );
    let text = std::fs::read_to_string(&pids).unwrap();
    let ids: Vec<i32> = text.lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(ids.len(), 2, "the agent and its child: {text}");
    // The agent leads its own group, and its child is in it.
    assert!(
        group_gone(ids[0], Duration::from_secs(5)).await,
        "group {} still there",
        ids[0]
    );
}

#[tokio::test]
async fn an_agent_that_heeds_sigterm_is_not_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ocf");
    let hang = test_agent(&root, "Sleepy", "sleep 300 &\nwait");
    let mut config = executor(dir.path(), &root).config().clone();
    config.kill_grace = Duration::from_secs(5);
    let exec = lifeboat_crm_executor::Executor::new(config);
    let mut r = request("sleepy", &hang, Action::Monitor, &[]);
    r.timeout_ms = Some(500);
    let result = exec.execute(&r).await.unwrap();
    assert_eq!(result.status, OpStatus::Timeout);
    assert!(
        result.duration < Duration::from_secs(4),
        "{:?}: SIGTERM ended it",
        result.duration
    );
}

#[tokio::test]
async fn the_agents_meta_data_times_an_operation_the_configuration_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ocf");
    let slow = test_agent(
        &root,
        "Slow",
        r#"case "$1" in
meta-data) cat <<END
<?xml version="1.0"?>
<resource-agent name="Slow"><parameters/><actions><action name="start" timeout="1s"/><action name="meta-data" timeout="5s"/></actions></resource-agent>
END
exit 0;;
start) exec sleep 30;;
*) exit 3;;
esac"#,
    );
    let exec = executor(dir.path(), &root);
    let result = exec
        .execute(&request("slow", &slow, Action::Start, &[]))
        .await
        .unwrap();
    assert_eq!(result.status, OpStatus::Timeout);
    assert_eq!(
        result.timeout,
        Duration::from_secs(1),
        "meta-data's start timeout"
    );
    let bogus = exec
        .execute(&request("slow", &slow, Action::Promote, &[]))
        .await
        .unwrap();
    assert_eq!(bogus.rc, OcfRc::Unimplemented);
    assert_eq!(
        bogus.timeout,
        Duration::from_secs(20),
        "neither op nor meta-data: 20 s"
    );
}

#[tokio::test]
async fn the_agent_gets_the_ocf_environment_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ocf");
    let dump = dir.path().join("env");
    let agent = test_agent(
        &root,
        "Env",
        &format!(
            "env > {}\necho 'ocf-exit-reason:no such config' >&2\nexit 6",
            dump.display()
        ),
    );
    let exec = executor(dir.path(), &root);
    let mut r = request("env:1", &agent, Action::Monitor, &[("ip", "10.0.0.1")]);
    r.interval_ms = 5000;
    r.timeout_ms = Some(3000);
    r.meta.insert("clone-node-max".into(), "1".into());
    let result = exec.execute(&r).await.unwrap();
    assert_eq!(
        (result.status, result.rc),
        (OpStatus::Done, OcfRc::NotConfigured)
    );
    assert_eq!(result.exit_code, Some(6));
    assert_eq!(result.exit_reason.as_deref(), Some("no such config"));
    let env = std::fs::read_to_string(&dump).unwrap();
    let root_text = root.display().to_string();
    for line in [
        format!("OCF_ROOT={root_text}"),
        "OCF_RESOURCE_INSTANCE=env:1".to_owned(),
        "OCF_RESOURCE_TYPE=Env".to_owned(),
        "OCF_RESOURCE_PROVIDER=test".to_owned(),
        "OCF_RESKEY_ip=10.0.0.1".to_owned(),
        "OCF_RESKEY_CRM_meta_clone=1".to_owned(),
        "OCF_RESKEY_CRM_meta_clone_node_max=1".to_owned(),
        "OCF_RESKEY_CRM_meta_interval=5000".to_owned(),
        "OCF_RESKEY_CRM_meta_timeout=3000".to_owned(),
        "OCF_RESKEY_CRM_meta_name=monitor".to_owned(),
        format!("HA_SBIN_DIR={}", dir.path().join("sbin").display()),
    ] {
        assert!(env.lines().any(|l| l == line), "{line} missing from\n{env}");
    }
    assert!(
        !env.lines()
            .any(|l| l.starts_with("HOME=") || l.starts_with("CARGO")),
        "{env}"
    );
}

#[tokio::test]
async fn output_is_kept_up_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ocf");
    let agent = test_agent(
        &root,
        "Loud",
        "head -c 300000 /dev/zero | tr '\\0' x\nexit 0",
    );
    let mut exec_config = executor(dir.path(), &root).config().clone();
    exec_config.output_limit = 1000;
    let exec = lifeboat_crm_executor::Executor::new(exec_config);
    let mut r = request("loud", &agent, Action::Start, &[]);
    r.timeout_ms = Some(10_000);
    let result = exec.execute(&r).await.unwrap();
    assert!(
        result.succeeded(),
        "the agent was not blocked on a full pipe: {result:?}"
    );
    assert_eq!(result.stdout.len(), 1000);
    assert!(result.truncated);
}

#[tokio::test]
async fn stonith_resources_are_for_the_fence_crate() {
    let dir = tempfile::tempdir().unwrap();
    let exec = executor(dir.path(), Path::new(OCF_ROOT));
    let fence = AgentSpec {
        class: "stonith".into(),
        provider: None,
        kind: "fence_ipmilan".into(),
    };
    let e = exec
        .execute(&request("fence-n1", &fence, Action::Start, &[]))
        .await
        .unwrap_err();
    assert!(matches!(&e, ExecError::RunStonith { agent, .. } if agent == "fence_ipmilan"));
    assert!(e.to_string().contains("runs through the fence crate"));
}

#[tokio::test]
async fn a_cancelled_action_takes_its_process_group_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ocf");
    let pids = dir.path().join("pids");
    let agent = test_agent(
        &root,
        "Long",
        &format!("echo $$ > {}\nsleep 300 &\nwait", pids.display()),
    );
    let exec = std::sync::Arc::new(executor(dir.path(), &root));
    let mut r = request("long", &agent, Action::Start, &[]);
    r.timeout_ms = Some(60_000);
    let task = tokio::spawn({
        let exec = exec.clone();
        async move { exec.execute(&r).await }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !pids.exists() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pgid: i32 = std::fs::read_to_string(&pids)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(lifeboat_crm_executor::process::group_exists(pgid));
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert!(
        group_gone(pgid, Duration::from_secs(5)).await,
        "group {pgid} outlived its action"
    );
}

#[tokio::test]
async fn meta_data_that_fails_or_is_not_xml_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ocf");
    let failing = test_agent(&root, "NoMeta", "echo 'ocf-exit-reason:broken' >&2\nexit 1");
    let garbage = test_agent(&root, "Garbage", "echo 'not xml'\nexit 0");
    let exec = executor(dir.path(), &root);
    let e = exec.metadata(&failing).await.unwrap_err();
    assert!(
        matches!(&e, ExecError::RunMetadata { rc: 1, reason, .. } if reason == "broken"),
        "{e}"
    );
    let e = exec.metadata(&garbage).await.unwrap_err();
    assert!(matches!(e, ExecError::ReadMetadata { .. }), "{e}");
    let lsb = AgentSpec {
        class: "lsb".into(),
        provider: None,
        kind: "svc".into(),
    };
    let e = exec.metadata(&lsb).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "fetch meta-data of lsb:svc: only OCF agents have meta-data"
    );
    // Its actions still run, under the default timeout.
    let r = exec
        .execute(&request("x", &garbage, Action::Start, &[]))
        .await
        .unwrap();
    assert_eq!((r.rc, r.timeout), (OcfRc::Ok, Duration::from_secs(20)));
}

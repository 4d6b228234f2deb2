//! The recovery engine end to end: `lifeboat serve` against a real Nova (fake virt driver).
//! One Nova serves every scenario, in order (starting Nova costs ~20 s); each scenario uses its
//! own segment.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::nova::Novasim;
use crate::support::{Server, free_port};

/// Lifeboat's API, as the tests drive it.
struct Ha {
    base: String,
    http: reqwest::Client,
}

impl Ha {
    fn new(server: &Server) -> Self {
        Self {
            base: server.url(),
            http: reqwest::Client::new(),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("OpenStack-API-Version", "instance-ha 1.4");
        if let Some(b) = body {
            r = r.json(&b);
        }
        let response = r.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn segment(&self, name: &str, method: &str) -> String {
        let (status, body) = self
            .call(Method::POST, "/v1/segments", Some(json!({"segment": {"name": name, "recovery_method": method, "service_type": "COMPUTE"}})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["segment"]["uuid"].as_str().unwrap().to_owned()
    }

    async fn host(&self, segment: &str, name: &str, reserved: bool) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                &format!("/v1/segments/{segment}/hosts"),
                Some(json!({"host": {"name": name, "type": "COMPUTE", "control_attributes": "SSH", "reserved": reserved}})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["host"]["uuid"].as_str().unwrap().to_owned()
    }

    async fn host_state(&self, segment: &str, host: &str) -> Value {
        self.call(
            Method::GET,
            &format!("/v1/segments/{segment}/hosts/{host}"),
            None,
        )
        .await
        .1["host"]
            .clone()
    }

    async fn notify(&self, kind: &str, host: &str, payload: Value) -> String {
        let generated = crate::support::generated_now();
        let (status, body) = self
            .call(
                Method::POST,
                "/v1/notifications",
                Some(json!({"notification": {"type": kind, "hostname": host, "generated_time": generated, "payload": payload}})),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        body["notification"]["notification_uuid"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn host_down(&self, host: &str) -> String {
        self.notify(
            "COMPUTE_HOST",
            host,
            json!({"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"}),
        )
        .await
    }

    /// Kills `host`'s nova-compute and reports the host down.
    async fn host_fails(&self, nova: &mut Novasim, host: &str) -> String {
        nova.kill(host).await;
        self.host_down(host).await
    }

    /// Waits until the notification is in error with a message that says `why`.
    async fn ends_in_error(&self, id: &str, why: &str, timeout: Duration) {
        let failed = self.wait(id, &["error"], timeout).await;
        assert!(
            failed["message"].as_str().unwrap().contains(why),
            "{failed:#}"
        );
    }

    /// Waits until the notification's recovery ended, however it ended.
    async fn settled(&self, id: &str) -> Value {
        self.wait(
            id,
            &["finished", "error", "failed"],
            Duration::from_secs(240),
        )
        .await
    }

    async fn notification(&self, id: &str) -> Value {
        self.call(Method::GET, &format!("/v1/notifications/{id}"), None)
            .await
            .1["notification"]
            .clone()
    }

    /// Waits until the notification reaches one of `statuses`.
    async fn wait(&self, id: &str, statuses: &[&str], timeout: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let n = self.notification(id).await;
            if statuses.contains(&n["status"].as_str().unwrap_or_default()) {
                return n;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "notification {id} stayed {}: {n:#}",
                n["status"]
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    async fn vmoves(&self, id: &str) -> Vec<Value> {
        self.call(Method::GET, &format!("/v1/notifications/{id}/vmoves"), None)
            .await
            .1["vmoves"]
            .as_array()
            .unwrap()
            .clone()
    }

    async fn delete_segment(&self, segment: &str) {
        let (status, body) = self
            .call(Method::DELETE, &format!("/v1/segments/{segment}"), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
}

fn step_states(n: &Value) -> Vec<(String, String)> {
    n["recovery_workflow_details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn lifeboat_config(nova: &Novasim, hooks: &Hooks) -> String {
    format!(
        "[nova]\nendpoint_override = {}\ntoken = {}\n[engine]\nlease = 4\npoll_interval = 1\nretry_backoff = 2\nmax_attempts = 5\nworkflow_policy_file = {}\n",
        nova.url,
        nova.token,
        hooks.policy_file.display()
    )
}

/// The workflow policies the policy scenarios use, and the webhook their custom steps call.
struct Hooks {
    dir: tempfile::TempDir,
    policy_file: std::path::PathBuf,
    received: Arc<Mutex<Vec<Value>>>,
}

impl Hooks {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook = format!("http://{}/hook", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| async move {
                sink.lock().unwrap().push(body);
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let policy_file = dir.path().join("workflow-policies.yaml");
        std::fs::write(
            &policy_file,
            format!(
                r#"policies:
  custom:
    host_failure:
      pre:
        - name: record-environment
          run: [sh, -c, 'echo "$LIFEBOAT_HOST $LIFEBOAT_SEGMENT $LIFEBOAT_EVENT" > {d}/pre.txt']
        - name: wait-for-storage-fence
          until: [test, -e, {d}/storage-fenced]
          interval: 1
          timeout: 120
      post:
        - name: tell-oncall
          webhook: {hook}
  storm:
    host_failure:
      storm_max_failed_share: 0.2
      storm_min_hosts: 3
segments:
  custom-seg: custom
  storm-seg: storm
"#
            ),
        )
        .unwrap();
        Self {
            dir,
            policy_file,
            received,
        }
    }
}

/// Servers that are ACTIVE on one of `hosts` and not elsewhere.
async fn assert_active_on(nova: &Novasim, ids: &[String], hosts: &[&str]) -> HashSet<String> {
    let mut used = HashSet::new();
    for id in ids {
        let s = nova.server(id).await;
        let host = s["OS-EXT-SRV-ATTR:host"].as_str().unwrap().to_owned();
        assert_eq!(s["status"], "ACTIVE", "{id}: {s}");
        assert!(
            hosts.contains(&host.as_str()),
            "{id} is on {host}, not on {hosts:?}"
        );
        used.insert(host);
    }
    used
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_against_a_real_nova() {
    let mut nova = Novasim::start(&["compute-1", "compute-2", "compute-3", "compute-4"]).await;
    let hooks = Hooks::start().await;
    let server = Server::start_on(free_port(), &lifeboat_config(&nova, &hooks)).await;
    let ha = Ha::new(&server);

    // Host names are checked against Nova's compute services when Nova is configured.
    let seg = ha.segment("auto-seg", "auto").await;
    let (status, body) = ha
        .call(Method::POST, &format!("/v1/segments/{seg}/hosts"), Some(json!({"host": {"name": "compute-9", "type": "COMPUTE", "control_attributes": "SSH"}})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["badRequest"]["message"],
        "Compute service with name compute-9 could not be found."
    );

    // --- auto: 20 instances of a dead host come back ACTIVE on the segment's other hosts.
    let failed_host = ha.host(&seg, "compute-1", false).await;
    ha.host(&seg, "compute-2", false).await;
    ha.host(&seg, "compute-3", false).await;
    let mut ids = nova
        .boot("compute-1", "auto", 16, json!({"HA_Enabled": "True"}))
        .await;
    ids.extend(nova.boot("compute-1", "plain", 4, json!({})).await);
    nova.kill("compute-1").await;
    let started = tokio::time::Instant::now();
    let n = ha.host_down("compute-1").await;
    let done = ha.settled(&n).await;
    let took = started.elapsed();
    assert_eq!(
        done["status"],
        "finished",
        "{done:#}\n{}\nNova logs: {}",
        server.log(),
        nova.logs
    );
    let used = assert_active_on(&nova, &ids, &["compute-2", "compute-3"]).await;
    assert_eq!(used.len(), 2, "the load is spread over the segment");
    let service = nova.service("compute-1").await;
    assert_eq!(
        (service["forced_down"].clone(), service["status"].clone()),
        (json!(true), json!("disabled"))
    );
    assert_eq!(service["disabled_reason"], "Masakari detected host failed.");
    let moves = ha.vmoves(&n).await;
    assert_eq!(moves.len(), 20);
    assert!(
        moves.iter().all(|m| m["status"] == "succeeded"
            && m["dest_host"].is_string()
            && m["end_time"].is_string()),
        "{moves:#?}"
    );
    let steps = step_states(&done);
    let names: Vec<&str> = steps.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "StormGuardTask",
            "SetHostMaintenanceTask",
            "FenceHostTask",
            "DisableComputeServiceTask",
            "PrepareHAEnabledInstancesTask",
            "EvacuateInstancesTask"
        ]
    );
    assert_eq!(steps[2].1, "SKIPPED", "no fence device is configured");
    assert!(
        steps
            .iter()
            .filter(|(n, _)| n != "FenceHostTask")
            .all(|(_, s)| s == "SUCCESS"),
        "{steps:?}"
    );
    assert_eq!(
        ha.host_state(&seg, &failed_host).await["on_maintenance"],
        true
    );
    let counts = nova.evacuations().await;
    assert!(
        ids.iter().all(|id| counts.get(id) == Some(&1)),
        "each instance evacuated exactly once: {counts:?}"
    );
    eprintln!("auto: 20 instances recovered in {took:?}");

    // The host comes back: it reports STARTED (accepted although in maintenance: its recovery
    // put it there) and leaves maintenance.
    nova.revive("compute-1").await;
    nova.reinstate("compute-1").await;
    let back = ha
        .notify(
            "COMPUTE_HOST",
            "compute-1",
            json!({"event": "STARTED", "host_status": "NORMAL", "cluster_status": "ONLINE"}),
        )
        .await;
    ha.wait(&back, &["finished"], Duration::from_secs(30)).await;
    assert_eq!(
        ha.host_state(&seg, &failed_host).await["on_maintenance"],
        false
    );
    ha.delete_segment(&seg).await;

    // Scenarios share this Nova; each leaves its hosts running, reinstated and empty of segments.
    reserved_host_with_rollback(&mut nova, &ha).await;
    rh_priority_falls_back_to_auto(&mut nova, &ha).await;
    auto_priority_falls_back_to_reserved_host(&mut nova, &ha).await;
    instance_and_process_failures(&mut nova, &ha, &server).await;
    nova_down_then_back(&mut nova, &ha).await;
    nova_answering_500(&mut nova, &ha).await;
    custom_steps_run_in_order(&mut nova, &ha, &hooks).await;
    storm_guard_waits_for_an_operator(&mut nova, &ha).await;
    engine_crash_mid_evacuation(&mut nova, &ha, server).await;
    drop(nova);
}

/// A host failed and was recovered: bring it back for the next scenario.
async fn recovered(nova: &mut Novasim, ha: &Ha, host: &str) {
    nova.revive(host).await;
    nova.reinstate(host).await;
    let back = ha
        .notify(
            "COMPUTE_HOST",
            host,
            json!({"event": "STARTED", "host_status": "NORMAL", "cluster_status": "ONLINE"}),
        )
        .await;
    ha.wait(&back, &["finished"], Duration::from_secs(30)).await;
}

/// A reserved host whose nova-compute is dead.
async fn kill_spare(nova: &mut Novasim, host: &str) {
    nova.disable(host).await;
    nova.kill(host).await;
    nova.wait_service_state(host, "down").await;
}

/// `host` fails; its instances must end ACTIVE on `onto`. Returns the notification and how it
/// ended.
async fn host_recovers(nova: &mut Novasim, ha: &Ha, host: &str, onto: &[&str]) -> (String, Value) {
    let ids = nova.servers_on(host).await;
    assert!(!ids.is_empty(), "{host} has no instances to recover");
    let n = ha.host_fails(nova, host).await;
    let done = ha.settled(&n).await;
    assert_eq!(done["status"], "finished", "{done:#}");
    assert_active_on(nova, &ids, onto).await;
    (n, done)
}

/// `reserved_host`: the first spare is dead, so its activation is rolled back (it is reserved
/// and disabled again) and the second spare takes the instances.
async fn reserved_host_with_rollback(nova: &mut Novasim, ha: &Ha) {
    let seg = ha.segment("rh-seg", "reserved_host").await;
    ha.host(&seg, "compute-2", false).await;
    let dead_spare = ha.host(&seg, "compute-1", true).await;
    let good_spare = ha.host(&seg, "compute-4", true).await;
    nova.disable("compute-4").await;
    // compute-1 sorts first: it is dead, so using it fails.
    kill_spare(nova, "compute-1").await;
    let (_, done) = host_recovers(nova, ha, "compute-2", &["compute-4"]).await;
    assert!(
        done["message"].as_str().unwrap().contains("reserved_host"),
        "{done:#}"
    );
    // The dead spare went back in reserve; the good one is in service now.
    let dead = ha.host_state(&seg, &dead_spare).await;
    assert_eq!(dead["reserved"], true, "{dead}");
    assert_eq!(nova.service("compute-1").await["status"], "disabled");
    let good = ha.host_state(&seg, &good_spare).await;
    assert_eq!(good["reserved"], false, "{good}");
    assert_eq!(nova.service("compute-4").await["status"], "enabled");
    let details = serde_json::to_string(&done["recovery_workflow_details"]).unwrap();
    assert!(details.contains("putting it back in reserve"), "{details}");
    recovered(nova, ha, "compute-2").await;
    nova.revive("compute-1").await;
    nova.reinstate("compute-1").await;
    ha.delete_segment(&seg).await;
}

/// `rh_priority`: no usable spare, so the instances go `auto` to the segment's other host.
async fn rh_priority_falls_back_to_auto(nova: &mut Novasim, ha: &Ha) {
    let seg = ha.segment("rhp-seg", "rh_priority").await;
    ha.host(&seg, "compute-3", false).await;
    ha.host(&seg, "compute-2", false).await;
    ha.host(&seg, "compute-1", true).await;
    kill_spare(nova, "compute-1").await;
    let (n, done) = host_recovers(nova, ha, "compute-3", &["compute-2"]).await;
    assert!(
        done["message"]
            .as_str()
            .unwrap()
            .contains("reserved_host then auto"),
        "{done:#}"
    );
    let evacuate_steps: Vec<_> = step_states(&done)
        .into_iter()
        .filter(|(n, _)| n == "EvacuateInstancesTask")
        .collect();
    assert_eq!(evacuate_steps.len(), 2, "one step per method tried");
    // Masakari counts the first method's failed moves against the fallback's success; we do not.
    assert!(
        ha.vmoves(&n)
            .await
            .iter()
            .all(|m| m["status"] == "succeeded")
    );
    recovered(nova, ha, "compute-3").await;
    nova.revive("compute-1").await;
    nova.reinstate("compute-1").await;
    ha.delete_segment(&seg).await;
}

/// `auto_priority`: the segment has no other host with room, so its spare is used; Nova's API
/// blinking while the instances move does not fail them.
async fn auto_priority_falls_back_to_reserved_host(nova: &mut Novasim, ha: &Ha) {
    let seg = ha.segment("ap-seg", "auto_priority").await;
    ha.host(&seg, "compute-2", false).await;
    ha.host(&seg, "compute-1", true).await;
    nova.disable("compute-1").await;
    let ids = nova.servers_on("compute-2").await;
    assert!(!ids.is_empty());
    let n = ha.host_fails(nova, "compute-2").await;
    // Nova's API goes away once every evacuation is issued: the engine keeps looking.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let issued = |moves: &[Value]| {
        moves.len() == ids.len()
            && moves
                .iter()
                .all(|m| m["status"] == "ongoing" || m["status"] == "succeeded")
    };
    while !issued(&ha.vmoves(&n).await) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:#?}",
            ha.vmoves(&n).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    nova.stop_api().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    nova.start_api().await;
    let done = ha.settled(&n).await;
    assert_eq!(done["status"], "finished", "{done:#}");
    assert_active_on(nova, &ids, &["compute-1"]).await;
    assert!(
        done["message"]
            .as_str()
            .unwrap()
            .contains("auto then reserved_host"),
        "{done:#}"
    );
    recovered(nova, ha, "compute-2").await;
    ha.delete_segment(&seg).await;
}

/// An HA-enabled instance that stopped is started again; one that is not HA-enabled is left
/// alone. nova-compute stopping disables the compute service; it coming back enables it.
async fn instance_and_process_failures(nova: &mut Novasim, ha: &Ha, server: &Server) {
    let seg = ha.segment("vm-seg", "auto").await;
    let host3 = ha.host(&seg, "compute-3", false).await;
    let ha_vm = nova
        .boot("compute-3", "ha-vm", 1, json!({"HA_Enabled": "True"}))
        .await
        .remove(0);
    let plain_vm = nova
        .boot("compute-3", "plain-vm", 1, json!({}))
        .await
        .remove(0);
    for vm in [&ha_vm, &plain_vm] {
        nova.stop_server(vm).await;
    }
    let event = |vm: &str| json!({"event": "LIFECYCLE", "instance_uuid": vm, "vir_domain_event": "STOPPED_FAILED"});
    let n = ha.notify("VM", "compute-3", event(&ha_vm)).await;
    let done = ha
        .wait(
            &n,
            &["finished", "error", "failed"],
            Duration::from_secs(120),
        )
        .await;
    assert_eq!(done["status"], "finished", "{done:#}\n{}", server.log());
    let steps = step_states(&done);
    assert_eq!(
        steps,
        [
            ("StopInstanceTask", "SUCCESS"),
            ("StartInstanceTask", "SUCCESS"),
            ("ConfirmInstanceActiveTask", "SUCCESS")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert_eq!(nova.server(&ha_vm).await["status"], "ACTIVE");
    let n = ha.notify("VM", "compute-3", event(&plain_vm)).await;
    let done = ha
        .wait(
            &n,
            &["finished", "error", "failed"],
            Duration::from_secs(60),
        )
        .await;
    assert!(
        done["message"].as_str().unwrap().contains("not HA-enabled"),
        "{done:#}"
    );
    assert_eq!(nova.server(&plain_vm).await["status"], "SHUTOFF");

    // nova-compute stops: the compute service is disabled, the host goes to maintenance.
    let down = ha
        .notify(
            "PROCESS",
            "compute-3",
            json!({"event": "STOPPED", "process_name": "nova-compute"}),
        )
        .await;
    let done = ha
        .wait(
            &down,
            &["finished", "error", "failed"],
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(done["status"], "finished", "{done:#}");
    assert!(
        step_states(&done).iter().all(|(_, s)| s == "SUCCESS"),
        "{done:#}"
    );
    let service = nova.service("compute-3").await;
    assert_eq!(
        (
            service["status"].clone(),
            service["disabled_reason"].clone()
        ),
        (
            json!("disabled"),
            json!("Masakari detected process failed.")
        )
    );
    assert_eq!(ha.host_state(&seg, &host3).await["on_maintenance"], true);
    // Another process failing leaves the host alone (Masakari puts it in maintenance).
    let other = ha
        .notify(
            "PROCESS",
            "compute-3",
            json!({"event": "STARTED", "process_name": "nova-compute"}),
        )
        .await;
    ha.wait(&other, &["finished"], Duration::from_secs(60))
        .await;
    assert_eq!(nova.service("compute-3").await["status"], "enabled");
    assert_eq!(ha.host_state(&seg, &host3).await["on_maintenance"], false);
    let libvirt = ha
        .notify(
            "PROCESS",
            "compute-3",
            json!({"event": "STOPPED", "process_name": "libvirtd"}),
        )
        .await;
    ha.wait(&libvirt, &["finished"], Duration::from_secs(60))
        .await;
    assert_eq!(ha.host_state(&seg, &host3).await["on_maintenance"], false);
    ha.delete_segment(&seg).await;
}

/// Nova unreachable: the notification ends in error saying so, is retried, and finishes once
/// Nova is back.
async fn nova_down_then_back(nova: &mut Novasim, ha: &Ha) {
    let seg = ha.segment("nova-down-seg", "auto").await;
    ha.host(&seg, "compute-4", false).await;
    nova.stop_api().await;
    let n = ha
        .notify(
            "PROCESS",
            "compute-4",
            json!({"event": "STOPPED", "process_name": "nova-compute"}),
        )
        .await;
    ha.ends_in_error(&n, "Nova is unreachable", Duration::from_secs(60))
        .await;
    nova.start_api().await;
    let done = ha.wait(&n, &["finished"], Duration::from_secs(90)).await;
    assert_eq!(
        nova.service("compute-4").await["status"],
        "disabled",
        "{done:#}"
    );
    nova.reinstate("compute-4").await;
    let back = ha
        .notify(
            "PROCESS",
            "compute-4",
            json!({"event": "STARTED", "process_name": "nova-compute"}),
        )
        .await;
    ha.wait(&back, &["finished"], Duration::from_secs(60)).await;
    ha.delete_segment(&seg).await;
}

/// Nova answering 500 (its request specs table hidden, so nova-api fails every evacuation): the
/// notification ends in error naming Nova's answer, is retried, and finishes once Nova is whole.
async fn nova_answering_500(nova: &mut Novasim, ha: &Ha) {
    let seg = ha.segment("nova-500-seg", "auto").await;
    ha.host(&seg, "compute-4", false).await;
    ha.host(&seg, "compute-3", false).await;
    let ids = nova
        .boot("compute-4", "err500", 1, json!({"HA_Enabled": "True"}))
        .await;
    let hidden = nova.hide_api_table("request_specs");
    let n = ha.host_fails(nova, "compute-4").await;
    ha.ends_in_error(&n, "Nova answered 500", Duration::from_secs(120))
        .await;
    drop(hidden);
    ha.wait(&n, &["finished"], Duration::from_secs(120)).await;
    assert_active_on(nova, &ids, &["compute-3"]).await;
    recovered(nova, ha, "compute-4").await;
    ha.delete_segment(&seg).await;
}

/// A segment's policy adds steps: a command before the compute service is touched, a condition
/// the recovery waits for, a webhook once the instances are back.
async fn custom_steps_run_in_order(nova: &mut Novasim, ha: &Ha, hooks: &Hooks) {
    let seg = ha.segment("custom-seg", "auto").await;
    ha.host(&seg, "compute-3", false).await;
    ha.host(&seg, "compute-4", false).await;
    let ids = nova
        .boot("compute-3", "custom", 2, json!({"HA_Enabled": "True"}))
        .await;
    let n = ha.host_fails(nova, "compute-3").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !step_states(&ha.notification(&n).await)
        .contains(&("wait-for-storage-fence".to_owned(), "RUNNING".to_owned()))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:#}",
            ha.notification(&n).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let pre = std::fs::read_to_string(hooks.dir.path().join("pre.txt")).unwrap();
    assert_eq!(pre.trim(), "compute-3 custom-seg host_failure");
    // Held by the condition: the compute service is not touched yet.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(nova.service("compute-3").await["status"], "enabled");
    std::fs::write(hooks.dir.path().join("storage-fenced"), "").unwrap();
    let done = ha.settled(&n).await;
    assert_eq!(done["status"], "finished", "{done:#}");
    let names: Vec<String> = step_states(&done).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "StormGuardTask",
            "SetHostMaintenanceTask",
            "FenceHostTask",
            "record-environment",
            "wait-for-storage-fence",
            "DisableComputeServiceTask",
            "PrepareHAEnabledInstancesTask",
            "EvacuateInstancesTask",
            "tell-oncall"
        ]
    );
    assert_active_on(nova, &ids, &["compute-4"]).await;
    let received = hooks.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "{received:#?}");
    assert_eq!(
        (
            &received[0]["notification_uuid"],
            &received[0]["host"],
            &received[0]["event"]
        ),
        (&json!(n), &json!("compute-3"), &json!("host_failure"))
    );
    recovered(nova, ha, "compute-3").await;
    ha.delete_segment(&seg).await;
}

/// Too many of a segment's hosts failing at once pauses recovery until an operator retries.
async fn storm_guard_waits_for_an_operator(nova: &mut Novasim, ha: &Ha) {
    let seg = ha.segment("storm-seg", "auto").await;
    for host in ["compute-1", "compute-2", "compute-4"] {
        ha.host(&seg, host, false).await;
    }
    let ids = nova
        .boot("compute-1", "storm", 1, json!({"HA_Enabled": "True"}))
        .await;
    let n = ha.host_fails(nova, "compute-1").await;
    let paused = ha
        .wait(&n, &["error", "finished"], Duration::from_secs(60))
        .await;
    assert!(
        paused["message"]
            .as_str()
            .unwrap()
            .starts_with("Storm guard: 1 of 3 hosts"),
        "{paused:#}"
    );
    assert_eq!(
        step_states(&paused),
        [("StormGuardTask".to_owned(), "FAILURE".to_owned())]
    );
    // `lifeboat status` shows the pause, and the host it holds back.
    let overview = crate::status::overview(&ha.base).await;
    let guard = &overview["storm_guard"];
    assert_eq!(guard["tripped"], true, "{overview:#}");
    assert_eq!(
        guard["paused"][0]["notification_uuid"],
        n.as_str(),
        "{guard:#}"
    );
    assert_eq!(guard["paused"][0]["host"], "compute-1", "{guard:#}");
    assert_eq!(nova.service("compute-1").await["forced_down"], false);
    // Not retried by itself (the engine retries errors after 2 s here).
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(ha.notification(&n).await["status"], "error");
    let (status, body) = ha
        .call(
            Method::POST,
            &format!("/v1/notifications/{n}/action"),
            Some(json!({"retry": null})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let done = ha
        .wait(
            &n,
            &["finished", "error", "failed"],
            Duration::from_secs(120),
        )
        .await;
    assert_eq!(done["status"], "finished", "{done:#}");
    assert_active_on(nova, &ids, &["compute-2", "compute-4"]).await;
    let details = serde_json::to_string(&done["recovery_workflow_details"]).unwrap();
    assert!(details.contains("An operator retried"), "{details}");
    recovered(nova, ha, "compute-1").await;
    ha.delete_segment(&seg).await;
}

/// The engine dies in the middle of an evacuation; a restarted one (and a second engine on the
/// same database) finishes it, and no instance is evacuated twice.
async fn engine_crash_mid_evacuation(nova: &mut Novasim, ha: &Ha, mut server: Server) {
    let seg = ha.segment("crash-seg", "auto").await;
    ha.host(&seg, "compute-2", false).await;
    ha.host(&seg, "compute-3", false).await;
    ha.host(&seg, "compute-4", false).await;
    // Earlier scenarios' instances would be evacuated too; this one is about its own.
    nova.delete_servers_on("compute-2").await;
    let ids = nova
        .boot("compute-2", "crash", 12, json!({"HA_Enabled": "True"}))
        .await;
    let before = nova.evacuations().await;
    let n = ha.host_fails(nova, "compute-2").await;
    // Kill the engine once evacuations were requested but not all are done.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let moves = ha.vmoves(&n).await;
        let started = moves
            .iter()
            .filter(|m| m["status"] == "ongoing" || m["status"] == "succeeded")
            .count();
        let settled = moves.iter().filter(|m| m["status"] == "succeeded").count();
        if started > 0 && settled < moves.len() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the evacuation never got under way: {moves:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // `lifeboat status` shows the recovery under way, instance by instance.
    let overview = crate::status::overview(&ha.base).await;
    let recovery = overview["recoveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["notification_uuid"] == n.as_str())
        .unwrap_or_else(|| panic!("the running recovery is not listed: {overview:#}"));
    assert_eq!(recovery["host"], "compute-2", "{recovery:#}");
    let instances = recovery["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 12, "{recovery:#}");
    assert!(
        instances
            .iter()
            .all(|i| ids.contains(&i["instance_uuid"].as_str().unwrap().to_owned())),
        "{recovery:#}"
    );
    assert!(
        recovery["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "EvacuateInstancesTask"),
        "{recovery:#}"
    );
    server.crash_and_restart().await;
    let twin = server.twin().await;
    let done = ha.settled(&n).await;
    assert_eq!(
        done["status"],
        "finished",
        "{done:#}\n{}\n{}",
        server.log(),
        twin.log()
    );
    assert_active_on(nova, &ids, &["compute-3", "compute-4"]).await;
    let after = nova.evacuations().await;
    for id in &ids {
        let count = after.get(id).copied().unwrap_or(0) - before.get(id).copied().unwrap_or(0);
        assert_eq!(count, 1, "instance {id} was evacuated {count} times");
    }
    let details = serde_json::to_string(&done["recovery_workflow_details"]).unwrap();
    assert!(details.contains("Resumed after the engine"), "{details}");
    recovered(nova, ha, "compute-2").await;
    ha.delete_segment(&seg).await;
    twin.stop().await;
    server.stop().await;
}

//! The real `openstack` CLI (python-openstackclient 10.5.0 + python-masakariclient 8.9.0): all
//! 15 of its instance-HA commands, with their outputs checked.

use std::time::Duration;

use lifeboat_core::clock::{Clock, SystemClock};
use lifeboat_core::model::{VMove, VMoveStatus, VMoveType};
use lifeboat_core::store::NewVMove;
use serde_json::Value;
use tokio::process::Command;

use crate::support::{Server, run, venv_tool};

/// The `openstack` command with a fixed environment (auth settings).
pub struct Osc {
    pub env: Vec<(String, String)>,
}

impl Osc {
    /// Auth none, straight at the endpoint.
    pub fn noauth(server: &Server) -> Self {
        Self {
            env: vec![
                ("OS_AUTH_TYPE".into(), "none".into()),
                ("OS_ENDPOINT".into(), format!("{}/v1", server.url())),
            ],
        }
    }

    /// Runs a command: (status ok, stdout, stderr).
    pub async fn command(&self, args: &[&str]) -> (bool, String, String) {
        let mut cmd = Command::new(venv_tool("clients", "openstack"));
        cmd.args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        // The CLI must not pick up a developer's own cloud settings.
        cmd.env("OS_CLIENT_CONFIG_FILE", "/nonexistent/clouds.yaml")
            .env_remove("OS_CLOUD");
        run(&mut cmd, Duration::from_secs(120)).await
    }

    /// Runs a command with `-f json` and returns its output.
    pub async fn json(&self, args: &[&str]) -> Value {
        let mut full = args.to_vec();
        full.extend(["-f", "json"]);
        let (ok, out, err) = self.command(&full).await;
        assert!(ok, "openstack {} failed:\n{err}\n{out}", args.join(" "));
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("openstack {}: not JSON ({e}):\n{out}", args.join(" ")))
    }

    /// Runs a command that prints text.
    pub async fn text(&self, args: &[&str]) -> (bool, String) {
        let (ok, out, err) = self.command(args).await;
        (ok, format!("{out}{err}"))
    }
}

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// Pending evacuations of instances `names` off `source_host` for notification `uuid`,
/// recorded in the server's database as the engine records them.
pub async fn record_vmoves(
    server: &Server,
    uuid: &str,
    names: &[&str],
    source_host: &str,
) -> Vec<VMove> {
    let moves = names
        .iter()
        .map(|name| NewVMove {
            notification_uuid: uuid.parse().unwrap(),
            instance_uuid: uuid::Uuid::new_v4().to_string(),
            instance_name: (*name).to_owned(),
            source_host: source_host.to_owned(),
            vmove_type: VMoveType::Evacuation,
            status: VMoveStatus::Pending,
        })
        .collect();
    server
        .store()
        .await
        .create_vmoves(moves, SystemClock.now())
        .await
        .unwrap()
}

/// Every instance-HA command of the CLI, outputs asserted. `server` must be empty.
pub async fn all_fifteen_commands(osc: &Osc, server: &Server) {
    // 1. segment create
    let seg = osc
        .json(&[
            "segment",
            "create",
            "seg1",
            "auto",
            "COMPUTE",
            "--description",
            "first segment",
            "--is_enabled",
            "True",
        ])
        .await;
    assert_eq!(seg["name"], "seg1");
    assert_eq!(seg["recovery_method"], "auto");
    assert_eq!(seg["service_type"], "COMPUTE");
    assert_eq!(seg["description"], "first segment");
    assert_eq!(seg["is_enabled"], true);
    let seg_uuid = seg["uuid"].as_str().unwrap().to_owned();
    osc.json(&["segment", "create", "seg2", "rh_priority", "COMPUTE"])
        .await;

    // 2. segment list
    let list = osc.json(&["segment", "list"]).await;
    assert_eq!(names(&list), ["seg1", "seg2"]);
    let filtered = osc
        .json(&[
            "segment",
            "list",
            "--filters",
            "recovery_method=rh_priority",
        ])
        .await;
    assert_eq!(names(&filtered), ["seg2"]);

    // 3. segment show (by name: the CLI resolves it through the list)
    let shown = osc.json(&["segment", "show", "seg1"]).await;
    assert_eq!(shown["uuid"], seg_uuid.as_str());
    assert!(
        shown["created_at"]
            .as_str()
            .unwrap()
            .starts_with(&SystemClock.now().format("%Y-").to_string())
    );

    // 4. segment update
    let updated = osc
        .json(&[
            "segment",
            "update",
            "seg1",
            "--recovery_method",
            "reserved_host",
            "--is_enabled",
            "False",
        ])
        .await;
    assert_eq!(updated["recovery_method"], "reserved_host");
    assert_eq!(updated["is_enabled"], false);

    // 5. segment host create
    let host = osc
        .json(&[
            "segment",
            "host",
            "create",
            "host1",
            "COMPUTE",
            "SSH",
            "seg1",
            "--reserved",
            "True",
        ])
        .await;
    assert_eq!(host["name"], "host1");
    assert_eq!(host["reserved"], true);
    assert_eq!(host["on_maintenance"], false);
    assert_eq!(host["failover_segment_id"], seg_uuid.as_str());
    osc.json(&[
        "segment", "host", "create", "host2", "COMPUTE", "SSH", "seg2",
    ])
    .await;

    // 6. segment host list
    let hosts = osc.json(&["segment", "host", "list", "seg1"]).await;
    assert_eq!(names(&hosts), ["host1"]);

    // 7. segment host show
    let host_shown = osc
        .json(&["segment", "host", "show", "seg1", "host1"])
        .await;
    assert_eq!(host_shown["control_attributes"], "SSH");
    assert_eq!(host_shown["type"], "COMPUTE");

    // 8. segment host update
    let host_updated = osc
        .json(&[
            "segment",
            "host",
            "update",
            "seg1",
            "host1",
            "--on_maintenance",
            "True",
            "--reserved",
            "False",
        ])
        .await;
    assert_eq!(host_updated["on_maintenance"], true);
    assert_eq!(host_updated["reserved"], false);

    // 9. notification create (from host2, so seg1 stays editable)
    let n = osc
        .json(&[
            "notification",
            "create",
            "COMPUTE_HOST",
            "host2",
            "2024-01-01T01:00:00.000",
            r#"{"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"}"#,
        ])
        .await;
    assert_eq!(n["type"], "COMPUTE_HOST");
    assert_eq!(n["generated_time"], "2024-01-01T01:00:00.000000");
    assert!(
        ["new", "running", "finished", "error", "ignored"].contains(&n["status"].as_str().unwrap()),
        "{n}"
    );
    let n_uuid = n["notification_uuid"].as_str().unwrap().to_owned();
    // A maintained host's report is refused (409), and the CLI says so.
    let (ok, refused) = osc
        .text(&[
            "notification",
            "create",
            "COMPUTE_HOST",
            "host1",
            "2024-01-01T01:00:00.000",
            r#"{"event": "STOPPED"}"#,
        ])
        .await;
    assert!(!ok && refused.contains("maintenance"), "{refused}");
    // STARTED too: an operator put host1 in maintenance (Masakari's 409, word for word).
    let (ok, refused) = osc
        .text(&[
            "notification",
            "create",
            "COMPUTE_HOST",
            "host1",
            "2024-01-01T01:00:00.000",
            r#"{"event": "STARTED", "host_status": "NORMAL", "cluster_status": "ONLINE"}"#,
        ])
        .await;
    assert!(
        !ok && refused.contains("409")
            && refused.contains(
                "Notification received from host host1 of type 'COMPUTE_HOST' is ignored as the host is already under maintenance."
            ),
        "{refused}"
    );

    // 10. notification list
    let notifications = osc.json(&["notification", "list"]).await;
    assert_eq!(notifications.as_array().unwrap().len(), 1);
    assert_eq!(notifications[0]["notification_uuid"], n_uuid.as_str());
    let by_type = osc
        .json(&["notification", "list", "--filters", "type=VM"])
        .await;
    assert!(by_type.as_array().unwrap().is_empty());

    // 11. notification show (microversion 1.3 by default: workflow details included)
    let n_shown = osc.json(&["notification", "show", &n_uuid]).await;
    assert_eq!(n_shown["payload"]["cluster_status"], "OFFLINE");
    assert!(n_shown["recovery_workflow_details"].is_array(), "{n_shown}");

    // 12. notification vmove list (vmoves recorded as the engine records them)
    let moves = record_vmoves(server, &n_uuid, &["vm-a", "vm-b"], "host2").await;
    let vmoves = osc.json(&["notification", "vmove", "list", &n_uuid]).await;
    let mut servers: Vec<&str> = vmoves
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["server_name"].as_str().unwrap())
        .collect();
    servers.sort_unstable();
    assert_eq!(servers, ["vm-a", "vm-b"]);

    // 13. notification vmove show
    let one = osc
        .json(&[
            "notification",
            "vmove",
            "show",
            &n_uuid,
            &moves[0].uuid.to_string(),
        ])
        .await;
    assert_eq!(one["server_name"], "vm-a");
    assert_eq!(one["server_id"], moves[0].instance_uuid.as_str());
    assert_eq!(one["type"], "evacuation");
    assert_eq!(one["source_host"], "host2");

    // 14. segment host delete
    let (ok, out) = osc
        .text(&["segment", "host", "delete", "seg1", "host1"])
        .await;
    assert!(ok, "{out}");
    assert!(
        osc.json(&["segment", "host", "list", "seg1"])
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );

    // 15. segment delete
    let (ok, out) = osc.text(&["segment", "delete", "seg1"]).await;
    assert!(ok, "{out}");
    assert_eq!(names(&osc.json(&["segment", "list"]).await), ["seg2"]);
    let (ok, missing) = osc.text(&["segment", "show", &seg_uuid]).await;
    assert!(!ok && missing.contains("not found"), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openstack_cli_runs_all_its_commands_without_authentication() {
    let server = Server::start("").await;
    all_fifteen_commands(&Osc::noauth(&server), &server).await;
    server.stop().await;
}

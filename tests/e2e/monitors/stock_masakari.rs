//! Lifeboat's agents reporting to a stock Masakari 22 API (masakari-api from PyPI, noauth2, its
//! own MariaDB database and RabbitMQ vhost; `scripts/setup/masakari.sh` installs it): a process
//! that cannot be restarted, a destroyed libvirt test-driver domain and a host whose links are
//! cut in a netns lab (the `peer` hostmonitor). Each report must be accepted, i.e. listed by
//! Masakari's own `GET /v1/notifications` with masakari's payload.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Command;

use super::instance::{test_domain_xml, virsh};
use super::lab::Lab;
use super::process::entry;
use super::{Agent, agent_conf, eventually};
use crate::support::{ProcessGroup, free_port, run, test_root};

const SETUP_HINT: &str = "run scripts/setup/masakari.sh (or scripts/test-setup.sh)";

/// Runs `sql` on the local MariaDB (root, no password), in `database` when given.
fn mariadb(database: Option<&str>, sql: &str) -> Result<(), String> {
    let mut cmd = StdCommand::new("mariadb");
    cmd.args(["-h", "127.0.0.1", "-P", "3306", "-uroot"]);
    cmd.args(database);
    let out = cmd
        .arg("-e")
        .arg(sql)
        .output()
        .map_err(|e| format!("running mariadb failed: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

async fn rabbitmqctl(args: &[&str]) {
    let (ok, out, err) = run(
        Command::new("rabbitmqctl").arg("-q").args(args),
        Duration::from_secs(60),
    )
    .await;
    assert!(
        ok,
        "rabbitmqctl {} failed ({SETUP_HINT}: it starts RabbitMQ): {out}{err}",
        args.join(" ")
    );
}

/// A running masakari-api on 127.0.0.1 with its database and vhost; all of it (the API's worker
/// processes, the database, the vhost) is removed when dropped, on success and on panic.
struct Masakari {
    /// Declared first: stopped before its database goes.
    api: Option<ProcessGroup>,
    port: u16,
    dir: tempfile::TempDir,
    database: String,
    vhost: String,
    /// Host name → uuid, as inserted into Masakari's database.
    hosts: HashMap<String, String>,
}

impl Masakari {
    /// Starts masakari-api from `venv` on `port`, with one segment holding `hosts`.
    async fn start(venv: &Path, port: u16, hosts: &[&str]) -> Self {
        let tag = format!("{}_{:08x}", std::process::id(), rand::random::<u32>());
        let mut m = Self {
            api: None,
            port,
            dir: tempfile::tempdir().unwrap(),
            database: format!("masakari_stock_{tag}"),
            vhost: format!("lifeboat-stock-{tag}"),
            hosts: HashMap::new(),
        };
        mariadb(
            None,
            &format!("CREATE DATABASE {} CHARACTER SET utf8", m.database),
        )
        .unwrap_or_else(|e| {
            panic!("MariaDB on 127.0.0.1:3306 (run scripts/setup/databases.sh): {e}")
        });
        let url = format!("mysql+pymysql://root@127.0.0.1/{}?charset=utf8", m.database);
        let conf = m.dir.path().join("masakari.conf");
        std::fs::write(
            &conf,
            format!(
                "[DEFAULT]\nauth_strategy = noauth2\nmasakari_api_listen = 127.0.0.1\n\
                 masakari_api_listen_port = {port}\nmasakari_api_workers = 1\n\
                 transport_url = rabbit://guest:guest@127.0.0.1:5672/{}\nnotification_delay_max = 0\n\
                 log_dir = {}\n[wsgi]\napi_paste_config = {}/etc/masakari/api-paste.ini\n\
                 [database]\nconnection = {url}\n[taskflow]\nconnection = {url}\n\
                 [oslo_messaging_notifications]\ndriver = noop\n",
                m.vhost,
                m.dir.path().display(),
                venv.display()
            ),
        )
        .unwrap();
        // The vhost (masakari-api casts each notification to the engine's topic there; no
        // engine listens) and the schema, side by side.
        let vhost = async {
            rabbitmqctl(&["add_vhost", &m.vhost]).await;
            rabbitmqctl(&["set_permissions", "-p", &m.vhost, "guest", ".*", ".*", ".*"]).await;
        };
        let mut manage = Command::new(venv.join("bin/masakari-manage"));
        manage.arg("--config-file").arg(&conf).args(["db", "sync"]);
        let sync = run(&mut manage, Duration::from_secs(120));
        let ((), (ok, out, err)) = tokio::join!(vhost, sync);
        assert!(ok, "masakari-manage db sync failed: {out}{err}");

        m.api = Some(ProcessGroup::spawn(
            StdCommand::new(venv.join("bin/masakari-api"))
                .arg("--config-file")
                .arg(&conf),
            &m.dir.path().join("masakari-api.out"),
        ));
        let client = reqwest::Client::new();
        let mut up = false;
        for _ in 0..300 {
            if let Ok(r) = client.get(m.url("/segments")).send().await
                && r.status().is_success()
            {
                up = true;
                break;
            }
            if m.api.as_mut().is_some_and(ProcessGroup::exited) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(up, "masakari-api did not start:\n{}", m.log());

        let r = client
            .post(m.url("/segments"))
            .json(&json!({"segment": {"name": "stock", "recovery_method": "auto", "service_type": "COMPUTE"}}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{r:?}\n{}", m.log());
        let segment: Value = r.json().await.unwrap();
        let segment = segment["segment"]["uuid"].as_str().unwrap().to_owned();
        // Masakari checks a new host's name against Nova's hypervisors; there is no Nova here,
        // so the hosts go straight into its database (as bench/monitors_bench.py does).
        for name in hosts {
            let uuid = uuid::Uuid::new_v4().to_string();
            mariadb(
                Some(&m.database),
                &format!(
                    "INSERT INTO hosts (created_at, deleted, uuid, name, reserved, type, \
                     control_attributes, on_maintenance, failover_segment_id) VALUES (NOW(), 0, \
                     '{uuid}', '{name}', 0, 'COMPUTE', 'SSH', 0, '{segment}')"
                ),
            )
            .unwrap();
            m.hosts.insert((*name).to_owned(), uuid);
        }
        m
    }

    /// `http://127.0.0.1:<port>/v1<path>`.
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint())
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// masakari-api's own log and its stdout/stderr.
    fn log(&self) -> String {
        ["masakari-api.log", "masakari-api.out"]
            .iter()
            .map(|f| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// What `GET /v1/notifications` lists.
    async fn notifications(&self) -> Vec<Value> {
        let r = reqwest::get(self.url("/notifications")).await.unwrap();
        assert!(r.status().is_success(), "{r:?}");
        let body: Value = r.json().await.unwrap();
        body["notifications"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Masakari {
    fn drop(&mut self) {
        self.api.take();
        let _ = mariadb(None, &format!("DROP DATABASE IF EXISTS {}", self.database));
        let _ = StdCommand::new("rabbitmqctl")
            .args(["-q", "delete_vhost", &self.vhost])
            .output();
    }
}

/// Creates and destroys a test-driver domain through libvirtd; returns its uuid. Retried while
/// libvirtd restarts (the instancemonitor test restarts it; the daemon's test driver forgets
/// its domains then).
async fn destroyed_domain(dir: &Path, name: &str) -> String {
    let uri = "test+unix:///default";
    let (xml, uuid) = test_domain_xml(dir, name);
    let mut last = String::new();
    for _ in 0..3 {
        let (created, out) = virsh(uri, &["create", &xml.display().to_string()]).await;
        last = out;
        if created {
            let (destroyed, out) = virsh(uri, &["destroy", &uuid]).await;
            if destroyed {
                return uuid;
            }
            last = out;
        }
        eventually(Duration::from_secs(30), || async {
            virsh(uri, &["version"]).await.0
        })
        .await;
    }
    panic!("creating and destroying a test domain failed: {last}")
}

fn venv() -> PathBuf {
    let venv = test_root().join("masakari");
    assert!(
        venv.join("bin/masakari-api").exists(),
        "{} is missing: {SETUP_HINT} to install masakari 22.0.0 (set LIFEBOAT_TEST_ROOT if it \
         lives elsewhere)",
        venv.join("bin/masakari-api").display()
    );
    venv
}

#[tokio::test]
async fn process_instance_and_peer_host_reports_are_accepted_by_a_stock_masakari_22_api() {
    let venv = venv();
    let (ok, out) = virsh("test+unix:///default", &["version"]).await;
    assert!(
        ok,
        "libvirtd does not answer (run scripts/setup/monitors.sh): {out}"
    );
    let port = free_port();
    let process = format!("/usr/bin/lifeboat-stock-{}", std::process::id());
    let hosts = ["compute-stock", "compute-1", "compute-2", "compute-3"];

    // The lab's hostmonitors settle while masakari-api starts. They reach it at the switch's
    // API address, forwarded to its loopback port here.
    let lab = async {
        let mut lab = tokio::task::spawn_blocking(|| Lab::new("lbsm", 3, 1))
            .await
            .unwrap();
        lab.forward_api(port, &format!("127.0.0.1:{port}")).await;
        lab.start_agents_reporting_to(&format!("http://{}:{port}/v1", super::lab::API_ADDRESS), "");
        let settled = eventually(Duration::from_secs(15), || async {
            (1..=3).all(|i| lab.agent_log(i).contains("peer hostmonitor running"))
        })
        .await;
        assert!(settled, "{}", lab.logs());
        lab
    };
    let (masakari, lab) = tokio::join!(Masakari::start(&venv, port, &hosts), lab);

    // The processmonitor and the instancemonitor of compute-stock, on this namespace's loopback.
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("process_list.yaml");
    std::fs::write(&list, entry(&process, "/bin/false")).unwrap();
    let conf = dir.path().join("stock.conf");
    std::fs::write(
        &conf,
        format!(
            "{}[process]\nprocess_list_path = {}\ncheck_interval = 0.5\nrestart_retries = 0\n\
             restart_interval = 0.5\n[libvirt]\nconnection_uri = test+unix:///default\n\
             reconnect_interval = 0.5\n",
            agent_conf(
                "compute-stock",
                &masakari.endpoint(),
                &dir.path().join("outbox")
            ),
            list.display()
        ),
    )
    .unwrap();
    let agents = [
        Agent::start("processmonitor", &conf, None),
        Agent::start("instancemonitor", &conf, None),
    ];
    let logs = || {
        agents
            .iter()
            .map(Agent::log)
            .chain([lab.logs(), masakari.log()])
            .collect::<Vec<_>>()
            .join("\n---\n")
    };
    assert!(
        eventually(Duration::from_secs(10), || async {
            agents[1].log().contains("connected to libvirt")
        })
        .await,
        "{}",
        logs()
    );
    // The peer agents have heard each other for a while before one is cut off.
    tokio::time::sleep(Duration::from_secs(4)).await;
    lab.cut(3, &[0, 1]);
    // Another domain if its report does not come: libvirtd restarted (by the instancemonitor
    // test) between the agent's connection and the destroy. Earlier ones count as foreign below.
    let mut instance = String::new();
    for attempt in 0..3 {
        let name = format!("lbsm-{}-{attempt}", std::process::id());
        instance = destroyed_domain(dir.path(), &name).await;
        let reported = eventually(Duration::from_secs(8), || async {
            masakari
                .notifications()
                .await
                .iter()
                .any(|n| n["payload"]["instance_uuid"] == instance.as_str())
        })
        .await;
        if reported {
            break;
        }
    }

    let short = process.rsplit('/').next().unwrap();
    let expected = [
        (
            "PROCESS",
            "compute-stock",
            json!({"event": "STOPPED", "process_name": short}),
        ),
        (
            "VM",
            "compute-stock",
            json!({"event": "LIFECYCLE", "instance_uuid": instance, "vir_domain_event": "STOPPED_DESTROYED"}),
        ),
        (
            "COMPUTE_HOST",
            "compute-3",
            json!({"event": "STOPPED", "cluster_status": "OFFLINE", "host_status": "NORMAL"}),
        ),
    ];
    let listed = |all: &[Value], (kind, host, payload): &(&str, &str, Value)| {
        all.iter().any(|n| {
            n["type"] == *kind
                && n["source_host_uuid"] == masakari.hosts[*host].as_str()
                && n["payload"] == *payload
                && n["status"] == "new"
        })
    };
    eventually(Duration::from_secs(20), || async {
        let all = masakari.notifications().await;
        expected.iter().all(|e| listed(&all, e))
    })
    .await;
    let all = masakari.notifications().await;
    for e in &expected {
        assert!(
            listed(&all, e),
            "masakari does not list {e:?}; it lists {all:#?}\n{}",
            logs()
        );
    }
    // Each once and nothing else (but for VM reports about other tests' domains: the daemon's
    // test:///default is shared), and no report was refused (a 4xx, e.g. a duplicate, is parked).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let all = masakari.notifications().await;
    let ours: Vec<_> = all
        .iter()
        .filter(|n| n["type"] != "VM" || n["payload"]["instance_uuid"] == instance.as_str())
        .collect();
    assert_eq!(ours.len(), 3, "{all:#?}\n{}", logs());
    let text = logs();
    assert!(!text.contains("THE API REFUSED"), "{text}");
    drop(agents);
    drop(lab);
    drop(masakari);
}

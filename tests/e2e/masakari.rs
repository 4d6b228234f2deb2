//! A stock Masakari 22 API (masakari-api from PyPI, noauth2) on its own MariaDB database and
//! RabbitMQ vhost, made by its own `masakari-manage db sync`; `scripts/setup/masakari.sh`
//! installs it. For the tests that hold Lifeboat to Masakari's behaviour: monitors reporting to
//! it, and `manage db import-masakari` copying from it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Command;

use crate::support::{ProcessGroup, run, test_root};

pub const SETUP_HINT: &str = "run scripts/setup/masakari.sh (or scripts/test-setup.sh)";

/// Runs `sql` on the local MariaDB (root, no password), in `database` when given.
pub fn mariadb(database: Option<&str>, sql: &str) -> Result<(), String> {
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
pub struct Masakari {
    /// Declared first: stopped before its database goes.
    api: Option<ProcessGroup>,
    port: u16,
    dir: tempfile::TempDir,
    pub database: String,
    vhost: String,
    /// Host name → uuid, as inserted into Masakari's database.
    pub hosts: HashMap<String, String>,
    /// The uuid of the segment `start` made (`stock`), which holds the hosts.
    pub segment: String,
}

impl Masakari {
    /// Starts masakari-api from `venv` on `port`, with one segment holding `hosts`.
    pub async fn start(venv: &Path, port: u16, hosts: &[&str]) -> Self {
        let tag = format!("{}_{:08x}", std::process::id(), rand::random::<u32>());
        let mut m = Self {
            api: None,
            port,
            dir: tempfile::tempdir().unwrap(),
            database: format!("masakari_stock_{tag}"),
            vhost: format!("lifeboat-stock-{tag}"),
            hosts: HashMap::new(),
            segment: String::new(),
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
        m.segment.clone_from(&segment);
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
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint())
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// masakari-api's own log and its stdout/stderr.
    pub fn log(&self) -> String {
        ["masakari-api.log", "masakari-api.out"]
            .iter()
            .map(|f| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// What `GET /v1/notifications` lists.
    pub async fn notifications(&self) -> Vec<Value> {
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

pub fn venv() -> PathBuf {
    let venv = test_root().join("masakari");
    assert!(
        venv.join("bin/masakari-api").exists(),
        "{} is missing: {SETUP_HINT} to install masakari 22.0.0 (set LIFEBOAT_TEST_ROOT if it \
         lives elsewhere)",
        venv.join("bin/masakari-api").display()
    );
    venv
}

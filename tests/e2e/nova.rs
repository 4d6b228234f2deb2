//! A real Nova (PyPI nova 34, fake virt driver, placement, SQLite, the machine's RabbitMQ) run
//! by `python/novasim/novasim.py`, and the Nova calls the tests make themselves.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::support::{python_dir, venv_tool};

/// A table of Nova's hidden under another name; put back when dropped.
pub struct HiddenTable {
    db: std::path::PathBuf,
    table: String,
    hidden: String,
}

impl Drop for HiddenTable {
    fn drop(&mut self) {
        rename_table(&self.db, &self.hidden, &self.table);
    }
}

fn rename_table(db: &std::path::Path, from: &str, to: &str) {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1], timeout=30)\n\
             c.execute('ALTER TABLE %s RENAME TO %s' % (sys.argv[2], sys.argv[3]))\n\
             c.commit()\n",
        ])
        .arg(db)
        .args([from, to])
        .output()
        .expect("python3 (sqlite3) renames the table");
    assert!(
        out.status.success(),
        "renaming {from} in {}: {}",
        db.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running Nova; stopped (cleanly) when dropped.
pub struct Novasim {
    pub url: String,
    pub token: String,
    pub image: String,
    pub flavor: String,
    pub logs: String,
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

impl Drop for Novasim {
    fn drop(&mut self) {
        // SIGTERM lets novasim.py stop its processes and remove its RabbitMQ vhost. Wait for it:
        // `kill_on_drop` would otherwise SIGKILL it a moment later, before it has, and leave its
        // Nova services running (and loading the machine) after the test.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            while matches!(self.child.try_wait(), Ok(None))
                && tokio::time::Instant::now() < deadline
            {
                // Drop cannot await; blocking this thread for a moment at the end of a test is
                // the point.
                #[allow(clippy::disallowed_methods)]
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

impl Novasim {
    /// Starts Nova with a nova-compute per host.
    pub async fn start(hosts: &[&str]) -> Self {
        let rabbit_ok = std::process::Command::new("rabbitmqctl")
            .args(["-q", "status"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            rabbit_ok,
            "RabbitMQ is not running: start it with `rabbitmq-server -detached` (scripts/test-setup.sh installs it)"
        );
        let dir = tempfile::tempdir().unwrap();
        let venv = venv_tool("nova", "python")
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
        let log = std::fs::File::create(dir.path().join("novasim.err")).unwrap();
        let mut child = Command::new(venv.join("bin/python"))
            .arg(python_dir().join("novasim/novasim.py"))
            .arg("--dir")
            .arg(dir.path())
            .arg("--venv")
            .arg(&venv)
            .arg("--hosts")
            .arg(hosts.join(","))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(300), async {
            while let Some(line) = stdout.next_line().await.unwrap() {
                if let Some(json) = line.strip_prefix("NOVASIM READY ") {
                    return Some(serde_json::from_str::<Value>(json).unwrap());
                }
                if line.starts_with("NOVASIM FAILED") {
                    return None;
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        let Some(info) = ready else {
            panic!(
                "Nova did not start:\n{}",
                std::fs::read_to_string(dir.path().join("novasim.err")).unwrap_or_default()
            );
        };
        let text = |k: &str| info[k].as_str().unwrap().to_owned();
        Self {
            url: text("nova_url"),
            token: text("token"),
            image: text("image"),
            flavor: text("flavor"),
            logs: text("logs"),
            child,
            stdin,
            stdout,
            http: reqwest::Client::new(),
            dir,
        }
    }

    async fn command(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(180), self.stdout.next_line())
            .await
            .unwrap_or_else(|_| panic!("novasim did not answer {line}"))
            .unwrap()
            .unwrap_or_default();
        assert!(answer.starts_with("OK"), "novasim {line}: {answer}");
    }

    /// Kills a host's nova-compute (the host dies).
    pub async fn kill(&mut self, host: &str) {
        self.command(&format!("kill {host}")).await;
    }

    /// Starts a host's nova-compute again and waits until it is up.
    pub async fn revive(&mut self, host: &str) {
        self.command(&format!("start {host}")).await;
    }

    /// Hides a table of Nova's API database until the guard is dropped: nova-api then answers
    /// 500 to the calls that need it (a real Nova's own failure, its database broken, rather
    /// than a fake's).
    pub fn hide_api_table(&self, table: &str) -> HiddenTable {
        let db = self.dir.path().join("data/nova_api.sqlite");
        let hidden = format!("{table}_hidden");
        rename_table(&db, table, &hidden);
        HiddenTable {
            db,
            table: table.to_owned(),
            hidden,
        }
    }

    /// Stops nova-api.
    pub async fn stop_api(&mut self) {
        self.command("stop-api").await;
    }

    /// Starts nova-api again.
    pub async fn start_api(&mut self) {
        self.command("start-api").await;
    }

    /// A Nova API call.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        version: &str,
        body: Option<Value>,
    ) -> Value {
        let mut r = self
            .http
            .request(method.clone(), format!("{}{path}", self.url))
            .header("X-Auth-Token", &self.token)
            .header("OpenStack-API-Version", format!("compute {version}"));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let response = r.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "Nova {method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Boots `count` servers on `host` and waits until all are ACTIVE; returns their ids.
    pub async fn boot(
        &self,
        host: &str,
        prefix: &str,
        count: usize,
        metadata: Value,
    ) -> Vec<String> {
        let mut ids = Vec::new();
        for i in 0..count {
            let body = json!({"server": {"name": format!("{prefix}-{i:02}"), "imageRef": self.image, "flavorRef": self.flavor,
                "networks": "none", "host": host, "metadata": metadata}});
            let created = self
                .call(reqwest::Method::POST, "/servers", "2.74", Some(body))
                .await;
            ids.push(created["server"]["id"].as_str().unwrap().to_owned());
        }
        for id in &ids {
            self.wait_server(id, Duration::from_secs(180), |s| s["status"] == "ACTIVE")
                .await;
        }
        ids
    }

    /// One server (admin view).
    pub async fn server(&self, id: &str) -> Value {
        self.call(
            reqwest::Method::GET,
            &format!("/servers/{id}"),
            "2.53",
            None,
        )
        .await["server"]
            .clone()
    }

    /// Waits until `ok` holds for a server.
    pub async fn wait_server(
        &self,
        id: &str,
        timeout: Duration,
        ok: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let s = self.server(id).await;
            if ok(&s) {
                return s;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "server {id} did not get there: {s}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// The nova-compute service of a host.
    pub async fn service(&self, host: &str) -> Value {
        let list = self
            .call(
                reqwest::Method::GET,
                &format!("/os-services?binary=nova-compute&host={host}"),
                "2.53",
                None,
            )
            .await;
        list["services"][0].clone()
    }

    /// Puts a recovered host back in service once its restarted nova-compute has cleaned up the
    /// evacuated instances (Nova refuses to lift forced_down before): not forced down, enabled.
    pub async fn reinstate(&self, host: &str) {
        let id = self.service(host).await["id"].as_str().unwrap().to_owned();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        loop {
            let r = self
                .http
                .put(format!("{}/os-services/{id}", self.url))
                .header("X-Auth-Token", &self.token)
                .header("OpenStack-API-Version", "compute 2.53")
                .json(&json!({"forced_down": false}))
                .send()
                .await
                .unwrap();
            if r.status().is_success() {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "Nova would not lift forced_down on {host}: {}",
                r.text().await.unwrap()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        self.call(
            reqwest::Method::PUT,
            &format!("/os-services/{id}"),
            "2.53",
            Some(json!({"status": "enabled"})),
        )
        .await;
    }

    /// Waits until a host's compute service reads `state` (`up` or `down`).
    pub async fn wait_service_state(&self, host: &str, state: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let s = self.service(host).await;
            if s["state"] == state {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{host} did not read {state}: {s}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Stops a server (as if it crashed).
    pub async fn stop_server(&self, id: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/servers/{id}/action"),
            "2.53",
            Some(json!({"os-stop": null})),
        )
        .await;
        self.wait_server(id, Duration::from_secs(60), |s| s["status"] == "SHUTOFF")
            .await;
    }

    /// The servers on a host.
    pub async fn servers_on(&self, host: &str) -> Vec<String> {
        let list = self
            .call(
                reqwest::Method::GET,
                &format!("/servers/detail?all_tenants=1&host={host}"),
                "2.53",
                None,
            )
            .await;
        list["servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Deletes every server on a host and waits until they are gone.
    pub async fn delete_servers_on(&self, host: &str) {
        for id in self.servers_on(host).await {
            self.call(
                reqwest::Method::DELETE,
                &format!("/servers/{id}"),
                "2.53",
                None,
            )
            .await;
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let left = self.servers_on(host).await;
            if left.is_empty() {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "servers on {host} not deleted: {left:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Disables a host's compute service (how a reserved host waits).
    pub async fn disable(&self, host: &str) {
        let id = self.service(host).await["id"].as_str().unwrap().to_owned();
        self.call(
            reqwest::Method::PUT,
            &format!("/os-services/{id}"),
            "2.53",
            Some(json!({"status": "disabled", "disabled_reason": "reserved"})),
        )
        .await;
    }

    /// How many times each server was evacuated, from Nova's own migration records.
    pub async fn evacuations(&self) -> std::collections::HashMap<String, usize> {
        let list = self
            .call(
                reqwest::Method::GET,
                "/os-migrations?migration_type=evacuation",
                "2.59",
                None,
            )
            .await;
        let mut counts = std::collections::HashMap::new();
        for m in list["migrations"].as_array().unwrap() {
            *counts
                .entry(m["instance_uuid"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        counts
    }
}

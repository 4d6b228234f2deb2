//! Test hosts in network namespaces: a "switch" namespace with one bridge per network (API,
//! management, tenant) and `n` host namespaces, each with one veth into every bridge. Every
//! address lives only inside these namespaces. Links can be cut, hosts partitioned and packet
//! loss added. Everything is deleted on drop.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::store::Store;
use tokio::process::{Child, Command};

use super::{Agent, agent_conf};
use crate::support::ProcessGroup;

// The API listens inside the switch namespace, unreachable from the test's own namespace; the
// test reads what it accepted from its database.
use crate::support::spawn_logged;

/// Network index → (bridge, host-side interface, subnet third octet).
const NETS: [(&str, &str, u8); 3] = [("bapi", "api0", 0), ("bm", "m0", 1), ("bt", "t0", 2)];
const API_PORT: u16 = 15868;
const PEER_PORT: u16 = 4950;
/// The switch's address on the API network, where the hosts reach the API.
pub const API_ADDRESS: &str = "10.77.0.254";

/// Runs `ip ARGS` and fails the test with the install hint if it fails.
pub(super) fn ip(args: &[&str]) {
    let out = StdCommand::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running ip failed ({e}): run scripts/setup/monitors.sh"));
    assert!(
        out.status.success(),
        "ip {} failed: {} (these tests need root and iproute2: scripts/setup/monitors.sh)",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `ip netns exec NS ARGS`.
pub(super) fn in_ns(ns: &str, args: &[&str]) {
    let mut all = vec!["netns", "exec", ns];
    all.extend_from_slice(args);
    ip(&all);
}

/// A set of namespaced test hosts with a Lifeboat API in the switch namespace.
pub struct Lab {
    pub prefix: String,
    pub hosts: usize,
    /// Heartbeat networks in use: 1 (management) or 2 (management and tenant).
    pub networks: usize,
    pub dir: tempfile::TempDir,
    server: Option<Child>,
    pub agents: Vec<Option<Agent>>,
    /// [`Lab::forward_api`]'s socats.
    forwards: Vec<ProcessGroup>,
}

impl Lab {
    /// Makes the namespaces and links. `prefix` must be unique among concurrent tests.
    pub fn new(prefix: &str, hosts: usize, networks: usize) -> Self {
        let lab = Self {
            prefix: prefix.to_owned(),
            hosts,
            networks,
            dir: tempfile::tempdir().unwrap(),
            server: None,
            agents: Vec::new(),
            forwards: Vec::new(),
        };
        lab.teardown();
        let br = lab.switch();
        ip(&["netns", "add", &br]);
        in_ns(&br, &["ip", "link", "set", "lo", "up"]);
        for (bridge, _, octet) in &NETS[..=networks] {
            in_ns(&br, &["ip", "link", "add", bridge, "type", "bridge"]);
            in_ns(&br, &["ip", "link", "set", bridge, "up"]);
            if *octet == 0 {
                in_ns(&br, &["ip", "addr", "add", "10.77.0.254/24", "dev", bridge]);
            }
        }
        for i in 1..=hosts {
            let ns = lab.host_ns(i);
            ip(&["netns", "add", &ns]);
            in_ns(&ns, &["ip", "link", "set", "lo", "up"]);
            for (bridge, inner, octet) in &NETS[..=networks] {
                let port = lab.port(i, bridge);
                ip(&[
                    "link", "add", inner, "netns", &ns, "type", "veth", "peer", "name", &port,
                    "netns", &br,
                ]);
                in_ns(&br, &["ip", "link", "set", &port, "master", bridge]);
                in_ns(&br, &["ip", "link", "set", &port, "up"]);
                in_ns(
                    &ns,
                    &[
                        "ip",
                        "addr",
                        "add",
                        &format!("10.77.{octet}.{i}/24"),
                        "dev",
                        inner,
                    ],
                );
                in_ns(&ns, &["ip", "link", "set", inner, "up"]);
            }
        }
        lab
    }

    pub(super) fn switch(&self) -> String {
        format!("{}-sw", self.prefix)
    }

    fn host_ns(&self, i: usize) -> String {
        format!("{}-h{i}", self.prefix)
    }

    fn port(&self, i: usize, bridge: &str) -> String {
        format!("h{i}{bridge}")
    }

    pub fn host_name(i: usize) -> String {
        format!("compute-{i}")
    }

    /// Starts `lifeboat serve` in the switch namespace (reachable from every host on the API
    /// network) and returns its database as seen from the test.
    pub async fn start_api(&mut self) -> Arc<dyn Store> {
        self.start_api_with("10.77.0.254", "").await
    }

    /// [`Lab::start_api`] listening on `listen` (`0.0.0.0` to be reachable over
    /// [`Lab::link_to_test`] too), with `extra` added to its configuration.
    pub async fn start_api_with(&mut self, listen: &str, extra: &str) -> Arc<dyn Store> {
        let (child, store) =
            serve_in_with(&self.switch(), listen, API_PORT, self.dir.path(), extra).await;
        self.server = Some(child);
        store
    }

    /// A link between the test's own network namespace and the switch, on `10.78.{subnet}.0/24`
    /// (unique per lab: the test's namespace is shared): the test's address (`.1`) is one a
    /// BMC simulator can listen on, and the switch's (`.2`) one the test reaches the API at.
    /// The switch does not forward, so the hosts do not reach the test's side (like a BMC
    /// network only the control plane reaches). Returns the test's address and the API's URL
    /// from the test (once [`Lab::start_api_with`] listens on `0.0.0.0`).
    pub fn link_to_test(&self, subnet: u8) -> (String, String) {
        let outer = self.test_link();
        let (near, far) = (format!("10.78.{subnet}.1"), format!("10.78.{subnet}.2"));
        ip(&[
            "link",
            "add",
            &outer,
            "type",
            "veth",
            "peer",
            "name",
            "tst0",
            "netns",
            &self.switch(),
        ]);
        ip(&["addr", "add", &format!("{near}/24"), "dev", &outer]);
        ip(&["link", "set", &outer, "up"]);
        in_ns(
            &self.switch(),
            &["ip", "addr", "add", &format!("{far}/24"), "dev", "tst0"],
        );
        in_ns(&self.switch(), &["ip", "link", "set", "tst0", "up"]);
        (near, format!("http://{far}:{API_PORT}"))
    }

    fn test_link(&self) -> String {
        format!("{}-t", self.prefix)
    }

    /// Agent `i`'s configuration file.
    pub fn agent_conf_path(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("agent-{i}.conf"))
    }

    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("lifeboat.log")).unwrap_or_default()
    }

    /// Starts a peer hostmonitor on every host; `extra` is added to each config.
    pub fn start_agents(&mut self, extra: &str) {
        self.start_agents_reporting_to(&format!("http://{API_ADDRESS}:{API_PORT}/v1"), extra);
    }

    /// [`Lab::start_agents`] with the agents reporting to `endpoint` instead of the API of
    /// [`Lab::start_api`] (e.g. a stock masakari-api reached through [`Lab::forward_api`]).
    pub fn start_agents_reporting_to(&mut self, endpoint: &str, extra: &str) {
        let list = |octet: u8| {
            (1..=self.hosts)
                .map(|i| format!("{}=10.77.{octet}.{i}", Self::host_name(i)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let tenant = if self.networks >= 2 {
            format!("tenant = {}\n", list(2))
        } else {
            String::new()
        };
        for i in 1..=self.hosts {
            let conf = self.agent_conf_path(i);
            std::fs::write(
                &conf,
                format!(
                    "{}[host]\nmonitoring_driver = peer\n[peer]\nmanage = {}\n{tenant}port = {PEER_PORT}\n\
                     heartbeat_interval = 0.5\ndead_after = 2.5\nstartup_grace = 3\n{extra}\n",
                    agent_conf(
                        &Self::host_name(i),
                        endpoint,
                        &self.dir.path().join(format!("outbox-{i}")),
                    ),
                    list(1),
                ),
            )
            .unwrap();
            self.agents.push(Some(Agent::start(
                "hostmonitor",
                &conf,
                Some(&self.host_ns(i)),
            )));
        }
    }

    pub fn agent_log(&self, i: usize) -> String {
        self.agents[i - 1]
            .as_ref()
            .map(Agent::log)
            .unwrap_or_default()
    }

    pub fn logs(&self) -> String {
        (1..=self.hosts)
            .map(|i| format!("--- agent {i}:\n{}", self.agent_log(i)))
            .collect::<Vec<_>>()
            .join("\n")
            + &format!("\n--- api:\n{}", self.server_log())
    }

    /// Takes host `i`'s links on the given networks down (0 = API, 1 = management, 2 = tenant).
    pub fn cut(&self, i: usize, nets: &[usize]) {
        for net in nets {
            in_ns(
                &self.switch(),
                &["ip", "link", "set", &self.port(i, NETS[*net].0), "down"],
            );
        }
    }

    /// Brings host `i`'s links on the given networks back up.
    pub fn restore(&self, i: usize, nets: &[usize]) {
        for net in nets {
            in_ns(
                &self.switch(),
                &["ip", "link", "set", &self.port(i, NETS[*net].0), "up"],
            );
        }
    }

    /// Moves `group`'s heartbeat links onto separate bridges: two partitions that still reach
    /// the API.
    pub fn partition(&self, group: &[usize]) {
        let br = self.switch();
        for (bridge, _, _) in &NETS[1..=self.networks] {
            let other = format!("{bridge}2");
            in_ns(&br, &["ip", "link", "add", &other, "type", "bridge"]);
            in_ns(&br, &["ip", "link", "set", &other, "up"]);
            for i in group {
                in_ns(
                    &br,
                    &[
                        "ip",
                        "link",
                        "set",
                        &self.port(*i, bridge),
                        "master",
                        &other,
                    ],
                );
            }
        }
    }

    /// Drops `percent` of the heartbeats entering and `percent` of those leaving every host
    /// (iptables' `statistic` match; the kernels here lack netem), so about twice that is lost
    /// end to end on every link.
    pub fn packet_loss(&self, percent: u32) {
        let probability = format!("{:.2}", f64::from(percent) / 100.0);
        let port = PEER_PORT.to_string();
        for i in 1..=self.hosts {
            for (chain, direction) in [("INPUT", "--dport"), ("OUTPUT", "--dport")] {
                in_ns(
                    &self.host_ns(i),
                    &[
                        "iptables",
                        "-A",
                        chain,
                        "-p",
                        "udp",
                        direction,
                        &port,
                        "-m",
                        "statistic",
                        "--mode",
                        "random",
                        "--probability",
                        &probability,
                        "-j",
                        "DROP",
                    ],
                );
            }
        }
    }

    /// Makes [`API_ADDRESS`]`:port` in the switch namespace (where every host reaches it on
    /// the API network) forward to `target` (`host:port` in the test's own namespace, such as a
    /// server on loopback there): a socat in each namespace, joined by a Unix socket (a path
    /// crosses network namespaces). Stopped with the lab.
    pub async fn forward_api(&mut self, port: u16, target: &str) {
        assert!(
            StdCommand::new("socat").arg("-V").output().is_ok(),
            "socat is missing: run scripts/setup/masakari.sh"
        );
        let sock = self.dir.path().join(format!("forward-{port}.sock"));
        self.forwards.push(ProcessGroup::spawn(
            StdCommand::new("socat")
                .arg(format!("UNIX-LISTEN:{},fork", sock.display()))
                .arg(format!("TCP:{target}")),
            &self.dir.path().join(format!("forward-{port}-out.log")),
        ));
        for _ in 0..100 {
            if sock.exists() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(sock.exists(), "socat did not listen on {}", sock.display());
        self.forwards.push(ProcessGroup::spawn(
            StdCommand::new("ip")
                .args(["netns", "exec", &self.switch(), "socat"])
                .arg(format!(
                    "TCP-LISTEN:{port},bind={API_ADDRESS},fork,reuseaddr"
                ))
                .arg(format!("UNIX-CONNECT:{}", sock.display())),
            &self.dir.path().join(format!("forward-{port}-in.log")),
        ));
    }

    fn teardown(&self) {
        let mut names = vec![self.switch()];
        names.extend((1..=self.hosts).map(|i| self.host_ns(i)));
        for ns in names {
            let _ = StdCommand::new("ip").args(["netns", "del", &ns]).output();
        }
        // Goes with the switch's end, unless a process kept that namespace alive.
        let _ = StdCommand::new("ip")
            .args(["link", "del", &self.test_link()])
            .output();
    }

    pub fn outbox(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("outbox-{i}"))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Agents and the API are killed by their handles (kill_on_drop); then the namespaces go.
        self.agents.clear();
        self.forwards.clear();
        if let Some(mut s) = self.server.take() {
            let _ = s.start_kill();
        }
        self.teardown();
    }
}

/// Starts `lifeboat serve` inside network namespace `ns`, listening on `listen:port`, with its
/// config, SQLite database and log (`lifeboat.log`) in `dir`; returns the process and the
/// database as seen from the test (the API itself is unreachable from the test's namespace).
pub async fn serve_in(ns: &str, listen: &str, port: u16, dir: &Path) -> (Child, Arc<dyn Store>) {
    serve_in_with(ns, listen, port, dir, "").await
}

/// [`serve_in`] with `extra` added to the configuration.
pub async fn serve_in_with(
    ns: &str,
    listen: &str,
    port: u16,
    dir: &Path,
    extra: &str,
) -> (Child, Arc<dyn Store>) {
    let db = dir.join("lifeboat.sqlite");
    let conf = dir.join("lifeboat.conf");
    let log = dir.join("lifeboat.log");
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\nauth_strategy = noauth2\nmasakari_api_listen = {listen}\nmasakari_api_listen_port = {port}\n\
             [database]\nconnection = sqlite:///{}\n{extra}",
            db.display()
        ),
    )
    .unwrap();
    let child = spawn_logged(
        Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                env!("CARGO_BIN_EXE_lifeboat"),
                "serve",
                "--config-file",
            ])
            .arg(&conf),
        &log,
    );
    // The API listens inside the namespace; its database file says when it is ready.
    for _ in 0..200 {
        if db.exists()
            && let Ok(s) = lifeboat_test_support::store::try_open_sqlite(&db, false).await
            && s.ping().await.is_ok()
            && std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("Lifeboat API listening")
        {
            return (child, s);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "lifeboat did not start in {ns}: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    )
}

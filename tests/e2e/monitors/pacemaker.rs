//! The `pacemaker` hostmonitor driver against real corosync + Pacemaker clusters (Debian's
//! packages, installed by `scripts/setup/monitors.sh`):
//!
//! - a one-node cluster on loopback in the test's own namespaces: it reads membership and
//!   quorum from `crm_mon`, skips itself, and judges nobody without quorum (the cluster starts
//!   expecting two votes, then is told to expect one);
//! - a three-node cluster, each node in its own network namespace (a veth into a bridge in a
//!   switch namespace, 10.78.0.0/24) and its own mount namespace (private `/var/lib/pacemaker`,
//!   `/var/lib/corosync`, `/var/log/pacemaker`, `/run` and `/dev/shm`), with the hostmonitor on
//!   node1 and the API in the switch namespace: a node whose link is cut is reported once with
//!   masakari's payload, once node1's partition has lost quorum nobody else is, and when the
//!   links come back the node is reported STARTED and the one lost without quorum not at all.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::time::Instant;

use super::lab::{in_ns, ip, serve_in};
use super::{Agent, agent_conf, eventually, notifications, notifications_of, register};
use crate::support::{Server, run, spawn_logged};

/// Fails the test, saying how to install them, unless the cluster programs are here.
fn require_cluster_programs(programs: &[&str]) {
    for program in programs {
        let found = StdCommand::new("sh")
            .args([
                "-c",
                &format!("command -v {program} || test -x /usr/sbin/{program}"),
            ])
            .output()
            .unwrap()
            .status
            .success();
        assert!(found, "{program} is missing: run scripts/setup/monitors.sh");
    }
}

const COROSYNC_CONF: &str = "totem {
    version: 2
    cluster_name: lbtest
    transport: knet
    crypto_cipher: none
    crypto_hash: none
}
nodelist {
    node {
        name: node1
        nodeid: 1
        ring0_addr: 127.0.0.1
    }
}
quorum {
    provider: corosync_votequorum
    expected_votes: 2
}
logging {
    to_stderr: yes
    to_syslog: no
}
";

async fn crm_mon() -> String {
    run(
        Command::new("crm_mon").args(["--one-shot", "--output-as=xml"]),
        Duration::from_secs(30),
    )
    .await
    .1
}

fn clear_pacemaker_state() {
    for dir in ["/var/lib/pacemaker/cib", "/var/lib/pacemaker/pengine"] {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// One cluster test at a time: the two share Pacemaker's packages, the machine's `hacluster`
/// user and its process table (and two clusters forming at once on two cores time out).
static ONE_CLUSTER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn the_pacemaker_driver_judges_nobody_without_quorum_and_reads_the_cluster_with_it() {
    let _one = ONE_CLUSTER_AT_A_TIME.lock().await;
    require_cluster_programs(&["corosync", "pacemakerd", "crm_mon", "corosync-quorumtool"]);
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("corosync.conf");
    std::fs::write(&conf, COROSYNC_CONF).unwrap();
    clear_pacemaker_state();
    let mut corosync = spawn_logged(
        Command::new("corosync").arg("-f").arg("-c").arg(&conf),
        &dir.path().join("corosync.log"),
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut pacemaker = spawn_logged(
        Command::new("/usr/sbin/pacemakerd").env("PCMK_logfile", dir.path().join("pacemaker.log")),
        &dir.path().join("pacemakerd.out"),
    );
    let formed = eventually(Duration::from_secs(120), || async {
        let xml = crm_mon().await;
        xml.contains(r#"present="true""#) && xml.contains(r#"with_quorum="false""#)
    })
    .await;
    let log = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    assert!(
        formed,
        "the cluster did not elect a DC:\n{}\n{}",
        log(&dir.path().join("corosync.log")),
        crm_mon().await
    );

    let server = Server::start("").await;
    let agent_file = dir.path().join("hostmonitor.conf");
    std::fs::write(
        &agent_file,
        format!(
            "{}[host]\nmonitoring_driver = default\nmonitoring_interval = 1\nmonitoring_samples = 1\n",
            agent_conf("node1", &format!("{}/v1", server.url()), &dir.path().join("outbox"))
        ),
    )
    .unwrap();
    let agent = Agent::start("hostmonitor", &agent_file, None);
    assert!(
        eventually(Duration::from_secs(10), || async {
            agent.log().contains("pacemaker hostmonitor running")
        })
        .await,
        "{}",
        agent.log()
    );
    let judged_nobody = eventually(Duration::from_secs(20), || async {
        agent.log().contains("has no quorum: judging nobody")
    })
    .await;
    assert!(judged_nobody, "{}", agent.log());

    // Expecting one vote gives the one node quorum; the driver judges again, skipping itself.
    let (ok, out, err) = run(
        Command::new("corosync-quorumtool").args(["-e", "1"]),
        Duration::from_secs(20),
    )
    .await;
    assert!(ok, "{out}{err}");
    let regained = eventually(Duration::from_secs(30), || async {
        agent.log().contains("has quorum again")
    })
    .await;
    assert!(regained, "{}\n{}", agent.log(), crm_mon().await);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let text = agent.log();
    assert!(!text.contains("cannot read the cluster state"), "{text}");
    assert!(
        !text.contains("node1 is offline") && !text.contains("node1: "),
        "{text}"
    );
    assert!(notifications(&server.store().await).await.is_empty());

    agent.kill().await;
    server.stop().await;
    if let Some(pid) = pacemaker.id() {
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
    }
    let _ = tokio::time::timeout(Duration::from_secs(30), pacemaker.wait()).await;
    let _ = corosync.kill().await;
    clear_pacemaker_state();
}

/// The three-node cluster's namespaces are `lbpm-sw` (the bridge, and the API) and
/// `lbpm-n1`..; its addresses are 10.78.0.0/24, used by no other test.
const PREFIX: &str = "lbpm";
const SUBNET: &str = "10.78.0";
const API_PORT: u16 = 15878;

/// Written as every node's CIB before Pacemaker starts: the DC election waits 2 s for its peers
/// instead of 20 s. Fencing stays enabled (Pacemaker's default, with no devices): a lost node is
/// then `online="false" unclean="true"`, which is what membership needs.
const CIB_XML: &str = r#"<cib validate-with="pacemaker-3.0" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-dc-deadtime" name="dc-deadtime" value="2s"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources/>
    <constraints/>
  </configuration>
  <status/>
</cib>
"#;

/// corosync.conf of an `n`-node knet cluster on the namespaces' addresses; a 1 s token (the
/// default is 3 s) so that a lost node is seen within about 4 s.
fn corosync_conf(n: usize) -> String {
    let nodes: String = (1..=n)
        .map(|i| {
            format!(
                "    node {{\n        name: node{i}\n        nodeid: {i}\n        ring0_addr: {SUBNET}.{i}\n    }}\n"
            )
        })
        .collect();
    format!(
        "totem {{\n    version: 2\n    cluster_name: lbpm\n    transport: knet\n    crypto_cipher: none\n    \
         crypto_hash: none\n    token: 1000\n}}\nnodelist {{\n{nodes}}}\nquorum {{\n    provider: \
         corosync_votequorum\n}}\nlogging {{\n    to_stderr: yes\n    to_syslog: no\n    timestamp: on\n}}\n"
    )
}

/// Whether `crm_mon`'s XML shows node `name` online (`None`: not listed).
fn node_online(xml: &str, name: &str) -> Option<bool> {
    let start = xml.find(&format!("<node name=\"{name}\" "))?;
    let tag = &xml[start..start + xml[start..].find('>')?];
    Some(tag.contains(r#" online="true""#))
}

/// `n` corosync + Pacemaker nodes, each in its own network and mount namespaces. Each node's
/// mount namespace is held by a `sleep` in it; its daemons, `crm_mon` and the hostmonitor enter
/// it with `nsenter`. Dropping the cluster kills every process in its namespaces (daemons,
/// agent, API) and deletes the namespaces; the private mounts go with their last process.
struct Cluster {
    nodes: usize,
    dir: tempfile::TempDir,
    holders: Vec<u32>,
    children: Vec<Child>,
}

impl Cluster {
    fn switch() -> String {
        format!("{PREFIX}-sw")
    }

    fn ns(i: usize) -> String {
        format!("{PREFIX}-n{i}")
    }

    fn node_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("node{i}"))
    }

    /// Makes the namespaces and links, then starts corosync on every node and, once every
    /// corosync answers, Pacemaker.
    async fn start(nodes: usize) -> Self {
        teardown(nodes);
        let mut cluster = Self {
            nodes,
            dir: tempfile::tempdir().unwrap(),
            holders: Vec::new(),
            children: Vec::new(),
        };
        let sw = Self::switch();
        ip(&["netns", "add", &sw]);
        in_ns(&sw, &["ip", "link", "set", "lo", "up"]);
        in_ns(&sw, &["ip", "link", "add", "br0", "type", "bridge"]);
        in_ns(&sw, &["ip", "link", "set", "br0", "up"]);
        in_ns(
            &sw,
            &[
                "ip",
                "addr",
                "add",
                &format!("{SUBNET}.254/24"),
                "dev",
                "br0",
            ],
        );
        for i in 1..=nodes {
            let ns = Self::ns(i);
            let port = format!("n{i}");
            ip(&["netns", "add", &ns]);
            in_ns(&ns, &["ip", "link", "set", "lo", "up"]);
            ip(&[
                "link", "add", "eth0", "netns", &ns, "type", "veth", "peer", "name", &port,
                "netns", &sw,
            ]);
            in_ns(&sw, &["ip", "link", "set", &port, "master", "br0"]);
            in_ns(&sw, &["ip", "link", "set", &port, "up"]);
            in_ns(
                &ns,
                &[
                    "ip",
                    "addr",
                    "add",
                    &format!("{SUBNET}.{i}/24"),
                    "dev",
                    "eth0",
                ],
            );
            in_ns(&ns, &["ip", "link", "set", "eth0", "up"]);
            cluster.start_holder(i);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for i in 1..=nodes {
            let file = cluster.node_dir(i).join("holder.pid");
            let pid = loop {
                if let Ok(text) = std::fs::read_to_string(&file) {
                    break text.trim().parse::<u32>().unwrap();
                }
                assert!(
                    Instant::now() < deadline,
                    "node{i}'s mount namespace was not made: {}",
                    std::fs::read_to_string(cluster.node_dir(i).join("holder.log"))
                        .unwrap_or_default()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            cluster.holders.push(pid);
        }
        for i in 1..=nodes {
            let conf = cluster.node_dir(i).join("corosync.conf");
            let log = cluster.node_dir(i).join("corosync.log");
            let child = spawn_logged(
                cluster.command(i, "corosync").arg("-f").arg("-c").arg(conf),
                &log,
            );
            cluster.children.push(child);
        }
        for i in 1..=nodes {
            let up = eventually(Duration::from_secs(20), || async {
                run(
                    cluster.command(i, "corosync-cfgtool").arg("-s"),
                    Duration::from_secs(10),
                )
                .await
                .0
            })
            .await;
            assert!(up, "node{i}'s corosync did not start:\n{}", cluster.logs());
        }
        for i in 1..=nodes {
            let out = cluster.node_dir(i).join("pacemakerd.out");
            let child = spawn_logged(&mut cluster.command(i, "/usr/sbin/pacemakerd"), &out);
            cluster.children.push(child);
        }
        cluster
    }

    /// Prepares node `i`'s state directories and starts the process holding its mount
    /// namespace, in which they replace the host's.
    fn start_holder(&mut self, i: usize) {
        let d = self.node_dir(i);
        for sub in [
            "pacemaker/cib",
            "pacemaker/pengine",
            "pacemaker/blackbox",
            "pacemaker/cores",
            "corosync",
            "log",
        ] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        std::fs::write(d.join("pacemaker/cib/cib.xml"), CIB_XML).unwrap();
        std::fs::write(d.join("corosync.conf"), corosync_conf(self.nodes)).unwrap();
        let chown = StdCommand::new("chown")
            .args(["-R", "hacluster:haclient"])
            .arg(d.join("pacemaker"))
            .arg(d.join("log"))
            .output()
            .unwrap();
        assert!(
            chown.status.success(),
            "chown to hacluster failed ({}): install pacemaker with scripts/setup/monitors.sh",
            String::from_utf8_lossy(&chown.stderr)
        );
        let d = d.display();
        let script = format!(
            "mount --bind {d}/pacemaker /var/lib/pacemaker && mount --bind {d}/corosync /var/lib/corosync \
             && mount --bind {d}/log /var/log/pacemaker && mount -t tmpfs tmpfs /run \
             && mount -t tmpfs tmpfs /dev/shm && echo $$ > {d}/holder.tmp && mv {d}/holder.tmp {d}/holder.pid \
             && exec sleep infinity"
        );
        let child = spawn_logged(
            Command::new("ip").args([
                "netns",
                "exec",
                &Self::ns(i),
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                &script,
            ]),
            &self.node_dir(i).join("holder.log"),
        );
        self.children.push(child);
    }

    /// The arguments that run a program in node `i`'s network and mount namespaces.
    fn enter(&self, i: usize) -> Vec<String> {
        let pid = self.holders[i - 1].to_string();
        ["nsenter", "-t", &pid, "-m", "-n"]
            .map(str::to_owned)
            .to_vec()
    }

    /// `program` in node `i`'s namespaces.
    fn command(&self, i: usize, program: &str) -> Command {
        let enter = self.enter(i);
        let mut command = Command::new(&enter[0]);
        command.args(&enter[1..]).arg(program);
        command
    }

    /// `crm_mon --one-shot --output-as=xml` on node `i`.
    async fn crm_mon(&self, i: usize) -> String {
        run(
            self.command(i, "crm_mon")
                .args(["--one-shot", "--output-as=xml"]),
            Duration::from_secs(30),
        )
        .await
        .1
    }

    /// Takes node `i`'s link down at the switch.
    fn cut(&self, i: usize) {
        in_ns(
            &Self::switch(),
            &["ip", "link", "set", &format!("n{i}"), "down"],
        );
    }

    /// Brings node `i`'s link back up.
    fn restore(&self, i: usize) {
        in_ns(
            &Self::switch(),
            &["ip", "link", "set", &format!("n{i}"), "up"],
        );
    }

    /// The last lines of every node's corosync and Pacemaker logs.
    fn logs(&self) -> String {
        let tail = |p: &Path| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(15)..].join("\n")
        };
        (1..=self.nodes)
            .map(|i| {
                let d = self.node_dir(i);
                format!(
                    "--- node{i} corosync:\n{}\n--- node{i} pacemaker:\n{}",
                    tail(&d.join("corosync.log")),
                    tail(&d.join("log/pacemaker.log"))
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Kills every process in the cluster's namespaces (by pid: `ip netns pids`) and deletes them.
fn teardown(nodes: usize) {
    let mut names = vec![Cluster::switch()];
    names.extend((1..=nodes).map(Cluster::ns));
    for ns in names {
        if !Path::new("/run/netns").join(&ns).exists() {
            continue;
        }
        // Rounds until nothing is left (each takes an `ip` run): a process forked while the
        // last round was killing (pacemakerd respawning a daemon) is killed by the next.
        for _ in 0..200 {
            let out = StdCommand::new("ip")
                .args(["netns", "pids", &ns])
                .output()
                .unwrap();
            let pids = String::from_utf8_lossy(&out.stdout).into_owned();
            if pids.trim().is_empty() {
                break;
            }
            let _ = StdCommand::new("kill")
                .arg("-9")
                .args(pids.split_whitespace())
                .output();
        }
        let _ = StdCommand::new("ip").args(["netns", "del", &ns]).output();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        teardown(self.nodes);
    }
}

#[tokio::test]
async fn the_pacemaker_driver_reports_a_node_leaving_a_three_node_cluster_once_and_nobody_without_quorum()
 {
    let _one = ONE_CLUSTER_AT_A_TIME.lock().await;
    require_cluster_programs(&[
        "corosync",
        "pacemakerd",
        "crm_mon",
        "corosync-cfgtool",
        "nsenter",
        "unshare",
    ]);
    let began = Instant::now();
    let cluster = Cluster::start(3).await;
    let formed = eventually(Duration::from_secs(60), || async {
        let xml = cluster.crm_mon(1).await;
        xml.contains(r#"with_quorum="true""#)
            && (1..=3).all(|i| node_online(&xml, &format!("node{i}")) == Some(true))
    })
    .await;
    assert!(
        formed,
        "the cluster did not form with 3 members and quorum:\n{}\n{}",
        cluster.crm_mon(1).await,
        cluster.logs()
    );
    let formed_after = began.elapsed();

    let (server, store) = serve_in(
        &Cluster::switch(),
        &format!("{SUBNET}.254"),
        API_PORT,
        cluster.dir.path(),
    )
    .await;
    let mut cluster = cluster;
    cluster.children.push(server);
    let server_log =
        || std::fs::read_to_string(cluster.dir.path().join("lifeboat.log")).unwrap_or_default();
    register(&store, "seg-pcmk", &["node1", "node2", "node3"]).await;
    let conf = cluster.dir.path().join("hostmonitor.conf");
    std::fs::write(
        &conf,
        format!(
            "{}[host]\nmonitoring_driver = pacemaker\nmonitoring_interval = 0.5\nmonitoring_samples = 1\n",
            agent_conf(
                "node1",
                &format!("http://{SUBNET}.254:{API_PORT}/v1"),
                &cluster.dir.path().join("outbox")
            )
        ),
    )
    .unwrap();
    let enter = cluster.enter(1);
    let enter: Vec<&str> = enter.iter().map(String::as_str).collect();
    let agent = Agent::start_under("hostmonitor", &conf, &enter);
    let running = eventually(Duration::from_secs(10), || async {
        agent.log().contains("pacemaker hostmonitor running")
    })
    .await;
    assert!(running, "{}", agent.log());
    // All three online with quorum: a few samples, and nobody is reported.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let text = agent.log();
    for unwanted in [
        "cannot read the cluster state",
        "no quorum",
        "offline",
        "in the cluster",
    ] {
        assert!(!text.contains(unwanted), "{unwanted:?} in:\n{text}");
    }
    assert!(notifications(&store).await.is_empty(), "{text}");

    // node3's link is cut: node1 and node2 keep quorum and see it leave.
    let cut = Instant::now();
    cluster.cut(3);
    let seen = eventually(Duration::from_secs(30), || async {
        !notifications_of(&store, "node3").await.is_empty()
    })
    .await;
    let latency = cut.elapsed();
    assert!(
        seen,
        "node3 was not reported:\n{}\n{}\n{}",
        agent.log(),
        cluster.crm_mon(1).await,
        server_log()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = notifications(&store).await;
    assert_eq!(all.len(), 1, "{all:?}\n{}", agent.log());
    assert_eq!(notifications_of(&store, "node3").await.len(), 1);
    let n = &all[0];
    assert_eq!(n.notification_type.as_str(), "COMPUTE_HOST");
    assert_eq!(n.payload.get("event"), Some("STOPPED"));
    assert_eq!(n.payload.get("cluster_status"), Some("OFFLINE"));
    assert_eq!(n.payload.get("host_status"), Some("NORMAL"));
    assert!(
        !server_log().contains("notification refused"),
        "{}",
        server_log()
    );

    // node2's link is cut too: node1 is alone without quorum. The cluster sees node2 leave, and
    // the driver reports nothing.
    let cut = Instant::now();
    cluster.cut(2);
    let lost = eventually(Duration::from_secs(30), || async {
        agent.log().contains("has no quorum: judging nobody")
    })
    .await;
    let quorum_lost_after = cut.elapsed();
    assert!(lost, "{}\n{}", agent.log(), cluster.crm_mon(1).await);
    let node2_offline = eventually(Duration::from_secs(30), || async {
        node_online(&cluster.crm_mon(1).await, "node2") == Some(false)
    })
    .await;
    assert!(node2_offline, "{}", cluster.crm_mon(1).await);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = notifications(&store).await;
    assert_eq!(all.len(), 1, "{all:?}\n{}", agent.log());
    assert!(!agent.log().contains("node2: STOPPED"), "{}", agent.log());

    // Both links back: quorum returns, node3 is reported STARTED, and node2, whose loss only a
    // partition without quorum saw, is not reported at all.
    let healed = Instant::now();
    cluster.restore(2);
    cluster.restore(3);
    let started = eventually(Duration::from_secs(60), || async {
        notifications_of(&store, "node3")
            .await
            .iter()
            .any(|n| n.payload.get("event") == Some("STARTED"))
    })
    .await;
    let started_after = healed.elapsed();
    assert!(
        started,
        "node3 was not reported STARTED:\n{}\n{}\n{}",
        agent.log(),
        cluster.crm_mon(1).await,
        cluster.logs()
    );
    assert!(agent.log().contains("has quorum again"), "{}", agent.log());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = notifications(&store).await;
    assert_eq!(all.len(), 2, "{all:?}\n{}", agent.log());
    assert!(notifications_of(&store, "node2").await.is_empty());
    let back = notifications_of(&store, "node3").await;
    let back = back
        .iter()
        .find(|n| n.payload.get("event") == Some("STARTED"))
        .unwrap();
    assert_eq!(back.payload.get("cluster_status"), Some("ONLINE"));
    assert_eq!(back.payload.get("host_status"), Some("NORMAL"));
    eprintln!(
        "pacemaker 3 nodes: formed after {formed_after:?}, node3 reported {latency:?} after its cut, \
         no quorum seen {quorum_lost_after:?} after node2's, node3 STARTED {started_after:?} after \
         the links came back, {:?} in all",
        began.elapsed()
    );

    drop(agent);
    drop(cluster);
    for i in 0..=3 {
        let ns = if i == 0 {
            Cluster::switch()
        } else {
            Cluster::ns(i)
        };
        assert!(
            !Path::new("/run/netns").join(&ns).exists(),
            "{ns} was left behind"
        );
    }
}

//! Lifeboat's agents reporting to a stock Masakari 22 API (masakari-api from PyPI, noauth2, its
//! own MariaDB database and RabbitMQ vhost; `scripts/setup/masakari.sh` installs it): a process
//! that cannot be restarted, a destroyed libvirt test-driver domain and a host whose links are
//! cut in a netns lab (the `peer` hostmonitor). Each report must be accepted, i.e. listed by
//! Masakari's own `GET /v1/notifications` with masakari's payload.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::instance::{test_domain_xml, virsh};
use super::lab::Lab;
use super::process::entry;
use super::{Agent, agent_conf, eventually};
use crate::masakari::{Masakari, venv};
use crate::support::free_port;

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

//! instancemonitor against a real libvirtd: a QEMU (TCG, diskless) domain killed under libvirt
//! (STOPPED_FAILED), test-driver domains destroyed through the daemon (STOPPED_DESTROYED), and a
//! libvirtd restart in between (the monitor reconnects). libvirtd is started by
//! `scripts/setup/monitors.sh`.

use std::path::Path;
use std::time::Duration;

use super::{Agent, agent_conf, eventually, notifications_of, register};
use crate::support::{Server, run};

pub(super) async fn virsh(uri: &str, args: &[&str]) -> (bool, String) {
    let (ok, out, err) = run(
        tokio::process::Command::new("virsh")
            .arg("-c")
            .arg(uri)
            .args(args),
        Duration::from_secs(180),
    )
    .await;
    (ok, format!("{out}{err}"))
}

fn write_conf(dir: &Path, server: &Server, uri: &str, name: &str) -> std::path::PathBuf {
    let conf = dir.join(format!("{name}.conf"));
    std::fs::write(
        &conf,
        format!(
            "{}[libvirt]\nconnection_uri = {uri}\nreconnect_interval = 0.5\n",
            agent_conf(
                "compute-i",
                &format!("{}/v1", server.url()),
                &dir.join(format!("outbox-{name}"))
            )
        ),
    )
    .unwrap();
    conf
}

async fn vm_event_for(
    store: &std::sync::Arc<dyn lifeboat_core::store::Store>,
    uuid: &str,
    event: &str,
) -> bool {
    notifications_of(store, "compute-i").await.iter().any(|n| {
        n.notification_type.as_str() == "VM"
            && n.payload.get("instance_uuid") == Some(uuid)
            && n.payload.get("vir_domain_event") == Some(event)
            && n.payload.get("event") == Some("LIFECYCLE")
    })
}

/// Writes `dir/<name>.xml`, a test-driver domain with a new uuid; returns the path and uuid.
pub(super) fn test_domain_xml(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
    let uuid = uuid::Uuid::new_v4().to_string();
    let xml = dir.join(format!("{name}.xml"));
    std::fs::write(
        &xml,
        format!("<domain type='test'><name>{name}</name><uuid>{uuid}</uuid><memory>8192</memory><os><type>hvm</type></os></domain>"),
    )
    .unwrap();
    (xml, uuid)
}

async fn test_domain(uri: &str, dir: &Path, name: &str) -> String {
    let (xml, uuid) = test_domain_xml(dir, name);
    let (ok, out) = virsh(uri, &["create", &xml.display().to_string()]).await;
    assert!(ok, "virsh create failed: {out}");
    uuid
}

async fn restart_libvirtd() {
    let pid = std::fs::read_to_string("/run/libvirtd.pid")
        .expect("libvirtd is not running: run scripts/setup/monitors.sh");
    let pid = pid.trim().to_owned();
    let _ = std::process::Command::new("kill").arg(&pid).status();
    let gone = eventually(Duration::from_secs(20), || async {
        !Path::new(&format!("/proc/{pid}")).exists()
    })
    .await;
    assert!(gone, "libvirtd {pid} did not stop");
    assert!(
        std::process::Command::new("libvirtd")
            .arg("-d")
            .status()
            .unwrap()
            .success()
    );
    let up = eventually(Duration::from_secs(30), || async {
        virsh("qemu:///system", &["version"]).await.0
    })
    .await;
    assert!(up, "libvirtd did not come back");
}

#[tokio::test]
async fn destroyed_and_crashed_domains_are_reported_and_a_libvirtd_restart_is_survived() {
    let (ok, out) = virsh("qemu:///system", &["version"]).await;
    assert!(
        ok,
        "libvirtd does not answer (run scripts/setup/monitors.sh): {out}"
    );
    let server = Server::start("").await;
    let store = server.store().await;
    register(&store, "seg-instance", &["compute-i"]).await;
    let dir = tempfile::tempdir().unwrap();
    let qemu_agent = Agent::start(
        "instancemonitor",
        &write_conf(dir.path(), &server, "qemu:///system", "qemu"),
        None,
    );
    let test_uri = "test+unix:///default";
    let test_agent = Agent::start(
        "instancemonitor",
        &write_conf(dir.path(), &server, "test:///default", "test"),
        None,
    );
    for agent in [&qemu_agent, &test_agent] {
        assert!(
            eventually(Duration::from_secs(10), || async {
                agent.log().contains("connected to libvirt")
            })
            .await,
            "{}",
            agent.log()
        );
    }

    // A real QEMU domain (TCG, no disk) whose emulator dies: STOPPED_FAILED.
    let name = format!("lbt-crash-{}", std::process::id());
    let uuid = uuid::Uuid::new_v4().to_string();
    let xml = dir.path().join("crash.xml");
    std::fs::write(
        &xml,
        format!(
            "<domain type='qemu'><name>{name}</name><uuid>{uuid}</uuid><memory unit='MiB'>32</memory><vcpu>1</vcpu>\
             <os><type arch='x86_64' machine='pc'>hvm</type></os><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>"
        ),
    )
    .unwrap();
    let (ok, out) = virsh("qemu:///system", &["create", &xml.display().to_string()]).await;
    assert!(ok, "creating a QEMU domain failed: {out}");
    let pid = std::fs::read_to_string(format!("/run/libvirt/qemu/{name}.pid")).unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-9", pid.trim()])
        .status();
    assert!(
        eventually(Duration::from_secs(15), || vm_event_for(
            &store,
            &uuid,
            "STOPPED_FAILED"
        ))
        .await,
        "{}",
        qemu_agent.log()
    );

    // A destroyed domain: STOPPED_DESTROYED.
    let first = test_domain(
        test_uri,
        dir.path(),
        &format!("lbt-a-{}", std::process::id()),
    )
    .await;
    let (ok, out) = virsh(test_uri, &["destroy", &first]).await;
    assert!(ok, "{out}");
    assert!(
        eventually(Duration::from_secs(10), || vm_event_for(
            &store,
            &first,
            "STOPPED_DESTROYED"
        ))
        .await,
        "{}",
        test_agent.log()
    );

    // libvirtd restarts; the monitor reconnects and keeps reporting.
    restart_libvirtd().await;
    assert!(
        eventually(Duration::from_secs(15), || async {
            test_agent.log().matches("connected to libvirt").count() >= 2
        })
        .await,
        "{}",
        test_agent.log()
    );
    let second = test_domain(
        test_uri,
        dir.path(),
        &format!("lbt-b-{}", std::process::id()),
    )
    .await;
    let (ok, out) = virsh(test_uri, &["destroy", &second]).await;
    assert!(ok, "{out}");
    assert!(
        eventually(Duration::from_secs(10), || vm_event_for(
            &store,
            &second,
            "STOPPED_DESTROYED"
        ))
        .await,
        "{}",
        test_agent.log()
    );
    // Exactly the three reports (no duplicates from coalescing or reconnection). The daemon's
    // test:///default is shared: other tests' domains (stock_masakari.rs) are reported too.
    let ours = [uuid.as_str(), first.as_str(), second.as_str()];
    let reports = notifications_of(&store, "compute-i").await;
    let reports: Vec<_> = reports
        .iter()
        .filter(|n| {
            n.payload
                .get("instance_uuid")
                .is_none_or(|u| ours.contains(&u))
        })
        .collect();
    assert_eq!(reports.len(), 3, "{reports:?}\n{}", test_agent.log());
    qemu_agent.kill().await;
    test_agent.kill().await;
    server.stop().await;
}

//! The instancemonitor's guest-agent heartbeat against a real libvirtd and QEMU (TCG, no disk,
//! no guest OS): the domain has Nova's guest-agent channel, so it is watched and pinged, and
//! libvirt answers "QEMU guest agent is not connected" every time. Such a guest has never
//! answered, so it must not be reported.
//!
//! A guest that answers and then stops needs a real agent inside a booted guest, which this
//! machine cannot run cheaply; that transition is covered by `monitors::instance::guest`'s unit
//! tests.

use std::time::Duration;

use super::instance::virsh;
use super::{Agent, agent_conf, eventually, notifications_of, register};
use crate::support::Server;

#[tokio::test]
async fn a_guest_whose_agent_never_answered_is_pinged_but_not_reported() {
    let (ok, out) = virsh("qemu:///system", &["version"]).await;
    assert!(
        ok,
        "libvirtd does not answer (run scripts/setup/monitors.sh): {out}"
    );
    assert!(
        std::path::Path::new("/run/libvirt/libvirt-sock").exists(),
        "libvirtd's read-write socket is missing (run scripts/setup/monitors.sh as root)"
    );
    let server = Server::start("").await;
    let store = server.store().await;
    register(&store, "seg-guest", &["compute-g"]).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("guest.conf");
    std::fs::write(
        &conf,
        format!(
            "{}[libvirt]\nconnection_uri = qemu:///system\nreconnect_interval = 0.5\n\
             [introspectiveinstancemonitor]\nenabled = true\nguest_monitoring_interval = 1\n\
             guest_monitoring_timeout = 1\nguest_monitoring_failure_threshold = 2\n",
            agent_conf(
                "compute-g",
                &format!("{}/v1", server.url()),
                &dir.path().join("outbox")
            )
        ),
    )
    .unwrap();
    let agent = Agent::start_filtered(
        "instancemonitor",
        &conf,
        &[],
        "info,lifeboat_monitors::instance::heartbeat=debug",
    );
    assert!(
        eventually(Duration::from_secs(10), || async {
            agent.log().contains("guest-agent heartbeat connected")
        })
        .await,
        "{}",
        agent.log()
    );

    let pid = std::process::id();
    let name = format!("lbt-ga-{pid}");
    let uuid = uuid::Uuid::new_v4().to_string();
    let xml = dir.path().join("guest.xml");
    std::fs::write(
        &xml,
        format!(
            "<domain type='qemu'><name>{name}</name><uuid>{uuid}</uuid><memory unit='MiB'>32</memory><vcpu>1</vcpu>\
             <os><type arch='x86_64' machine='pc'>hvm</type></os><devices><emulator>/usr/bin/qemu-system-x86_64</emulator>\
             <channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/org.qemu.guest_agent.0.instance-lbt{pid}.sock'/>\
             <target type='virtio' name='org.qemu.guest_agent.0'/></channel></devices></domain>"
        ),
    )
    .unwrap();
    let (ok, out) = virsh("qemu:///system", &["create", &xml.display().to_string()]).await;
    assert!(ok, "creating a QEMU domain failed: {out}");

    // Watched (Nova's socket path matches the default regex), pinged, and libvirt's answer is
    // a failed ping.
    let failed_pings = || {
        agent
            .log()
            .lines()
            .filter(|l| l.contains("guest-agent ping failed") && l.contains(&uuid))
            .count()
    };
    let pinged = eventually(Duration::from_secs(30), || async { failed_pings() >= 6 }).await;
    let log = agent.log();
    let (destroyed, out) = virsh("qemu:///system", &["destroy", &name]).await;
    assert!(pinged, "{log}");
    assert!(destroyed, "{out}");
    assert!(
        log.contains("watching the domain's QEMU guest agent") && log.contains(&uuid),
        "{log}"
    );
    assert!(
        log.contains("QEMU guest agent is not connected")
            && log.contains("the guest has never answered"),
        "{log}"
    );
    // Six failed pings, three times the threshold: still not reported.
    assert!(!log.contains("reporting QEMU_GUEST_AGENT_ERROR"), "{log}");
    // The event loop runs beside the heartbeat: the destroyed domain is reported.
    let destroyed_reported = eventually(Duration::from_secs(15), || async {
        notifications_of(&store, "compute-g").await.iter().any(|n| {
            n.payload.get("instance_uuid") == Some(uuid.as_str())
                && n.payload.get("vir_domain_event") == Some("STOPPED_DESTROYED")
        })
    })
    .await;
    assert!(destroyed_reported, "{}", agent.log());
    let reports = notifications_of(&store, "compute-g").await;
    assert!(
        !reports
            .iter()
            .any(|n| n.payload.get("event") == Some("QEMU_GUEST_AGENT_ERROR")),
        "{reports:?}"
    );
    agent.kill().await;
    server.stop().await;
}

//! Fence topologies over a real store: levels, verification, history, sealed passwords.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::clock::{Clock, SystemClock};
use lifeboat_core::config::{DatabaseUrl, Secret};
use lifeboat_core::fencing::{CredentialSealer, FenceError, Fencer, PowerAction, PowerState};
use lifeboat_core::model::{FenceDriver, NewFenceDevice, NewHost, NewSegment, RecoveryMethod};
use lifeboat_core::store::Store;
use lifeboat_core::validation::{Description, HostType, Name};
use lifeboat_fence::ipmi::{Timing, Verification};
use lifeboat_fence::testing::{IpmiSim, free_udp_port, require_program};
use lifeboat_fence::{FenceSettings, KeySealer, TopologyFencer};
use serde_json::json;

pub struct Rig {
    pub store: Arc<dyn Store>,
    pub fencer: TopologyFencer,
    pub sealer: Arc<KeySealer>,
    pub host: uuid::Uuid,
    _dir: tempfile::TempDir,
}

pub fn settings() -> FenceSettings {
    FenceSettings {
        ipmi: Timing {
            retransmit: Duration::from_millis(100),
            timeout: Duration::from_millis(400),
        },
        verify: Verification {
            timeout: Duration::from_secs(3),
            interval: Duration::from_millis(200),
        },
        agent_dir: require_program("fence_ipmilan")
            .parent()
            .unwrap()
            .to_path_buf(),
        agent_timeout: Duration::from_secs(30),
    }
}

impl Rig {
    pub async fn new(host: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::sqlite_from_path(&dir.path().join("f.sqlite").display().to_string());
        let store = lifeboat_store::open(
            &url,
            &lifeboat_store::StoreOptions {
                migrate: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let now = SystemClock.now();
        let seg = store
            .create_segment(
                NewSegment {
                    name: Name::parse("name", &json!("seg")).unwrap(),
                    description: None,
                    recovery_method: RecoveryMethod::Auto,
                    service_type: Name::parse("service_type", &json!("COMPUTE")).unwrap(),
                    enabled: true,
                },
                now,
            )
            .await
            .unwrap();
        let host = store
            .create_host(
                seg.uuid,
                NewHost {
                    name: Name::parse("name", &json!(host)).unwrap(),
                    host_type: HostType::parse("type", &json!("COMPUTE")).unwrap(),
                    control_attributes: Description::parse("c", &json!("SSH")).unwrap(),
                    reserved: false,
                    on_maintenance: false,
                },
                now,
            )
            .await
            .unwrap();
        let sealer = Arc::new(KeySealer::new(&[42u8; 32]));
        let fencer = TopologyFencer::new(
            store.clone(),
            Some(sealer.clone() as Arc<dyn CredentialSealer>),
            settings(),
            Arc::new(SystemClock),
        );
        Self {
            store,
            fencer,
            sealer,
            host: host.uuid,
            _dir: dir,
        }
    }

    pub async fn add(&self, name: &str, level: u32, driver: &str, address: &str, password: &str) {
        let mut options = BTreeMap::new();
        if driver == "fence_ipmilan" {
            options.insert("cipher".to_owned(), "3".to_owned());
            options.insert("power_wait".to_owned(), "0".to_owned());
        }
        let device = NewFenceDevice {
            name: name.to_owned(),
            level,
            driver: FenceDriver::parse(driver).unwrap(),
            address: Some(address.to_owned()),
            username: Some("admin".to_owned()),
            password: Some(self.sealer.seal(&Secret::new(password)).unwrap()),
            options,
        };
        self.fencer.check_device(&device).await.unwrap();
        self.store
            .create_fence_device(self.host, device, SystemClock.now())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_failed_first_level_falls_through_to_a_second_that_succeeds() {
    let sim = IpmiSim::start();
    let rig = Rig::new("compute-1").await;
    let dead = format!("127.0.0.1:{}", free_udp_port());
    rig.add("dead-bmc", 1, "ipmi", &dead, "password").await;
    rig.add("agent", 2, "fence_ipmilan", &sim.address(), "password")
        .await;
    assert!(rig.fencer.has_device("compute-1").await);
    assert!(!rig.fencer.has_device("compute-2").await);

    let attempts = rig.fencer.fence("compute-1").await.unwrap();
    assert_eq!(attempts.len(), 2);
    assert!(
        !attempts[0].succeeded && attempts[0].message.contains("did not answer"),
        "{attempts:?}"
    );
    assert!(attempts[1].succeeded, "{attempts:?}");
    assert!(
        attempts[1].message.contains("power read off"),
        "{}",
        attempts[1].message
    );
    assert!(!sim.power_on());

    let history = rig.store.fence_history("compute-1", 10).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(
        (history[0].device.as_str(), history[0].succeeded),
        ("agent", true)
    );
    assert_eq!(
        (history[1].device.as_str(), history[1].succeeded),
        ("dead-bmc", false)
    );
    assert!(history.iter().all(|h| h.action == PowerAction::Off));
    assert!(history[1].duration_ms >= 400, "{:?}", history[1]);
}

#[tokio::test]
async fn every_device_of_a_level_must_succeed_and_all_levels_failing_is_an_error() {
    let sim = IpmiSim::start();
    let rig = Rig::new("compute-1").await;
    let dead = format!("127.0.0.1:{}", free_udp_port());
    // Level 1: the sim, then a dead BMC: the level fails although its first device worked.
    rig.add("a-good", 1, "ipmi", &sim.address(), "password")
        .await;
    rig.add("b-dead", 1, "ipmi", &dead, "password").await;
    // Level 2: a wrong password.
    rig.add("wrong", 2, "ipmi", &sim.address(), "nope").await;
    let err = rig.fencer.fence("compute-1").await.unwrap_err();
    let FenceError::AllLevelsFailed {
        summary, attempts, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(attempts.len(), 3);
    assert!(
        summary.contains("level 1 device b-dead") && summary.contains("did not answer"),
        "{summary}"
    );
    assert!(
        summary.contains("level 2 device wrong") && summary.contains("wrong password"),
        "{summary}"
    );
    assert!(!summary.contains("nope"), "{summary}");
    assert!(
        !summary.contains("a-good"),
        "only failures are summarised: {summary}"
    );
}

#[tokio::test]
async fn operators_power_hosts_through_the_topology_and_read_their_state() {
    let sim = IpmiSim::start();
    let rig = Rig::new("compute-1").await;
    rig.add("bmc", 1, "ipmi", &sim.address(), "password").await;
    assert_eq!(
        rig.fencer.power_status("compute-1").await.unwrap(),
        PowerState::On
    );
    let off = rig
        .fencer
        .power("compute-1", PowerAction::Off)
        .await
        .unwrap();
    assert_eq!(off.state, PowerState::Off);
    assert_eq!(
        rig.fencer.power_status("compute-1").await.unwrap(),
        PowerState::Off
    );
    let on = rig
        .fencer
        .power("compute-1", PowerAction::On)
        .await
        .unwrap();
    assert_eq!(on.state, PowerState::On);
    assert!(sim.power_on());
    assert!(matches!(
        rig.fencer.power_status("compute-9").await,
        Err(FenceError::NoDevice { .. })
    ));
}

#[tokio::test]
async fn a_device_whose_password_cannot_be_opened_fails_without_saying_the_password() {
    let sim = IpmiSim::start();
    let rig = Rig::new("compute-1").await;
    rig.add("bmc", 1, "ipmi", &sim.address(), "password").await;
    let other_key = TopologyFencer::new(
        rig.store.clone(),
        Some(Arc::new(KeySealer::new(&[1u8; 32])) as Arc<dyn CredentialSealer>),
        settings(),
        Arc::new(SystemClock),
    );
    let err = other_key.fence("compute-1").await.unwrap_err();
    assert!(err.to_string().contains("does not open"), "{err}");
    assert!(sim.power_on());
}

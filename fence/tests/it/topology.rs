//! Fence topologies over a real store: levels, verification, history, sealed passwords.

use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::clock::{Clock, SystemClock};
use lifeboat_core::fencing::{CredentialSealer, FenceError, Fencer, PowerAction, PowerState};
use lifeboat_core::model::FenceDriver;
use lifeboat_core::store::Store;
use lifeboat_fence::ipmi::{Timing, Verification};
use lifeboat_fence::{FenceSettings, KeySealer, TopologyFencer};
use lifeboat_test_support::fixtures::{fence_device, segment_with_hosts};
use lifeboat_test_support::ipmi_sim::{IpmiSim, free_udp_port, require_program};
use lifeboat_test_support::store::TempStore;

pub struct Rig {
    pub store: Arc<dyn Store>,
    pub fencer: TopologyFencer,
    pub sealer: Arc<KeySealer>,
    pub host: uuid::Uuid,
    _store: TempStore,
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
        let temp = TempStore::new().await;
        let store = temp.store.clone();
        let (_, hosts) = segment_with_hosts(&*store, &[host], SystemClock.now()).await;
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
            host: hosts[0],
            _store: temp,
        }
    }

    pub async fn add(&self, name: &str, level: u32, driver: &str, address: &str, password: &str) {
        let options: &[(&str, &str)] = if driver == "fence_ipmilan" {
            &[("cipher", "3"), ("power_wait", "0")]
        } else {
            &[]
        };
        let device = fence_device(
            name,
            level,
            FenceDriver::parse(driver).unwrap(),
            address,
            password,
            &*self.sealer,
            options,
        );
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

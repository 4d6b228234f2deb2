//! The native RMCP+ client against ipmi_sim.

use std::time::Duration;

use lifeboat_core::config::Secret;
use lifeboat_core::fencing::{PowerAction, PowerState};
use lifeboat_fence::ipmi::{
    CipherChoice, CipherSuite, IpmiClient, IpmiError, IpmiTarget, Privilege, Timing, Verification,
};
use lifeboat_test_support::ipmi_sim::{IpmiSim, free_udp_port};
use tokio::time::Instant;

pub fn target(address: &str, user: &str, password: &str) -> IpmiTarget {
    IpmiTarget {
        address: address.to_owned(),
        username: user.to_owned(),
        password: Secret::new(password),
        kg: None,
        privilege: Privilege::Administrator,
        cipher: CipherChoice::Auto,
    }
}

pub fn timing() -> Timing {
    Timing {
        retransmit: Duration::from_millis(200),
        timeout: Duration::from_secs(2),
    }
}

fn verify() -> Verification {
    Verification {
        timeout: Duration::from_secs(2),
        interval: Duration::from_millis(200),
    }
}

#[tokio::test]
async fn status_off_on_and_reboot_work_and_are_verified() {
    let sim = IpmiSim::start();
    let client = IpmiClient::new(target(&sim.address(), "admin", "password"), timing());

    let status = client.run(PowerAction::Status, verify()).await.unwrap();
    assert_eq!(status.state, PowerState::On);
    assert!(
        sim.power_commands().is_empty(),
        "status must not switch power"
    );

    let off = client.run(PowerAction::Off, verify()).await.unwrap();
    assert_eq!(off.state, PowerState::Off);
    assert!(off.message.contains("verified"), "{}", off.message);
    assert!(!sim.power_on());
    assert_eq!(sim.power_commands(), vec!["0x20 set power 0"]);

    // Already off: done without another command.
    let again = client.run(PowerAction::Off, verify()).await.unwrap();
    assert!(again.message.contains("already off"), "{}", again.message);
    assert_eq!(sim.power_commands().len(), 1);

    let on = client.run(PowerAction::On, verify()).await.unwrap();
    assert_eq!(on.state, PowerState::On);
    assert!(sim.power_on());

    let reboot = client.run(PowerAction::Reboot, verify()).await.unwrap();
    assert_eq!(reboot.state, PowerState::On);
    assert_eq!(
        sim.power_commands(),
        vec![
            "0x20 set power 0",
            "0x20 set power 1",
            "0x20 set power 0",
            "0x20 set power 1"
        ]
    );
}

#[tokio::test]
async fn cipher_suite_17_is_tried_first_and_suite_3_used_when_the_bmc_lacks_it() {
    let sim = IpmiSim::start();
    let client = IpmiClient::new(target(&sim.address(), "admin", "password"), timing());
    let session = client.session().await.unwrap();
    assert_eq!(session.cipher_suite(), CipherSuite::Suite3);
    session.close().await;

    let mut only17 = target(&sim.address(), "admin", "password");
    only17.cipher = CipherChoice::Only(CipherSuite::Suite17);
    let err = IpmiClient::new(only17, timing())
        .run(PowerAction::Status, verify())
        .await
        .unwrap_err();
    assert!(
        matches!(err, IpmiError::OpenSession { suite: 17, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn a_wrong_password_fails_at_once_with_a_clear_error() {
    let sim = IpmiSim::start();
    let started = Instant::now();
    let err = IpmiClient::new(target(&sim.address(), "admin", "wrong"), timing())
        .run(PowerAction::Off, verify())
        .await
        .unwrap_err();
    assert!(matches!(err, IpmiError::Authentication { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("wrong password") && text.contains("admin"),
        "{text}"
    );
    assert!(
        !text.contains("wrong\""),
        "the password must not be quoted: {text}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert!(sim.power_on());
}

#[tokio::test]
async fn an_unreachable_bmc_fails_within_the_deadline() {
    let address = format!("127.0.0.1:{}", free_udp_port());
    let timing = Timing {
        retransmit: Duration::from_millis(100),
        timeout: Duration::from_millis(700),
    };
    let started = Instant::now();
    let err = IpmiClient::new(target(&address, "admin", "password"), timing)
        .run(PowerAction::Off, verify())
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, IpmiError::NoAnswer { .. }), "{err:?}");
    assert!(err.to_string().contains("did not answer"), "{err}");
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_millis(1200),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_user_privilege_account_reads_status_but_its_power_off_is_refused() {
    let sim = IpmiSim::start();
    let client = IpmiClient::new(target(&sim.address(), "viewer", "viewpass"), timing());
    let status = client.run(PowerAction::Status, verify()).await.unwrap();
    assert_eq!(status.state, PowerState::On);
    let err = client.run(PowerAction::Off, verify()).await.unwrap_err();
    assert!(
        matches!(err, IpmiError::InsufficientPrivilege { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("lacks the privilege"), "{err}");
    assert!(sim.power_on(), "a refused power-off must leave the host on");

    // An OPERATOR account may switch power.
    let mut oper = target(&sim.address(), "oper", "operpass");
    oper.privilege = Privilege::Operator;
    IpmiClient::new(oper, timing())
        .run(PowerAction::Off, verify())
        .await
        .unwrap();
    assert!(!sim.power_on());
}

#[tokio::test]
async fn a_power_off_that_never_shows_is_a_failure() {
    let sim = IpmiSim::start();
    sim.set_stuck(true);
    let started = Instant::now();
    let err = IpmiClient::new(target(&sim.address(), "admin", "password"), timing())
        .run(
            PowerAction::Off,
            Verification {
                timeout: Duration::from_millis(600),
                interval: Duration::from_millis(100),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            IpmiError::NotVerified {
                wanted: PowerState::Off,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(sim.power_on());
}

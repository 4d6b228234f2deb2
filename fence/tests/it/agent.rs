//! fence_ipmilan through the agent runner, against ipmi_sim.

use std::time::Duration;

use lifeboat_core::config::Secret;
use lifeboat_core::fencing::{PowerAction, PowerState};
use lifeboat_fence::agent::{AgentCall, AgentError, AgentRunner};
use lifeboat_test_support::ipmi_sim::{IpmiSim, require_program};

fn runner() -> AgentRunner {
    let program = require_program("fence_ipmilan");
    AgentRunner::new(program.parent().unwrap(), Duration::from_secs(30))
}

fn params(sim: &IpmiSim) -> Vec<(String, String)> {
    [
        ("ip", "127.0.0.1".to_owned()),
        ("ipport", sim.port().to_string()),
        ("username", "admin".to_owned()),
        ("lanplus", "1".to_owned()),
        ("cipher", "3".to_owned()),
        ("power_wait", "0".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

#[tokio::test]
async fn fence_ipmilan_reads_status_powers_off_and_on_with_the_password_on_stdin() {
    let sim = IpmiSim::start();
    let runner = runner();
    let password = Secret::new("password");
    let params = params(&sim);
    let call = AgentCall {
        agent: "fence_ipmilan",
        params: &params,
        password: Some(&password),
    };
    let status = runner.run(&call, PowerAction::Status).await.unwrap();
    assert_eq!(status.state, PowerState::On);
    let off = runner.run(&call, PowerAction::Off).await.unwrap();
    assert_eq!(off.state, PowerState::Off);
    assert!(!sim.power_on());
    assert_eq!(
        runner.run(&call, PowerAction::Status).await.unwrap().state,
        PowerState::Off,
        "status exit code 2 means off"
    );
    runner.run(&call, PowerAction::On).await.unwrap();
    assert!(sim.power_on());
}

#[tokio::test]
async fn a_wrong_password_fails_and_the_password_is_never_reported() {
    let sim = IpmiSim::start();
    let runner = runner();
    let password = Secret::new("not-the-password");
    let params = params(&sim);
    let call = AgentCall {
        agent: "fence_ipmilan",
        params: &params,
        password: Some(&password),
    };
    let err = runner.run(&call, PowerAction::Off).await.unwrap_err();
    assert!(matches!(err, AgentError::Failed { code: 1, .. }), "{err:?}");
    assert!(!err.to_string().contains("not-the-password"), "{err}");
    assert!(sim.power_on());
}

#[tokio::test]
async fn parameters_are_checked_against_the_agents_metadata() {
    let runner = runner();
    let metadata = runner.metadata("fence_ipmilan").await.unwrap();
    assert!(metadata.knows("ipport") && metadata.knows("password"));
    let bad = vec![("colour".to_owned(), "red".to_owned())];
    let err = runner
        .validate(&AgentCall {
            agent: "fence_ipmilan",
            params: &bad,
            password: None,
        })
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("has no parameter 'colour'"),
        "{err}"
    );
    let bad_choice = vec![("auth".to_owned(), "sha512".to_owned())];
    assert!(matches!(
        runner
            .validate(&AgentCall {
                agent: "fence_ipmilan",
                params: &bad_choice,
                password: None
            })
            .await,
        Err(AgentError::InvalidValue { .. })
    ));
    assert!(matches!(
        runner.metadata("fence_nonexistent").await,
        Err(AgentError::NotInstalled { .. })
    ));
}

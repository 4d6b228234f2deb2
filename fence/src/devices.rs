//! One fence device, ready to run: Lifeboat's IPMI client or a fence agent, built from a
//! stored [`FenceDevice`] configuration with its password opened.

use std::path::PathBuf;
use std::time::Duration;

use lifeboat_core::config::{FencingSection, Secret};
use lifeboat_core::fencing::{PowerAction, PowerState};
use lifeboat_core::model::{FenceDriver, NewFenceDevice};
use tokio::time::Instant;

use crate::agent::{AgentCall, AgentError, AgentRunner};
use crate::ipmi::{
    CipherChoice, IpmiClient, IpmiError, IpmiTarget, PowerOutcome, Privilege, Timing, Verification,
    split_address_port, state_word,
};

/// How power operations are timed.
#[derive(Debug, Clone)]
pub struct FenceSettings {
    /// IPMI retransmission and per-request deadline.
    pub ipmi: Timing,
    /// How long and how often a new power state is polled for.
    pub verify: Verification,
    /// Where fence agents live.
    pub agent_dir: PathBuf,
    /// How long one fence agent run may take.
    pub agent_timeout: Duration,
}

impl FenceSettings {
    /// From `[fencing]`.
    pub fn from_config(c: &FencingSection) -> Self {
        Self {
            ipmi: Timing {
                retransmit: c.ipmi_retransmit_interval.0.max(Duration::from_millis(10)),
                timeout: c.ipmi_timeout.0,
            },
            verify: Verification {
                timeout: c.power_timeout.0,
                interval: c.power_poll_interval.0.max(Duration::from_millis(10)),
            },
            agent_dir: PathBuf::from(&c.agent_dir),
            agent_timeout: c.agent_timeout.0,
        }
    }
}

impl Default for FenceSettings {
    fn default() -> Self {
        Self::from_config(&FencingSection::default())
    }
}

/// Why a device could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The native IPMI client failed.
    #[error(transparent)]
    Ipmi(#[from] IpmiError),
    /// The fence agent failed.
    #[error(transparent)]
    Agent(#[from] AgentError),
    /// The configuration cannot work.
    #[error("the device configuration is not usable: {0}")]
    Configuration(String),
    /// An agent reported success but the new state never showed.
    #[error("{agent} reported success but the power did not read {wanted} within {after:.1?}")]
    NotVerified {
        /// The agent.
        agent: String,
        /// The state wanted.
        wanted: &'static str,
        /// How long we polled.
        after: Duration,
    },
}

/// A device to run.
#[derive(Debug, Clone)]
pub enum Device {
    /// Lifeboat's IPMI client.
    Ipmi(IpmiClient),
    /// A fence agent.
    Agent {
        /// Its program name.
        agent: String,
        /// Its parameters (everything but `action` and the password).
        params: Vec<(String, String)>,
        /// The password, sent on stdin.
        password: Option<Secret>,
    },
}

/// Agents of the fence_ipmilan family speak IPMI 1.5 unless told otherwise; never let that
/// happen by default.
const LANPLUS_AGENTS: &[&str] = &[
    "fence_ipmilan",
    "fence_ilo3",
    "fence_ilo4",
    "fence_ilo5",
    "fence_imm",
    "fence_idrac",
];

impl Device {
    /// Builds a device from its configuration and its opened password.
    pub fn build(
        config: &NewFenceDevice,
        password: Option<Secret>,
        settings: &FenceSettings,
    ) -> Result<Self, DeviceError> {
        match &config.driver {
            FenceDriver::Ipmi => {
                let option = |key: &str| config.options.get(key).map(String::as_str);
                let address = config.address.clone().ok_or_else(|| {
                    DeviceError::Configuration("the ipmi driver needs an address".into())
                })?;
                split_address_port(&address)?;
                let target = IpmiTarget {
                    address,
                    username: config.username.clone().unwrap_or_default(),
                    password: password.unwrap_or_else(|| Secret::new("")),
                    kg: None,
                    privilege: option("privilege")
                        .unwrap_or("administrator")
                        .parse::<Privilege>()
                        .map_err(DeviceError::Configuration)?,
                    cipher: option("cipher")
                        .unwrap_or("auto")
                        .parse::<CipherChoice>()
                        .map_err(DeviceError::Configuration)?,
                };
                Ok(Self::Ipmi(IpmiClient::new(target, settings.ipmi)))
            }
            FenceDriver::Agent(agent) => {
                let mut params = Vec::new();
                if let Some(address) = &config.address {
                    let (host, port) = split_address_port(address)?;
                    params.push(("ip".to_owned(), host));
                    if let Some(port) = port {
                        params.push(("ipport".to_owned(), port.to_string()));
                    }
                }
                if let Some(user) = &config.username {
                    params.push(("username".to_owned(), user.clone()));
                }
                if LANPLUS_AGENTS.contains(&agent.as_str())
                    && !config.options.contains_key("lanplus")
                {
                    params.push(("lanplus".to_owned(), "1".to_owned()));
                }
                params.extend(config.options.iter().map(|(k, v)| (k.clone(), v.clone())));
                Ok(Self::Agent {
                    agent: agent.clone(),
                    params,
                    password,
                })
            }
        }
    }

    /// Checks the device against its driver before it is stored (agents: their metadata).
    pub async fn check(&self, runner: &AgentRunner) -> Result<(), DeviceError> {
        match self {
            Self::Ipmi(_) => Ok(()),
            Self::Agent { .. } => Ok(runner.validate(&self.call()?).await?),
        }
    }

    fn call(&self) -> Result<AgentCall<'_>, DeviceError> {
        match self {
            Self::Agent {
                agent,
                params,
                password,
            } => Ok(AgentCall {
                agent,
                params,
                password: password.as_ref(),
            }),
            Self::Ipmi(_) => Err(DeviceError::Configuration("not a fence agent".into())),
        }
    }

    /// Runs `action`. `off` and `on` succeed only once the new state reads back (a fence
    /// agent's own success is checked with its `status` too).
    pub async fn run(
        &self,
        runner: &AgentRunner,
        action: PowerAction,
        verify: Verification,
    ) -> Result<PowerOutcome, DeviceError> {
        match self {
            Self::Ipmi(client) => Ok(client.run(action, verify).await?),
            Self::Agent { agent, .. } => {
                let call = self.call()?;
                let started = Instant::now();
                let outcome = runner.run(&call, action).await?;
                let want = match action {
                    PowerAction::Off => PowerState::Off,
                    PowerAction::On => PowerState::On,
                    PowerAction::Status | PowerAction::Reboot => return Ok(outcome),
                };
                let mut pause = Duration::from_millis(50);
                loop {
                    match runner.run(&call, PowerAction::Status).await {
                        Ok(s) if s.state == want => {
                            return Ok(PowerOutcome {
                                state: want,
                                message: format!(
                                    "{}; power read {} after {} ms",
                                    outcome.message,
                                    state_word(want),
                                    started.elapsed().as_millis()
                                ),
                            });
                        }
                        Ok(_) | Err(AgentError::Failed { .. }) => {}
                        Err(e) => return Err(e.into()),
                    }
                    if started.elapsed() >= verify.timeout {
                        return Err(DeviceError::NotVerified {
                            agent: agent.clone(),
                            wanted: state_word(want),
                            after: started.elapsed(),
                        });
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(verify.interval);
                }
            }
        }
    }
}

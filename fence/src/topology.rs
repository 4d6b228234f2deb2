//! A host's fence topology: its devices in ordered levels (level 1 first). Every device of a
//! level must succeed, in order, for the level to succeed; when one fails, the next level is
//! tried. This is core's [`Fencer`] seam, with every attempt recorded as fence history.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use lifeboat_core::clock::Clock;
use lifeboat_core::fencing::{
    CheckDeviceError, CredentialSealer, FenceAttempt, FenceError, Fencer, PowerAction, PowerReport,
    PowerState,
};
use lifeboat_core::model::{FenceDevice, NewFenceDevice};
use lifeboat_core::store::FencingStore;
use tokio::time::Instant;

use crate::agent::AgentRunner;
use crate::devices::{Device, DeviceError, FenceSettings};

/// The state a level reads: on if any of its devices reads on (a host with two power feeds
/// is off only when both are).
pub fn level_state(states: &[PowerState]) -> PowerState {
    if states.contains(&PowerState::On) {
        PowerState::On
    } else {
        PowerState::Off
    }
}

/// Groups devices by level, lowest first, keeping their order within a level.
pub fn levels(devices: Vec<FenceDevice>) -> Vec<(u32, Vec<FenceDevice>)> {
    let mut by_level: BTreeMap<u32, Vec<FenceDevice>> = BTreeMap::new();
    for d in devices {
        by_level.entry(d.level).or_default().push(d);
    }
    by_level.into_iter().collect()
}

/// One line per failed attempt, for the notification's message.
pub fn failure_summary(attempts: &[FenceAttempt]) -> String {
    attempts
        .iter()
        .filter(|a| !a.succeeded)
        .map(|a| format!("level {} device {}: {}", a.level, a.device, a.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The fencer the engine and the API use: devices from the store, passwords opened with the
/// configured key, history written back.
#[derive(Debug)]
pub struct TopologyFencer {
    store: Arc<dyn FencingStore>,
    sealer: Option<Arc<dyn CredentialSealer>>,
    runner: AgentRunner,
    settings: FenceSettings,
    clock: Arc<dyn Clock>,
    metrics: lifeboat_metrics::FenceMetrics,
    /// One operation per host at a time: BMCs have few session slots, and two concurrent
    /// fencings of one host would only fight.
    busy: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl TopologyFencer {
    /// A fencer over `store`'s device configuration.
    pub fn new(
        store: Arc<dyn FencingStore>,
        sealer: Option<Arc<dyn CredentialSealer>>,
        settings: FenceSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            sealer,
            runner: AgentRunner::new(settings.agent_dir.clone(), settings.agent_timeout),
            settings,
            clock,
            metrics: lifeboat_metrics::FenceMetrics::default(),
            busy: Mutex::new(HashMap::new()),
        }
    }

    /// Counts every device's power operation in `metrics`.
    pub fn with_metrics(mut self, metrics: lifeboat_metrics::FenceMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    fn host_lock(&self, host: &str) -> Arc<tokio::sync::Mutex<()>> {
        match self.busy.lock() {
            Ok(mut map) => map.entry(host.to_owned()).or_default().clone(),
            // A poisoned map only loses the serialisation, never the operation.
            Err(_) => Arc::default(),
        }
    }

    /// Builds the device with its password opened.
    fn device(&self, config: &FenceDevice) -> Result<Device, DeviceError> {
        let password = match (&config.password, &self.sealer) {
            (None, _) => None,
            (Some(sealed), Some(sealer)) => Some(
                sealer
                    .open(sealed)
                    .map_err(|e| DeviceError::Configuration(e.to_string()))?,
            ),
            (Some(_), None) => {
                return Err(DeviceError::Configuration(
                    "a password is stored but no credential key is configured ([fencing] credential_key_file)"
                        .into(),
                ));
            }
        };
        Device::build(&config.spec(), password, &self.settings)
    }

    /// Runs one device and records the attempt.
    async fn attempt(
        &self,
        host: &str,
        config: &FenceDevice,
        action: PowerAction,
    ) -> (FenceAttempt, Option<PowerState>) {
        let started_at = self.clock.now();
        let started = Instant::now();
        let result = match self.device(config) {
            Ok(device) => device.run(&self.runner, action, self.settings.verify).await,
            Err(e) => Err(e),
        };
        let duration = started.elapsed();
        let (succeeded, message, state) = match result {
            Ok(outcome) => (true, outcome.message, Some(outcome.state)),
            Err(e) => (false, e.to_string(), None),
        };
        self.metrics.attempted(action.as_str(), succeeded, duration);
        let attempt = FenceAttempt {
            host: host.to_owned(),
            device: config.name.clone(),
            level: config.level,
            action,
            succeeded,
            message,
            duration,
            started_at,
        };
        if succeeded {
            tracing::info!(host.name = host, device.name = %config.name, level = config.level, action = action.as_str(), duration_ms = duration.as_millis() as u64, "{}", attempt.message);
        } else {
            tracing::warn!(host.name = host, device.name = %config.name, level = config.level, action = action.as_str(), duration_ms = duration.as_millis() as u64, "fence device failed: {}", attempt.message);
        }
        if let Err(e) = self
            .store
            .record_fence_attempt(&attempt, self.clock.now())
            .await
        {
            tracing::warn!(host.name = host, error = %e, "recording fence history failed");
        }
        (attempt, state)
    }

    /// Runs `action` through the levels until one succeeds.
    async fn through_levels(
        &self,
        host: &str,
        action: PowerAction,
    ) -> Result<PowerReport, FenceError> {
        let devices = self
            .store
            .fence_devices_of(host)
            .await
            .map_err(|e| FenceError::Status {
                host: host.to_owned(),
                reason: format!("reading its fence devices failed: {e}"),
            })?;
        if devices.is_empty() {
            return Err(FenceError::NoDevice {
                host: host.to_owned(),
            });
        }
        let lock = self.host_lock(host);
        let _guard = lock.lock().await;
        let mut attempts = Vec::new();
        for (_, level) in levels(devices) {
            let mut states = Vec::new();
            let mut ok = true;
            for config in &level {
                let (attempt, state) = self.attempt(host, config, action).await;
                attempts.push(attempt);
                match state {
                    Some(s) => states.push(s),
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                return Ok(PowerReport {
                    state: level_state(&states),
                    attempts,
                });
            }
        }
        Err(FenceError::AllLevelsFailed {
            host: host.to_owned(),
            summary: failure_summary(&attempts),
            attempts,
        })
    }
}

#[async_trait::async_trait]
impl Fencer for TopologyFencer {
    async fn has_device(&self, host: &str) -> bool {
        match self.store.fence_devices_of(host).await {
            Ok(devices) => !devices.is_empty(),
            Err(e) => {
                // Fencing stays required when devices cannot be read: say "yes" so the engine
                // tries, fails and does not evacuate, rather than skip fencing.
                tracing::warn!(host.name = host, error = %e, "reading fence devices failed");
                true
            }
        }
    }

    async fn fence(&self, host: &str) -> Result<Vec<FenceAttempt>, FenceError> {
        let report = self.through_levels(host, PowerAction::Off).await?;
        Ok(report.attempts)
    }

    async fn power_status(&self, host: &str) -> Result<PowerState, FenceError> {
        self.through_levels(host, PowerAction::Status)
            .await
            .map(|r| r.state)
            .map_err(|e| match e {
                FenceError::AllLevelsFailed { host, summary, .. } => FenceError::Status {
                    host,
                    reason: summary,
                },
                other => other,
            })
    }

    async fn power(&self, host: &str, action: PowerAction) -> Result<PowerReport, FenceError> {
        self.through_levels(host, action).await
    }

    async fn check_device(&self, device: &NewFenceDevice) -> Result<(), CheckDeviceError> {
        // The password is not needed to check parameters; a placeholder marks it present.
        let password = device
            .password
            .as_ref()
            .map(|_| lifeboat_core::config::Secret::new("(sealed)"));
        let built = Device::build(device, password, &self.settings)
            .map_err(|e| CheckDeviceError::Build(e.into()))?;
        built
            .check(&self.runner)
            .await
            .map_err(|e| CheckDeviceError::Check(e.into()))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn levels_are_ordered_and_a_level_is_on_if_any_device_is() {
        assert_eq!(
            level_state(&[PowerState::Off, PowerState::Off]),
            PowerState::Off
        );
        assert_eq!(
            level_state(&[PowerState::Off, PowerState::On]),
            PowerState::On
        );
        let attempt = |device: &str, level, succeeded| FenceAttempt {
            host: "h".into(),
            device: device.into(),
            level,
            action: PowerAction::Off,
            succeeded,
            message: format!("{device} said so"),
            duration: Duration::ZERO,
            started_at: chrono::DateTime::UNIX_EPOCH,
        };
        assert_eq!(
            failure_summary(&[
                attempt("bmc", 1, false),
                attempt("pdu", 2, true),
                attempt("x", 3, false)
            ]),
            "level 1 device bmc: bmc said so; level 3 device x: x said so"
        );
    }
}

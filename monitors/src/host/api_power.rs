//! The hostmonitor's power check through the Lifeboat API: compute nodes hold no BMC
//! passwords, so a failed host's power state is read by asking the API, which owns the fence
//! devices (microversion 1.5), to run `{"power": "status"}` on it. The host is found by name
//! (`GET /segments`, then `GET /segments/{id}/hosts?name=…`) and its ids are cached.
//!
//! Against an API without fence devices (a stock Masakari, or Lifeboat before 1.5: the calls
//! answer 404, 400 or 406) every host counts as having no device, after one warning. Agents
//! only read power states: [`PowerReader`] has no way to power anything. Answers are read into
//! `core::wire`'s views, the types the API writes them from.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use lifeboat_core::fencing::{FenceError, PowerAction, PowerState};
use lifeboat_core::wire::{FenceDevicesPage, HostsPage, PowerBody, SegmentsPage};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::PowerReader;
use crate::delivery::{ApiAnswer, ApiCallError, ApiMethod, ApiRequests, fault_message};

/// The API microversion of fence devices and power actions.
pub const FENCING_MICROVERSION: &str = "1.5";

/// Most segment pages read while looking for a host.
const MAX_SEGMENT_PAGES: usize = 100;

/// Why the API could not be asked about a host's power (each variant names the call that
/// failed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiPowerError {
    /// `GET /segments` failed.
    #[error("listing segments failed: {reason}")]
    ListSegments {
        /// Why.
        reason: String,
    },
    /// `GET /segments/{id}/hosts?name=…` failed.
    #[error("listing the hosts of segment {segment} failed: {reason}")]
    ListHosts {
        /// The segment's uuid.
        segment: String,
        /// Why.
        reason: String,
    },
    /// `GET …/hosts/{id}/fence_devices` failed.
    #[error("listing the fence devices of host {host} failed: {reason}")]
    ListFenceDevices {
        /// The host.
        host: String,
        /// Why.
        reason: String,
    },
    /// `POST …/hosts/{id}/action {"power": "status"}` failed.
    #[error("asking the API for the power state of host {host} failed: {reason}")]
    ReadPowerStatus {
        /// The host.
        host: String,
        /// Why.
        reason: String,
    },
    /// The API's policy refuses a lookup to this agent's credentials (403).
    #[error("the API refused {call} to this agent's credentials: {reason}")]
    Forbidden {
        /// The call (`GET /segments`, …).
        call: String,
        /// The API's message.
        reason: String,
    },
}

/// Where a host lives in the API.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostIds {
    segment: String,
    host: String,
}

/// What the API said to a call about one host.
#[derive(Debug)]
enum HostAnswer {
    /// No segment has a host of that name.
    NotRegistered,
    /// The API has no fence devices (the status and message of its answer).
    Unsupported(String),
    /// The answer.
    Answer(ApiAnswer),
}

/// A [`PowerReader`] that reads power states through the Lifeboat API.
#[derive(Debug)]
pub struct ApiPowerStatus {
    api: Arc<dyn ApiRequests>,
    ids: Mutex<HashMap<String, HostIds>>,
    unsupported: AtomicBool,
    forbidden_warned: AtomicBool,
}

impl ApiPowerStatus {
    /// Asks the API behind `api`.
    pub fn new(api: Arc<dyn ApiRequests>) -> Self {
        Self {
            api,
            ids: Mutex::new(HashMap::new()),
            unsupported: AtomicBool::new(false),
            forbidden_warned: AtomicBool::new(false),
        }
    }

    /// Whether the API turned out to have no fence devices (every host then has none).
    pub fn api_has_no_fencing(&self) -> bool {
        self.unsupported.load(Ordering::Relaxed)
    }

    fn cached(&self, host: &str) -> Option<HostIds> {
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(host)
            .cloned()
    }

    fn remember(&self, name: String, ids: HostIds) {
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name, ids);
    }

    fn forget(&self, host: &str) {
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(host);
    }

    /// The first warning, once: from now on every host has no device.
    fn degrade(&self, why: &str) {
        if !self.unsupported.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                reason = why,
                "the API has no fence devices (a Masakari, or Lifeboat before microversion \
                 {FENCING_MICROVERSION}): failed hosts are reported NORMAL without a power check"
            );
        }
    }

    /// `GET <path>`'s answer as `T`; `failed` names the call in errors.
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        failed: impl Fn(String) -> ApiPowerError,
    ) -> Result<T, ApiPowerError> {
        let answer = self
            .api
            .request(ApiMethod::Get, path, None, None)
            .await
            .map_err(|e| failed(e.to_string()))?;
        answered(&answer, &format!("GET {path}"), &failed)?;
        read(&answer, &failed)
    }

    /// Every segment's uuid, page after page (the marker is a segment's `id`, as in Masakari).
    async fn segment_ids(&self) -> Result<Vec<String>, ApiPowerError> {
        let mut uuids: Vec<String> = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_SEGMENT_PAGES {
            let path = match &marker {
                Some(marker) => format!("/segments?marker={}", query_value(marker)),
                None => "/segments".to_owned(),
            };
            let page: SegmentsPage = self
                .get(&path, |reason| ApiPowerError::ListSegments { reason })
                .await?;
            let found: Vec<String> = page.segments.iter().map(|s| s.uuid.to_string()).collect();
            let last = page.segments.last().map(|s| s.id.to_string());
            if found.is_empty() || found.iter().all(|id| uuids.contains(id)) {
                break;
            }
            uuids.extend(found);
            match last {
                Some(last) => marker = Some(last),
                None => break,
            }
        }
        Ok(uuids)
    }

    /// The host's ids, from the cache unless `fresh`; `None` when no segment has it. The flag
    /// says whether they came from the cache.
    async fn resolve(
        &self,
        host: &str,
        fresh: bool,
    ) -> Result<Option<(HostIds, bool)>, ApiPowerError> {
        if !fresh && let Some(ids) = self.cached(host) {
            return Ok(Some((ids, true)));
        }
        for segment in self.segment_ids().await? {
            let path = format!("/segments/{segment}/hosts?name={}", query_value(host));
            let page: HostsPage = self
                .get(&path, |reason| ApiPowerError::ListHosts {
                    segment: segment.clone(),
                    reason,
                })
                .await?;
            // A Masakari may ignore the name filter: every host listed is remembered.
            let mut found = None;
            for entry in page.hosts {
                let ids = HostIds {
                    segment: segment.clone(),
                    host: entry.uuid.to_string(),
                };
                if entry.name == host {
                    found = Some(ids.clone());
                }
                self.remember(entry.name, ids);
            }
            if let Some(ids) = found {
                return Ok(Some((ids, false)));
            }
        }
        Ok(None)
    }

    /// `<method> /segments/{s}/hosts/{h}<suffix>` at the fencing microversion. A 404 with
    /// cached ids looks the host up again (it may have been re-created) and asks once more; a
    /// 404, 400 or 406 with fresh ids means the API has no fence devices.
    async fn call_for_host(
        &self,
        host: &str,
        method: ApiMethod,
        suffix: &str,
        body: Option<&Value>,
    ) -> Result<HostAnswer, Failure> {
        for fresh in [false, true] {
            let Some((ids, cached)) = self.resolve(host, fresh).await.map_err(Failure::Lookup)?
            else {
                return Ok(HostAnswer::NotRegistered);
            };
            let path = format!("/segments/{}/hosts/{}{suffix}", ids.segment, ids.host);
            let answer = self
                .api
                .request(method, &path, Some(FENCING_MICROVERSION), body)
                .await
                .map_err(Failure::Call)?;
            match answer.status {
                404 if cached => self.forget(host),
                400 | 404 | 406 => {
                    return Ok(HostAnswer::Unsupported(format!(
                        "{} to {path}",
                        http_failure(&answer)
                    )));
                }
                _ => return Ok(HostAnswer::Answer(answer)),
            }
        }
        Ok(HostAnswer::NotRegistered)
    }

    /// The number of fence devices the API has for `host`; `None` when it has no fence devices
    /// at all or does not know the host.
    async fn device_count(&self, host: &str) -> Result<Option<usize>, ApiPowerError> {
        let failed = |reason: String| ApiPowerError::ListFenceDevices {
            host: host.to_owned(),
            reason,
        };
        let answer = match self
            .call_for_host(host, ApiMethod::Get, "/fence_devices", None)
            .await
        {
            Ok(HostAnswer::Answer(answer)) => answer,
            Ok(HostAnswer::NotRegistered) => {
                tracing::info!(host.name = host, "{host} is not a host of any segment");
                return Ok(None);
            }
            Ok(HostAnswer::Unsupported(why)) => {
                self.degrade(&why);
                return Ok(None);
            }
            Err(Failure::Lookup(e)) => return Err(e),
            Err(Failure::Call(e)) => return Err(failed(e.to_string())),
        };
        answered(&answer, "GET …/fence_devices", failed)?;
        let page: FenceDevicesPage = read(&answer, failed)?;
        Ok(Some(page.fence_devices.len()))
    }

    async fn read_power(&self, host: &str) -> Result<PowerState, FenceError> {
        if self.api_has_no_fencing() {
            return Err(no_device(host));
        }
        let started = Instant::now();
        let failed = |e: ApiPowerError| FenceError::Status {
            host: host.to_owned(),
            reason: e.to_string(),
        };
        let read = |reason: String| {
            failed(ApiPowerError::ReadPowerStatus {
                host: host.to_owned(),
                reason,
            })
        };
        let body = json!({"power": PowerAction::Status.as_str()});
        let answer = match self
            .call_for_host(host, ApiMethod::Post, "/action", Some(&body))
            .await
        {
            Ok(HostAnswer::Answer(answer)) => answer,
            Ok(HostAnswer::NotRegistered) => return Err(no_device(host)),
            Ok(HostAnswer::Unsupported(why)) => {
                self.degrade(&why);
                return Err(no_device(host));
            }
            Err(Failure::Lookup(e)) => return Err(failed(e)),
            Err(Failure::Call(e)) => return Err(read(e.to_string())),
        };
        let state = match power_answer(&answer) {
            PowerAnswer::State(state) => state,
            PowerAnswer::NoDevice => return Err(no_device(host)),
            PowerAnswer::Failed(reason) => return Err(read(reason)),
        };
        tracing::info!(
            host.name = host,
            power = lifeboat_core::fencing::power_word(state),
            duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "power of {host} read through the API"
        );
        Ok(state)
    }
}

/// Why a call about a host got no usable answer.
#[derive(Debug)]
enum Failure {
    /// Finding the host failed.
    Lookup(ApiPowerError),
    /// The call itself got no answer.
    Call(ApiCallError),
}

fn no_device(host: &str) -> FenceError {
    FenceError::NoDevice {
        host: host.to_owned(),
    }
}

/// A 200 answer's body as the view `T`; `failed` names the call.
fn read<T: DeserializeOwned>(
    answer: &ApiAnswer,
    failed: impl Fn(String) -> ApiPowerError,
) -> Result<T, ApiPowerError> {
    serde_json::from_str(&answer.body).map_err(|e| failed(format!("unreadable answer: {e}")))
}

/// `Ok` for a 200; [`ApiPowerError::Forbidden`] for a 403 to `call`; `failed` otherwise.
fn answered(
    answer: &ApiAnswer,
    call: &str,
    failed: impl Fn(String) -> ApiPowerError,
) -> Result<(), ApiPowerError> {
    match answer.status {
        200 => Ok(()),
        403 => Err(ApiPowerError::Forbidden {
            call: call.to_owned(),
            reason: fault_message(&answer.body),
        }),
        _ => Err(failed(http_failure(answer))),
    }
}

/// `HTTP <status>: <the fault's message>`.
fn http_failure(answer: &ApiAnswer) -> String {
    format!("HTTP {}: {}", answer.status, fault_message(&answer.body))
}

/// What `POST …/action {"power": "status"}` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PowerAnswer {
    /// `200 {"power": {"state": "on" | "off", …}}`.
    State(PowerState),
    /// 409: the host has no fence device.
    NoDevice,
    /// Anything else (503 when every device failed), with the reason.
    Failed(String),
}

fn power_answer(answer: &ApiAnswer) -> PowerAnswer {
    match answer.status {
        200 => match serde_json::from_str::<PowerBody>(&answer.body) {
            Ok(body) => PowerAnswer::State(body.power.state),
            Err(e) => PowerAnswer::Failed(format!("unreadable power answer: {e}")),
        },
        409 => PowerAnswer::NoDevice,
        _ => PowerAnswer::Failed(http_failure(answer)),
    }
}

/// `text` percent-encoded for a query string.
fn query_value(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[async_trait::async_trait]
impl PowerReader for ApiPowerStatus {
    /// True when the API lists a fence device for `host`, and when that cannot be told (the API
    /// unreachable or failing): the power check is then tried, fails, and the host is reported
    /// UNKNOWN, as masakari-monitors does when ipmitool fails.
    async fn has_device(&self, host: &str) -> bool {
        if self.api_has_no_fencing() {
            return false;
        }
        match self.device_count(host).await {
            Ok(Some(count)) => count > 0,
            Ok(None) => false,
            Err(e @ ApiPowerError::Forbidden { .. }) => {
                // A deployment choice (e.g. agents with the monitor role only), not an outage:
                // asked again each time, so a policy change needs no restart.
                if !self.forbidden_warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = %e,
                        "the agents' API credentials may not read fence devices (policies \
                         os_masakari_api:segments:index, os-hosts:index, fence-devices:index and \
                         os-hosts:power:status): failed hosts are reported NORMAL without a power check"
                    );
                }
                false
            }
            Err(e) => {
                tracing::warn!(
                    host.name = host,
                    error = %e,
                    "cannot tell whether {host} has a fence device: its power is read anyway"
                );
                true
            }
        }
    }

    async fn power_status(&self, host: &str) -> Result<PowerState, FenceError> {
        self.read_power(host).await
    }
}

#[cfg(test)]
mod tests;

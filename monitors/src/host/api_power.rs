//! The hostmonitor's power check through the Lifeboat API: compute nodes hold no BMC
//! passwords, so a failed host's power state is read by asking the API, which owns the fence
//! devices (microversion 1.5), to run `{"power": "status"}` on it. The host is found by name
//! (`GET /segments`, then `GET /segments/{id}/hosts?name=…`) and its ids are cached.
//!
//! Against an API without fence devices (a stock Masakari, or Lifeboat before 1.5: the calls
//! answer 404, 400 or 406) every host counts as having no device, after one warning. Agents
//! only read power states: [`Fencer::fence`] and power actions other than `status` are refused.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use lifeboat_core::fencing::{
    FenceAttempt, FenceError, Fencer, PowerAction, PowerReport, PowerState,
};
use serde_json::{Value, json};

use crate::delivery::{ApiAnswer, ApiMethod, ApiRequests, fault_message};

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

/// A [`Fencer`] that reads power states through the Lifeboat API and never powers anything.
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

    /// `GET <path>`'s JSON; `failed` names the call in errors.
    async fn get(
        &self,
        path: &str,
        failed: impl Fn(String) -> ApiPowerError,
    ) -> Result<Value, ApiPowerError> {
        let answer = self
            .api
            .request(ApiMethod::Get, path, None, None)
            .await
            .map_err(&failed)?;
        answered(&answer, &format!("GET {path}"), &failed)?;
        serde_json::from_str(&answer.body).map_err(|e| failed(format!("unreadable answer: {e}")))
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
            let page = self
                .get(&path, |reason| ApiPowerError::ListSegments { reason })
                .await?;
            let (found, last) = segment_page(&page);
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
            let page = self
                .get(&path, |reason| ApiPowerError::ListHosts {
                    segment: segment.clone(),
                    reason,
                })
                .await?;
            // A Masakari may ignore the name filter: every host listed is remembered.
            let mut found = None;
            for entry in page
                .get("hosts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let (Some(name), Some(uuid)) = (
                    entry.get("name").and_then(Value::as_str),
                    entry.get("uuid").and_then(Value::as_str),
                ) else {
                    continue;
                };
                let ids = HostIds {
                    segment: segment.clone(),
                    host: uuid.to_owned(),
                };
                if name == host {
                    found = Some(ids.clone());
                }
                self.remember(name.to_owned(), ids);
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
            Err(Failure::Call(reason)) => return Err(failed(reason)),
        };
        answered(&answer, "GET …/fence_devices", failed)?;
        serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|v| Some(v.get("fence_devices")?.as_array()?.len()))
            .map(Some)
            .ok_or_else(|| failed("the answer has no fence_devices list".to_owned()))
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
            Err(Failure::Call(reason)) => return Err(read(reason)),
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
    /// The call itself got no answer (transport).
    Call(String),
}

fn no_device(host: &str) -> FenceError {
    FenceError::NoDevice {
        host: host.to_owned(),
    }
}

fn refused(host: &str, action: PowerAction) -> FenceError {
    FenceError::Power {
        host: host.to_owned(),
        action,
        reason: "monitor agents only read power states; the engine fences through the API"
            .to_owned(),
    }
}

/// The `uuid`s of a `GET /segments` page, and the `id` of its last segment (the next page's
/// marker).
fn segment_page(page: &Value) -> (Vec<String>, Option<String>) {
    let entries = page
        .get("segments")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let uuids = entries
        .iter()
        .filter_map(|entry| entry.get("uuid")?.as_str().map(str::to_owned))
        .collect();
    let last = entries.last().and_then(|entry| match entry.get("id")? {
        Value::String(id) => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    });
    (uuids, last)
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
        200 => {
            let state = serde_json::from_str::<Value>(&answer.body)
                .ok()
                .and_then(|v| v.get("power")?.get("state")?.as_str().map(str::to_owned));
            match state.as_deref() {
                Some("on") => PowerAnswer::State(PowerState::On),
                Some("off") => PowerAnswer::State(PowerState::Off),
                other => PowerAnswer::Failed(format!(
                    "the answer has no power state on or off (state: {other:?})"
                )),
            }
        }
        409 => PowerAnswer::NoDevice,
        _ => PowerAnswer::Failed(http_failure(answer)),
    }
}

/// `text` percent-encoded for a query string.
fn query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[async_trait::async_trait]
impl Fencer for ApiPowerStatus {
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

    async fn fence(&self, host: &str) -> Result<Vec<FenceAttempt>, FenceError> {
        Err(refused(host, PowerAction::Off))
    }

    async fn power_status(&self, host: &str) -> Result<PowerState, FenceError> {
        self.read_power(host).await
    }

    async fn power(&self, host: &str, action: PowerAction) -> Result<PowerReport, FenceError> {
        if action != PowerAction::Status {
            return Err(refused(host, action));
        }
        let state = self.read_power(host).await?;
        Ok(PowerReport {
            state,
            attempts: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// A segment's uuid and its hosts' (name, uuid).
    type FakeSegment = (String, Vec<(String, String)>);

    /// An API as the agent sees it: `segments` → `(segment uuid, [(host name, host uuid)])`,
    /// answering fence calls with `fence` (status, body) and counting every request.
    #[derive(Debug)]
    struct FakeApi {
        segments: Mutex<Vec<FakeSegment>>,
        fence: Mutex<HashMap<String, (u16, String)>>,
        requests: Mutex<Vec<(ApiMethod, String, Option<String>)>>,
        down: AtomicBool,
        listings: AtomicUsize,
    }

    impl FakeApi {
        fn new(segments: &[(&str, &[(&str, &str)])]) -> Arc<Self> {
            Arc::new(Self {
                segments: Mutex::new(
                    segments
                        .iter()
                        .map(|(s, hosts)| {
                            (
                                (*s).to_owned(),
                                hosts
                                    .iter()
                                    .map(|(n, u)| ((*n).to_owned(), (*u).to_owned()))
                                    .collect(),
                            )
                        })
                        .collect(),
                ),
                fence: Mutex::new(HashMap::new()),
                requests: Mutex::new(Vec::new()),
                down: AtomicBool::new(false),
                listings: AtomicUsize::new(0),
            })
        }

        fn answer(&self, suffix: &str, status: u16, body: Value) {
            self.fence
                .lock()
                .unwrap()
                .insert(suffix.to_owned(), (status, body.to_string()));
        }

        fn requests(&self) -> Vec<(ApiMethod, String, Option<String>)> {
            self.requests.lock().unwrap().clone()
        }
    }

    #[async_trait::async_trait]
    impl ApiRequests for FakeApi {
        async fn request(
            &self,
            method: ApiMethod,
            path: &str,
            microversion: Option<&str>,
            _body: Option<&Value>,
        ) -> Result<ApiAnswer, String> {
            self.requests.lock().unwrap().push((
                method,
                path.to_owned(),
                microversion.map(str::to_owned),
            ));
            if self.down.load(Ordering::Relaxed) {
                return Err("connection refused".into());
            }
            let ok = |v: Value| {
                Ok(ApiAnswer {
                    status: 200,
                    body: v.to_string(),
                })
            };
            let segments = self.segments.lock().unwrap().clone();
            // Pages of one segment; Masakari's markers are ids, and a uuid is refused.
            if let Some(query) = path.strip_prefix("/segments")
                && !query.starts_with('/')
            {
                let after = match query.strip_prefix("?marker=").map(str::parse::<usize>) {
                    None => 0,
                    Some(Ok(after)) => after,
                    Some(Err(_)) => {
                        return Ok(ApiAnswer {
                            status: 400,
                            body: r#"{"badRequest": {"message": "Marker could not be found."}}"#
                                .into(),
                        });
                    }
                };
                self.listings.fetch_add(1, Ordering::Relaxed);
                let list: Vec<Value> = segments
                    .iter()
                    .enumerate()
                    .skip(after)
                    .take(1)
                    .map(|(i, (s, _))| json!({"id": i + 1, "uuid": s}))
                    .collect();
                return ok(json!({ "segments": list }));
            }
            for (segment, hosts) in &segments {
                let prefix = format!("/segments/{segment}/hosts");
                if let Some(query) = path.strip_prefix(&format!("{prefix}?name=")) {
                    let list: Vec<Value> = hosts
                        .iter()
                        .filter(|(n, _)| query_value(n) == query)
                        .map(|(n, u)| json!({"name": n, "uuid": u}))
                        .collect();
                    return ok(json!({ "hosts": list }));
                }
                for (_, uuid) in hosts {
                    if let Some(suffix) = path.strip_prefix(&format!("{prefix}/{uuid}")) {
                        let (status, body) = self
                            .fence
                            .lock()
                            .unwrap()
                            .get(suffix)
                            .cloned()
                            .unwrap_or((404, String::new()));
                        return Ok(ApiAnswer { status, body });
                    }
                }
            }
            Ok(ApiAnswer {
                status: 404,
                body: r#"{"itemNotFound": {"code": 404, "message": "not found"}}"#.into(),
            })
        }
    }

    fn power_body(state: &str) -> Value {
        json!({"power": {"host": "c2", "action": "status", "state": state, "attempts": []}})
    }

    #[tokio::test]
    async fn a_host_with_a_device_reads_its_power_through_the_api_and_its_ids_are_cached() {
        let api = FakeApi::new(&[("s1", &[("c1", "h1")]), ("s2", &[("c2", "h2")])]);
        api.answer(
            "/fence_devices",
            200,
            json!({"fence_devices": [{"name": "bmc"}]}),
        );
        api.answer("/action", 200, power_body("on"));
        let fencer = ApiPowerStatus::new(api.clone());
        assert!(fencer.has_device("c2").await);
        assert_eq!(fencer.power_status("c2").await, Ok(PowerState::On));
        api.answer("/action", 200, power_body("off"));
        assert_eq!(fencer.power_status("c2").await, Ok(PowerState::Off));
        let report = fencer.power("c2", PowerAction::Status).await.unwrap();
        assert_eq!(report.state, PowerState::Off);
        // Two pages of one segment and an empty one, once: the ids are cached.
        assert_eq!(
            api.listings.load(Ordering::Relaxed),
            3,
            "{:?}",
            api.requests()
        );
        let fencing: Vec<_> = api
            .requests()
            .into_iter()
            .filter(|(_, p, _)| p.starts_with("/segments/s2/hosts/h2"))
            .collect();
        assert_eq!(fencing.len(), 4);
        assert!(
            fencing
                .iter()
                .all(|(_, _, v)| v.as_deref() == Some(FENCING_MICROVERSION))
        );
        assert_eq!(fencing[1].0, ApiMethod::Post);
    }

    #[tokio::test]
    async fn hosts_without_devices_or_unregistered_have_none_and_conflicts_are_no_device() {
        let api = FakeApi::new(&[("s1", &[("c1", "h1")])]);
        api.answer("/fence_devices", 200, json!({"fence_devices": []}));
        api.answer(
            "/action",
            409,
            json!({"conflict": {"message": "No fence device is configured for host c1."}}),
        );
        let fencer = ApiPowerStatus::new(api.clone());
        assert!(!fencer.has_device("c1").await);
        assert!(!fencer.has_device("nobody").await);
        assert!(matches!(
            fencer.power_status("c1").await,
            Err(FenceError::NoDevice { .. })
        ));
        assert!(!fencer.api_has_no_fencing());
    }

    #[tokio::test]
    async fn a_masakari_without_fence_devices_degrades_to_no_device_once() {
        for status in [404, 406, 400] {
            let api = FakeApi::new(&[("s1", &[("c1", "h1"), ("c2", "h2")])]);
            api.answer(
                "/fence_devices",
                status,
                json!({"error": {"message": "nope"}}),
            );
            let fencer = ApiPowerStatus::new(api.clone());
            assert!(!fencer.has_device("c1").await, "{status}");
            assert!(fencer.api_has_no_fencing(), "{status}");
            let asked = api.requests().len();
            assert!(!fencer.has_device("c2").await);
            assert!(matches!(
                fencer.power_status("c2").await,
                Err(FenceError::NoDevice { .. })
            ));
            assert_eq!(api.requests().len(), asked, "nothing more is asked");
        }
    }

    #[tokio::test]
    async fn credentials_the_policy_refuses_give_no_device_and_are_asked_again_next_time() {
        let api = FakeApi::new(&[("s1", &[("c1", "h1")])]);
        api.answer(
            "/fence_devices",
            403,
            json!({"forbidden": {"message": "Policy doesn't allow os_masakari_api:fence-devices:index to be performed."}}),
        );
        let fencer = ApiPowerStatus::new(api.clone());
        assert!(!fencer.has_device("c1").await);
        let err = fencer.device_count("c1").await.unwrap_err();
        assert!(
            matches!(&err, ApiPowerError::Forbidden { call, .. } if call == "GET …/fence_devices"),
            "{err}"
        );
        assert!(!fencer.api_has_no_fencing(), "a policy can change");
        api.answer(
            "/fence_devices",
            200,
            json!({"fence_devices": [{"name": "bmc"}]}),
        );
        assert!(fencer.has_device("c1").await);
    }

    #[tokio::test]
    async fn a_re_created_host_is_looked_up_again_after_a_404() {
        let api = FakeApi::new(&[("s1", &[("c1", "old")])]);
        api.answer(
            "/fence_devices",
            200,
            json!({"fence_devices": [{"name": "bmc"}]}),
        );
        let fencer = ApiPowerStatus::new(api.clone());
        assert!(fencer.has_device("c1").await);
        *api.segments.lock().unwrap() = vec![("s1".into(), vec![("c1".into(), "new".into())])];
        assert!(fencer.has_device("c1").await);
        assert!(!fencer.api_has_no_fencing());
        assert!(
            api.requests()
                .iter()
                .any(|(_, p, _)| p == "/segments/s1/hosts/new/fence_devices")
        );
    }

    #[tokio::test]
    async fn an_unreachable_or_failing_api_makes_the_host_unknown_not_normal() {
        let api = FakeApi::new(&[("s1", &[("c1", "h1")])]);
        api.down.store(true, Ordering::Relaxed);
        let fencer: Arc<dyn Fencer> = Arc::new(ApiPowerStatus::new(api.clone()));
        assert!(fencer.has_device("c1").await);
        let err = fencer.power_status("c1").await.unwrap_err();
        assert!(err.to_string().contains("listing segments failed"), "{err}");
        let check = crate::host::PowerCheck {
            fencer: Some(fencer),
            retries: 1,
            interval: std::time::Duration::ZERO,
            timeout: std::time::Duration::from_secs(1),
        };
        assert_eq!(
            check.host_status("c1").await,
            crate::delivery::HostStatus::Unknown
        );

        api.down.store(false, Ordering::Relaxed);
        api.answer(
            "/fence_devices",
            200,
            json!({"fence_devices": [{"name": "bmc"}]}),
        );
        api.answer(
            "/action",
            503,
            json!({"serviceUnavailable": {"message": "Power status of host c1 failed: bmc did not answer"}}),
        );
        let fencer = ApiPowerStatus::new(api);
        let err = fencer.power_status("c1").await.unwrap_err();
        assert!(err.to_string().contains("bmc did not answer"), "{err}");
    }

    #[tokio::test]
    async fn agents_never_power_hosts() {
        let api = FakeApi::new(&[("s1", &[("c1", "h1")])]);
        let fencer = ApiPowerStatus::new(api.clone());
        assert!(matches!(
            fencer.fence("c1").await,
            Err(FenceError::Power {
                action: PowerAction::Off,
                ..
            })
        ));
        for action in [PowerAction::Off, PowerAction::On, PowerAction::Reboot] {
            let err = fencer.power("c1", action).await.unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("power {} of host c1 was refused", action.as_str())),
                "{err}"
            );
        }
        assert!(api.requests().is_empty());
    }

    #[test]
    fn answers_and_names_are_read_as_the_api_writes_them() {
        let answer = |status, body: &str| ApiAnswer {
            status,
            body: body.into(),
        };
        assert_eq!(
            power_answer(&answer(200, r#"{"power": {"state": "weird"}}"#)),
            PowerAnswer::Failed(
                "the answer has no power state on or off (state: Some(\"weird\"))".into()
            )
        );
        assert!(matches!(
            power_answer(&answer(500, "")),
            PowerAnswer::Failed(_)
        ));
        assert_eq!(query_value("compute-1.example"), "compute-1.example");
        assert_eq!(query_value("a b&c/é"), "a%20b%26c%2F%C3%A9");
    }
}

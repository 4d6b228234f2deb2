use std::sync::atomic::AtomicUsize;

use uuid::Uuid;

use super::*;

/// A readable uuid for a test name (`s1`, `h2`, …).
fn u(name: &str) -> Uuid {
    let mut bytes = [0u8; 16];
    bytes[..name.len()].copy_from_slice(name.as_bytes());
    Uuid::from_bytes(bytes)
}

const CREATED: &str = "2026-01-01T00:00:00.000000";

fn segment_view(id: usize, name: &str) -> Value {
    json!({"id": id, "uuid": u(name), "name": name, "description": null,
        "recovery_method": "auto", "service_type": "compute", "enabled": true,
        "created_at": CREATED, "updated_at": null, "deleted_at": null, "deleted": false})
}

fn host_view(name: &str, uuid: &str, segment: &str) -> Value {
    json!({"id": 1, "uuid": u(uuid), "name": name, "failover_segment_id": u(segment),
        "failover_segment": segment_view(1, segment), "type": "COMPUTE", "reserved": false,
        "control_attributes": "", "on_maintenance": false,
        "created_at": CREATED, "updated_at": null, "deleted_at": null, "deleted": false})
}

fn devices(names: &[&str]) -> Value {
    let list: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({"id": 1, "uuid": u("d"), "host_uuid": u("h"), "name": name, "level": 1,
                "driver": "ipmi", "address": "127.0.0.1", "username": "admin",
                "password_set": true, "options": {}, "created_at": CREATED, "updated_at": null})
        })
        .collect();
    json!({ "fence_devices": list })
}

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
    ) -> Result<ApiAnswer, ApiCallError> {
        self.requests.lock().unwrap().push((
            method,
            path.to_owned(),
            microversion.map(str::to_owned),
        ));
        if self.down.load(Ordering::Relaxed) {
            return Err(ApiCallError::call("connection refused"));
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
                        body: r#"{"badRequest": {"message": "Marker could not be found."}}"#.into(),
                    });
                }
            };
            self.listings.fetch_add(1, Ordering::Relaxed);
            let list: Vec<Value> = segments
                .iter()
                .enumerate()
                .skip(after)
                .take(1)
                .map(|(i, (s, _))| segment_view(i + 1, s))
                .collect();
            return ok(json!({ "segments": list }));
        }
        for (segment, hosts) in &segments {
            let prefix = format!("/segments/{}/hosts", u(segment));
            if let Some(query) = path.strip_prefix(&format!("{prefix}?name=")) {
                let list: Vec<Value> = hosts
                    .iter()
                    .filter(|(n, _)| query_value(n) == query)
                    .map(|(n, uuid)| host_view(n, uuid, segment))
                    .collect();
                return ok(json!({ "hosts": list }));
            }
            for (_, uuid) in hosts {
                if let Some(suffix) = path.strip_prefix(&format!("{prefix}/{}", u(uuid))) {
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
    api.answer("/fence_devices", 200, devices(&["bmc"]));
    api.answer("/action", 200, power_body("on"));
    let fencer = ApiPowerStatus::new(api.clone());
    assert!(fencer.has_device("c2").await);
    assert_eq!(fencer.power_status("c2").await, Ok(PowerState::On));
    api.answer("/action", 200, power_body("off"));
    assert_eq!(fencer.power_status("c2").await, Ok(PowerState::Off));
    assert_eq!(fencer.power_status("c2").await, Ok(PowerState::Off));
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
        .filter(|(_, p, _)| p.starts_with(&format!("/segments/{}/hosts/{}", u("s2"), u("h2"))))
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
    api.answer("/fence_devices", 200, devices(&[]));
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
    api.answer("/fence_devices", 200, devices(&["bmc"]));
    assert!(fencer.has_device("c1").await);
}

#[tokio::test]
async fn a_re_created_host_is_looked_up_again_after_a_404() {
    let api = FakeApi::new(&[("s1", &[("c1", "old")])]);
    api.answer("/fence_devices", 200, devices(&["bmc"]));
    let fencer = ApiPowerStatus::new(api.clone());
    assert!(fencer.has_device("c1").await);
    *api.segments.lock().unwrap() = vec![("s1".into(), vec![("c1".into(), "new".into())])];
    assert!(fencer.has_device("c1").await);
    assert!(!fencer.api_has_no_fencing());
    assert!(
        api.requests().iter().any(
            |(_, p, _)| *p == format!("/segments/{}/hosts/{}/fence_devices", u("s1"), u("new"))
        )
    );
}

#[tokio::test]
async fn an_unreachable_or_failing_api_makes_the_host_unknown_not_normal() {
    let api = FakeApi::new(&[("s1", &[("c1", "h1")])]);
    api.down.store(true, Ordering::Relaxed);
    let fencer: Arc<dyn PowerReader> = Arc::new(ApiPowerStatus::new(api.clone()));
    assert!(fencer.has_device("c1").await);
    let err = fencer.power_status("c1").await.unwrap_err();
    assert!(err.to_string().contains("listing segments failed"), "{err}");
    let check = crate::host::PowerCheck {
        reader: Some(fencer),
        retries: 1,
        interval: std::time::Duration::ZERO,
        timeout: std::time::Duration::from_secs(1),
    };
    assert_eq!(
        check.host_status("c1").await,
        crate::delivery::HostStatus::Unknown
    );

    api.down.store(false, Ordering::Relaxed);
    api.answer("/fence_devices", 200, devices(&["bmc"]));
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
async fn an_answer_that_is_not_the_view_fails_naming_the_call() {
    let api = FakeApi::new(&[("s1", &[("c1", "h1")])]);
    api.answer(
        "/fence_devices",
        200,
        json!({"fence_devices": [{"name": "bmc"}]}),
    );
    let fencer = ApiPowerStatus::new(api.clone());
    let err = fencer.device_count("c1").await.unwrap_err();
    assert!(
        matches!(&err, ApiPowerError::ListFenceDevices { reason, .. } if reason.starts_with("unreadable answer")),
        "{err}"
    );
    // Unsure whether it has a device: the power is read anyway.
    assert!(fencer.has_device("c1").await);
}

#[test]
fn answers_and_names_are_read_as_the_api_writes_them() {
    let answer = |status, body: &str| ApiAnswer {
        status,
        body: body.into(),
    };
    let weird = power_answer(&answer(
        200,
        r#"{"power": {"host": "c1", "action": "status", "state": "weird"}}"#,
    ));
    assert!(
        matches!(&weird, PowerAnswer::Failed(why) if why.contains("unknown variant `weird`")),
        "{weird:?}"
    );
    assert_eq!(
        power_answer(&answer(200, &power_body("off").to_string())),
        PowerAnswer::State(PowerState::Off)
    );
    assert!(matches!(
        power_answer(&answer(500, "")),
        PowerAnswer::Failed(_)
    ));
    assert_eq!(query_value("compute-1.example"), "compute-1.example");
    assert_eq!(query_value("a b&c/é"), "a+b%26c%2F%C3%A9");
}

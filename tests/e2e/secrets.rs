//! No request value of a secret field is ever echoed: every malformed shape of a body that
//! carries a marker password (or token), posted to every route, against the real binary
//! logging at debug level; the marker must appear in no response and no log line.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::Server;

/// The secret every body carries; short enough for IPMI (20 bytes) so that only the shape is
/// wrong.
const MARKER: &str = "Mk7SecretQ9zp";

/// A valid `ipmi` device carrying the marker password.
fn device() -> Value {
    json!({"name": "bmc", "level": 1, "driver": "ipmi", "address": "127.0.0.1:623",
        "username": "admin", "password": MARKER, "options": {"cipher": "3"}})
}

/// The body of `device()` with `key` set to `value`.
fn with(key: &str, value: Value) -> Value {
    let mut d = device();
    d[key] = value;
    json!({ "fence_device": d })
}

/// The body of `device()` without `key` (wrong for a creation only: an update keeps the
/// stored value).
fn without(key: &str) -> Value {
    let mut d = device();
    d.as_object_mut().unwrap().remove(key);
    json!({ "fence_device": d })
}

/// The secret hidden in every kind of JSON value that no field accepts.
fn secret_values() -> Vec<Value> {
    vec![
        json!([MARKER]),
        json!([[MARKER]]),
        json!({"password": MARKER}),
        json!({"value": MARKER}),
        json!([{"password": MARKER}]),
        json!(format!("{MARKER}\u{1}")),
        json!(format!(" {MARKER} ")),
        json!(MARKER.repeat(40)),
    ]
}

/// Every wrong shape of a fence device body, each with the marker somewhere inside.
fn fence_device_bodies() -> Vec<Value> {
    let d = device();
    let mut bodies = vec![
        json!([d]),
        json!([{ "fence_device": d }]),
        json!({ "fence_device": [d] }),
        json!({ "fence_device": [[d]] }),
        json!({ "fence_device": { "fence_device": d } }),
        json!({ "fence_device": d, "extra": MARKER }),
        json!({ "fence_device": d, "password": MARKER }),
        json!({ "password": MARKER }),
        json!({ "fence_device": null, "password": MARKER }),
        with("extra", json!(MARKER)),
        with("level", json!(0)),
        with("level", json!(10)),
        with("level", json!(1.5)),
        with("level", json!(-1)),
        with("level", json!(null)),
        with("driver", json!("not a driver")),
        with("options", json!({"cipher": "0"})),
        with("options", json!({"lanplus": "1"})),
        with("username", json!("a-very-long-ipmi-user")),
        with("password", json!(format!("{MARKER}{MARKER}"))),
        with("password", json!(42)),
        with("password", json!("")),
        with("level", json!(MARKER)),
        with("driver", json!(MARKER)),
        with("options", json!(MARKER)),
        with("options", json!({"snmp_priv_passwd": MARKER})),
        with("options", json!({"passwd": MARKER})),
        json!({ "fence_device": MARKER }),
        json!(MARKER),
        json!([MARKER]),
    ];
    for value in secret_values() {
        for key in [
            "name", "level", "driver", "address", "username", "password", "options",
        ] {
            bodies.push(with(key, value.clone()));
        }
        for option in [
            "password",
            "passwd",
            "snmp_priv_passwd",
            "cipher",
            "lanplus",
            "Bad-Key",
        ] {
            bodies.push(with("options", json!({ option: value.clone() })));
        }
        bodies.push(json!({ "fence_device": value.clone() }));
        bodies.push(value.clone());
        bodies.push(json!([value.clone()]));
    }
    // A body that only just fits the size limit (114688 bytes) and one that does not.
    bodies.push(with("password", json!(MARKER.repeat(8000))));
    bodies.push(with("password", json!(MARKER.repeat(9000))));
    bodies
}

/// Bodies of the other routes with a secret-named field inside, refused for one reason or
/// another.
fn other_bodies(path: &str) -> Vec<Value> {
    let mut bodies = Vec::new();
    for value in std::iter::once(json!(MARKER)).chain(secret_values()) {
        let (inner, valid) = match path {
            "segment" => (
                "segment",
                json!({"name": "s2", "recovery_method": "auto", "service_type": "COMPUTE"}),
            ),
            "host" => (
                "host",
                json!({"name": "h2", "type": "COMPUTE", "control_attributes": "SSH"}),
            ),
            _ => (
                "notification",
                json!({"type": "COMPUTE_HOST", "hostname": "c1",
                    "generated_time": "2024-01-01T00:00:00",
                    "payload": {"event": "STOPPED"}}),
            ),
        };
        for key in ["password", "token", "auth_token", "secret"] {
            let mut body = valid.clone();
            body[key] = value.clone();
            bodies.push(json!({ inner: body.clone() }));
            bodies.push(json!([{ inner: body }]));
            let mut payload = json!({"event": "STOPPED", key: value.clone()});
            bodies.push(
                json!({"notification": {"type": "COMPUTE_HOST", "hostname": "c1",
                "generated_time": "2024-01-01T00:00:00", "payload": payload.clone()}}),
            );
            payload[key] = json!([value.clone()]);
            bodies.push(json!({"notification": {"type": "PROCESS", "hostname": "c1",
                "generated_time": "2024-01-01T00:00:00", "payload": payload}}));
        }
        bodies.push(json!({ inner: [{"password": value.clone()}] }));
        bodies.push(json!({"power": "off", "password": value.clone()}));
        bodies.push(json!({"power": {"password": value.clone()}}));
    }
    bodies
}

/// Sends `body` and checks the answer does not hold the marker, and refuses the body (with
/// 4xx) unless it is an update (a few shapes are valid partial updates there).
async fn refused_without_marker(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    version: Option<&str>,
    body: &Value,
) {
    let mut request = http.request(method.clone(), url).json(body);
    if let Some(v) = version {
        request = request.header("OpenStack-API-Version", format!("instance-ha {v}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let accepted = method == Method::PUT && status.is_success();
    assert!(
        status.is_client_error() || accepted,
        "{method} {url} {body}: {status} {text}"
    );
    assert!(
        !text.contains(MARKER),
        "{method} {url} echoed the secret: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_error_and_no_log_line_echoes_a_secret_from_any_malformed_body() {
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("fence.key");
    std::fs::write(&key, "0123456789abcdef".repeat(4)).unwrap();
    let server = Server::start_with(
        crate::support::free_port(),
        &format!(
            "[DEFAULT]\ndebug = true\n[fencing]\ncredential_key_file = {}\n",
            key.display()
        ),
        &[("RUST_LOG", "debug")],
    )
    .await;
    let http = reqwest::Client::new();
    let base = server.url();
    let post = |path: &str, body: Value| {
        let request = http
            .post(format!("{base}{path}"))
            .header("OpenStack-API-Version", "instance-ha 1.5")
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            assert!(response.status().is_success(), "{body}");
            response.json::<Value>().await.unwrap()
        }
    };
    let seg = post(
        "/v1/segments",
        json!({"segment": {"name": "s", "recovery_method": "auto", "service_type": "COMPUTE"}}),
    )
    .await;
    let seg_path = format!("/v1/segments/{}", seg["segment"]["uuid"].as_str().unwrap());
    let host = post(
        &format!("{seg_path}/hosts"),
        json!({"host": {"name": "c1", "type": "COMPUTE", "control_attributes": "SSH"}}),
    )
    .await;
    let host_path = format!(
        "{seg_path}/hosts/{}",
        host["host"]["uuid"].as_str().unwrap()
    );
    let devices = format!("{base}{host_path}/fence_devices");
    // An existing device for the updates (its password is the marker, sealed).
    let created = post(
        &format!("{host_path}/fence_devices"),
        json!({ "fence_device": device() }),
    )
    .await;
    assert!(!created.to_string().contains(MARKER), "{created}");
    let one = format!(
        "{devices}/{}",
        created["fence_device"]["uuid"].as_str().unwrap()
    );

    let mut sent = 0;
    for body in fence_device_bodies() {
        for version in [Some("1.5"), None] {
            refused_without_marker(&http, Method::POST, &devices, version, &body).await;
            refused_without_marker(&http, Method::PUT, &one, version, &body).await;
            sent += 2;
        }
    }
    for key in ["name", "driver", "address", "username"] {
        refused_without_marker(&http, Method::POST, &devices, Some("1.5"), &without(key)).await;
        sent += 1;
    }
    let routes = [
        (Method::POST, format!("{base}/v1/segments"), "segment"),
        (Method::PUT, format!("{base}{seg_path}"), "segment"),
        (Method::POST, format!("{base}{seg_path}/hosts"), "host"),
        (Method::PUT, format!("{base}{host_path}"), "host"),
        (
            Method::POST,
            format!("{base}/v1/notifications"),
            "notification",
        ),
        (Method::POST, format!("{base}{host_path}/action"), "host"),
    ];
    for (method, url, kind) in &routes {
        for body in other_bodies(kind) {
            refused_without_marker(&http, method.clone(), url, Some("1.5"), &body).await;
            sent += 1;
        }
    }
    // Bytes that are not JSON at all, and JSON sent as an unsupported type.
    let broken = format!("{{\"fence_device\": {{\"password\": \"{MARKER}\"");
    for (content_type, bytes) in [
        ("application/json", broken.clone()),
        ("application/xml", format!("{{\"password\": \"{MARKER}\"}}")),
        ("application/json", format!("\"{MARKER}")),
    ] {
        let response = http
            .post(&devices)
            .header("OpenStack-API-Version", "instance-ha 1.5")
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_client_error(), "{status} {text}");
        assert!(!text.contains(MARKER), "{text}");
        sent += 1;
    }
    assert!(sent > 1000, "{sent} requests");

    // The device still has its first password, and nothing was logged with the marker.
    let view = http
        .request(Method::GET, &one)
        .header("OpenStack-API-Version", "instance-ha 1.5")
        .send()
        .await
        .unwrap();
    assert_eq!(view.status(), StatusCode::OK);
    let log = server.log();
    assert!(
        log.lines().filter(|l| l.contains("served")).count() >= sent,
        "the server logged every request at debug level:\n{log}"
    );
    let leaks: Vec<&str> = log.lines().filter(|l| l.contains(MARKER)).collect();
    assert!(leaks.is_empty(), "log lines with the secret: {leaks:#?}");
}

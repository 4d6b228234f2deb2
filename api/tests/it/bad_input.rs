//! Bad input gets a 4xx whose message names the field, and changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, spawn_app};

/// Everything the API would list, to prove a refused request changed nothing.
async fn snapshot(app: &TestApp) -> Value {
    let segments = app.get("/v1/segments").await.body;
    let mut hosts = Vec::new();
    for s in segments["segments"].as_array().unwrap() {
        hosts.push(
            app.get(&format!(
                "/v1/segments/{}/hosts",
                s["uuid"].as_str().unwrap()
            ))
            .await
            .body,
        );
    }
    json!({"segments": segments, "hosts": hosts, "notifications": app.get("/v1/notifications").await.body})
}

fn segment(fields: Value) -> Value {
    let mut base = json!({"name": "x", "recovery_method": "auto", "service_type": "COMPUTE"});
    for (k, v) in fields.as_object().unwrap() {
        if v.is_null() && k.starts_with('-') {
            base.as_object_mut().unwrap().remove(&k[1..]);
        } else {
            base[k] = v.clone();
        }
    }
    json!({ "segment": base })
}

fn notification(kind: &str, payload: Value) -> Value {
    json!({"notification": {"type": kind, "hostname": "c1", "generated_time": "2024-01-01T00:00:00", "payload": payload}})
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named_and_nothing_changes() {
    let app = spawn_app().await;
    let seg = app.segment("existing", "auto").await;
    app.host(&seg, "c1").await;
    let seg_path = format!("/v1/segments/{}", seg["uuid"].as_str().unwrap());
    let hosts_path = format!("{seg_path}/hosts");
    let before = snapshot(&app).await;
    let long = "x".repeat(256);
    let cases: Vec<(&str, String, Value, &str)> = vec![
        (
            "segment name of the wrong type",
            "/v1/segments".into(),
            segment(json!({"name": 42})),
            "name",
        ),
        (
            "segment name too long",
            "/v1/segments".into(),
            segment(json!({"name": long})),
            "name",
        ),
        (
            "segment name with edge whitespace",
            "/v1/segments".into(),
            segment(json!({"name": " x"})),
            "name",
        ),
        (
            "unknown recovery method",
            "/v1/segments".into(),
            segment(json!({"recovery_method": "magic"})),
            "recovery_method",
        ),
        (
            "missing service type",
            "/v1/segments".into(),
            segment(json!({"-service_type": null})),
            "service_type",
        ),
        (
            "unknown segment field",
            "/v1/segments".into(),
            segment(json!({"colour": "red"})),
            "colour",
        ),
        (
            "description of the wrong type",
            "/v1/segments".into(),
            segment(json!({"description": ["a"]})),
            "description",
        ),
        (
            "wrong envelope",
            "/v1/segments".into(),
            json!({"segmnt": {}}),
            "segmnt",
        ),
        (
            "host type with a dash",
            hosts_path.clone(),
            json!({"host": {"name": "h", "type": "COMP-UTE", "control_attributes": "x"}}),
            "type",
        ),
        (
            "null host type",
            hosts_path.clone(),
            json!({"host": {"name": "h", "type": null, "control_attributes": "x"}}),
            "type",
        ),
        (
            "null control attributes",
            hosts_path.clone(),
            json!({"host": {"name": "h", "type": "C", "control_attributes": null}}),
            "control_attributes",
        ),
        (
            "reserved not a boolean",
            hosts_path.clone(),
            json!({"host": {"name": "h", "type": "C", "control_attributes": "x", "reserved": "maybe"}}),
            "reserved",
        ),
        (
            "missing host name",
            hosts_path.clone(),
            json!({"host": {"type": "C", "control_attributes": "x"}}),
            "name",
        ),
        (
            "unknown notification type",
            "/v1/notifications".into(),
            notification("DISK", json!({"event": "STOPPED"})),
            "type",
        ),
        (
            "lower-case event",
            "/v1/notifications".into(),
            notification(
                "PROCESS",
                json!({"event": "stopped", "process_name": "nova-compute"}),
            ),
            "payload.event",
        ),
        (
            "bad host status",
            "/v1/notifications".into(),
            notification(
                "COMPUTE_HOST",
                json!({"event": "STOPPED", "host_status": "DEAD"}),
            ),
            "payload.host_status",
        ),
        (
            "nested payload",
            "/v1/notifications".into(),
            notification("COMPUTE_HOST", json!({"event": {"a": "b"}})),
            "payload.event",
        ),
        (
            "over-long payload value",
            "/v1/notifications".into(),
            notification(
                "VM",
                json!({"event": long, "instance_uuid": "5c3f4b3e-6d0e-4b8f-9a43-0e6f1d2a7b10", "vir_domain_event": "X"}),
            ),
            "payload.event",
        ),
        (
            "bad instance uuid",
            "/v1/notifications".into(),
            notification(
                "VM",
                json!({"event": "LIFECYCLE", "instance_uuid": "not-a-uuid", "vir_domain_event": "X"}),
            ),
            "payload.instance_uuid",
        ),
        (
            "bad hostname",
            "/v1/notifications".into(),
            json!({"notification": {"type": "VM", "hostname": "c 1", "generated_time": "2024-01-01T00:00:00", "payload": {}}}),
            "hostname",
        ),
        (
            "bad generated time",
            "/v1/notifications".into(),
            json!({"notification": {"type": "COMPUTE_HOST", "hostname": "c1", "generated_time": "soon", "payload": {"event": "STOPPED"}}}),
            "generated_time",
        ),
        (
            "missing payload",
            "/v1/notifications".into(),
            json!({"notification": {"type": "COMPUTE_HOST", "hostname": "c1", "generated_time": "2024-01-01T00:00:00"}}),
            "payload",
        ),
        (
            "body not an object",
            "/v1/notifications".into(),
            json!([1, 2]),
            "request body",
        ),
    ];
    for (what, path, body, field) in cases {
        let reply = app.post(&path, body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{what}: {}",
            reply.text
        );
        assert!(
            reply.fault().contains(field),
            "{what}: the message must name {field}: {}",
            reply.fault()
        );
    }
    for (what, path, body) in [
        (
            "empty segment update",
            seg_path.clone(),
            json!({"segment": {}}),
        ),
        (
            "enabled update at 1.0",
            seg_path.clone(),
            json!({"segment": {"enabled": false}}),
        ),
    ] {
        let reply = app.put(&path, body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{what}: {}",
            reply.text
        );
    }
    // Transport-level refusals.
    let malformed = app
        .raw(
            Method::POST,
            "/v1/segments",
            Some("application/json"),
            b"{\"segment\": ".to_vec(),
        )
        .await;
    assert_eq!(
        (malformed.status, malformed.fault()),
        (StatusCode::BAD_REQUEST, "Malformed request body")
    );
    let empty = app
        .raw(
            Method::POST,
            "/v1/segments",
            Some("application/json"),
            Vec::new(),
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let xml = app
        .raw(
            Method::POST,
            "/v1/segments",
            Some("application/xml"),
            b"<segment/>".to_vec(),
        )
        .await;
    assert_eq!(xml.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(xml.body["badMediaType"]["code"], 415);
    let text_plain = app
        .raw(
            Method::POST,
            "/v1/segments",
            Some("text/plain"),
            br#"{"segment": {"name": 1}}"#.to_vec(),
        )
        .await;
    assert_eq!(
        text_plain.status,
        StatusCode::BAD_REQUEST,
        "text/plain is parsed as JSON, as Masakari does"
    );
    let huge = app
        .raw(
            Method::POST,
            "/v1/segments",
            Some("application/json"),
            vec![b' '; 114_689],
        )
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.body["overLimit"]["code"], 413);
    for path in [
        "/v1/segments/not-a-uuid",
        "/v1/segments/not-a-uuid/hosts",
        "/v1/notifications/123",
        &format!("{seg_path}/hosts/xyz"),
    ] {
        assert_eq!(app.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let bad_version = app
        .call(
            Method::POST,
            "/v1/segments",
            Some("01.1"),
            Some(segment(json!({}))),
        )
        .await;
    assert_eq!(bad_version.status, StatusCode::BAD_REQUEST);
    let too_new = app
        .call(
            Method::POST,
            "/v1/segments",
            Some("2.0"),
            Some(segment(json!({}))),
        )
        .await;
    assert_eq!(too_new.status, StatusCode::NOT_ACCEPTABLE);

    assert_eq!(
        snapshot(&app).await,
        before,
        "a refused request must not change anything"
    );
}

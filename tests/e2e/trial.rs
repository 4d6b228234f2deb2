//! What a trial instance (no Nova configured) does with reports: work that needs no Nova
//! finishes, so the operator can still change and delete the hosts afterwards.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

/// Creates a segment and a host, reports nova-compute `STARTED` from it, waits for `finished`,
/// then updates and deletes the host and the segment. `base` is the server's URL.
pub async fn a_trial_finishes_what_needs_no_nova_and_keeps_its_hosts_editable(base: &str) {
    let client = reqwest::Client::new();
    let send = |method: reqwest::Method, path: String, body: Option<Value>| {
        let mut request = client.request(method, format!("{base}/v1{path}"));
        if let Some(b) = body {
            request = request.json(&b);
        }
        async move {
            let r = request.send().await.unwrap();
            let status = r.status();
            let text = r.text().await.unwrap();
            (
                status,
                serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
                text,
            )
        }
    };
    let (status, seg, text) = send(
        reqwest::Method::POST,
        "/segments".into(),
        Some(json!({"segment": {"name": "trial", "recovery_method": "auto", "service_type": "COMPUTE"}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let seg = seg["segment"]["uuid"].as_str().unwrap().to_owned();
    let (status, host, text) = send(
        reqwest::Method::POST,
        format!("/segments/{seg}/hosts"),
        Some(json!({"host": {"name": "trial-1", "type": "COMPUTE", "control_attributes": "SSH"}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let host = format!(
        "/segments/{seg}/hosts/{}",
        host["host"]["uuid"].as_str().unwrap()
    );
    let (status, n, text) = send(
        reqwest::Method::POST,
        "/notifications".into(),
        Some(
            json!({"notification": {"type": "PROCESS", "hostname": "trial-1",
            "generated_time": "2024-01-01T00:00:00",
            "payload": {"event": "STARTED", "process_name": "nova-compute"}}}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    let n = format!(
        "/notifications/{}",
        n["notification"]["notification_uuid"].as_str().unwrap()
    );
    let mut last = Value::Null;
    for _ in 0..200 {
        last = send(reqwest::Method::GET, n.clone(), None).await.1;
        if !["new", "running"].contains(&last["notification"]["status"].as_str().unwrap_or("")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(last["notification"]["status"], "finished", "{last}");
    let (status, _, text) = send(
        reqwest::Method::PUT,
        host.clone(),
        Some(json!({"host": {"control_attributes": "IPMI"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let (status, _, text) = send(reqwest::Method::DELETE, host, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
    let (status, _, text) = send(reqwest::Method::DELETE, format!("/segments/{seg}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
}

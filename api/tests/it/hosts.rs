//! `/v1/segments/{id}/hosts`.

use lifeboat_core::clock::{Clock, SystemClock};
use lifeboat_core::store::MaintenanceChange;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::spawn_app;

#[tokio::test]
async fn hosts_go_through_their_whole_lifecycle() {
    let app = spawn_app().await;
    let seg = app.segment("s", "reserved_host").await;
    let seg_id = seg["uuid"].as_str().unwrap();
    let created = app
        .post(
            &format!("/v1/segments/{seg_id}/hosts"),
            json!({"host": {"name": "c1", "type": "COMPUTE",
            "control_attributes": "SSH", "reserved": "True", "on_maintenance": "no"}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let host = &created.body["host"];
    assert_eq!(host["failover_segment_id"], seg_id);
    assert_eq!(host["failover_segment"]["uuid"], seg_id);
    assert_eq!(host["failover_segment"]["recovery_method"], "reserved_host");
    assert_eq!(
        (host["reserved"].clone(), host["on_maintenance"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(host["type"], "COMPUTE");
    let path = format!(
        "/v1/segments/{seg_id}/hosts/{}",
        host["uuid"].as_str().unwrap()
    );
    assert_eq!(app.get(&path).await.body["host"], *host);

    // String booleans sent on update come back as JSON booleans.
    let updated = app
        .put(
            &path,
            json!({"host": {"on_maintenance": "True", "reserved": "False"}}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(
        (
            updated.body["host"]["on_maintenance"].clone(),
            updated.body["host"]["reserved"].clone()
        ),
        (json!(true), json!(false))
    );

    let other = app.segment("other", "auto").await;
    let dup = app
        .post(
            &format!("/v1/segments/{}/hosts", other["uuid"].as_str().unwrap()),
            json!({"host": {"name": "c1", "type": "COMPUTE", "control_attributes": "SSH"}}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.fault(), "Host with name c1 already exists.");
    // A host is only visible under its own segment.
    let wrong = app
        .get(&format!(
            "/v1/segments/{}/hosts/{}",
            other["uuid"].as_str().unwrap(),
            host["uuid"].as_str().unwrap()
        ))
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert!(wrong.fault().contains("could not be found"));

    assert_eq!(app.delete(&path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn host_filters_all_work() {
    let app = spawn_app().await;
    let seg = app.segment("s", "auto").await;
    let seg_id = seg["uuid"].as_str().unwrap();
    for (name, reserved, maint, kind) in [
        ("a", true, false, "COMPUTE"),
        ("b", false, true, "COMPUTE"),
        ("c", false, false, "BAREMETAL"),
    ] {
        let r = app
            .post(&format!("/v1/segments/{seg_id}/hosts"), json!({"host": {"name": name, "type": kind, "control_attributes": format!("ctl-{name}"), "reserved": reserved, "on_maintenance": maint}}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let names = |query: &'static str| {
        let app = &app;
        async move {
            let r = app
                .get(&format!("/v1/segments/{seg_id}/hosts?{query}"))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
            let mut n: Vec<String> = r.body["hosts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["name"].as_str().unwrap().to_owned())
                .collect();
            n.sort();
            n
        }
    };
    assert_eq!(names("reserved=true").await, ["a"]);
    assert_eq!(names("on_maintenance=1").await, ["b"]);
    assert_eq!(names("type=BAREMETAL").await, ["c"]);
    // Masakari ignores these two filters; they work here.
    assert_eq!(names("name=b").await, ["b"]);
    assert_eq!(names("control_attributes=ctl-c").await, ["c"]);
    let bad = app
        .get(&format!("/v1/segments/{seg_id}/hosts?reserved=maybe"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.fault().contains("Invalid value for reserved"));
    let missing = app
        .get(&format!("/v1/segments/{}/hosts", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hosts_show_why_they_are_in_maintenance_from_microversion_1_6() {
    let app = spawn_app().await;
    let seg = app.segment("s", "auto").await;
    let seg_id = seg["uuid"].as_str().unwrap();
    let created = app
        .call(
            Method::POST,
            &format!("/v1/segments/{seg_id}/hosts"),
            Some("1.6"),
            Some(json!({"host": {"name": "kept", "type": "COMPUTE",
                "control_attributes": "SSH", "on_maintenance": true}})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["host"]["maintenance_reason"], "operator");
    assert_eq!(
        created.body["host"]["maintenance_notification_uuid"],
        Value::Null
    );
    let path = format!(
        "/v1/segments/{seg_id}/hosts/{}",
        created.body["host"]["uuid"].as_str().unwrap()
    );
    // Older microversions see exactly Masakari's host.
    let old = app.call(Method::GET, &path, Some("1.5"), None).await;
    let old = old.body["host"].as_object().unwrap();
    assert!(
        !old.contains_key("maintenance_reason")
            && !old.contains_key("maintenance_notification_uuid"),
        "{old:?}"
    );
    assert_eq!(old["on_maintenance"], true);
    // Ending maintenance clears the reason; setting it again makes it the operator's.
    for (on, reason) in [("False", Value::Null), ("True", json!("operator"))] {
        let put = app
            .call(
                Method::PUT,
                &path,
                Some("1.6"),
                Some(json!({"host": {"on_maintenance": on}})),
            )
            .await;
        assert_eq!(put.body["host"]["maintenance_reason"], reason, "{on}");
    }

    // A recovery's maintenance names the notification.
    let failed = app.host(&seg, "failed").await;
    let n = app.host_down("failed", "2024-01-01T00:00:00").await.body["notification"].clone();
    let n_id: uuid::Uuid = n["notification_uuid"].as_str().unwrap().parse().unwrap();
    app.store
        .set_host_flags(
            failed["uuid"].as_str().unwrap().parse().unwrap(),
            Some(MaintenanceChange::Recovery(n_id)),
            None,
            SystemClock.now(),
        )
        .await
        .unwrap();
    let list = app
        .call(
            Method::GET,
            &format!("/v1/segments/{seg_id}/hosts?sort_key=name&sort_dir=asc"),
            Some("1.6"),
            None,
        )
        .await;
    let reasons: Vec<(Value, Value)> = list.body["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["maintenance_reason"].clone(),
                h["maintenance_notification_uuid"].clone(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (json!("recovery"), json!(n_id.to_string())),
            (json!("operator"), Value::Null)
        ]
    );
}

#[tokio::test]
async fn a_started_report_from_a_host_an_operator_maintains_gets_masakari_s_409() {
    let app = spawn_app().await;
    let seg = app.segment("s", "auto").await;
    let host = app.host(&seg, "c1").await;
    let path = format!(
        "/v1/segments/{}/hosts/{}",
        seg["uuid"].as_str().unwrap(),
        host["uuid"].as_str().unwrap()
    );
    let put = app
        .put(&path, json!({"host": {"on_maintenance": "True"}}))
        .await;
    assert_eq!(put.status, StatusCode::OK);
    for (kind, payload) in [
        (
            "COMPUTE_HOST",
            json!({"event": "STARTED", "host_status": "NORMAL", "cluster_status": "ONLINE"}),
        ),
        (
            "PROCESS",
            json!({"event": "STARTED", "process_name": "nova-compute"}),
        ),
    ] {
        let refused = app
            .post(
                "/v1/notifications",
                json!({"notification": {"type": kind, "hostname": "c1",
                    "generated_time": "2024-01-01T00:00:00", "payload": payload}}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
        assert_eq!(
            refused.body,
            json!({"conflictingRequest": {"code": 409, "message": format!(
                "Notification received from host c1 of type '{kind}' is ignored as the host is already under maintenance."
            )}})
        );
    }
    // The operator is still in charge: the host stays in maintenance.
    assert_eq!(app.get(&path).await.body["host"]["on_maintenance"], true);
}

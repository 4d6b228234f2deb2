//! `/v1/segments`.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::spawn_app;

#[tokio::test]
async fn segments_go_through_their_whole_lifecycle() {
    let app = spawn_app().await;
    let created = app
        .call(
            Method::POST,
            "/v1/segments",
            Some("1.2"),
            Some(json!({"segment": {"name": "seg", "recovery_method": "auto",
            "service_type": "COMPUTE", "description": "first", "enabled": "False"}})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let seg = &created.body["segment"];
    for field in [
        "id",
        "uuid",
        "name",
        "description",
        "recovery_method",
        "service_type",
        "enabled",
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted",
    ] {
        assert!(seg.get(field).is_some(), "segment has no {field}: {seg}");
    }
    assert_eq!(seg["enabled"], false);
    assert_eq!(seg["deleted"], false);
    let created_at = seg["created_at"].as_str().unwrap();
    assert_eq!(
        created_at.len(),
        "2024-01-01T00:00:00.000000".len(),
        "{created_at}"
    );
    let uuid = seg["uuid"].as_str().unwrap().to_owned();
    let path = format!("/v1/segments/{uuid}");

    assert_eq!(app.get(&path).await.body["segment"], *seg);
    let dup = app
        .post(
            "/v1/segments",
            json!({"segment": {"name": "seg", "recovery_method": "auto", "service_type": "C"}}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(
        dup.fault(),
        "Failover segment with name seg already exists."
    );

    // Masakari turns "false" into true on update; we parse it.
    let updated = app
        .call(
            Method::PUT,
            &path,
            Some("1.2"),
            Some(json!({"segment": {"enabled": "true", "recovery_method": "reserved_host"}})),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.body["segment"]["enabled"], true);
    assert_eq!(updated.body["segment"]["recovery_method"], "reserved_host");
    assert!(updated.body["segment"]["updated_at"].is_string());
    let off = app
        .call(
            Method::PUT,
            &path,
            Some("1.2"),
            Some(json!({"segment": {"enabled": "false"}})),
        )
        .await;
    assert_eq!(off.body["segment"]["enabled"], false);

    assert_eq!(app.delete(&path).await.status, StatusCode::NO_CONTENT);
    let gone = app.get(&path).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.fault(), format!("No failover segment with id {uuid}."));
    assert_eq!(app.delete(&path).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn enabled_needs_microversion_1_2_but_is_always_shown_and_filterable() {
    let app = spawn_app().await;
    let early = app
        .call(Method::POST, "/v1/segments", Some("1.1"), Some(json!({"segment": {"name": "s", "recovery_method": "auto", "service_type": "C", "enabled": false}})))
        .await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST);
    assert!(
        early.fault().contains("'enabled' was unexpected"),
        "{}",
        early.text
    );
    let seg = app.segment("s", "auto").await;
    assert_eq!(seg["enabled"], true);
    app.call(Method::POST, "/v1/segments", Some("1.2"), Some(json!({"segment": {"name": "t", "recovery_method": "auto", "service_type": "C", "enabled": false}})))
        .await;
    // Masakari's enabled filter compares a string with a boolean column; ours parses it.
    for (value, count) in [
        ("false", 1),
        ("False", 1),
        ("0", 1),
        ("true", 1),
        ("yes", 1),
    ] {
        let list = app.get(&format!("/v1/segments?enabled={value}")).await;
        assert_eq!(
            list.body["segments"].as_array().unwrap().len(),
            count,
            "enabled={value}"
        );
    }
    assert_eq!(
        app.get("/v1/segments?enabled=maybe").await.status,
        StatusCode::BAD_REQUEST
    );
    let filtered = app.get("/v1/segments?enabled=false").await;
    assert_eq!(filtered.body["segments"][0]["name"], "t");
}

#[tokio::test]
async fn segments_with_work_in_progress_cannot_change() {
    let app = spawn_app().await;
    let seg = app.segment("s", "auto").await;
    app.host(&seg, "c1").await;
    assert_eq!(
        app.host_down("c1", "2024-01-01T00:00:00").await.status,
        StatusCode::ACCEPTED
    );
    let path = format!("/v1/segments/{}", seg["uuid"].as_str().unwrap());
    let update = app
        .put(&path, json!({"segment": {"name": "renamed"}}))
        .await;
    assert_eq!(update.status, StatusCode::CONFLICT);
    assert!(
        update
            .fault()
            .contains("can't be updated as it is in-use to process notifications")
    );
    assert_eq!(app.delete(&path).await.status, StatusCode::CONFLICT);
    assert_eq!(app.get(&path).await.body["segment"]["name"], "s");
}

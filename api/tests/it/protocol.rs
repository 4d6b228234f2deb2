//! Versions, microversions, request ids, routing, health.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::spawn_app;

#[tokio::test]
async fn version_documents_advertise_the_microversion_range() {
    let app = spawn_app().await;
    let root = app.get("/").await;
    assert_eq!(root.status, StatusCode::OK);
    let v = &root.body["versions"][0];
    assert_eq!(
        (v["id"].as_str(), v["status"].as_str()),
        (Some("v1.0"), Some("CURRENT"))
    );
    assert_eq!(
        (v["version"].as_str(), v["min_version"].as_str()),
        (Some("1.6"), Some("1.0"))
    );
    assert_eq!(v["links"][0]["href"], format!("{}/v1/", app.base));
    for path in ["/v1", "/v1/"] {
        let doc = app.get(path).await;
        assert_eq!(doc.status, StatusCode::OK, "{path}");
        assert_eq!(doc.body["version"]["version"], "1.6");
        assert_eq!(
            doc.body["version"]["media-types"][0]["type"],
            "application/vnd.openstack.masakari+json;version=1"
        );
    }
    let other = app.get("/v2").await;
    assert_eq!(other.status, StatusCode::MULTIPLE_CHOICES);
    assert_eq!(other.body["choices"][0]["id"], "v1.0");
}

#[tokio::test]
async fn microversions_are_negotiated_echoed_and_refused_when_bad() {
    let app = spawn_app().await;
    let plain = app.get("/v1/segments").await;
    assert_eq!(plain.headers["openstack-api-version"], "instance-ha 1.0");
    assert_eq!(plain.headers["vary"], "OpenStack-API-Version");
    let latest = app
        .call(Method::GET, "/v1/segments", Some("latest"), None)
        .await;
    assert_eq!(latest.headers["openstack-api-version"], "instance-ha 1.6");
    let malformed = app
        .call(Method::GET, "/v1/segments", Some("1.a"), None)
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(
        malformed
            .fault()
            .contains("API Version String 1.a is of invalid format")
    );
    assert!(!malformed.headers.contains_key("openstack-api-version"));
    let unsupported = app
        .call(Method::GET, "/v1/segments", Some("1.7"), None)
        .await;
    assert_eq!(unsupported.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        unsupported.body["masakariFault"]["message"],
        "Version 1.7 is not supported by the API. Minimum is 1.0 and maximum is 1.6."
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/"),
        (Method::GET, "/v1/segments"),
        (Method::GET, "/v1/segments/nope"),
        (Method::PATCH, "/v1/segments"),
        (Method::GET, "/healthcheck"),
    ] {
        let reply = app.call(method.clone(), path, None, None).await;
        let id = reply.headers["x-openstack-request-id"].to_str().unwrap();
        assert!(
            id.starts_with("req-") && uuid::Uuid::parse_str(&id[4..]).is_ok(),
            "{method} {path}: {id}"
        );
    }
}

#[tokio::test]
async fn routes_exist_under_a_project_id_too() {
    let app = spawn_app().await;
    let seg = app.segment("s1", "auto").await;
    let project = "0123456789abcdef0123456789abcdef";
    let reply = app
        .get(&format!(
            "/v1/{project}/segments/{}",
            seg["uuid"].as_str().unwrap()
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["segment"]["name"], "s1");
    assert_eq!(
        app.get(&format!("/v1/{project}/segments")).await.body["segments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Only hex project ids route, as in Masakari.
    assert_eq!(
        app.get("/v1/not-hex-project/segments").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn unsupported_methods_answer_405_with_a_fault() {
    let app = spawn_app().await;
    let seg = app.segment("s1", "auto").await;
    let host = app.host(&seg, "c1").await;
    let n = app.host_down("c1", "2024-01-01T00:00:00").await;
    let id = n.body["notification"]["notification_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    for (method, path) in [
        (Method::PUT, format!("/v1/notifications/{id}")),
        (Method::DELETE, format!("/v1/notifications/{id}")),
        (Method::POST, format!("/v1/notifications/{id}/action")),
        (
            Method::POST,
            format!("/v1/segments/{}/action", seg["uuid"].as_str().unwrap()),
        ),
        (Method::PATCH, "/v1/segments".to_owned()),
    ] {
        let reply = app.call(method.clone(), &path, None, Some(json!({}))).await;
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(reply.body["badMethod"]["code"], 405);
    }
    assert_eq!(host["name"], "c1");
    let unknown = app.get("/v1/nothing-here/at/all").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["itemNotFound"]["code"], 404);
}

#[tokio::test]
async fn healthcheck_answers_and_can_be_disabled_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("disable");
    let app = crate::harness::spawn_app_with(lifeboat_api::Settings {
        healthcheck_disable_file: Some(flag.clone()),
        ..Default::default()
    })
    .await;
    let ok = app.get("/healthcheck").await;
    assert_eq!((ok.status, ok.text.as_str()), (StatusCode::OK, "OK"));
    std::fs::write(&flag, "").unwrap();
    let off = app.get("/healthcheck").await;
    assert_eq!(
        (off.status, off.text.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "DISABLED BY FILE")
    );
}

#[tokio::test]
async fn extensions_are_listed() {
    let app = spawn_app().await;
    let list = app.get("/v1/extensions").await;
    let aliases: Vec<_> = list.body["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["alias"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        aliases,
        [
            "extensions",
            "notifications",
            "os-hosts",
            "segments",
            "versions",
            "vmoves"
        ]
    );
    assert_eq!(
        app.get("/v1/extensions/vmoves").await.body["extension"]["name"],
        "VMoves"
    );
    assert_eq!(
        app.get("/v1/extensions/bogus").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    let paths = doc.body["paths"].as_object().expect("paths");
    let routes: &[(&str, &[&str])] = &[
        ("/", &["get"]),
        ("/v1", &["get"]),
        ("/v1/", &["get"]),
        ("/healthcheck", &["get"]),
        ("/metrics", &["get"]),
        ("/v1/extensions", &["get"]),
        ("/v1/extensions/{alias}", &["get"]),
        ("/v1/segments", &["get", "post"]),
        ("/v1/segments/{segment_id}", &["get", "put", "delete"]),
        ("/v1/segments/{segment_id}/hosts", &["get", "post"]),
        (
            "/v1/segments/{segment_id}/hosts/{host_id}",
            &["get", "put", "delete"],
        ),
        (
            "/v1/segments/{segment_id}/hosts/{host_id}/fence_devices",
            &["get", "post"],
        ),
        (
            "/v1/segments/{segment_id}/hosts/{host_id}/fence_devices/{device_id}",
            &["get", "put", "delete"],
        ),
        (
            "/v1/segments/{segment_id}/hosts/{host_id}/fence_history",
            &["get"],
        ),
        (
            "/v1/segments/{segment_id}/hosts/{host_id}/action",
            &["post"],
        ),
        ("/v1/notifications", &["get", "post"]),
        ("/v1/notifications/{notification_id}", &["get"]),
        ("/v1/notifications/{notification_id}/action", &["post"]),
        ("/v1/notifications/{notification_id}/vmoves", &["get"]),
        (
            "/v1/notifications/{notification_id}/vmoves/{vmove_id}",
            &["get"],
        ),
    ];
    for (path, methods) in routes {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not documented"));
        for m in *methods {
            assert!(item.get(*m).is_some(), "{m} {path} is not documented");
        }
    }
    assert_eq!(
        paths.len(),
        routes.len(),
        "the document has paths the router does not serve"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_without_authentication() {
    let app = spawn_app().await;
    let unknown = "/v1/segments/5f0b2e8c-0000-4000-8000-000000000001";
    assert_eq!(app.get(unknown).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/nowhere/at/all").await.status.as_u16(), 300);
    let scrape = app.get("/metrics").await;
    assert_eq!(scrape.status, StatusCode::OK, "{}", scrape.text);
    assert!(
        scrape.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{:?}",
        scrape.headers
    );
    let parsed = lifeboat_metrics::scrape::Scraped::parse(&scrape.text).unwrap();
    let count = |route: &str, status: &str| {
        parsed.value(
            "lifeboat_api_requests",
            &[("route", route), ("status", status)],
        )
    };
    assert_eq!(
        count("/v1/segments/{segment_id}", "404"),
        1.0,
        "{}",
        scrape.text
    );
    assert_eq!(count("unmatched", "300"), 1.0, "{}", scrape.text);
    assert!(
        !scrape.text.contains("5f0b2e8c") && !scrape.text.contains("nowhere"),
        "raw paths must not become labels: {}",
        scrape.text
    );
}

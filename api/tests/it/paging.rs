//! `limit`, `marker`, sorting and `next` links.

use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::spawn_app;

#[tokio::test]
async fn limit_one_pages_through_everything_with_next_links() {
    let app = spawn_app().await;
    for i in 0..7 {
        app.segment(
            &format!("seg-{i}"),
            if i % 2 == 0 { "auto" } else { "rh_priority" },
        )
        .await;
    }
    // Follow next links, as openstacksdk does.
    let mut names = Vec::new();
    let mut url = format!(
        "{}/v1/segments?limit=1&sort_key=name&sort_dir=asc",
        app.base
    );
    loop {
        let page: Value = app
            .client
            .get(&url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for s in page["segments"].as_array().unwrap() {
            names.push(s["name"].as_str().unwrap().to_owned());
        }
        match page["segments_links"][0]["href"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(
        names,
        (0..7).map(|i| format!("seg-{i}")).collect::<Vec<_>>()
    );

    // And with the integer marker, as python-masakariclient's --marker does.
    let first = app
        .get("/v1/segments?limit=3&sort_key=name&sort_dir=desc")
        .await;
    let last_id = first.body["segments"][2]["id"].as_i64().unwrap();
    let second = app
        .get(&format!(
            "/v1/segments?limit=3&sort_key=name&sort_dir=desc&marker={last_id}"
        ))
        .await;
    let got: Vec<_> = second.body["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["seg-3", "seg-2", "seg-1"]);
    let filtered = app
        .get("/v1/segments?recovery_method=rh_priority&sort_key=name")
        .await;
    assert_eq!(filtered.body["segments"].as_array().unwrap().len(), 3);
    assert!(
        filtered.body.get("segments_links").is_none(),
        "a short page has no next link"
    );
}

#[tokio::test]
async fn bad_list_parameters_are_refused() {
    let app = spawn_app().await;
    for (query, message) in [
        ("limit=abc", "limit must be an integer"),
        ("limit=-1", "limit must be >= 0"),
        (
            "marker=5c3f4b3e-6d0e-4b8f-9a43-0e6f1d2a7b10",
            "Marker 5c3f4b3e-6d0e-4b8f-9a43-0e6f1d2a7b10 could not be found.",
        ),
        ("marker=12345", "Marker 12345 could not be found."),
        ("sort_key=bogus", "Sort key supplied is invalid: bogus"),
        ("sort_key=name&sort_dir=sideways", "Unknown sort direction"),
        (
            "sort_key=name&sort_dir=asc&sort_dir=desc",
            "Sort direction size exceeds sort key size",
        ),
    ] {
        let r = app.get(&format!("/v1/segments?{query}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(r.fault().contains(message), "{query}: {}", r.text);
    }
    assert_eq!(
        app.get("/v1/segments?limit=0").await.body["segments"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

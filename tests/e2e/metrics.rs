//! `GET /metrics` of `lifeboat serve`, read with a conforming OpenMetrics parser: the counters
//! of the API, the engine and the notifications move when a report is accepted and recovered.

use lifeboat_metrics::scrape::Scraped;

use crate::support::Server;

async fn scrape(server: &Server) -> (Scraped, String) {
    let response = reqwest::get(format!("{}/metrics", server.url()))
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let text = response.text().await.unwrap();
    let parsed = Scraped::parse(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (parsed, text)
}

#[tokio::test]
async fn counters_move_when_a_notification_is_accepted_and_recovered() {
    let server = Server::start("").await;
    let (before, text) = scrape(&server).await;
    let accepted = [("type", "PROCESS"), ("status", "new")];
    let finished = [("type", "PROCESS"), ("status", "finished")];
    assert_eq!(before.value("lifeboat_notifications", &accepted), 0.0);
    assert_eq!(before.value("lifeboat_engine_up", &[]), 1.0, "{text}");

    // A segment, a host, nova-compute STARTED from it (finished without Nova), then both deleted.
    crate::trial::a_trial_finishes_what_needs_no_nova_and_keeps_its_hosts_editable(&server.url())
        .await;

    let (after, text) = scrape(&server).await;
    assert_eq!(
        after.value("lifeboat_notifications", &accepted),
        1.0,
        "{text}"
    );
    assert_eq!(
        after.value("lifeboat_notifications", &finished),
        1.0,
        "{text}"
    );
    assert_eq!(
        after.value("lifeboat_engine_claims", &[("resumed", "false")]),
        1.0,
        "{text}"
    );
    let recovered = [("type", "PROCESS"), ("outcome", "finished")];
    assert_eq!(
        after.count("lifeboat_recovery_duration_seconds", &recovered),
        1,
        "{text}"
    );
    assert_eq!(after.value("lifeboat_engine_recoveries_running", &[]), 0.0);
    let created = [
        ("route", "/v1/notifications"),
        ("method", "POST"),
        ("status", "202"),
    ];
    assert_eq!(
        after.value("lifeboat_api_requests", &created),
        1.0,
        "{text}"
    );
    // Polled by its id: counted under the route template, never the raw path.
    let polled = [
        ("route", "/v1/notifications/{notification_id}"),
        ("method", "GET"),
    ];
    assert!(
        after.value("lifeboat_api_requests", &polled) >= 1.0,
        "{text}"
    );
    assert!(
        after.count("lifeboat_api_request_duration_seconds", &polled) >= 1,
        "{text}"
    );
    let deleted = [
        ("route", "/v1/segments/{segment_id}"),
        ("method", "DELETE"),
        ("status", "204"),
    ];
    assert_eq!(
        after.value("lifeboat_api_requests", &deleted),
        1.0,
        "{text}"
    );
}

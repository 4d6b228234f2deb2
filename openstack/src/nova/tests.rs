use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

/// Reads one request's head.
async fn read_head(conn: &mut tokio::net::TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).await.unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
}

/// A server that answers the first request of each connection (keeping it alive) and closes
/// the connection as the next request on it arrives: a keep-alive timeout firing just as a
/// pooled connection is reused, which a real Nova does now and then but never on cue.
/// Counts the answers.
async fn closing_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answered = Arc::new(AtomicUsize::new(0));
    let count = answered.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                read_head(&mut conn).await;
                let body = r#"{"services": []}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                conn.write_all(answer.as_bytes()).await.unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                read_head(&mut conn).await;
            });
        }
    });
    (url, answered)
}

#[tokio::test]
async fn idempotent_calls_are_resent_when_a_reused_connection_closes_but_posts_are_not() {
    let (endpoint, answered) = closing_server().await;
    let nova = NovaClient::new(
        reqwest::Client::new(),
        NovaAuth::Static {
            endpoint,
            token: None,
        },
    );
    nova.compute_services().await.unwrap();
    // Reuses the kept-alive connection, which closes under it: sent again on a new one.
    nova.compute_services().await.unwrap();
    assert_eq!(answered.load(Ordering::SeqCst), 2);
    // An evacuation Nova may have received is never sent twice.
    let err = nova.evacuate("s1", None).await.unwrap_err();
    assert!(matches!(err, ComputeError::Unreachable { .. }), "{err}");
    assert_eq!(answered.load(Ordering::SeqCst), 2);
}

#[test]
fn query_values_are_escaped() {
    assert_eq!(query_escape("compute-1.example"), "compute-1.example");
    assert_eq!(query_escape("a b&c"), "a+b%26c");
    assert_eq!(
        query_escape("2026-12-01T15:41:22+00:00"),
        "2026-12-01T15%3A41%3A22%2B00%3A00"
    );
}

#[test]
fn migration_times_and_next_markers_are_read() {
    let t = nova_time("2026-12-01T15:41:22.000000").unwrap();
    assert_eq!(t.to_rfc3339(), "2026-12-01T15:41:22+00:00");
    assert_eq!(nova_time("2026-12-01T15:41:22Z"), Some(t));
    assert_eq!(nova_time("yesterday"), None);
    let body = json!({"migrations": [], "migrations_links": [{"rel": "next",
        "href": "http://nova/v2.1/os-migrations?limit=1000&marker=0a1b-2c&source_compute=h"}]});
    assert_eq!(next_marker(&body).as_deref(), Some("0a1b-2c"));
    assert_eq!(next_marker(&json!({"migrations": []})), None);
}

#[test]
fn fault_messages_are_extracted() {
    assert_eq!(
        fault_message(r#"{"itemNotFound": {"code": 404, "message": "nope"}}"#),
        "nope"
    );
    assert_eq!(fault_message("plain"), "plain");
}

#[test]
fn servers_read_the_admin_fields_and_embedded_flavor() {
    let body: ServerBody = serde_json::from_value(json!({
        "id": "s1", "name": "vm", "status": "ACTIVE", "OS-EXT-STS:vm_state": "active",
        "OS-EXT-STS:task_state": null, "OS-EXT-SRV-ATTR:host": "compute-a", "locked": false,
        "metadata": {"HA_Enabled": "True"}, "flavor": {"vcpus": 2, "ram": 512}
    }))
    .unwrap();
    let s = Server::from(body);
    assert_eq!(
        (s.vm_state.as_str(), s.host.as_deref(), s.vcpus, s.ram_mb),
        ("active", Some("compute-a"), Some(2), Some(512))
    );
    assert_eq!(
        s.metadata.get("HA_Enabled").map(String::as_str),
        Some("True")
    );
}

//! `[DEFAULT]` logging options of `lifeboat serve`: `use_json` writes one JSON object a line with
//! the fields of the spans an event is in, `use_stderr` copies the log file to stderr, `debug`
//! logs the debug lines, and without them a log file holds plain `INFO` text only.

use serde_json::Value;

use crate::support::Server;

/// The lines of `path`, once it has one naming `needle` (the server logs as it serves).
async fn lines_once(path: &std::path::Path, needle: &str) -> Vec<String> {
    for _ in 0..100 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text.lines().map(str::to_owned).collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "{} never logged {needle}:\n{}",
        path.display(),
        std::fs::read_to_string(path).unwrap_or_default()
    );
}

#[tokio::test]
async fn use_json_logs_one_object_a_line_with_span_fields_to_the_file_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lifeboat-json.log");
    let server = Server::start(&format!(
        "[DEFAULT]\nuse_json = true\nuse_stderr = true\ndebug = true\nlog_file = {}\n",
        file.display()
    ))
    .await;
    let answer = reqwest::get(format!("{}/v1/segments", server.url()))
        .await
        .unwrap();
    let request_id = answer.headers()["x-openstack-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let lines = lines_once(&file, &request_id).await;
    let events: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    // debug = true: the per-request debug line, inside the request's span.
    let served = events
        .iter()
        .find(|e| e["spans"][0]["request.id"] == request_id.as_str())
        .unwrap_or_else(|| panic!("no event in request {request_id}: {lines:#?}"));
    assert_eq!(served["level"], "DEBUG", "{served}");
    assert_eq!(served["fields"]["message"], "served", "{served}");
    assert_eq!(served["fields"]["http.status"], 200, "{served}");
    assert_eq!(served["span"]["name"], "request", "{served}");
    assert_eq!(served["span"]["http.path"], "/v1/segments", "{served}");
    assert!(
        events.iter().any(|e| e["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Lifeboat "))
            && e["fields"]["version"] == env!("CARGO_PKG_VERSION")),
        "no startup line: {lines:#?}"
    );
    // use_stderr = true: the same JSON on stderr (the test harness keeps it in lifeboat.log).
    let stderr = lines_once(&server.dir.path().join("lifeboat.log"), &request_id).await;
    assert!(
        stderr
            .iter()
            .filter(|l| l.contains(&request_id))
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "{stderr:#?}"
    );
}

#[tokio::test]
async fn a_log_file_without_the_options_holds_plain_info_text_and_stderr_stays_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lifeboat-text.log");
    let server = Server::start(&format!("[DEFAULT]\nlog_file = {}\n", file.display())).await;
    reqwest::get(format!("{}/v1/segments", server.url()))
        .await
        .unwrap();
    let lines = lines_once(&file, "Lifeboat API listening").await;
    assert!(
        lines
            .iter()
            .all(|l| !l.starts_with('{') && !l.contains("DEBUG")),
        "{lines:#?}"
    );
    assert!(lines.iter().any(|l| l.contains(" INFO ")), "{lines:#?}");
    assert!(
        !server.log().contains("Lifeboat API listening"),
        "without use_stderr nothing goes to stderr: {}",
        server.log()
    );
}

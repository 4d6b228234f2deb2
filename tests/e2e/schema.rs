//! schemathesis, driven by the served OpenAPI document: no 5xx, and every answer matches the
//! document (status codes, content types, bodies).

use std::time::Duration;

use tokio::process::Command;

use crate::support::{Server, run, venv_tool};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_undocumented_answer() {
    let server = Server::start("").await;
    let (ok, out, err) = run(
        Command::new(venv_tool("clients", "schemathesis"))
            .arg("run")
            .arg(format!("{}/openapi.json", server.url()))
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "--max-examples",
                "40",
                // One worker: schemathesis 4.32 has a race of its own (a KeyError inside its
                // generator) with several.
                "--workers",
                "1",
                "--seed",
                "20261125",
            ])
            .env("SCHEMATHESIS_HOOKS", "")
            .current_dir(server.dir.path()),
        Duration::from_secs(600),
    )
    .await;
    assert!(
        ok,
        "schemathesis found problems:\n{out}\n{err}\nserver log tail:\n{}",
        tail(&server.log())
    );
    assert!(
        !server.log().contains(" ERROR "),
        "the server logged errors:\n{}",
        tail(&server.log())
    );
    server.stop().await;
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

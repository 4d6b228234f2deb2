//! openstacksdk 4.22.0's `instance_ha` proxy: list, page, filter, sort, create, update, delete.

use std::time::Duration;

use tokio::process::Command;

use crate::support::{Server, python_dir, run, venv_tool};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openstacksdk_pages_filters_sorts_and_edits_through_lifeboat() {
    let server = Server::start("").await;
    let (ok, out, err) = run(
        Command::new(venv_tool("clients", "python"))
            .arg(python_dir().join("sdk_check.py"))
            .arg(format!("{}/v1", server.url()))
            .env("OS_CLIENT_CONFIG_FILE", "/nonexistent/clouds.yaml"),
        Duration::from_secs(300),
    )
    .await;
    assert!(
        ok,
        "openstacksdk checks failed:\n{err}\n{out}\nserver log:\n{}",
        server.log()
    );
    assert!(out.contains("openstacksdk checks passed"), "{out}");
    server.stop().await;
}

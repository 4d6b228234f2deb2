//! SQLite on a filesystem that fills up, and a database file that is read-only at start.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lifeboat_core::config::DatabaseUrl;
use reqwest::StatusCode;

use super::{Api, ENGINE, assert_database_503};
use crate::support::{Server, free_port};

/// A small tmpfs, unmounted when dropped (even when the test fails).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("running mount");
        assert!(
            out.status.success(),
            "mounting a tmpfs failed (this test needs root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes zeros to a file until the filesystem has no byte left.
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        for chunk in [1 << 20, 4096, 512] {
            let zeros = vec![0u8; chunk];
            while file.write_all(&zeros).is_ok() {}
        }
        let _ = file.sync_all();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_full_disk_answers_503_and_writes_again_when_space_returns() {
    let disk = Tmpfs::mount("8m");
    let db = disk.path().join("lifeboat.sqlite");
    let server = Server::start(&format!(
        "[database]\nconnection = sqlite:///{}\n{ENGINE}",
        db.display()
    ))
    .await;
    let api = Api::new(server.url());
    api.segment_with_host().await;
    let mut accepted = Vec::new();
    for _ in 0..20 {
        let (status, body, id) = api.report().await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        accepted.extend(id);
    }

    let filler = disk.fill();
    // Full to the brim: a write may still fit in the last free page; then every write fails.
    let mut refused = 0;
    for _ in 0..40 {
        let (status, body, id) = api.report().await;
        match id {
            Some(id) => accepted.push(id),
            None => {
                assert_database_503(status, &body);
                refused += 1;
            }
        }
    }
    assert!(
        refused >= 35,
        "only {refused} of 40 writes refused on a full disk"
    );
    let (status, body) = api.health().await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "healthcheck on a full disk: {body}"
    );

    std::fs::remove_file(&filler).unwrap();
    let freed = tokio::time::Instant::now();
    loop {
        let (status, body, id) = api.report().await;
        if let Some(id) = id {
            accepted.push(id);
            break;
        }
        assert_database_503(status, &body);
        assert!(
            freed.elapsed() < Duration::from_secs(5),
            "writes did not work again within 5 s of space returning: {body}\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "writes worked again {:?} after space returned",
        freed.elapsed()
    );
    let (status, body) = api.health().await;
    assert_eq!(
        status,
        StatusCode::OK,
        "healthcheck once space returned: {body}"
    );
    for _ in 0..10 {
        let (status, body, id) = api.report().await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        accepted.extend(id);
    }
    api.all_finished(&accepted, Duration::from_secs(60), || server.log())
        .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_read_only_at_start_fails_the_healthcheck_and_writes_answer_503() {
    // Root writes through file permissions: the service runs as nobody, on a database file
    // that nobody may read but not write.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lifeboat.sqlite");
    let store = lifeboat_store::open(
        &DatabaseUrl::sqlite_from_path(&db.display().to_string()),
        &lifeboat_store::StoreOptions {
            migrate: true,
            ..lifeboat_store::StoreOptions::default()
        },
    )
    .await
    .unwrap();
    drop(store);
    {
        use std::os::unix::fs::PermissionsExt as _;
        // The directory stays writable, so SQLite can make its -wal and -shm files; the
        // database itself is read-only.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            std::fs::set_permissions(
                entry.unwrap().path(),
                std::fs::Permissions::from_mode(0o444),
            )
            .unwrap();
        }
    }
    let server = Server::spawn(
        free_port(),
        &format!("[database]\nconnection = sqlite:///{}\n", db.display()),
        &[],
        Some(65534),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let (status, body) = loop {
        if let Ok(r) = reqwest::get(format!("{}/healthcheck", server.url())).await {
            break (r.status(), r.text().await.unwrap_or_default());
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "lifeboat did not start; its log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "healthcheck on a read-only database: {body}\n{}",
        server.log()
    );
    assert!(body.contains("CANNOT BE WRITTEN"), "{body}");
    let response = reqwest::Client::new()
        .post(format!("{}/v1/segments", server.url()))
        .json(&serde_json::json!({"segment": {"name": "ro", "recovery_method": "auto", "service_type": "COMPUTE"}}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_database_503(status, &body);
    server.stop().await;
}

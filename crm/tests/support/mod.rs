//! What the crm crate's integration tests share: Pacemaker's own `crm_verify`, and a way to
//! compare models.

#![allow(dead_code, reason = "each test binary uses a part")]

use std::process::Command;

use lifeboat_crm::model::Cluster;

/// Runs Pacemaker's `crm_verify --xml-file` on `xml`; Err holds its output.
pub fn crm_verify(xml: &str) -> Result<(), String> {
    let dir = tempfile_dir();
    let path = dir.join("cib.xml");
    std::fs::write(&path, xml).unwrap();
    let out = Command::new("crm_verify")
        .arg("-VV")
        .arg("--xml-file")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "run crm_verify ({e}): apt-get install pacemaker-cli-utils (scripts/setup/crm.sh)"
            )
        });
    std::fs::remove_dir_all(&dir).ok();
    if out.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // A configuration has no status: Pacemaker sees nodes it never heard of and, with
    // stonith-enabled, plans to fence them at start-up (or notes it has no quorum yet). Those
    // warnings are about the missing runtime state, not the configuration; any other warning
    // or error fails.
    let unexpected: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("warning:") || l.contains("error:"))
        .filter(|l| {
            let startup_fencing =
                l.contains("warning: Scheduling node ") && l.ends_with(" for fencing");
            let no_quorum_yet = l.contains(
                "warning: Fencing and resource management disabled due to lack of quorum",
            );
            !startup_fencing && !no_quorum_yet
        })
        .collect();
    if !text.contains("Warnings found") || !unexpected.is_empty() {
        return Err(text);
    }
    Ok(())
}

fn tempfile_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "lifeboat-crm-write-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The configuration part of the model, comparable (the model has no PartialEq).
pub fn config(c: &Cluster) -> String {
    let mut c = c.clone();
    c.status = Default::default();
    format!("{c:#?}")
}

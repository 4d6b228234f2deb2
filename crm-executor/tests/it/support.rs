use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lifeboat_crm_executor::{Action, AgentSpec, Executor, ExecutorConfig, OpRequest};

pub const OCF_ROOT: &str = "/usr/lib/ocf";

/// An executor on "node1" with its attribute store and tool directory in `dir`.
pub fn executor(dir: &Path, ocf_root: &Path) -> Executor {
    let mut config = ExecutorConfig::new("node1", dir.join("sbin"), dir.join("attrs"));
    config.dirs.ocf_root = ocf_root.to_path_buf();
    config.dirs.lsb_dir = dir.join("init.d");
    config.kill_grace = Duration::from_millis(500);
    Executor::new(config)
}

pub fn ocf(provider: &str, kind: &str) -> AgentSpec {
    AgentSpec {
        class: "ocf".into(),
        provider: Some(provider.into()),
        kind: kind.into(),
    }
}

/// `action` on `resource` with instance attributes `params`.
pub fn request(
    resource: &str,
    agent: &AgentSpec,
    action: Action,
    params: &[(&str, &str)],
) -> OpRequest {
    let mut r = OpRequest::new(resource, agent.clone(), action);
    for (k, v) in params {
        r.params.insert((*k).into(), (*v).into());
    }
    r
}

/// The installed agent `provider/kind`, or a failure that says how to get it.
pub fn installed(provider: &str, kind: &str) -> PathBuf {
    let path = Path::new(OCF_ROOT)
        .join("resource.d")
        .join(provider)
        .join(kind);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup/crm-executor.sh",
        path.display()
    );
    path
}

/// Writes an executable script.
pub fn script(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Waits up to `within` for `pgid`'s processes all to be gone (orphans the init reaps).
pub async fn group_gone(pgid: i32, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if !lifeboat_crm_executor::process::group_exists(pgid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

//! `lifeboat crm simulate` against Pacemaker's own `crm_simulate` (Debian
//! pacemaker-cli-utils 2.1.5, installed by `scripts/setup/crm.sh`), on CIBs written for the
//! project: the seed's control plane on three controllers (fence devices, a VIP + HAProxy
//! group, an API clone, a promotable database), started from scratch, then in its steady
//! state, after losing a controller and after a failed monitor. The later states are made by
//! crm_simulate itself (`-S -O`, `--node-fail`, `--op-inject`) so that their operation history
//! carries Pacemaker's own digests. Both outputs are reduced as the corpus scorer does: the
//! Transition Summary lines as a multiset, the Revised Cluster Status lines with white space
//! squashed and node lists sorted.

use std::path::{Path, PathBuf};
use std::process::Command;

const CONTROL_PLANE: &str = include_str!("crm/control-plane.xml");

fn crm_simulate(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("crm_simulate")
        .args(args)
        .current_dir(dir)
        .env("CIB_shadow_dir", dir)
        .env("LC_ALL", "C")
        .output()
        .expect(
            "crm_simulate is missing: apt-get install pacemaker-cli-utils (scripts/setup/crm.sh)",
        );
    assert!(
        out.status.success(),
        "crm_simulate {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn lifeboat_simulate(path: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lifeboat"))
        .args(["crm", "simulate", "--xml-file"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lifeboat crm simulate {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "[ b a ]" node lists are sets.
fn sort_brackets(s: String) -> String {
    match (s.find("[ "), s.rfind(" ]")) {
        (Some(a), Some(b)) if a < b => {
            let mut names: Vec<_> = s[a + 2..b].split(' ').collect();
            names.sort_unstable();
            format!("{}[ {} ]{}", &s[..a], names.join(" "), &s[b + 2..])
        }
        _ => s,
    }
}

/// The comparable part of a crm_simulate-style output.
fn reduce(out: &str) -> (Vec<String>, Vec<String>) {
    let mut section = "";
    let (mut summary, mut revised) = (Vec::new(), Vec::new());
    for line in out.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            section = line;
            continue;
        }
        let item = line.trim_start();
        if !item.starts_with("* ") {
            continue;
        }
        match section {
            "Transition Summary:" => summary.push(squash(item)),
            "Revised Cluster Status:" => revised.push(sort_brackets(squash(item))),
            _ => {}
        }
    }
    summary.sort();
    revised.sort();
    (summary, revised)
}

fn assert_same(name: &str, dir: &Path, cib: &Path) {
    let ours = lifeboat_simulate(cib);
    let theirs = crm_simulate(dir, &["-S", "-x", cib.to_str().unwrap()]);
    assert_eq!(
        reduce(&ours),
        reduce(&theirs),
        "{name}: lifeboat\n{ours}\ncrm_simulate\n{theirs}"
    );
}

fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

#[test]
fn simulate_matches_crm_simulate_on_the_control_plane() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fresh = path(d, "fresh.xml");
    std::fs::write(&fresh, CONTROL_PLANE).unwrap();
    assert_same("fresh start", d, &fresh);

    let steady = path(d, "steady.xml");
    crm_simulate(
        d,
        &[
            "-S",
            "-x",
            fresh.to_str().unwrap(),
            "-O",
            steady.to_str().unwrap(),
        ],
    );
    assert_same("steady state", d, &steady);
    let (summary, _) = reduce(&lifeboat_simulate(&steady));
    assert!(
        summary.is_empty(),
        "a steady cluster changes nothing: {summary:?}"
    );

    let lost = path(d, "lost.xml");
    crm_simulate(
        d,
        &[
            "-x",
            steady.to_str().unwrap(),
            "--node-fail",
            "ctl1",
            "-O",
            lost.to_str().unwrap(),
        ],
    );
    assert_same("controller lost", d, &lost);
    let (summary, _) = reduce(&lifeboat_simulate(&lost));
    assert!(
        summary
            .iter()
            .any(|l| l.starts_with("* Fence (reboot) ctl1")),
        "the lost controller is fenced: {summary:?}"
    );

    let failed = path(d, "failed.xml");
    crm_simulate(
        d,
        &[
            "-x",
            steady.to_str().unwrap(),
            "--op-inject",
            "haproxy_monitor_10000@ctl1=7",
            "-O",
            failed.to_str().unwrap(),
        ],
    );
    assert_same("failed monitor", d, &failed);
}

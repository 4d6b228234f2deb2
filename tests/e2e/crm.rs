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

/// Write `cib` as `{name}-fresh.xml`, then as crm_simulate leaves it after one transition
/// (steady: nothing more to do) and after losing `node`; lifeboat must agree with
/// crm_simulate on all three. Returns the steady and the lost CIBs.
fn fresh_steady_lost(d: &Path, name: &str, cib: &str, node: &str) -> (PathBuf, PathBuf) {
    let file = name.replace(' ', "-");
    let fresh = path(d, &format!("{file}-fresh.xml"));
    std::fs::write(&fresh, cib).unwrap();
    assert_same(&format!("{name}, fresh"), d, &fresh);

    let steady = path(d, &format!("{file}-steady.xml"));
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
    assert_same(&format!("{name}, steady"), d, &steady);
    let (summary, _) = reduce(&lifeboat_simulate(&steady));
    assert!(
        summary.is_empty(),
        "{name}: a steady cluster changes nothing: {summary:?}"
    );

    let lost = path(d, &format!("{file}-lost.xml"));
    crm_simulate(
        d,
        &[
            "-x",
            steady.to_str().unwrap(),
            "--node-fail",
            node,
            "-O",
            lost.to_str().unwrap(),
        ],
    );
    assert_same(&format!("{name}, {node} lost"), d, &lost);
    (steady, lost)
}

#[test]
fn simulate_matches_crm_simulate_on_the_control_plane() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (steady, lost) = fresh_steady_lost(d, "control plane", CONTROL_PLANE, "ctl1");
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

/// A generated cluster in the shape of `bench/crm_bench.py`'s, small enough for crm_simulate
/// to be quick: three nodes and 30 primitives in groups of three, anonymous and promotable
/// clones, and primitives with a location preference colocated (score 100) with a group,
/// all nodes up and nothing run yet.
fn generated_cluster() -> String {
    let prim = |id: &str, agent: &str| {
        format!(
            r#"<primitive id="{id}" class="ocf" provider="pacemaker" type="{agent}"><operations><op id="{id}-mon" name="monitor" interval="10s"/></operations></primitive>"#
        )
    };
    let mut resources =
        String::from(r#"<primitive id="fence" class="stonith" type="fence_dummy"/>"#);
    let mut constraints = String::new();
    let (mut count, mut i) = (1, 0);
    while count < 30 {
        match i % 4 {
            0 => {
                let members: String = (0..3)
                    .map(|j| prim(&format!("g{i}-r{j}"), "Dummy"))
                    .collect();
                resources.push_str(&format!(r#"<group id="g{i}">{members}</group>"#));
                count += 3;
                if i >= 4 {
                    constraints.push_str(&format!(
                        r#"<rsc_order id="o{i}" first="g{}" then="g{i}" kind="Optional"/>"#,
                        i - 4
                    ));
                }
            }
            1 => {
                resources.push_str(&format!(
                    r#"<clone id="c{i}">{}</clone>"#,
                    prim(&format!("c{i}-r"), "Dummy")
                ));
                count += 1;
            }
            2 => {
                resources.push_str(&format!(
                    r#"<clone id="p{i}"><meta_attributes id="p{i}-m"><nvpair id="p{i}-p" name="promotable" value="true"/></meta_attributes>{}</clone>"#,
                    prim(&format!("p{i}-r"), "Stateful")
                ));
                count += 1;
            }
            _ => {
                resources.push_str(&prim(&format!("r{i}"), "Dummy"));
                count += 1;
                constraints.push_str(&format!(
                    r#"<rsc_location id="l{i}" rsc="r{i}" node="n{}" score="{}"/><rsc_colocation id="col{i}" rsc="r{i}" with-rsc="g{}" score="100"/>"#,
                    1 + i % 3,
                    50 + i % 100,
                    i - 3
                ));
            }
        }
        i += 1;
    }
    let nodes: String = (1..=3)
        .map(|n| format!(r#"<node id="{n}" uname="n{n}"/>"#))
        .collect();
    let states: String = (1..=3)
        .map(|n| {
            format!(
                r#"<node_state id="{n}" uname="n{n}" in_ccm="true" crmd="online" join="member" expected="member"/>"#
            )
        })
        .collect();
    format!(
        r#"<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1"><configuration><crm_config><cluster_property_set id="opts"><nvpair id="opts-stonith" name="stonith-enabled" value="true"/></cluster_property_set></crm_config><nodes>{nodes}</nodes><resources>{resources}</resources><constraints>{constraints}</constraints></configuration><status>{states}</status></cib>"#
    )
}

#[test]
fn simulate_matches_crm_simulate_on_a_generated_cluster() {
    let dir = tempfile::tempdir().unwrap();
    fresh_steady_lost(dir.path(), "generated", &generated_cluster(), "n2");
}

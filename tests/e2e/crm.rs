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
    lifeboat_simulate_with(path, &[])
}

/// `lifeboat crm simulate --xml-file PATH ARGS…`, which must succeed.
fn lifeboat_simulate_with(path: &Path, args: &[&str]) -> String {
    let out = lifeboat(path, "simulate", args);
    assert!(
        out.status.success(),
        "lifeboat crm simulate {} {args:?}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `lifeboat crm COMMAND --xml-file PATH ARGS…`, whatever its outcome.
fn lifeboat(path: &Path, command: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lifeboat"))
        .args(["crm", command, "--xml-file"])
        .arg(path)
        .args(args)
        .output()
        .unwrap()
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

/// Both simulators with the same extra options (injections) agree.
fn assert_same_with(name: &str, dir: &Path, cib: &Path, args: &[&str]) {
    let ours = lifeboat_simulate_with(cib, args);
    let mut theirs_args = vec!["-S", "-x", cib.to_str().unwrap()];
    theirs_args.extend_from_slice(args);
    let theirs = crm_simulate(dir, &theirs_args);
    assert_eq!(
        reduce(&ours),
        reduce(&theirs),
        "{name} {args:?}: lifeboat\n{ours}\ncrm_simulate\n{theirs}"
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

/// The control plane in its steady state (made by crm_simulate, with its digests).
fn steady(d: &Path) -> PathBuf {
    let fresh = path(d, "fresh.xml");
    std::fs::write(&fresh, CONTROL_PLANE).unwrap();
    let steady = path(d, "steady.xml");
    let (f, s) = (fresh.to_str().unwrap(), steady.to_str().unwrap());
    crm_simulate(d, &["-S", "-x", f, "-O", s]);
    steady
}

#[test]
fn injections_and_failed_actions_match_crm_simulate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let steady = steady(d);
    for args in [
        &["--node-fail", "ctl1"][..],
        &["--node-fail", "ctl3"],
        &[
            "--node-fail",
            "ctl2",
            "--node-fail",
            "ctl3",
            "--quorum",
            "true",
        ],
        &["--node-down", "ctl3"],
        &["--node-down", "ctl1", "--node-up", "ctl1"],
        // (crm_simulate 2.1.5 ignores --quorum when nothing else is injected: with a node
        // that comes up again it applies it.)
        &["--quorum", "false", "--node-up", "ctl1"],
        &["--quorum", "false", "--node-down", "ctl3"],
        &["--op-inject", "vip_monitor_10000@ctl1=7"],
        &["--op-inject", "db_monitor_10000@ctl3=1"],
        &[
            "--op-inject",
            "api_monitor_10000@ctl2=7",
            "--node-fail",
            "ctl3",
        ],
        // Actions that fail while the transition runs: it stops there.
        &["--node-fail", "ctl1", "--op-fail", "vip_start_0@ctl3=1"],
        &["--node-fail", "ctl1", "--op-fail", "haproxy_start_0@ctl3=1"],
        &[
            "--node-fail",
            "ctl1",
            "--op-fail",
            "vip_monitor_10000@ctl3=7",
        ],
        &[
            "--node-fail",
            "ctl1",
            "--op-fail",
            "fence-ctl2_start_0@ctl3=1",
        ],
        &["--node-fail", "ctl3", "--op-fail", "db_promote_0@ctl2=1"],
    ] {
        assert_same_with("steady state", d, &steady, args);
    }
    // --quorum alone: Lifeboat applies it (crm_simulate 2.1.5 does not, see above).
    let (summary, _) = reduce(&lifeboat_simulate_with(&steady, &["--quorum", "false"]));
    assert!(
        !summary.is_empty() && summary.iter().all(|l| l.ends_with("due to no quorum")),
        "{summary:?}"
    );
    // From scratch: every controller brought up by the injections.
    let fresh = path(d, "fresh.xml");
    assert_same_with(
        "fresh start",
        d,
        &fresh,
        &[
            "--node-up",
            "ctl1",
            "--node-up",
            "ctl2",
            "--node-up",
            "ctl3",
        ],
    );
}

#[test]
fn set_datetime_decides_whether_a_failure_expired() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // haproxy with failure-timeout 60s and migration-threshold 1, its monitor failed.
    let cib = CONTROL_PLANE.replace(
        r#"<primitive id="haproxy" class="systemd" type="haproxy">"#,
        r#"<primitive id="haproxy" class="systemd" type="haproxy"><meta_attributes id="hm"><nvpair id="hm-ft" name="failure-timeout" value="60s"/><nvpair id="hm-mt" name="migration-threshold" value="1"/></meta_attributes>"#,
    );
    assert_ne!(cib, CONTROL_PLANE, "the control plane has haproxy");
    let fresh = path(d, "fresh.xml");
    std::fs::write(&fresh, cib).unwrap();
    let (steady, failed) = (path(d, "steady.xml"), path(d, "failed.xml"));
    let (f, s, x) = (
        fresh.to_str().unwrap(),
        steady.to_str().unwrap(),
        failed.to_str().unwrap(),
    );
    crm_simulate(d, &["-S", "-x", f, "-O", s]);
    crm_simulate(d, &["-x", s, "-i", "haproxy_monitor_10000@ctl1=7", "-O", x]);
    // crm_simulate stamps the failure with the wall clock: pin it to 2026-12-07T14:00:00Z.
    let text = std::fs::read_to_string(&failed).unwrap();
    let key = r#"name="last-failure-haproxy#monitor_10000" value=""#;
    let at = text.find(key).expect("a last-failure attribute") + key.len();
    let stamp: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    std::fs::write(&failed, text.replace(&stamp, "1796652000")).unwrap();
    let within = ["--set-datetime", "2026-12-07T14:00:30Z"];
    let after = ["--set-datetime", "2026-12-07T14:05:00Z"];
    assert_same_with("failure within its timeout", d, &failed, &within);
    assert_same_with("failure expired", d, &failed, &after);
    let (recover, _) = reduce(&lifeboat_simulate_with(&failed, &within));
    assert!(
        recover.iter().any(|l| l.starts_with("* Recover haproxy")),
        "{recover:?}"
    );
    let (expired, _) = reduce(&lifeboat_simulate_with(&failed, &after));
    assert!(
        expired.is_empty(),
        "an expired failure changes nothing: {expired:?}"
    );
}

#[test]
fn bad_injection_values_exit_2_naming_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let steady = steady(dir.path());
    for (args, named) in [
        (&["--quorum", "maybe"][..], "--quorum"),
        (&["--op-inject", "vip_monitor@ctl1=7"], "--op-inject"),
        (&["--op-fail", "vip_start_0@ctl1"], "--op-fail"),
        (&["--op-inject", "nope_monitor_10000@ctl1=7"], "nope"),
        (&["--set-datetime", "2026-13-01"], "--set-datetime"),
        (&["--node-fail", "ctl9"], "--node-fail ctl9"),
    ] {
        let out = lifeboat(&steady, "simulate", args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            out.stdout.is_empty(),
            "{args:?}: nothing printed as a result"
        );
        assert!(err.contains(named), "{args:?}: {err}");
    }
}

/// The `--show-scores` lines (crm_simulate 2.1.5 prints them without its section titles).
fn score_lines(out: &str) -> Vec<String> {
    let mut lines: Vec<String> = out
        .lines()
        .filter(|l| l.contains(" allocation score on ") || l.contains(" promotion score on "))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// Scores where Lifeboat's scheduler still differs from Pacemaker's (docs/CRM-GRAPH.md,
/// "Scores"): a group's location constraint counted again for each later member, and the
/// promotion scores Pacemaker adds to a promotable clone's allocation scores.
fn known_difference(line: &str) -> bool {
    line.contains(": haproxy allocation score")
        || line.contains(": vip allocation score on ctl1")
        || (line.contains(": db:") && line.contains(" allocation score "))
}

#[test]
fn scores_match_crm_simulate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let steady = steady(d);
    let s = steady.to_str().unwrap();
    for args in [
        &[][..],
        &["--node-fail", "ctl1"],
        &["--node-fail", "ctl3"],
        &["--node-down", "ctl2"],
    ] {
        let mut theirs_args = vec!["-S", "-x", s, "--show-scores"];
        theirs_args.extend_from_slice(args);
        let mut ours_args = vec!["--show-scores"];
        ours_args.extend_from_slice(args);
        let ours = score_lines(&lifeboat_simulate_with(&steady, &ours_args));
        let theirs = score_lines(&crm_simulate(d, &theirs_args));
        assert_eq!(ours.len(), theirs.len(), "{args:?}\n{ours:#?}\n{theirs:#?}");
        let keep = |v: &[String]| -> Vec<String> {
            v.iter().filter(|l| !known_difference(l)).cloned().collect()
        };
        assert_eq!(keep(&ours), keep(&theirs), "{args:?}");
        // The promotion scores are all compared, and so is most of the rest.
        assert!(keep(&ours).iter().any(|l| l.contains("promotion score")));
        assert!(keep(&ours).len() * 2 > ours.len(), "{args:?}");
    }
}

#[test]
fn the_saved_graph_orders_fencing_first() {
    let dir = tempfile::tempdir().unwrap();
    let steady = steady(dir.path());
    let graph = dir.path().join("graph.json");
    let g = graph.to_str().unwrap();
    lifeboat_simulate_with(&steady, &["--node-fail", "ctl1", "--save-graph", g]);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&graph).unwrap()).unwrap();
    let actions = doc["actions"].as_array().unwrap();
    let find = |key: &str| {
        actions
            .iter()
            .find(|a| a["key"] == key)
            .unwrap_or_else(|| panic!("no {key}: {doc:#}"))
    };
    let fence = find("stonith-ctl1-reboot")["id"].clone();
    let after = |a: &serde_json::Value| -> Vec<(serde_json::Value, String)> {
        a["after"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["id"].clone(), e["why"].as_str().unwrap().to_string()))
            .collect()
    };
    let vip_stop = find("vip_stop_0");
    assert_eq!(vip_stop["node"], "ctl1");
    assert_eq!(vip_stop["pseudo"], true);
    let vip_start = find("vip_start_0");
    assert!(after(vip_start).contains(&(fence, "fencing".into())));
    assert!(after(vip_start).contains(&(vip_stop["id"].clone(), "stop before start".into())));
    let haproxy_start = find("haproxy_start_0");
    assert!(after(haproxy_start).contains(&(vip_start["id"].clone(), "group g-vip".into())));
    for a in actions {
        for (id, _) in after(a) {
            assert!(
                id.as_u64() < a["id"].as_u64(),
                "{a}: ordered after its prerequisites"
            );
        }
    }
}

#[test]
fn explain_says_why_and_names_an_unknown_resource() {
    let dir = tempfile::tempdir().unwrap();
    let steady = steady(dir.path());
    let out = lifeboat(&steady, "explain", &["vip"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("vip runs on ctl1 and stays there.\n"),
        "{text}"
    );
    assert!(text.contains("Location constraint "), "{text}");
    let out = lifeboat(&steady, "explain", &["nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no resource nope"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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

//! `lifeboat crm simulate` against Pacemaker's own `crm_simulate` (Debian
//! pacemaker-cli-utils 2.1.5, installed by `scripts/setup/crm.sh`), on CIBs written for the
//! project: the seed's control plane on three controllers and its failure scenarios. Both
//! outputs are reduced as the corpus scorer does: the Transition Summary lines as a multiset,
//! the Revised Cluster Status lines with white space squashed and node lists sorted.

use std::process::Command;

/// A controller's lrm history: `(resource, class, type, provider, [(op, interval, rc, call)])`.
type History<'a> = &'a [(
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a [(&'a str, u32, i32, u32)],
)];

const CONFIG: &str = include_str!("crm/control-plane.xml");

/// A `node_state` for `uname` with the given membership and history.
fn node_state(id: u32, uname: &str, up: bool, history: History<'_>, attrs: &str) -> String {
    let mut lrm = String::new();
    for (rsc, class, agent, provider, ops) in history {
        let prov = if provider.is_empty() {
            String::new()
        } else {
            format!(" provider=\"{provider}\"")
        };
        lrm.push_str(&format!(
            "<lrm_resource id=\"{rsc}\" class=\"{class}\" type=\"{agent}\"{prov}>"
        ));
        for (op, interval, rc, call) in *ops {
            let expected = if *op == "monitor" && *interval == 0 {
                7
            } else if *rc == 8 {
                8
            } else {
                0
            };
            lrm.push_str(&format!(
                "<lrm_rsc_op id=\"{rsc}_{op}_{interval}_{call}\" operation=\"{op}\" \
                 interval=\"{interval}\" call-id=\"{call}\" rc-code=\"{rc}\" op-status=\"0\" \
                 transition-key=\"1:1:{expected}:00000000-0000-0000-0000-000000000000\" \
                 last-rc-change=\"1700000000\" on_node=\"{uname}\"/>"
            ));
        }
        lrm.push_str("</lrm_resource>");
    }
    let (ccm, crmd, join) = if up {
        ("true", "online", "member")
    } else {
        ("false", "offline", "down")
    };
    format!(
        "<node_state id=\"{id}\" uname=\"{uname}\" in_ccm=\"{ccm}\" crmd=\"{crmd}\" \
         join=\"{join}\" expected=\"member\"><transient_attributes id=\"{id}\">\
         <instance_attributes id=\"status-{id}\">{attrs}</instance_attributes>\
         </transient_attributes><lrm id=\"{id}\"><lrm_resources>{lrm}</lrm_resources></lrm>\
         </node_state>"
    )
}

fn cib(states: &[String]) -> String {
    CONFIG.replace(
        "<status/>",
        &format!("<status>{}</status>", states.join("")),
    )
}

/// Everything running: fences on the next controller, the VIP group and the primary
/// database on ctl1, the API clone everywhere.
fn running(
    node: u32,
) -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, u32, i32, u32)],
)> {
    const START: &[(&str, u32, i32, u32)] = &[("start", 0, 0, 10), ("monitor", 10000, 0, 11)];
    const PROBE: &[(&str, u32, i32, u32)] = &[("monitor", 0, 7, 2)];
    const PROMOTED: &[(&str, u32, i32, u32)] = &[("promote", 0, 0, 12), ("monitor", 10000, 8, 13)];
    const UNPROMOTED: &[(&str, u32, i32, u32)] = &[("start", 0, 0, 12), ("monitor", 11000, 0, 13)];
    let fence_of = |n: u32| if n % 3 + 1 == node { START } else { PROBE };
    vec![
        ("fence-ctl1", "stonith", "fence_ipmilan", "", fence_of(1)),
        ("fence-ctl2", "stonith", "fence_ipmilan", "", fence_of(2)),
        ("fence-ctl3", "stonith", "fence_ipmilan", "", fence_of(3)),
        (
            "vip",
            "ocf",
            "IPaddr2",
            "heartbeat",
            if node == 1 { START } else { PROBE },
        ),
        (
            "haproxy",
            "systemd",
            "haproxy",
            "",
            if node == 1 { START } else { PROBE },
        ),
        ("api", "ocf", "Dummy", "pacemaker", START),
        (
            "db",
            "ocf",
            "Stateful",
            "pacemaker",
            if node == 1 { PROMOTED } else { UNPROMOTED },
        ),
    ]
}

const PROMO: &str = "<nvpair id=\"p\" name=\"master-db\" value=\"10\"/>";

fn scenarios() -> Vec<(&'static str, String)> {
    let up = |n: u32, h: &[(&str, &str, &str, &str, &[(&str, u32, i32, u32)])]| {
        node_state(n, &format!("ctl{n}"), true, h, PROMO)
    };
    let all: Vec<_> = (1..=3).map(|n| up(n, &running(n))).collect();
    let mut lost = all.clone();
    lost[0] = node_state(1, "ctl1", false, &running(1), PROMO);
    let mut failed = all.clone();
    let mut h1 = running(1);
    const FAILED_MONITOR: &[(&str, u32, i32, u32)] =
        &[("start", 0, 0, 10), ("monitor", 10000, 7, 11)];
    h1[4] = ("haproxy", "systemd", "haproxy", "", FAILED_MONITOR);
    failed[0] = node_state(
        1,
        "ctl1",
        true,
        &h1,
        "<nvpair id=\"p\" name=\"master-db\" value=\"10\"/>\
         <nvpair id=\"f\" name=\"fail-count-haproxy#monitor_10000\" value=\"1\"/>",
    );
    vec![
        (
            "fresh start",
            cib(&(1..=3).map(|n| up(n, &[])).collect::<Vec<_>>()),
        ),
        ("steady state", cib(&all)),
        ("controller lost", cib(&lost)),
        ("failed monitor", cib(&failed)),
    ]
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
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
            "Revised Cluster Status:" => {
                let s = squash(item);
                let sorted = match (s.find("[ "), s.rfind(" ]")) {
                    (Some(a), Some(b)) if a < b => {
                        let mut names: Vec<_> = s[a + 2..b].split(' ').collect();
                        names.sort_unstable();
                        format!("{}[ {} ]{}", &s[..a], names.join(" "), &s[b + 2..])
                    }
                    _ => s,
                };
                revised.push(sorted);
            }
            _ => {}
        }
    }
    summary.sort();
    revised.sort();
    (summary, revised)
}

#[test]
fn simulate_matches_crm_simulate_on_the_control_plane() {
    let probe = Command::new("crm_simulate").arg("--version").output();
    assert!(
        probe.is_ok(),
        "crm_simulate is missing: apt-get install pacemaker-cli-utils (scripts/setup/crm.sh)"
    );
    let dir = tempfile::tempdir().unwrap();
    for (name, xml) in scenarios() {
        let path = dir.path().join(format!("{}.xml", name.replace(' ', "-")));
        std::fs::write(&path, &xml).unwrap();
        let ours = Command::new(env!("CARGO_BIN_EXE_lifeboat"))
            .args(["crm", "simulate", "--xml-file"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            ours.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        let theirs = Command::new("crm_simulate")
            .arg("-S")
            .arg("-x")
            .arg(&path)
            .env("CIB_shadow_dir", dir.path())
            .env("LC_ALL", "C")
            .output()
            .unwrap();
        let ours = String::from_utf8_lossy(&ours.stdout).to_string();
        let theirs = String::from_utf8_lossy(&theirs.stdout).to_string();
        assert_eq!(
            reduce(&ours),
            reduce(&theirs),
            "{name}: lifeboat\n{ours}\ncrm_simulate\n{theirs}"
        );
    }
}

//! Pacemaker Remote nodes on small CIBs written for these tests, each compared with what
//! Pacemaker's own `crm_simulate -S` prints for it (the node lists and the transition
//! summary) and checked for the rule it shows.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly"
)]

use std::process::Command;

const DIGEST: &str = "f2317cad3d54cec5d7d7aa7d0bf35cf8";

/// One `lrm_resource` with one last operation (`start` rc 0 = running, `monitor` rc 7 = not).
fn lrm(rsc: &str, class: &str, agent: &str, running: bool, call: usize) -> String {
    let provider = if class == "ocf" {
        r#" provider="pacemaker""#
    } else {
        ""
    };
    let (op, rc, expect) = if running {
        ("start", 0, 0)
    } else {
        ("monitor", 7, 7)
    };
    format!(
        r#"<lrm_resource id="{rsc}" class="{class}"{provider} type="{agent}"><lrm_rsc_op id="{rsc}_last_0" operation="{op}" call-id="{call}" rc-code="{rc}" op-status="0" interval="0" op-digest="{DIGEST}" transition-key="{call}:1:{expect}:x"/></lrm_resource>"#
    )
}

/// The histories of n1 (the fence device running, then `on_n1`) and n2 (the fence device
/// and the two resources `others`, `(id, ocf:pacemaker agent)`, stopped).
fn histories(on_n1: [String; 2], others: [(&str, &str); 2]) -> (String, String) {
    let n1 = [lrm("fence", "stonith", "fence_dummy", true, 1)]
        .into_iter()
        .chain(on_n1)
        .collect();
    let n2 = [lrm("fence", "stonith", "fence_dummy", false, 1)]
        .into_iter()
        .chain(
            others
                .iter()
                .zip(2..)
                .map(|(&(id, agent), call)| lrm(id, "ocf", agent, false, call)),
        )
        .collect();
    (n1, n2)
}

/// A cluster node's `node_state`: a member (or, `up` false, one that left the cluster).
fn member(id: &str, name: &str, up: bool, body: &str) -> String {
    let (ccm, crmd) = if up {
        ("true", "online")
    } else {
        ("false", "offline")
    };
    format!(
        r#"<node_state id="{id}" uname="{name}" in_ccm="{ccm}" crmd="{crmd}" join="member" expected="member"><lrm id="{id}"><lrm_resources>{body}</lrm_resources></lrm></node_state>"#
    )
}

/// How the connection `r1` stands on n1.
#[derive(Clone, Copy, PartialEq)]
enum Conn {
    Stopped,
    Running,
    /// Started, then its recurring monitor failed.
    MonitorFailed,
}

/// Two cluster nodes n1, n2 (n1 runs the fence device), the connection `r1` for a remote node
/// (`conn_meta` its meta attributes, `conn` its state on n1), and a Dummy `app` drawn to r1.
/// `remote_state`: the remote node's `node_state` (`None`: never seen), with `app` running
/// there if true. `n1_up`: n1 is a member (else it left the cluster).
struct Setup<'a> {
    conn_meta: &'a str,
    conn_params: &'a str,
    conn: Conn,
    n1_up: bool,
    remote_state: Option<bool>,
    extra_nodes: &'a str,
}

const PLAIN: Setup<'static> = Setup {
    conn_meta: "",
    conn_params: "",
    conn: Conn::Stopped,
    n1_up: true,
    remote_state: None,
    extra_nodes: "",
};

fn cib(s: &Setup<'_>) -> String {
    let conn = match s.conn {
        Conn::Stopped => lrm("r1", "ocf", "remote", false, 2),
        Conn::Running => lrm("r1", "ocf", "remote", true, 2),
        Conn::MonitorFailed => format!(
            r#"<lrm_resource id="r1" class="ocf" provider="pacemaker" type="remote"><lrm_rsc_op id="r1_last_0" operation="start" call-id="2" rc-code="0" op-status="0" interval="0" op-digest="{DIGEST}" transition-key="2:1:0:x"/><lrm_rsc_op id="r1_monitor_60000" operation="monitor" call-id="5" rc-code="1" op-status="0" interval="60000" op-digest="{DIGEST}" transition-key="5:1:0:x"/><lrm_rsc_op id="r1_last_failure_0" operation="monitor" call-id="5" rc-code="1" op-status="0" interval="60000" op-digest="{DIGEST}" transition-key="5:1:0:x"/></lrm_resource>"#
        ),
    };
    let (n1, n2) = histories(
        [conn, lrm("app", "ocf", "Dummy", false, 3)],
        [("r1", "remote"), ("app", "Dummy")],
    );
    let remote = match s.remote_state {
        None => String::new(),
        Some(app_on_r1) => format!(
            r#"<node_state id="r1" uname="r1" remote_node="true"><lrm id="r1"><lrm_resources>{}</lrm_resources></lrm></node_state>"#,
            lrm("app", "ocf", "Dummy", app_on_r1, 4)
        ),
    };
    format!(
        r#"<cib validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="true"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/>{extra_nodes}</nodes>
<resources><primitive id="fence" class="stonith" type="fence_dummy"/>
<primitive id="r1" class="ocf" provider="pacemaker" type="remote"><instance_attributes id="r1-i">{conn_params}</instance_attributes><meta_attributes id="r1-m">{conn_meta}</meta_attributes><operations><op id="r1-mon" name="monitor" interval="60s"/></operations></primitive>
<primitive id="app" class="ocf" provider="pacemaker" type="Dummy"/></resources>
<constraints><rsc_location id="app-on-r1" rsc="app" node="r1" score="100"/><rsc_location id="r1-on-n2" rsc="r1" node="n2" score="10"/></constraints></configuration>
<status>{}{}{remote}</status></cib>"#,
        member("1", "n1", s.n1_up, &n1),
        member("2", "n2", true, &n2),
        extra_nodes = s.extra_nodes,
        conn_params = s.conn_params,
        conn_meta = s.conn_meta,
    )
}

/// The lines of `text` that the comparison keeps: node list entries and transition summary
/// lines, white space squashed, each tagged with its section.
fn facts(text: &str) -> Vec<String> {
    let mut section = "";
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.ends_with(':') && !t.starts_with('*') {
            section = if t.starts_with("Current") {
                "current"
            } else if t.starts_with("Transition") {
                "summary"
            } else if t.starts_with("Revised") {
                "revised"
            } else {
                "other"
            };
            continue;
        }
        let node_line = [
            "Online", "OFFLINE", "Remote", "Guest", "Node ", "Started:", "Stopped:",
        ]
        .iter()
        .any(|p| t.starts_with(&format!("* {p}")));
        let summary_line = section == "summary" && t.starts_with('*');
        if (section != "summary" && section != "other" && node_line) || summary_line {
            let squashed = t.split_whitespace().collect::<Vec<_>>().join(" ");
            out.push(format!("{section}: {squashed}"));
        }
    }
    out.sort();
    out
}

fn ours(xml: &str) -> Vec<String> {
    let cluster = lifeboat_crm::cib::parse(xml).expect("the test CIB parses");
    let t = lifeboat_crm::schedule(&cluster, 0);
    facts(&lifeboat_crm::output::simulate_text(&cluster, &t))
}

fn pacemakers(xml: &str) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("lifeboat-crm-remote-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!(
        "{:x}.xml",
        xml.len() * 31 + xml.matches('r').count()
    ));
    std::fs::write(&path, xml).unwrap();
    let out = Command::new("crm_simulate")
        .env("LC_ALL", "C")
        .arg("-x")
        .arg(&path)
        .arg("-S")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "run crm_simulate ({e}): apt-get install pacemaker-cli-utils (scripts/setup/crm.sh)"
            )
        });
    std::fs::remove_file(&path).ok();
    facts(&String::from_utf8_lossy(&out.stdout))
}

/// Asserts Lifeboat and Pacemaker agree on `xml`, and returns the facts.
fn agreed(xml: &str) -> Vec<String> {
    let got = ours(xml);
    assert_eq!(got, pacemakers(xml), "against crm_simulate on\n{xml}");
    got
}

fn has(facts: &[String], want: &str) -> bool {
    facts.iter().any(|f| f == want)
}

#[test]
fn an_unseen_remote_node_is_shown_unclean_but_not_fenced_and_comes_online() {
    let f = agreed(&cib(&PLAIN));
    assert!(has(&f, "current: * RemoteNode r1: UNCLEAN (offline)"));
    assert!(has(&f, "summary: * Start r1 ( n2 )"));
    assert!(!f.iter().any(|l| l.contains("Fence")));
    assert!(has(&f, "revised: * RemoteOnline: [ r1 ]"));
}

#[test]
fn a_seen_remote_node_takes_resources_in_the_transition_its_connection_starts() {
    let f = agreed(&cib(&Setup {
        remote_state: Some(false),
        ..PLAIN
    }));
    assert!(has(&f, "current: * RemoteOFFLINE: [ r1 ]"));
    assert!(has(&f, "summary: * Start app ( r1 )"));
    assert!(has(&f, "revised: * RemoteOnline: [ r1 ]"));
}

#[test]
fn a_running_connection_makes_its_node_online() {
    let f = agreed(&cib(&Setup {
        conn: Conn::Running,
        remote_state: Some(true),
        ..PLAIN
    }));
    assert!(has(&f, "current: * RemoteOnline: [ r1 ]"));
    assert!(!f.iter().any(|l| l.starts_with("summary: * Move app")));
}

#[test]
fn a_disabled_connection_takes_its_node_down_and_what_ran_there_moves() {
    let f = agreed(&cib(&Setup {
        conn_meta: r#"<nvpair id="r1-tr" name="target-role" value="Stopped"/>"#,
        conn: Conn::Running,
        remote_state: Some(true),
        ..PLAIN
    }));
    assert!(has(
        &f,
        "summary: * Stop r1 ( n1 ) due to node availability"
    ));
    assert!(
        f.iter()
            .any(|l| l.starts_with("summary: * Move app ( r1 -> "))
    );
    assert!(has(&f, "revised: * RemoteOFFLINE: [ r1 ]"));
}

#[test]
fn a_remote_node_entry_without_a_connection_is_remote_and_offline() {
    let f = agreed(&cib(&Setup {
        conn: Conn::Running,
        remote_state: Some(true),
        extra_nodes: r#"<node id="old" uname="old" type="remote"/>"#,
        ..PLAIN
    }));
    assert!(has(&f, "current: * RemoteOFFLINE: [ old ]"));
    assert!(!f.iter().any(|l| l.contains("Fence")));
}

#[test]
fn a_failed_connection_monitor_fences_the_remote_node() {
    let f = agreed(&cib(&Setup {
        conn: Conn::MonitorFailed,
        remote_state: Some(true),
        ..PLAIN
    }));
    assert!(has(
        &f,
        "summary: * Fence (reboot) r1 'remote connection is unrecoverable'"
    ));
}

#[test]
fn with_a_reconnect_interval_a_failed_connection_stays_stopped() {
    let f = agreed(&cib(&Setup {
        conn: Conn::MonitorFailed,
        conn_params: r#"<nvpair id="r1-ri" name="reconnect_interval" value="1m"/>"#,
        remote_state: Some(true),
        ..PLAIN
    }));
    assert!(has(
        &f,
        "summary: * Stop r1 ( n1 ) due to node availability"
    ));
}

#[test]
fn fencing_for_resources_on_a_lost_connection_is_revoked_when_it_moves() {
    let f = agreed(&cib(&Setup {
        conn: Conn::Running,
        n1_up: false,
        remote_state: Some(true),
        ..PLAIN
    }));
    assert!(has(
        &f,
        "summary: * Fence (reboot) n1 'peer is no longer part of the cluster'"
    ));
    assert!(!f.iter().any(|l| l.contains("Fence (reboot) r1")));
    assert!(has(&f, "summary: * Move r1 ( n1 -> n2 )"));
}

#[test]
fn a_connection_that_cannot_move_fences_the_node_its_resources_run_on() {
    let f = agreed(&cib(&Setup {
        conn: Conn::Running,
        conn_meta: r#"<nvpair id="r1-tr" name="target-role" value="Stopped"/>"#,
        n1_up: false,
        remote_state: Some(true),
        ..PLAIN
    }));
    assert!(has(
        &f,
        "summary: * Fence (reboot) r1 'resources are active but connection is unrecoverable'"
    ));
}

#[test]
fn a_clone_with_every_instance_active_lists_no_stopped_nodes() {
    let with_clone = |max: usize| {
        cib(&Setup {
            conn: Conn::Running,
            remote_state: Some(false),
            ..PLAIN
        })
        .replace(
            "</resources>",
            &format!(
                r#"<clone id="c"><meta_attributes id="c-m"><nvpair id="c-max" name="clone-max" value="{max}"/></meta_attributes><primitive id="d" class="ocf" provider="pacemaker" type="Dummy"/></clone></resources>"#
            ),
        )
    };
    let all = agreed(&with_clone(3));
    assert!(!all.iter().any(|l| l.starts_with("revised: * Stopped:")));
    // One instance cannot run (the clone is banned from n2): n2 is listed stopped.
    let fewer = agreed(&with_clone(3).replace(
        "</constraints>",
        r#"<rsc_location id="c-not-n2" rsc="c" node="n2" score="-INFINITY"/></constraints>"#,
    ));
    assert!(has(&fewer, "revised: * Stopped: [ n2 ]"), "{fewer:?}");
}

#[test]
fn a_connection_removed_from_the_configuration_still_names_its_node_which_shuts_down() {
    let xml = cib(&Setup {
        conn: Conn::Running,
        remote_state: Some(true),
        ..PLAIN
    });
    let start = xml.find(r#"<primitive id="r1""#).unwrap();
    let end = start + xml[start..].find("</primitive>").unwrap() + "</primitive>".len();
    // A clone that cannot run everywhere lists its stopped nodes: not the orphan's node.
    let orphaned = format!("{}{}", &xml[..start], &xml[end..])
        .replace(r#"<rsc_location id="r1-on-n2" rsc="r1" node="n2" score="10"/>"#, "")
        .replace(
            "</resources>",
            r#"<clone id="c"><primitive id="d" class="ocf" provider="pacemaker" type="Dummy"/></clone></resources>"#,
        )
        .replace(
            "</constraints>",
            r#"<rsc_location id="c-not-n2" rsc="c" node="n2" score="-INFINITY"/></constraints>"#,
        );
    let f = agreed(&orphaned);
    assert!(has(&f, "revised: * Stopped: [ n2 ]"), "{f:?}");
    assert!(has(&f, "current: * RemoteOnline: [ r1 ]"));
    assert!(f.iter().any(|l| l.starts_with("summary: * Stop r1 ( n1 )")));
    assert!(
        f.iter()
            .any(|l| l.starts_with("summary: * Move app ( r1 -> "))
    );
}

#[test]
fn rules_see_a_remote_nodes_kind_and_exclusive_discovery_keeps_a_resource_to_its_nodes() {
    let base = cib(&Setup {
        conn: Conn::Running,
        remote_state: Some(false),
        ..PLAIN
    })
    .replace(
        r#"<rsc_location id="app-on-r1" rsc="app" node="r1" score="100"/>"#,
        "",
    );
    // A rule on #kind draws app to the remote node.
    let by_kind = base.replace(
        "</constraints>",
        r##"<rsc_location id="app-remote" rsc="app"><rule id="app-remote-r" score="50"><expression id="app-remote-e" attribute="#kind" operation="eq" value="remote"/></rule></rsc_location></constraints>"##,
    );
    let f = agreed(&by_kind);
    assert!(has(&f, "summary: * Start app ( r1 )"), "{f:?}");
    // An exclusive constraint with score 0 on n2 alone leaves app nowhere else.
    let exclusive = base.replace(
        "</constraints>",
        r##"<rsc_location id="app-n2" rsc="app" resource-discovery="exclusive"><rule id="app-n2-r" score="0"><expression id="app-n2-e" attribute="#uname" operation="eq" value="n2"/></rule></rsc_location></constraints>"##,
    );
    let f = agreed(&exclusive);
    assert!(has(&f, "summary: * Start app ( n2 )"), "{f:?}");
}

/// Two cluster nodes; a container `vm` (meta `remote-node=g1`, and `vm_meta`) running on n1
/// (its monitor failed if `vm_failed`) with its guest connection `g1` up, `app` running in
/// the guest if `app_in_guest`, and `constraints`.
fn guest_cib(vm_meta: &str, constraints: &str, vm_failed: bool, app_in_guest: bool) -> String {
    let vm = if vm_failed {
        format!(
            r#"<lrm_resource id="vm" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="vm_last_0" operation="start" call-id="2" rc-code="0" op-status="0" interval="0" op-digest="{DIGEST}" transition-key="2:1:0:x"/><lrm_rsc_op id="vm_last_failure_0" operation="monitor" call-id="6" rc-code="7" op-status="0" interval="10000" op-digest="{DIGEST}" transition-key="6:1:0:x"/></lrm_resource>"#
        )
    } else {
        lrm("vm", "ocf", "Dummy", true, 2)
    };
    let (n1, n2) = histories(
        [vm, lrm("g1", "ocf", "remote", true, 3)],
        [("vm", "Dummy"), ("g1", "remote")],
    );
    let g1 = format!(
        r#"<node_state id="g1" uname="g1" remote_node="true"><lrm id="g1"><lrm_resources>{}</lrm_resources></lrm></node_state>"#,
        lrm("app", "ocf", "Dummy", app_in_guest, 4)
    );
    format!(
        r#"<cib validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="true"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><primitive id="fence" class="stonith" type="fence_dummy"/>
<primitive id="vm" class="ocf" provider="pacemaker" type="Dummy"><meta_attributes id="vm-m"><nvpair id="vm-rn" name="remote-node" value="g1"/>{vm_meta}</meta_attributes><operations><op id="vm-mon" name="monitor" interval="10s"/></operations></primitive>
<primitive id="app" class="ocf" provider="pacemaker" type="Dummy"/></resources>
<constraints><rsc_location id="app-on-g1" rsc="app" node="g1" score="100"/>{constraints}</constraints></configuration>
<status>{}{}{g1}</status></cib>"#,
        member("1", "n1", true, &n1),
        member("2", "n2", true, &n2),
    )
}

#[test]
fn a_running_guest_is_online_and_its_connection_is_not_listed() {
    let xml = guest_cib("", "", false, true);
    let f = agreed(&xml);
    assert!(has(&f, "current: * GuestOnline: [ g1 ]"));
    assert!(
        !f.iter()
            .any(|l| l.starts_with("summary:") && (l.contains("g1") || l.contains("vm"))),
        "{f:?}"
    );
    let cluster = lifeboat_crm::cib::parse(&xml).unwrap();
    let text = lifeboat_crm::output::simulate_text(&cluster, &lifeboat_crm::schedule(&cluster, 0));
    assert!(!text.contains("(ocf:pacemaker:remote)"), "{text}");
}

#[test]
fn a_failed_container_fences_its_guest_by_recovery() {
    let f = agreed(&guest_cib("", "", true, true));
    assert!(has(
        &f,
        "summary: * Fence (reboot) g1 (resource: vm) 'guest is unclean'"
    ));
    assert!(has(&f, "summary: * Recover vm ( n1 )"));
}

#[test]
fn a_guest_connection_moves_with_a_container_that_cannot_migrate() {
    let f = agreed(&guest_cib(
        "",
        r#"<rsc_location id="vm-n2" rsc="vm" node="n2" score="INFINITY"/>"#,
        false,
        false,
    ));
    assert!(has(&f, "summary: * Move vm ( n1 -> n2 )"));
    assert!(has(&f, "summary: * Move g1 ( n1 -> n2 )"), "{f:?}");
}

#[test]
fn a_guest_connection_migrates_with_its_container_only_if_the_container_says_so() {
    let plain = agreed(&guest_cib(
        r#"<nvpair id="vm-am" name="allow-migrate" value="true"/>"#,
        r#"<rsc_location id="vm-n2" rsc="vm" node="n2" score="INFINITY"/>"#,
        false,
        false,
    ));
    assert!(has(&plain, "summary: * Move g1 ( n1 -> n2 )"), "{plain:?}");
    let f = agreed(&guest_cib(
        r#"<nvpair id="vm-am" name="allow-migrate" value="true"/><nvpair id="vm-ram" name="remote-allow-migrate" value="true"/>"#,
        r#"<rsc_location id="vm-n2" rsc="vm" node="n2" score="INFINITY"/>"#,
        false,
        false,
    ));
    assert!(has(&f, "summary: * Migrate vm ( n1 -> n2 )"));
    assert!(has(&f, "summary: * Migrate g1 ( n1 -> n2 )"), "{f:?}");
}

#[test]
fn what_runs_in_a_guest_restarts_when_its_container_moves_but_not_when_it_migrates() {
    let moved = agreed(&guest_cib(
        "",
        r#"<rsc_location id="vm-n2" rsc="vm" node="n2" score="INFINITY"/>"#,
        false,
        true,
    ));
    assert!(
        has(
            &moved,
            "summary: * Restart app ( g1 ) due to required vm start"
        ),
        "{moved:?}"
    );
    let migrated = agreed(&guest_cib(
        r#"<nvpair id="vm-am" name="allow-migrate" value="true"/><nvpair id="vm-ram" name="remote-allow-migrate" value="true"/>"#,
        r#"<rsc_location id="vm-n2" rsc="vm" node="n2" score="INFINITY"/>"#,
        false,
        true,
    ));
    assert!(!migrated.iter().any(|l| l.contains("app")), "{migrated:?}");
}

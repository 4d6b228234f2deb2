//! `crm simulate`'s additions on a three-node CIB written for these tests (a fence device,
//! a group placed with a promotable clone's Promoted instance, a primitive with a
//! migration-threshold): crm_simulate's injections, the score log behind `--show-scores`,
//! and the action graph of `--save-graph`.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on the first surprise"
)]

use lifeboat_crm::graph::{self, Graph};
use lifeboat_crm::model::Cluster;
use lifeboat_crm::simulate::{self, InjectError, Injections, OpResult};

const CIB: &str = include_str!("data/three-nodes.xml");

fn cluster() -> Cluster {
    let xml = CIB.replace("@N3_ATTRS@", "").replace("@N2_FAILS@", "");
    lifeboat_crm::cib::parse(&xml).unwrap()
}

fn summary(inj: &Injections) -> Vec<String> {
    let sim = simulate::run(&cluster(), inj, 0).unwrap();
    sim.transition
        .changes
        .iter()
        .map(|c| {
            lifeboat_crm::output::summary_line(c)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn fail(node: &str) -> Injections {
    Injections {
        node_fail: vec![node.into()],
        ..Injections::default()
    }
}

#[test]
fn a_failed_node_is_fenced_and_its_resources_move() {
    let s = summary(&fail("n1"));
    assert!(
        s.contains(&"* Fence (reboot) n1 'peer is no longer part of the cluster'".to_string()),
        "{s:?}"
    );
    assert!(s.contains(&"* Move ip ( n1 -> n2 )".to_string()), "{s:?}");
    assert!(
        s.contains(&"* Promote db:1 ( Unpromoted -> Promoted n2 )".to_string()),
        "{s:?}"
    );
}

#[test]
fn a_node_taken_down_cleanly_is_not_fenced() {
    let s = summary(&Injections {
        node_down: vec!["n1".into()],
        ..Injections::default()
    });
    assert!(!s.iter().any(|l| l.starts_with("* Fence")), "{s:?}");
    // Its history is gone with it: what ran there starts elsewhere.
    assert!(s.contains(&"* Start ip ( n2 )".to_string()), "{s:?}");
}

#[test]
fn without_quorum_nothing_is_fenced_and_resources_stop() {
    let s = summary(&Injections {
        quorum: Some(false),
        ..fail("n3")
    });
    assert!(!s.iter().any(|l| l.starts_with("* Fence")), "{s:?}");
    assert!(s.iter().any(|l| l.ends_with("due to no quorum")), "{s:?}");
}

#[test]
fn a_node_brought_up_joins_and_takes_resources() {
    // n3 down first, then up again in a second simulation from that state.
    let down = Injections {
        node_down: vec!["n3".into()],
        ..Injections::default()
    };
    let c = down.apply(&cluster(), 0).unwrap();
    let n3 = c.status.nodes.iter().find(|n| n.uname == "n3").unwrap();
    assert_eq!(n3.crmd.as_deref(), Some("offline"));
    assert!(
        n3.resources.is_empty(),
        "a clean shutdown drops the history"
    );
    let up = Injections {
        node_up: vec!["n3".into()],
        ..Injections::default()
    };
    let t = simulate::run(&c, &up, 0).unwrap();
    let w = &t.transition.working;
    let n = w.node_index("n3").unwrap();
    assert!(w.nodes[n].online, "n3 is online after --node-up");
    assert!(
        t.transition
            .changes
            .iter()
            .any(|c| c.subject.starts_with("db:") && c.details == "n3"),
        "a db instance starts on n3: {:?}",
        t.transition.changes
    );
}

#[test]
fn an_injected_monitor_failure_is_recovered() {
    let op = OpResult::parse("--op-inject", "ip_monitor_10000@n1=7").unwrap();
    assert_eq!(
        (
            op.rsc.as_str(),
            op.task.as_str(),
            op.interval_ms,
            op.node.as_str(),
            op.rc
        ),
        ("ip", "monitor", 10_000, "n1", 7)
    );
    let s = summary(&Injections {
        ops: vec![op],
        ..Injections::default()
    });
    assert!(s.contains(&"* Recover ip ( n1 )".to_string()), "{s:?}");
    assert!(
        s.iter().any(|l| l.starts_with("* Restart web ( n1 )")),
        "{s:?}"
    );
}

#[test]
fn set_datetime_wins_over_the_execution_date() {
    let mut c = cluster();
    c.execution_date = Some(5);
    let now = simulate::parse_datetime("2026-12-07T14:00:00Z").unwrap();
    let inj = Injections {
        now: Some(now),
        ..Injections::default()
    };
    let sim = simulate::run(&c, &inj, 0).unwrap();
    assert_eq!(sim.transition.working.now, 1_796_652_000);
}

#[test]
fn bad_values_name_their_option() {
    let e = OpResult::parse("--op-inject", "ip_monitor@n1=7").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("parse --op-inject \"ip_monitor@n1=7\""),
        "{e}"
    );
    let e = OpResult::parse("--op-inject", "ip_monitor_10000@n1=x").unwrap_err();
    assert!(e.to_string().contains("RC is not an integer"), "{e}");
    let e = simulate::parse_quorum("maybe").unwrap_err();
    assert!(e.to_string().starts_with("parse --quorum \"maybe\""), "{e}");
    let e = simulate::parse_datetime("2026-02-30").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("parse --set-datetime \"2026-02-30\""),
        "{e}"
    );
    let e = fail("n9").apply(&cluster(), 0).unwrap_err();
    assert_eq!(
        e,
        InjectError::FindNode {
            option: "--node-fail",
            node: "n9".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "inject --node-fail n9: the CIB has no node n9"
    );
    let e = Injections {
        ops: vec![OpResult::parse("--op-inject", "nope_start_0@n1=1").unwrap()],
        ..Injections::default()
    }
    .apply(&cluster(), 0)
    .unwrap_err();
    assert!(
        matches!(e, InjectError::FindResource { ref rsc, .. } if rsc == "nope"),
        "{e}"
    );
}

#[test]
fn the_modifications_are_listed_as_crm_simulate_lists_them() {
    let inj = Injections {
        quorum: Some(false),
        node_up: vec!["n2".into()],
        node_down: vec!["n3".into()],
        ..fail("n1")
    };
    assert_eq!(
        inj.describe(),
        [
            "Setting quorum: false",
            "Bringing node n2 online",
            "Taking node n3 offline",
            "Failing node n1"
        ]
    );
    let text = simulate::run(&cluster(), &inj, 0).unwrap().text(false);
    assert!(
        text.contains("\nPerforming Requested Modifications:\n  * Setting quorum: false\n"),
        "{text}"
    );
    assert!(text.contains("\n  * Failing node n1\n"), "{text}");
}

fn score_lines(inj: &Injections) -> Vec<String> {
    let sim = simulate::run(&cluster(), inj, 0).unwrap();
    lifeboat_crm::output::scores_text(&sim.transition.working)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn scores_are_printed_per_stage_and_node() {
    let lines = score_lines(&Injections::default());
    for want in [
        // The group's own location constraint, and its first member's.
        "pcmk__group_assign: g allocation score on n1: 100",
        "pcmk__group_assign: ip allocation score on n2: 0",
        // The clone's instances: stickiness 1 where each runs, plus the promotion score
        // there (20), as crm_simulate prints.
        "pcmk__clone_allocate: db:0 allocation score on n1: 21",
        // The group follows the Promoted instance (INFINITY colocation).
        "pcmk__primitive_assign: ip allocation score on n2: -INFINITY",
        "db:0 promotion score on n1: 20",
        "db:1 promotion score on n2: 10",
    ] {
        assert!(
            lines.iter().any(|l| l == want),
            "{want}\n{}",
            lines.join("\n")
        );
    }
    assert!(
        lines.iter().any(
            |l| l.starts_with("pcmk__primitive_assign: ip allocation score on n1: ")
                && !l.ends_with(": -INFINITY")
        ),
        "{}",
        lines.join("\n")
    );
    // Promotion scores, highest first.
    let promo: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("promotion score"))
        .collect();
    assert_eq!(promo.len(), 3, "{promo:?}");
    assert!(promo[0].starts_with("db:0 "), "{promo:?}");
}

#[test]
fn a_fence_device_keeps_its_score_on_an_unclean_node() {
    let lines = score_lines(&fail("n1"));
    assert!(
        lines.contains(&"pcmk__primitive_assign: fence allocation score on n1: 0".to_string()),
        "{}",
        lines.join("\n")
    );
    assert!(
        lines.contains(
            &"pcmk__primitive_assign: solo allocation score on n1: -INFINITY".to_string()
        ),
        "{}",
        lines.join("\n")
    );
}

fn graph_of(inj: &Injections) -> Graph {
    let sim = simulate::run(&cluster(), inj, 0).unwrap();
    graph::build(&sim.cluster, &sim.transition)
}

/// The id of the action with this key on this node.
fn id(g: &Graph, key: &str, node: &str) -> usize {
    g.actions
        .iter()
        .find(|a| a.key == key && a.node == node)
        .unwrap_or_else(|| panic!("no {key} on {node}: {g:#?}"))
        .id
}

fn has_edge(g: &Graph, then: usize, first: usize, why: &str) -> bool {
    g.actions[then]
        .after
        .iter()
        .any(|e| e.id == first && e.why == why)
}

#[test]
fn the_graph_of_a_fencing_orders_fence_stops_and_starts() {
    let g = graph_of(&fail("n1"));
    for (pos, a) in g.actions.iter().enumerate() {
        assert_eq!(a.id, pos);
        assert!(
            a.after.iter().all(|e| e.id < a.id),
            "{a:?} before its prerequisites"
        );
    }
    let fence = id(&g, "stonith-n1-reboot", "n1");
    let ip_stop = id(&g, "ip_stop_0", "n1");
    let web_stop = id(&g, "web_stop_0", "n1");
    let ip_start = id(&g, "ip_start_0", "n2");
    let web_start = id(&g, "web_start_0", "n2");
    let db0_demote = id(&g, "db:0_demote_0", "n1");
    let db0_stop = id(&g, "db:0_stop_0", "n1");
    let db1_promote = id(&g, "db:1_promote_0", "n2");
    assert!(
        g.actions[ip_stop].pseudo,
        "a stop on a fenced node is implied by the fence"
    );
    assert!(has_edge(&g, ip_stop, fence, "fencing"));
    assert!(has_edge(&g, ip_start, fence, "fencing"));
    assert!(has_edge(&g, ip_start, ip_stop, "stop before start"));
    assert!(has_edge(&g, web_start, ip_start, "group g"));
    assert!(has_edge(&g, ip_stop, web_stop, "group g"));
    assert!(has_edge(&g, db0_stop, db0_demote, "demote before stop"));
    assert!(has_edge(&g, ip_start, db1_promote, "order db-then-g"));
    assert!(has_edge(&g, db1_promote, db0_demote, "clone db-clone"));
    let mon = id(&g, "ip_monitor_10000", "n2");
    assert_eq!(g.actions[mon].interval, 10_000);
    assert!(has_edge(&g, mon, ip_start, "monitor after start"));
}

#[test]
fn the_graph_promotes_after_starting() {
    // From nothing running: every node down, then back with its history dropped.
    let c = Injections {
        node_down: vec!["n1".into(), "n2".into(), "n3".into()],
        ..Injections::default()
    }
    .apply(&cluster(), 0)
    .unwrap();
    let mut c = c;
    // The promotion score as a permanent node attribute (the transient ones went down with
    // the nodes).
    c.nodes[0].attrs.insert("master-db".into(), "20".into());
    let up = Injections {
        node_up: vec!["n1".into(), "n2".into(), "n3".into()],
        ..Injections::default()
    };
    let sim = simulate::run(&c, &up, 0).unwrap();
    let g = graph::build(&sim.cluster, &sim.transition);
    // Whichever instance lands on n1, the node with the promotion score.
    let promote = g
        .actions
        .iter()
        .find(|a| a.task == "promote")
        .unwrap_or_else(|| panic!("nothing promoted: {g:#?}"));
    assert_eq!(promote.node, "n1");
    let rsc = promote.resource.clone().unwrap();
    let (promote, start) = (promote.id, id(&g, &format!("{rsc}_start_0"), "n1"));
    assert!(
        has_edge(&g, promote, start, "promote after start"),
        "{g:#?}"
    );
    assert!(has_edge(
        &g,
        id(&g, "ip_start_0", "n1"),
        promote,
        "order db-then-g"
    ));
}

#[test]
fn a_failed_action_stops_the_transition_there() {
    let inj = Injections {
        fail: vec![OpResult::parse("--op-fail", "ip_start_0@n2=1").unwrap()],
        ..fail("n1")
    };
    let sim = simulate::run(&cluster(), &inj, 0).unwrap();
    let e = sim.execution.as_ref().unwrap();
    let g = graph::build(&sim.cluster, &sim.transition);
    let (failed, rc) = e.failed.unwrap();
    assert_eq!((g.actions[failed].key.as_str(), rc), ("ip_start_0", 1));
    let w = &e.after;
    let rsc = |id: &str| w.rscs.iter().find(|r| r.id == id).unwrap();
    let (n1, n2) = (w.node_index("n1").unwrap(), w.node_index("n2").unwrap());
    // What ran before it: the fence and the stops it implied.
    assert!(!w.nodes[n1].online && !w.nodes[n1].unclean, "n1 was fenced");
    assert!(rsc("ip").failed && rsc("ip").running.iter().any(|&(n, _)| n == n2));
    // What waited for it, or came after, did not run.
    assert!(rsc("web").running.is_empty(), "web was not started");
    assert!(
        e.ran
            .iter()
            .all(|&id| g.actions[id].key != "ip_monitor_10000")
    );
    let text = sim.text(false);
    assert!(
        text.contains("Pretending action ip_start_0 on n2 failed with rc=1"),
        "{text}"
    );
    assert!(
        text.contains("* ip\t(ocf:heartbeat:Dummy):\t FAILED n2"),
        "{text}"
    );
}

//! Placement rules on small CIBs written for these tests, each checked through the
//! transition summary: dependents' influence on their primary (colocation scores scaled and
//! never rounded away), and what keeps a steady cluster steady.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly"
)]

mod support;

use support::{cluster, dummy, summary};

/// A group with a dependent that prefers the group's node a little: the dependent's 10
/// points, scaled by 100 / INFINITY, would round to 0; Pacemaker keeps it at 1, which is
/// what holds the group on n1 against n2, where nothing is assigned yet.
fn group_and_dependent(history: &[(&str, &[(&str, bool)])]) -> String {
    cluster(
        &format!(
            r#"<group id="g">{}{}</group>{}"#,
            dummy("a"),
            dummy("b"),
            dummy("d")
        ),
        r#"<rsc_location id="l" rsc="d" node="n1" score="10"/>
<rsc_colocation id="c" rsc="d" with-rsc="g" score="100"/>"#,
        history,
    )
}

#[test]
fn a_group_held_by_a_small_dependent_preference_stays_put() {
    let n1: &[(&str, bool)] = &[("fence", true), ("a", true), ("b", true), ("d", true)];
    let n2: &[(&str, bool)] = &[("fence", false), ("a", false), ("b", false), ("d", false)];
    let xml = group_and_dependent(&[("n1", n1), ("n2", n2)]);
    assert!(summary(&xml).is_empty(), "{:?}", summary(&xml));
}

#[test]
fn a_fresh_group_goes_where_its_dependent_prefers() {
    let n1: &[(&str, bool)] = &[("fence", true)];
    let xml = group_and_dependent(&[("n1", n1), ("n2", &[])]);
    let mut got = summary(&xml);
    got.sort();
    assert_eq!(
        got,
        ["* Start a ( n1 )", "* Start b ( n1 )", "* Start d ( n1 )"]
    );
}

#[test]
fn without_a_dependent_the_group_goes_to_the_emptier_node() {
    let xml = cluster(
        &format!(r#"<group id="g">{}{}</group>"#, dummy("a"), dummy("b")),
        "",
        &[("n1", &[("fence", true)]), ("n2", &[])],
    );
    let mut got = summary(&xml);
    got.sort();
    assert_eq!(got, ["* Start a ( n2 )", "* Start b ( n2 )"]);
}

/// `A` with `B` and with `D`: once `B` is placed, `A` can only go where `B` is, and `D`
/// (assigned next) sees that as `A`'s preference, so all three end on one node.
#[test]
fn a_dependent_with_two_primaries_draws_the_second_to_the_first() {
    let resources: String = ["A", "B", "C", "D"].iter().map(|r| dummy(r)).collect();
    let xml = cluster(
        &resources,
        r#"<rsc_colocation id="c1" rsc="A" with-rsc="B" score="INFINITY"/><rsc_colocation id="c2" rsc="A" with-rsc="D" score="INFINITY"/>"#,
        &[("n1", &[]), ("n2", &[])],
    );
    let mut got = summary(&xml);
    got.sort();
    assert_eq!(
        got,
        [
            "* Start A ( n2 )",
            "* Start B ( n2 )",
            "* Start C ( n1 )",
            "* Start D ( n2 )",
            "* Start fence ( n1 )"
        ]
    );
}

/// A rule on `#id` reads the node's id: it draws the resource to n1 although n1 already has
/// the fence device.
#[test]
fn a_rule_can_name_a_node_by_id() {
    let xml = cluster(
        &dummy("A"),
        r##"<rsc_location id="l" rsc="A"><rule id="r" score="100"><expression id="e" attribute="#id" operation="eq" value="1"/></rule></rsc_location>"##,
        &[("n1", &[]), ("n2", &[])],
    );
    let mut got = summary(&xml);
    got.sort();
    assert_eq!(got, ["* Start A ( n1 )", "* Start fence ( n1 )"]);
}

/// A location rule of the Promoted role adds to the promotion score where it holds: the
/// instance on n2 is promoted.
#[test]
fn a_promoted_role_rule_chooses_where_to_promote() {
    let xml = cluster(
        r#"<clone id="db"><meta_attributes id="db-m"><nvpair id="db-p" name="promotable" value="true"/></meta_attributes><primitive id="db-r" class="ocf" provider="pacemaker" type="Stateful"/></clone>"#,
        r##"<rsc_location id="l" rsc="db"><rule id="r" score="100" role="Promoted"><expression id="e" attribute="#uname" operation="eq" value="n2"/></rule></rsc_location>"##,
        &[("n1", &[]), ("n2", &[])],
    );
    let mut got = summary(&xml);
    got.sort();
    assert_eq!(
        got,
        [
            "* Promote db-r:0 ( Stopped -> Promoted n2 )",
            "* Start db-r:1 ( n1 )",
            "* Start fence ( n1 )"
        ]
    );
}

/// With a placement strategy, what holds more on the node it runs on is assigned first; then
/// node by node, the node with more capacity left first: `b` keeps n2's one cpu, and `a`
/// (on n1, which has none) cannot move there.
#[test]
fn with_a_placement_strategy_the_resource_at_home_on_the_roomier_node_goes_first() {
    let with_cpu = |id: &str| {
        format!(
            r#"<primitive id="{id}" class="ocf" provider="pacemaker" type="Dummy"><utilization id="{id}-u"><nvpair id="{id}-cpu" name="cpu" value="1"/></utilization></primitive>"#
        )
    };
    let node = |n: u8, cpu: u8| {
        format!(
            r#"<node id="{n}" uname="n{n}"><utilization id="n{n}-u"><nvpair id="n{n}-cpu" name="cpu" value="{cpu}"/></utilization></node>"#
        )
    };
    let xml = cluster(
        &format!("{}{}", with_cpu("a"), with_cpu("b")),
        "",
        &[
            ("n1", &[("fence", true), ("a", true)]),
            ("n2", &[("fence", false), ("a", false), ("b", true)]),
        ],
    )
    .replace(r#"<node id="1" uname="n1"/>"#, &node(1, 0))
    .replace(r#"<node id="2" uname="n2"/>"#, &node(2, 1))
    .replace(
        "</cluster_property_set>",
        r#"<nvpair id="o2" name="placement-strategy" value="balanced"/></cluster_property_set>"#,
    )
    .replace(
        "</constraints>",
        r#"</constraints><rsc_defaults><meta_attributes id="rd"><nvpair id="rd-s" name="resource-stickiness" value="100"/></meta_attributes></rsc_defaults>"#,
    );
    assert_eq!(summary(&xml), ["* Stop a ( n1 ) due to node availability"]);
}

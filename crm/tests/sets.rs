//! Resource sets and tags in constraints, on a fresh two-node cluster written for these
//! tests (the expected summaries are what crm_simulate 2.1.5 prints for the same CIBs).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly"
)]

mod support;

use support::{cluster, dummy, summary};

const BANS: &str = r#"<rsc_location id="la" rsc="A" node="n1" score="-INFINITY"/><rsc_location id="lb" rsc="B" node="n2" score="-INFINITY"/>"#;
const TAGS: &str = r#"<tags><tag id="ab"><obj_ref id="A"/><obj_ref id="B"/></tag><tag id="cc"><obj_ref id="C"/></tag></tags>"#;

fn fresh(constraints: &str) -> Vec<String> {
    let resources = format!("{}{}{}", dummy("A"), dummy("B"), dummy("C"));
    let xml = cluster(&resources, constraints, &[("n1", &[]), ("n2", &[])])
        .replace("</constraints>", &format!("</constraints>{TAGS}"));
    let mut got = summary(&xml);
    got.sort();
    got
}

#[test]
fn in_a_sequential_colocation_set_each_member_follows_the_one_before() {
    let set = r#"<rsc_colocation id="c" score="INFINITY"><resource_set id="s1"><resource_ref id="A"/><resource_ref id="B"/></resource_set></rsc_colocation>"#;
    assert_eq!(
        fresh(&format!("{BANS}{set}")),
        [
            "* Start A ( n2 )",
            "* Start C ( n1 )",
            "* Start fence ( n1 )"
        ]
    );
}

#[test]
fn a_colocation_set_follows_the_next_set() {
    let sets = r#"<rsc_colocation id="c" score="INFINITY"><resource_set id="s1"><resource_ref id="A"/></resource_set><resource_set id="s2"><resource_ref id="B"/></resource_set></rsc_colocation>"#;
    assert_eq!(
        fresh(&format!("{BANS}{sets}")),
        [
            "* Start B ( n1 )",
            "* Start C ( n2 )",
            "* Start fence ( n1 )"
        ]
    );
}

#[test]
fn every_member_of_a_non_sequential_set_goes_with_the_next_set() {
    let sets = r#"<rsc_location id="lc" rsc="C" node="n2" score="100"/><rsc_colocation id="c" score="INFINITY"><resource_set id="s1" sequential="false"><resource_ref id="A"/><resource_ref id="B"/></resource_set><resource_set id="s2" sequential="false"><resource_ref id="C"/></resource_set></rsc_colocation>"#;
    assert_eq!(
        fresh(sets),
        [
            "* Start A ( n2 )",
            "* Start B ( n2 )",
            "* Start C ( n2 )",
            "* Start fence ( n1 )"
        ]
    );
}

const NOWHERE_A: &str = r#"<rsc_location id="la" rsc="A" node="n1" score="-INFINITY"/><rsc_location id="la2" rsc="A" node="n2" score="-INFINITY"/>"#;

#[test]
fn an_order_set_chains_its_members() {
    let set = r#"<rsc_order id="ord"><resource_set id="s1"><resource_ref id="A"/><resource_ref id="B"/><resource_ref id="C"/></resource_set></rsc_order>"#;
    assert_eq!(
        fresh(&format!("{NOWHERE_A}{set}")),
        [
            "* Start B ( n2 ) due to unrunnable A start (blocked)",
            "* Start C ( n1 ) due to unrunnable B start (blocked)",
            "* Start fence ( n1 )"
        ]
    );
}

#[test]
fn a_non_sequential_order_set_orders_only_against_the_next_set() {
    let sets = r#"<rsc_order id="ord"><resource_set id="s1" sequential="false"><resource_ref id="A"/><resource_ref id="B"/></resource_set><resource_set id="s2"><resource_ref id="C"/></resource_set></rsc_order>"#;
    assert_eq!(
        fresh(&format!("{NOWHERE_A}{sets}")),
        [
            "* Start B ( n2 )",
            "* Start C ( n1 ) due to unrunnable A start (blocked)",
            "* Start fence ( n1 )"
        ]
    );
}

#[test]
fn a_tag_stands_for_its_members() {
    let location = r#"<rsc_location id="l" rsc="ab" node="n2" score="100"/>"#;
    assert_eq!(
        fresh(location),
        [
            "* Start A ( n2 )",
            "* Start B ( n2 )",
            "* Start C ( n1 )",
            "* Start fence ( n1 )"
        ]
    );
    let coloc = r#"<rsc_location id="lc" rsc="C" node="n2" score="100"/><rsc_colocation id="c" rsc="ab" with-rsc="C" score="INFINITY"/>"#;
    assert_eq!(
        fresh(coloc),
        [
            "* Start A ( n2 )",
            "* Start B ( n2 )",
            "* Start C ( n2 )",
            "* Start fence ( n1 )"
        ]
    );
}

#[test]
fn two_tags_cannot_be_colocated() {
    let coloc = r#"<rsc_location id="lc" rsc="C" node="n2" score="100"/><rsc_colocation id="c" rsc="ab" with-rsc="cc" score="INFINITY"/>"#;
    assert_eq!(
        fresh(coloc),
        [
            "* Start A ( n2 )",
            "* Start B ( n1 )",
            "* Start C ( n2 )",
            "* Start fence ( n1 )"
        ]
    );
}

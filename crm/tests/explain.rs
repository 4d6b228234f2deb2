//! `crm explain` on the three-node CIB of these tests: the sentences for a location
//! constraint, a colocation, a failure over migration-threshold and a standby node, and an
//! unknown resource.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on the first surprise"
)]

use lifeboat_crm::explain::{ExplainError, explain};

const CIB: &str = include_str!("data/three-nodes.xml");

fn xml(n3_attrs: &str, n2_fails: &str) -> String {
    CIB.replace("@N3_ATTRS@", n3_attrs)
        .replace("@N2_FAILS@", n2_fails)
}

fn explain_in(xml: &str, rsc: &str) -> Result<Vec<String>, ExplainError> {
    let cluster = lifeboat_crm::cib::parse(xml).unwrap();
    let t = lifeboat_crm::schedule(&cluster, 0);
    explain(&cluster, &t, rsc).map(|e| e.sentences)
}

fn sentences(n3_attrs: &str, n2_fails: &str, rsc: &str) -> Vec<String> {
    explain_in(&xml(n3_attrs, n2_fails), rsc).unwrap()
}

fn has_prefix(s: &[String], want: &str) {
    assert!(
        s.iter().any(|l| l.starts_with(want)),
        "missing: {want}…\n{}",
        s.join("\n")
    );
}

fn has(s: &[String], want: &str) {
    assert!(
        s.iter().any(|l| l == want),
        "missing: {want}\n{}",
        s.join("\n")
    );
}

const STANDBY: &str = r#"<instance_attributes id="n3a"><nvpair id="n3s" name="standby" value="on"/></instance_attributes>"#;
const TWO_FAILURES: &str = r#"<nvpair id="f2" name="fail-count-solo#monitor_10000" value="2"/>"#;

#[test]
fn a_location_constraint_is_named_with_its_score() {
    let s = sentences("", "", "g");
    assert_eq!(s[0], "g runs on n1 and stays there.");
    has(&s, "Location constraint loc-g-n1 adds 100 for g on n1.");
    has_prefix(&s, "Scores: g is placed on n1, whose score is ");
}

#[test]
fn a_colocation_is_named_with_where_its_primary_runs() {
    let s = sentences("", "", "ip");
    has(
        &s,
        "Colocation col-g-db (score INFINITY): g must run with db-clone (in the Promoted role), which will run on n1.",
    );
    has(
        &s,
        "ip is member 1 of group g (ip, web): the members run together on one node and start in that order.",
    );
    // From the primary's side.
    let s = sentences("", "", "db-clone");
    has(
        &s,
        "Colocation col-g-db (score INFINITY): g is placed with db-clone, so g's preferences count towards where db-clone goes.",
    );
    has(
        &s,
        "Its promotion score on n1 is 20 (others: db:1 10, db:2 5): it is promoted.",
    );
}

#[test]
fn a_failure_over_migration_threshold_moves_the_resource() {
    let s = sentences("", TWO_FAILURES, "solo");
    assert!(
        s[0].starts_with("solo runs on n2 and will move to "),
        "{s:?}"
    );
    has(
        &s,
        "solo failed 2 times on n2, migration-threshold 2: it may no longer run there (-INFINITY on n2).",
    );
    // One failure is below the threshold: it stays.
    let s = sentences(
        "",
        r#"<nvpair id="f2" name="fail-count-solo#monitor_10000" value="1"/>"#,
        "solo",
    );
    has(
        &s,
        "solo failed 1 time on n2, migration-threshold 2: it may still run there.",
    );
}

#[test]
fn a_standby_node_is_said_to_be_one() {
    let s = sentences(STANDBY, "", "db:2");
    assert_eq!(s[0], "db:2 runs on n3 as Unpromoted and will stop.");
    has(&s, "n3 cannot run resources: it is in standby.");
    has_prefix(&s, "Scores: no node can run db:2");
}

#[test]
fn a_stopped_target_role_is_the_reason() {
    let xml = xml("", "").replace(
        r#"<nvpair id="solo-m-t" name="migration-threshold" value="2"/>"#,
        r#"<nvpair id="solo-m-t" name="migration-threshold" value="2"/><nvpair id="solo-m-r" name="target-role" value="Stopped"/>"#,
    );
    let s = explain_in(&xml, "solo").unwrap();
    assert_eq!(s[0], "solo runs on n2 and will stop.");
    has(
        &s,
        "The target-role of solo is Stopped: the cluster keeps it stopped.",
    );
}

#[test]
fn an_unknown_resource_is_named() {
    let e = explain_in(&xml("", ""), "nope").unwrap_err();
    assert_eq!(e, ExplainError::FindResource("nope".into()));
    assert_eq!(
        e.to_string(),
        "explain nope: no resource nope in the cluster"
    );
}

//! Live migration on small CIBs written for these tests: a primitive with `allow-migrate`
//! that moves migrates, unless what it is ordered after stops and starts again in the same
//! transition.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly"
)]

mod support;

use support::{cluster, dummy, summary};

fn migratable(id: &str) -> String {
    format!(
        r#"<primitive id="{id}" class="ocf" provider="pacemaker" type="Dummy"><meta_attributes id="{id}-m"><nvpair id="{id}-am" name="allow-migrate" value="true"/></meta_attributes></primitive>"#
    )
}

/// `a` then `b` (mandatory), both running on n1 and both drawn to n2 by a location score.
fn both_move(a: &str, b: &str) -> Vec<String> {
    let xml = cluster(
        &format!("{a}{b}"),
        r#"<rsc_location id="la" rsc="a" node="n2" score="100"/>
<rsc_location id="lb" rsc="b" node="n2" score="100"/>
<rsc_order id="a-then-b" first="a" then="b"/>"#,
        &[
            ("n1", &[("fence", true), ("a", true), ("b", true)]),
            ("n2", &[("fence", false), ("a", false), ("b", false)]),
        ],
    );
    let mut got = summary(&xml);
    got.sort();
    got
}

#[test]
fn a_migratable_resource_migrates() {
    assert_eq!(
        both_move(&migratable("a"), &migratable("b")),
        ["* Migrate a ( n1 -> n2 )", "* Migrate b ( n1 -> n2 )"]
    );
}

#[test]
fn a_migratable_first_migrates_before_a_plain_then() {
    assert_eq!(
        both_move(&migratable("a"), &dummy("b")),
        ["* Migrate a ( n1 -> n2 )", "* Move b ( n1 -> n2 )"]
    );
}

#[test]
fn a_then_that_would_wait_for_a_restarting_first_moves_instead() {
    assert_eq!(
        both_move(&dummy("a"), &migratable("b")),
        [
            "* Move a ( n1 -> n2 )",
            "* Move b ( n1 -> n2 ) due to unrunnable a stop"
        ]
    );
}

#[test]
fn a_failed_resource_is_recovered_not_migrated() {
    let xml = cluster(
        &migratable("a"),
        r#"<rsc_location id="la" rsc="a" node="n2" score="100"/>"#,
        &[("n1", &[("fence", true), ("a", true)]), ("n2", &[])],
    )
    .replace(
        r#"<lrm_rsc_op id="a_last_0" operation="start" call-id="1" rc-code="0""#,
        r#"<lrm_rsc_op id="a_last_0" operation="start" call-id="1" rc-code="1""#,
    );
    assert_eq!(summary(&xml), ["* Recover a ( n1 -> n2 )"]);
}

//! Tickets with `loss-policy=fence`, on a small CIB written for these tests: a revoked
//! ticket fences the node where its resource runs; a ticket in standby only stops it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly"
)]

mod support;

use support::{cluster, dummy, summary};

fn with_ticket(state: &str) -> Vec<String> {
    let xml = cluster(
        &dummy("a"),
        r#"<rsc_ticket id="t" rsc="a" ticket="T" loss-policy="fence"/>"#,
        &[
            ("n1", &[("fence", true), ("a", false)]),
            ("n2", &[("fence", false), ("a", true)]),
        ],
    )
    .replace(
        "</status>",
        &format!(r#"<tickets><ticket_state id="T" {state}/></tickets></status>"#),
    );
    summary(&xml)
}

#[test]
fn a_revoked_deadman_ticket_fences_the_node_running_its_resource() {
    assert_eq!(
        with_ticket(r#"granted="false""#),
        [
            "* Fence (reboot) n2 'deadman ticket was lost'",
            "* Stop a ( n2 ) due to node availability"
        ]
    );
}

#[test]
fn a_ticket_in_standby_stops_its_resource_without_fencing() {
    assert_eq!(
        with_ticket(r#"granted="true" standby="true""#),
        ["* Stop a ( n2 ) due to node availability"]
    );
}

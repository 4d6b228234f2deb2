//! `multiple-active=stop_unexpected` on a small CIB written for this test: a resource found
//! active on both nodes keeps one copy and says why the other goes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly"
)]

mod support;

use support::{cluster, summary};

#[test]
fn an_unexpected_copy_is_stopped_because_it_is_multiply_active() {
    let xml = cluster(
        r#"<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"><meta_attributes id="a-m"><nvpair id="a-ma" name="multiple-active" value="stop_unexpected"/></meta_attributes></primitive>"#,
        "",
        &[
            ("n1", &[("fence", true), ("a", true)]),
            ("n2", &[("fence", false), ("a", true)]),
        ],
    );
    assert_eq!(
        summary(&xml),
        ["* Move a ( n1 -> n2 ) due to being multiply active"]
    );
}

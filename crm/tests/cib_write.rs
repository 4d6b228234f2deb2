//! The CIB writer against Pacemaker's own checker: what `cib::write::write` prints must pass
//! `crm_verify --xml-file` (Debian pacemaker-cli-utils, installed by scripts/setup/crm.sh),
//! and read back into the same model.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly"
)]

mod support;

use lifeboat_crm::cib;
use support::{CIB, assert_crm_verify, config, crm_verify};

#[test]
fn the_input_itself_passes_crm_verify() {
    // Guards the test: a failure below is the writer's, not the fixture's.
    crm_verify(CIB).unwrap();
}

#[test]
fn the_written_cib_passes_crm_verify() {
    let cluster = cib::parse(CIB).unwrap();
    let xml = cib::write::write(&cluster).unwrap();
    assert_crm_verify(&xml);
}

#[test]
fn the_written_cib_reads_back_into_the_same_model() {
    let cluster = cib::parse(CIB).unwrap();
    let xml = cib::write::write(&cluster).unwrap();
    let again = cib::parse(&xml).unwrap();
    assert_eq!(config(&cluster), config(&again), "{xml}");
    // The details that are easy to lose on the way.
    assert!(xml.contains(r#"value="a&lt;b&amp;&quot;c""#), "{xml}");
    assert!(xml.contains(r#"timeout="1500ms""#), "{xml}");
    assert!(xml.contains("<master id=\"redis-master\">"), "{xml}");
    assert!(xml.contains(r#"have-quorum="1""#), "{xml}");
}

#[test]
fn a_location_whose_rule_the_model_dropped_is_refused() {
    let with_rule = CIB.replace(
        r#"<rsc_location id="vip-on-ctl1" rsc="vip" node="ctl1" score="50"/>"#,
        r#"<rsc_location id="vip-rule" rsc="vip"><rule id="r" score="50"><expression id="e" attribute="site" operation="eq" value="a"/></rule></rsc_location>"#,
    );
    let cluster = cib::parse(&with_rule).unwrap();
    let err = cib::write::write(&cluster).unwrap_err().to_string();
    assert!(err.contains(r#"<rsc_location id="vip-rule">"#), "{err}");
}

//! The two formats mean the same thing: YAML written to a CIB passes Pacemaker's own
//! `crm_verify`, and a CIB taken through YAML and back is the same model.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly"
)]

mod support;

use lifeboat_crm::{cib, yaml};
use support::{CIB, assert_crm_verify, config};

const SAMPLE: &str = include_str!("../../etc/crm/openstack-control-plane.yaml");

#[test]
fn the_yaml_sample_as_a_cib_passes_crm_verify() {
    let cluster = yaml::parse(SAMPLE).unwrap();
    let xml = cib::write::write(&cluster).unwrap();
    assert_crm_verify(&xml);
}

#[test]
fn a_cib_through_yaml_and_back_is_the_same_model() {
    let cluster = cib::parse(CIB).unwrap();
    let text = yaml::write(&cluster).unwrap();
    let back = cib::parse(&cib::write::write(&yaml::parse(&text).unwrap()).unwrap()).unwrap();
    // Quorum is status, which the YAML format does not hold; the CIB here has it.
    let mut expected = cluster;
    expected.have_quorum = back.have_quorum;
    assert_eq!(config(&expected), config(&back), "{text}");
}

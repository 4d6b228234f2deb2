//! Promotion scores as placement preferences, on CIBs written for these tests (the expected
//! summaries are what Debian's crm_simulate 2.1.5 prints for them).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]

mod support;

use support::summary;

/// A promotable clone (clone-max 2) of db, stopped; master-db is 5 on n2 and 10 on n3.
const ANONYMOUS: &str = r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/><node id="3" uname="n3"/></nodes>
<resources><clone id="db-clone"><meta_attributes id="dbm"><nvpair id="dbm1" name="promotable" value="true"/><nvpair id="dbm2" name="clone-max" value="2"/></meta_attributes>
<primitive id="db" class="ocf" provider="pacemaker" type="Stateful"/></clone></resources>
<constraints/></configuration><status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"></node_state><node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"><transient_attributes id="2"><instance_attributes id="t2"><nvpair id="t2p" name="master-db" value="5"/></instance_attributes></transient_attributes></node_state><node_state id="3" uname="n3" in_ccm="true" crmd="online" join="member" expected="member"><transient_attributes id="3"><instance_attributes id="t3"><nvpair id="t3p" name="master-db" value="10"/></instance_attributes></transient_attributes></node_state></status></cib>"#;

/// A globally unique promotable clone (clone-max 2) of db, stopped; master-db:0 is 10 on n1
/// and 30 on n2, master-db:1 100 on n1 and 300 on n2.
const UNIQUE: &str = r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><clone id="db-clone"><meta_attributes id="dbm"><nvpair id="dbm1" name="promotable" value="true"/><nvpair id="dbm2" name="clone-max" value="2"/><nvpair id="dbm3" name="globally-unique" value="true"/></meta_attributes>
<primitive id="db" class="ocf" provider="pacemaker" type="Stateful"/></clone></resources>
<constraints/></configuration><status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"><transient_attributes id="1"><instance_attributes id="t1"><nvpair id="t1a" name="master-db:0" value="10"/><nvpair id="t1b" name="master-db:1" value="100"/></instance_attributes></transient_attributes></node_state><node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"><transient_attributes id="2"><instance_attributes id="t2"><nvpair id="t2a" name="master-db:0" value="30"/><nvpair id="t2b" name="master-db:1" value="300"/></instance_attributes></transient_attributes></node_state></status></cib>"#;

#[test]
fn instances_are_placed_where_they_may_be_promoted() {
    assert_eq!(
        summary(ANONYMOUS),
        [
            "* Promote db:0 ( Stopped -> Promoted n3 )",
            "* Start db:1 ( n2 )"
        ]
    );
}

#[test]
fn the_instance_preferring_its_node_more_is_placed_first() {
    assert_eq!(
        summary(UNIQUE),
        [
            "* Start db:0 ( n1 )",
            "* Promote db:1 ( Stopped -> Promoted n2 )"
        ]
    );
}

#[test]
fn the_promotion_scores_show_in_the_instances_allocation_scores() {
    let cluster = lifeboat_crm::cib::parse(ANONYMOUS).unwrap();
    let t = lifeboat_crm::schedule(&cluster, 0);
    let text = lifeboat_crm::output::scores_text(&t.working);
    for line in [
        "pcmk__clone_allocate: db:0 allocation score on n2: 5",
        "pcmk__clone_allocate: db:0 allocation score on n3: 10",
        "pcmk__primitive_assign: db:1 allocation score on n3: -INFINITY",
    ] {
        assert!(text.contains(line), "{line} not in\n{text}");
    }
}

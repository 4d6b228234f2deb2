//! How clone instances are assigned (their order, their own target-role) and listed, on CIBs
//! written for these tests (the expected summaries are what Debian's crm_simulate 2.1.5 prints).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]

mod support;

use lifeboat_crm::output::View;
use support::summary;

/// web:0 runs on n1, which the clone may no longer use; web:1 is stopped.
const STRANDED: &str = r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/><node id="3" uname="n3"/></nodes>
<resources><clone id="c"><meta_attributes id="cm"><nvpair id="cm1" name="clone-max" value="2"/></meta_attributes>
<primitive id="web" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="wm"><nvpair id="wm1" name="migration-threshold" value="1"/></meta_attributes>
<operations><op id="web-mon" name="monitor" interval="10s"/></operations></primitive></clone></resources>
<constraints><rsc_location id="not-n1" rsc="c" node="n1" score="-INFINITY"/></constraints></configuration><status>
<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">

<lrm id="1"><lrm_resources><lrm_resource id="web" class="ocf" provider="heartbeat" type="Dummy">
<lrm_rsc_op id="web_last_0" operation="start" call-id="3" rc-code="0" op-status="0" interval="0" transition-key="1:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>

</lrm_resource></lrm_resources></lrm></node_state>
<node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/>
<node_state id="3" uname="n3" in_ccm="true" crmd="online" join="member" expected="member"/>
</status></cib>"#;

#[test]
fn an_instance_whose_node_bans_it_is_assigned_after_the_others() {
    // web:1 takes the first free node (n2), the stranded web:0 the next one.
    assert_eq!(
        summary(STRANDED),
        ["* Move web:0 ( n1 -> n3 )", "* Start web:1 ( n2 )"]
    );
}

/// Clone c is disabled (target-role Stopped) and runs web on n1 and n2; `CHILD_META` goes
/// into web.
const DISABLED_CLONE: &str = r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><clone id="c"><meta_attributes id="cm"><nvpair id="cm1" name="target-role" value="Stopped"/></meta_attributes>
<primitive id="web" class="ocf" provider="heartbeat" type="Dummy">CHILD_META</primitive></clone>
<primitive id="other" class="ocf" provider="heartbeat" type="Dummy"/></resources>
<constraints/></configuration><status>
<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
<lrm id="1"><lrm_resources><lrm_resource id="web" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="web_last_0" operation="start" call-id="3" rc-code="0" op-status="0" interval="0" transition-key="3:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource></lrm_resources></lrm></node_state>
<node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member">
<lrm id="2"><lrm_resources><lrm_resource id="web" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="web_last_0" operation="start" call-id="3" rc-code="0" op-status="0" interval="0" transition-key="3:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource><lrm_resource id="other" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="other_last_0" operation="start" call-id="4" rc-code="0" op-status="0" interval="0" transition-key="4:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource></lrm_resources></lrm></node_state>
</status></cib>"#;

#[test]
fn a_disabled_clone_stops_its_instances() {
    let xml = DISABLED_CLONE.replace("CHILD_META", "");
    assert_eq!(
        summary(&xml),
        [
            "* Stop web:0 ( n1 ) due to node availability",
            "* Stop web:1 ( n2 ) due to node availability",
        ]
    );
}

#[test]
fn the_primitives_own_target_role_overrides_the_clones() {
    let started = r#"<meta_attributes id="wm"><nvpair id="wm1" name="target-role" value="Started"/></meta_attributes>"#;
    let xml = DISABLED_CLONE.replace("CHILD_META", started);
    assert!(summary(&xml).is_empty());
}

#[test]
fn a_clone_at_clone_max_lists_no_stopped_nodes() {
    // Clone c (clone-max 1) runs web on n1; n2 and n3 are free.
    let one_of_three = STRANDED
        .replace(
            r#"name="clone-max" value="2""#,
            r#"name="clone-max" value="1""#,
        )
        .replace(
            r#"<rsc_location id="not-n1" rsc="c" node="n1" score="-INFINITY"/>"#,
            "",
        );
    let cluster = lifeboat_crm::cib::parse(&one_of_three).unwrap();
    let t = lifeboat_crm::schedule(&cluster, 0);
    let text = lifeboat_crm::output::status_text(&cluster, &t.working, View::Revised);
    assert!(text.contains("* Started: [ n1 ]"), "{text}");
    assert!(!text.contains("Stopped"), "{text}");
    // Below clone-max, the allowed nodes without an instance are listed.
    let two = one_of_three.replace(
        r#"name="clone-max" value="1""#,
        r#"name="clone-max" value="2""#,
    );
    let cluster = lifeboat_crm::cib::parse(&two).unwrap();
    let t = lifeboat_crm::schedule(&cluster, 0);
    let text = lifeboat_crm::output::status_text(&cluster, &t.working, View::Current);
    assert!(text.contains("* Stopped: [ n2 n3 ]"), "{text}");
}

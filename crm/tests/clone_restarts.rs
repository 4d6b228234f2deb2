//! What a clone's instance stopping or restarting does to what is ordered after the clone, on
//! CIBs written for these tests (the expected summaries are what Debian's crm_simulate 2.1.5
//! prints for them).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]

mod support;

use support::summary;

/// A then B (interleaved) then dummy; A is banned from n1, where a:0, b:0 and dummy run.
const PARTNER_LEAVES: &str = r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><primitive id="dummy" class="ocf" provider="heartbeat" type="Dummy"/>
<clone id="A"><primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/></clone>
<clone id="B"><meta_attributes id="bm"><nvpair id="bm1" name="interleave" value="true"/></meta_attributes><primitive id="b" class="ocf" provider="heartbeat" type="Dummy"/></clone></resources>
<constraints><rsc_order id="a-b" first="A" then="B"/><rsc_order id="b-dummy" first="B" then="dummy"/>
<rsc_location id="ban-a" rsc="A" node="n1" score="-INFINITY"/></constraints></configuration><status>
<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
<lrm id="1"><lrm_resources><lrm_resource id="a" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="a_last_0" operation="start" call-id="3" rc-code="0" op-status="0" interval="0" transition-key="3:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource><lrm_resource id="b" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="b_last_0" operation="start" call-id="4" rc-code="0" op-status="0" interval="0" transition-key="4:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource><lrm_resource id="dummy" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="dummy_last_0" operation="start" call-id="5" rc-code="0" op-status="0" interval="0" transition-key="5:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource></lrm_resources></lrm></node_state>
<node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member">
<lrm id="2"><lrm_resources><lrm_resource id="a" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="a_last_0" operation="start" call-id="3" rc-code="0" op-status="0" interval="0" transition-key="3:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource><lrm_resource id="b" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="b_last_0" operation="start" call-id="4" rc-code="0" op-status="0" interval="0" transition-key="4:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource></lrm_resources></lrm></node_state>
</status></cib>"#;

/// Clone c (web on n1, n2) then dummy (on n1); web's start on n1 has another digest.
const INSTANCE_RESTARTS: &str = r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><primitive id="dummy" class="ocf" provider="heartbeat" type="Dummy"/><clone id="c"><primitive id="web" class="ocf" provider="heartbeat" type="Dummy"/></clone></resources>
<constraints><rsc_order id="ord1" first="c" then="dummy"/></constraints></configuration><status>
<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
<lrm id="1"><lrm_resources><lrm_resource id="web" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="web_last_0" operation="start" call-id="3" rc-code="0" op-status="0" interval="0" transition-key="3:1:0:x" op-digest="00000000000000000000000000000000"/></lrm_resource><lrm_resource id="dummy" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="dummy_last_0" operation="start" call-id="4" rc-code="0" op-status="0" interval="0" transition-key="4:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource></lrm_resources></lrm></node_state>
<node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member">
<lrm id="2"><lrm_resources><lrm_resource id="web" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="web_last_0" operation="start" call-id="3" rc-code="0" op-status="0" interval="0" transition-key="3:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource></lrm_resources></lrm></node_state>

</status></cib>"#;

/// Clone c (web on n1, n2; n3 free) then dummy (on n1).
const CLONE_GROWS: &str = r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/><node id="3" uname="n3"/></nodes>
<resources><primitive id="dummy" class="ocf" provider="heartbeat" type="Dummy"/><clone id="c"><primitive id="web" class="ocf" provider="heartbeat" type="Dummy"/></clone></resources>
<constraints><rsc_order id="ord1" first="c" then="dummy"/></constraints></configuration><status>
<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
<lrm id="1"><lrm_resources><lrm_resource id="web" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="web_last_0" operation="start" call-id="3" rc-code="0" op-status="0" interval="0" transition-key="3:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource><lrm_resource id="dummy" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="dummy_last_0" operation="start" call-id="4" rc-code="0" op-status="0" interval="0" transition-key="4:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource></lrm_resources></lrm></node_state>
<node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member">
<lrm id="2"><lrm_resources><lrm_resource id="web" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="web_last_0" operation="start" call-id="3" rc-code="0" op-status="0" interval="0" transition-key="3:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource></lrm_resources></lrm></node_state>
<node_state id="3" uname="n3" in_ccm="true" crmd="online" join="member" expected="member"/>
</status></cib>"#;

#[test]
fn an_interleaved_instance_stops_with_its_partner_and_what_follows_restarts() {
    assert_eq!(
        summary(PARTNER_LEAVES),
        [
            "* Restart dummy ( n1 ) due to required B running",
            "* Stop a:0 ( n1 ) due to node availability",
            "* Stop b:0 ( n1 )",
        ]
    );
}

#[test]
fn an_instance_restarting_in_place_restarts_what_follows_the_clone() {
    assert_eq!(
        summary(INSTANCE_RESTARTS),
        [
            "* Restart dummy ( n1 ) due to required c running",
            "* Restart web:0 ( n1 ) due to resource definition change",
        ]
    );
}

#[test]
fn a_new_instance_leaves_what_follows_alone() {
    assert_eq!(summary(CLONE_GROWS), ["* Start web:2 ( n3 )"]);
}

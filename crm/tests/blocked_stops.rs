//! Stops that cannot run because an unmanaged member after them cannot stop, on CIBs written
//! for these tests (the expected summaries are what Debian's crm_simulate 2.1.5 prints).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]

mod support;

use support::summary;

/// Group g: a (stopped), b and c running, c unmanaged.
const UNMANAGED_LAST: &str = r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/></nodes>
<resources><group id="g"><primitive id="a" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="a-mon" name="monitor" interval="10s"/></operations></primitive><primitive id="b" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="b-mon" name="monitor" interval="10s"/></operations></primitive><primitive id="c" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="c-mon" name="monitor" interval="10s" /></operations><meta_attributes id="cm"><nvpair id="cm1" name="is-managed" value="false"/></meta_attributes></primitive></group></resources>
<constraints/></configuration><status>
<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
<lrm id="1"><lrm_resources><lrm_resource id="a" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="a_last_0" operation="monitor" call-id="1" rc-code="7" op-status="0" interval="0" transition-key="1:1:7:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource><lrm_resource id="b" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="b_last_0" operation="start" call-id="3" rc-code="0" op-status="0" interval="0" transition-key="3:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource><lrm_resource id="c" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="c_last_0" operation="start" call-id="4" rc-code="0" op-status="0" interval="0" transition-key="4:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource></lrm_resources></lrm></node_state>
</status></cib>"#;

/// Group g: a (stopped), b, c and d running, d unmanaged.
const UNMANAGED_AFTER_TWO: &str = r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/></nodes>
<resources><group id="g"><primitive id="a" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="a-mon" name="monitor" interval="10s"/></operations></primitive><primitive id="b" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="b-mon" name="monitor" interval="10s"/></operations></primitive><primitive id="c" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="c-mon" name="monitor" interval="10s" /></operations></primitive><primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="dm"><nvpair id="dm1" name="is-managed" value="false"/></meta_attributes></primitive></group></resources>
<constraints/></configuration><status>
<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
<lrm id="1"><lrm_resources><lrm_resource id="a" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="a_last_0" operation="monitor" call-id="1" rc-code="7" op-status="0" interval="0" transition-key="1:1:7:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource><lrm_resource id="b" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="b_last_0" operation="start" call-id="3" rc-code="0" op-status="0" interval="0" transition-key="3:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource><lrm_resource id="c" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="c_last_0" operation="start" call-id="4" rc-code="0" op-status="0" interval="0" transition-key="4:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource><lrm_resource id="d" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="d_last_0" operation="start" call-id="5" rc-code="0" op-status="0" interval="0" transition-key="5:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource></lrm_resources></lrm></node_state>
</status></cib>"#;

#[test]
fn a_restart_waiting_for_an_unmanaged_stop_is_a_blocked_stop() {
    assert_eq!(
        summary(UNMANAGED_LAST),
        [
            "* Start a ( n1 )",
            "* Stop b ( n1 ) due to unrunnable c stop (blocked)"
        ]
    );
}

#[test]
fn the_members_between_say_which_stop_required_theirs() {
    assert_eq!(
        summary(UNMANAGED_AFTER_TWO),
        [
            "* Start a ( n1 )",
            "* Stop b ( n1 ) due to unrunnable c stop (blocked)",
            "* Stop c ( n1 ) due to required b stop (blocked)",
        ]
    );
}

#[test]
fn the_blocked_members_keep_running() {
    let cluster = lifeboat_crm::cib::parse(UNMANAGED_AFTER_TWO).unwrap();
    let t = lifeboat_crm::schedule(&cluster, 0);
    for id in ["b", "c", "d"] {
        let p = t.working.rscs.iter().position(|r| r.id == id).unwrap();
        assert_eq!(
            lifeboat_crm::scheduler::revised(&t.working, p).len(),
            1,
            "{id}"
        );
    }
}

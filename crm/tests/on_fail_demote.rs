//! A promoted instance whose monitor fails with on-fail=demote, on a CIB written for these
//! tests (the expected summaries are what Debian's crm_simulate 2.1.5 prints for it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]

mod support;

use support::summary;

/// db:0 is promoted on n1, where its promoted monitor failed (on-fail=demote); db:1 runs
/// unpromoted on n2.
const FAILED_PROMOTED: &str = r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><clone id="db-clone"><meta_attributes id="dbm"><nvpair id="dbm1" name="promotable" value="true"/></meta_attributes>
<primitive id="db" class="ocf" provider="pacemaker" type="Stateful"><operations>
<op id="db-mon-p" name="monitor" interval="10s" role="Promoted" on-fail="demote"/>
<op id="db-mon-u" name="monitor" interval="11s" role="Unpromoted"/></operations></primitive></clone></resources>
<constraints></constraints></configuration><status>
<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
<transient_attributes id="1"><instance_attributes id="s1"><nvpair id="s1p" name="master-db" value="10"/><nvpair id="s1f" name="fail-count-db#monitor_10000" value="1"/></instance_attributes></transient_attributes>
<lrm id="1"><lrm_resources><lrm_resource id="db" class="ocf" provider="pacemaker" type="Stateful">
<lrm_rsc_op id="db_last_0" operation="promote" call-id="4" rc-code="0" op-status="0" interval="0" transition-key="4:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
<lrm_rsc_op last-rc-change="100" id="db_monitor_10000" operation="monitor" call-id="5" rc-code="8" op-status="0" interval="10000" transition-key="5:1:8:x"/>
<lrm_rsc_op last-rc-change="200" id="db_last_failure_0" operation_key="db_monitor_10000" operation="monitor" call-id="5" rc-code="7" op-status="0" interval="10000" transition-key="5:1:8:x"/>
</lrm_resource></lrm_resources></lrm></node_state>
<node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member">
<transient_attributes id="2"><instance_attributes id="s2"><nvpair id="s2p" name="master-db" value="5"/></instance_attributes></transient_attributes>
<lrm id="2"><lrm_resources><lrm_resource id="db" class="ocf" provider="pacemaker" type="Stateful">
<lrm_rsc_op id="db_last_0" operation="start" call-id="3" rc-code="0" op-status="0" interval="0" transition-key="3:1:0:x" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
</lrm_resource></lrm_resources></lrm></node_state>
</status></cib>"#;

#[test]
fn it_is_demoted_and_promoted_again_where_it_stays_promoted() {
    assert_eq!(
        summary(FAILED_PROMOTED),
        ["* Re-promote db:0 ( Promoted n1 )"]
    );
}

#[test]
fn it_is_only_demoted_where_it_may_no_longer_be_promoted() {
    let banned = FAILED_PROMOTED.replace(
        "<constraints></constraints>",
        r#"<constraints><rsc_location id="no-promote-n1" rsc="db-clone" node="n1" role="Promoted" score="-INFINITY"/></constraints>"#,
    );
    assert_eq!(
        summary(&banned),
        [
            "* Demote db:0 ( Promoted -> Unpromoted n1 )",
            "* Promote db:1 ( Unpromoted -> Promoted n2 )",
        ]
    );
}

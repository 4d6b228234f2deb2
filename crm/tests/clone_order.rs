//! The order clone instances are assigned in, on a CIB written for this test (the expected
//! summary is what Debian's crm_simulate 2.1.5 prints for it).

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on the first surprise"
)]

use lifeboat_crm::output::summary_line;

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
    let cluster = lifeboat_crm::cib::parse(STRANDED).unwrap();
    let t = lifeboat_crm::schedule(&cluster, 0);
    let got: Vec<String> = t
        .changes
        .iter()
        .map(|c| summary_line(c).split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    // web:1 takes the first free node (n2), the stranded web:0 the next one.
    assert_eq!(got, ["* Move web:0 ( n1 -> n3 )", "* Start web:1 ( n2 )"]);
}

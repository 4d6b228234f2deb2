//! The scheduler on small CIBs written for these tests: each asserts one rule's effect on the
//! transition summary.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on the first surprise"
)]

use lifeboat_crm::output::summary_line;

fn cib(options: &str, quorum: bool, node1_attrs: &str, rsc_meta: &str, history1: &str) -> String {
    format!(
        r#"<cib have-quorum="{q}"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/>{options}</cluster_property_set></crm_config>
<nodes><node id="1" uname="n1">{node1_attrs}</node><node id="2" uname="n2"/></nodes>
<resources><primitive id="web" class="ocf" provider="heartbeat" type="Dummy">
<meta_attributes id="m">{rsc_meta}</meta_attributes>
<operations><op id="web-mon" name="monitor" interval="10s"/></operations></primitive></resources>
<constraints/></configuration><status>
<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
<transient_attributes id="1"><instance_attributes id="s1">{fail}</instance_attributes></transient_attributes>
<lrm id="1"><lrm_resources><lrm_resource id="web" class="ocf" provider="heartbeat" type="Dummy">{history1}
</lrm_resource></lrm_resources></lrm></node_state>
<node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/>
</status></cib>"#,
        q = if quorum { 1 } else { 0 },
        fail = if history1.contains("rc-code=\"7\" op-status=\"0\" interval=\"10000\"") {
            r#"<nvpair id="f" name="fail-count-web#monitor_10000" value="1"/>"#
        } else {
            ""
        },
    )
}

const RUNNING: &str = r#"<lrm_rsc_op id="web_last_0" operation="start" call-id="3" rc-code="0" op-status="0" interval="0" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8" transition-key="1:1:0:x"/>
<lrm_rsc_op id="web_monitor_10000" operation="monitor" call-id="4" rc-code="0" op-status="0" interval="10000" transition-key="2:1:0:x"/>"#;
const FAILED: &str = r#"<lrm_rsc_op id="web_last_0" operation="start" call-id="3" rc-code="0" op-status="0" interval="0" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8" transition-key="1:1:0:x"/>
<lrm_rsc_op id="web_last_failure_0" operation="monitor" call-id="4" rc-code="7" op-status="0" interval="10000" transition-key="2:1:0:x"/>"#;

fn summary(xml: &str) -> Vec<String> {
    let cluster = lifeboat_crm::cib::parse(xml).unwrap();
    let t = lifeboat_crm::schedule(&cluster, 0);
    t.changes
        .iter()
        .map(|c| {
            summary_line(c)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn a_running_resource_stays_put() {
    assert!(summary(&cib("", true, "", "", RUNNING)).is_empty());
}

#[test]
fn standby_moves_resources_away() {
    let standby = r#"<instance_attributes id="a"><nvpair id="sb" name="standby" value="on"/></instance_attributes>"#;
    assert_eq!(
        summary(&cib("", true, standby, "", RUNNING)),
        ["* Move web ( n1 -> n2 )"]
    );
}

#[test]
fn a_failed_monitor_is_recovered_in_place() {
    assert_eq!(
        summary(&cib("", true, "", "", FAILED)),
        ["* Recover web ( n1 )"]
    );
}

#[test]
fn migration_threshold_moves_the_failed_resource() {
    let meta = r#"<nvpair id="mt" name="migration-threshold" value="1"/>"#;
    assert_eq!(
        summary(&cib("", true, "", meta, FAILED)),
        ["* Recover web ( n1 -> n2 )"]
    );
}

#[test]
fn without_quorum_resources_stop() {
    assert_eq!(
        summary(&cib("", false, "", "", RUNNING)),
        ["* Stop web ( n1 ) due to no quorum"]
    );
}

#[test]
fn target_role_stopped_stops_it() {
    let meta = r#"<nvpair id="tr" name="target-role" value="Stopped"/>"#;
    assert_eq!(
        summary(&cib("", true, "", meta, RUNNING)),
        ["* Stop web ( n1 ) due to node availability"]
    );
}

#[test]
fn malformed_xml_is_an_error() {
    let err = lifeboat_crm::cib::parse("<cib><configuration>").unwrap_err();
    assert!(err.to_string().starts_with("parse CIB XML"), "{err}");
}

#[test]
fn an_op_without_a_name_names_its_id() {
    let xml =
        cib("", true, "", "", RUNNING).replace(r#"id="web-mon" name="monitor""#, r#"id="web-mon""#);
    let err = lifeboat_crm::cib::parse(&xml).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"read <op id="web-mon">: attribute name is missing"#
    );
}

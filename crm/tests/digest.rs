//! Parameter digests and instance histories, on CIBs written for these tests (the expected
//! summaries are what Debian's crm_simulate 2.1.5 prints for the same CIBs).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]

use lifeboat_crm::model::Attrs;
mod support;

use lifeboat_crm::scheduler::params_digest;
use support::summary;

/// A group `app` (web, then db) running on n1; `params` are web's instance attributes and
/// `web_op` the extra attributes of web's start in the history.
fn cib(params: &[(&str, &str)], web_op: &str) -> String {
    let nvpairs: String = params
        .iter()
        .map(|(k, v)| format!(r#"<nvpair id="web-{k}" name="{k}" value="{v}"/>"#))
        .collect();
    let none = params_digest(&Attrs::new());
    format!(
        r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><group id="app"><primitive id="web" class="ocf" provider="heartbeat" type="Dummy">
<instance_attributes id="web-ia">{nvpairs}</instance_attributes></primitive>
<primitive id="db" class="ocf" provider="heartbeat" type="Dummy"/></group></resources>
<constraints/></configuration><status>
<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
<lrm id="1"><lrm_resources><lrm_resource id="web" class="ocf" provider="heartbeat" type="Dummy">
<lrm_rsc_op id="web_last_0" operation="start" call-id="3" rc-code="0" op-status="0" interval="0" transition-key="1:1:0:x" crm_feature_set="3.16.2" {web_op}/>
</lrm_resource><lrm_resource id="db" class="ocf" provider="heartbeat" type="Dummy">
<lrm_rsc_op id="db_last_0" operation="start" call-id="4" rc-code="0" op-status="0" interval="0" transition-key="2:1:0:x" op-digest="{none}"/>
</lrm_resource></lrm_resources></lrm></node_state>
<node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/>
</status></cib>"#
    )
}

fn digest(params: &[(&str, &str)]) -> String {
    let attrs: Attrs = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    params_digest(&attrs)
}

const STATE: &[(&str, &str)] = &[("state", "/run/web")];
const OLD_STATE: &[(&str, &str)] = &[("state", "/run/old")];

#[test]
fn the_digest_is_pacemakers() {
    // Values crm_simulate logs for these parameters (sorted by name, as one XML element).
    assert_eq!(
        params_digest(&Attrs::new()),
        "f2317cad3d54cec5d7d7aa7d0bf35cf8"
    );
    assert_eq!(digest(STATE), "13a082328f0b6d3846cfd0991462a8e4");
    let two = [("state", "/run/web"), ("passwd", "secret")];
    assert_eq!(digest(&two), "0a0cec2616632765a8c71de28af900b4");
}

#[test]
fn unchanged_parameters_leave_it_alone() {
    let op = format!(r#"op-digest="{}""#, digest(STATE));
    assert!(summary(&cib(STATE, &op)).is_empty());
}

#[test]
fn changed_parameters_restart_it_and_what_follows() {
    let op = format!(r#"op-digest="{}""#, digest(OLD_STATE));
    assert_eq!(
        summary(&cib(STATE, &op)),
        [
            "* Restart web ( n1 ) due to resource definition change",
            "* Restart db ( n1 ) due to required web start",
        ]
    );
}

#[test]
fn a_history_without_a_digest_restarts_it() {
    assert_eq!(
        summary(&cib(STATE, ""))[0],
        "* Restart web ( n1 ) due to resource definition change"
    );
}

#[test]
fn a_reloadable_change_reloads_it() {
    let op = format!(
        r#"op-digest="{d}" op-force-restart=" state " op-restart-digest="{d}""#,
        d = digest(STATE)
    );
    let more = [("state", "/run/web"), ("delay", "5")];
    assert_eq!(summary(&cib(&more, &op)), ["* Reload web ( n1 )"]);
}

#[test]
fn a_change_of_a_restart_parameter_restarts_it() {
    let op = format!(
        r#"op-digest="{d}" op-force-restart=" state " op-restart-digest="{d}""#,
        d = digest(OLD_STATE)
    );
    assert_eq!(
        summary(&cib(STATE, &op))[0],
        "* Restart web ( n1 ) due to resource definition change"
    );
}

#[test]
fn a_masked_secret_is_no_change() {
    let masked = [("passwd", "****"), ("state", "/run/web")];
    let op = format!(
        r#"op-digest="{}" op-secure-params=" passwd " op-secure-digest="{}""#,
        digest(&[("passwd", "secret"), ("state", "/run/web")]),
        digest(STATE)
    );
    assert!(summary(&cib(&masked, &op)).is_empty());
}

#[test]
fn a_second_history_of_an_anonymous_instance_is_an_orphan() {
    let none = params_digest(&Attrs::new());
    let op = |rsc: &str, call: u32| {
        format!(
            r#"<lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="{rsc}_last_0" operation="start" call-id="{call}" rc-code="0" op-status="0" interval="0" transition-key="{call}:1:0:x" op-digest="{none}"/></lrm_resource>"#
        )
    };
    let history = [op("a:0", 3), op("a:1", 4), op("b:0", 5), op("b:1", 6)].concat();
    let xml = format!(
        r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><clone id="c"><meta_attributes id="cm"><nvpair id="cm1" name="clone-max" value="2"/></meta_attributes><group id="g">
<primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/><primitive id="b" class="ocf" provider="heartbeat" type="Dummy"/></group></clone></resources>
<constraints/></configuration><status>
<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
<lrm id="1"><lrm_resources>{history}</lrm_resources></lrm></node_state>
<node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/>
</status></cib>"#
    );
    let mut got = summary(&xml);
    got.sort();
    assert_eq!(
        got,
        [
            "* Start a:1 ( n2 )",
            "* Start b:1 ( n2 )",
            "* Stop a:2 ( n1 ) due to node availability",
            "* Stop b:2 ( n1 ) due to node availability",
        ]
    );
}

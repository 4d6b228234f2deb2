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
use support::{config, crm_verify};

/// A cluster with one of each thing the writer knows: node attributes, every resource kind,
/// ops with roles, timeouts and on-fail, constraints with roles and kinds, defaults, a value
/// that needs escaping.
const CIB: &str = r#"<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1">
  <configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="true"/><nvpair id="o2" name="no-quorum-policy" value="stop"/></cluster_property_set></crm_config>
    <nodes>
      <node id="1" uname="ctl1"><instance_attributes id="n1"><nvpair id="n1-s" name="standby" value="off"/></instance_attributes></node>
      <node id="2" uname="ctl2"/>
    </nodes>
    <resources>
      <primitive id="fence-ctl1" class="stonith" type="fence_ipmilan">
        <instance_attributes id="f1"><nvpair id="f1-ip" name="ip" value="10.0.1.1"/><nvpair id="f1-pw" name="password" value="a&lt;b&amp;&quot;c"/></instance_attributes>
      </primitive>
      <primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">
        <instance_attributes id="vip-ia"><nvpair id="vip-ia-ip" name="ip" value="10.0.0.10"/></instance_attributes>
        <meta_attributes id="vip-m"><nvpair id="vip-m-st" name="resource-stickiness" value="100"/></meta_attributes>
        <operations>
          <op id="vip-mon" name="monitor" interval="10s" timeout="20s" on-fail="restart"/>
          <op id="vip-start" name="start" interval="0" timeout="1500ms"/>
        </operations>
      </primitive>
      <group id="api">
        <meta_attributes id="api-m"><nvpair id="api-m-tr" name="target-role" value="Started"/></meta_attributes>
        <primitive id="keystone" class="systemd" type="openstack-keystone"/>
        <primitive id="glance" class="lsb" type="glance"/>
      </group>
      <clone id="galera-clone">
        <meta_attributes id="gc-m"><nvpair id="gc-m-p" name="promotable" value="true"/><nvpair id="gc-m-pm" name="promoted-max" value="1"/></meta_attributes>
        <primitive id="galera" class="ocf" provider="heartbeat" type="galera">
          <operations>
            <op id="galera-mon-p" name="monitor" interval="10s" role="Promoted"/>
            <op id="galera-mon-u" name="monitor" interval="20s" role="Unpromoted" enabled="false"/>
          </operations>
        </primitive>
      </clone>
      <master id="redis-master"><primitive id="redis" class="ocf" provider="heartbeat" type="redis"/></master>
    </resources>
    <constraints>
      <rsc_location id="vip-on-ctl1" rsc="vip" node="ctl1" score="50"/>
      <rsc_location id="galera-not-ctl2" rsc="galera-clone" node="ctl2" score="-INFINITY" role="Promoted"/>
      <rsc_colocation id="vip-with-galera" rsc="vip" with-rsc="galera-clone" with-rsc-role="Promoted" score="INFINITY"/>
      <rsc_order id="galera-then-api" first="galera-clone" first-action="promote" then="api" then-action="start"/>
      <rsc_order id="vip-then-api" first="vip" then="api" kind="Optional"/>
      <rsc_order id="redis-api" first="redis-master" then="api" kind="Serialize"/>
    </constraints>
    <rsc_defaults><meta_attributes id="rd"><nvpair id="rd-st" name="resource-stickiness" value="1"/></meta_attributes></rsc_defaults>
    <op_defaults><meta_attributes id="od"><nvpair id="od-t" name="timeout" value="60s"/></meta_attributes></op_defaults>
  </configuration>
  <status/>
</cib>"#;

#[test]
fn the_input_itself_passes_crm_verify() {
    // Guards the test: a failure below is the writer's, not the fixture's.
    crm_verify(CIB).unwrap();
}

#[test]
fn the_written_cib_passes_crm_verify() {
    let cluster = cib::parse(CIB).unwrap();
    let xml = cib::write::write(&cluster).unwrap();
    if let Err(out) = crm_verify(&xml) {
        panic!("crm_verify refused the written CIB:\n{out}\n{xml}");
    }
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

//! What the crm crate's integration tests share: Pacemaker's own `crm_verify`, and a way to
//! compare models.

#![allow(dead_code, reason = "each test binary uses a part")]

use std::process::Command;

use lifeboat_crm::model::Cluster;

/// A cluster with one of each thing the writer knows: node attributes, every resource kind,
/// ops with roles, timeouts and on-fail, constraints with roles and kinds, defaults, a value
/// that needs escaping.
pub const CIB: &str = r#"<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1">
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

/// Fails the test with crm_verify's words (and the document) unless it accepts `xml`.
pub fn assert_crm_verify(xml: &str) {
    if let Err(out) = crm_verify(xml) {
        panic!("crm_verify refused the CIB:\n{out}\n{xml}");
    }
}

/// Runs Pacemaker's `crm_verify --xml-file` on `xml`; Err holds its output.
pub fn crm_verify(xml: &str) -> Result<(), String> {
    let dir = tempfile_dir();
    let path = dir.join("cib.xml");
    std::fs::write(&path, xml).unwrap();
    let out = Command::new("crm_verify")
        .arg("-VV")
        .arg("--xml-file")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "run crm_verify ({e}): apt-get install pacemaker-cli-utils (scripts/setup/crm.sh)"
            )
        });
    std::fs::remove_dir_all(&dir).ok();
    if out.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // A configuration has no status: Pacemaker sees nodes it never heard of and, with
    // stonith-enabled, plans to fence them at start-up (or notes it has no quorum yet). Those
    // warnings are about the missing runtime state, not the configuration; any other warning
    // or error fails.
    let unexpected: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("warning:") || l.contains("error:"))
        .filter(|l| {
            let startup_fencing =
                l.contains("warning: Scheduling node ") && l.ends_with(" for fencing");
            let no_quorum_yet = l.contains(
                "warning: Fencing and resource management disabled due to lack of quorum",
            );
            !startup_fencing && !no_quorum_yet
        })
        .collect();
    if !text.contains("Warnings found") || !unexpected.is_empty() {
        return Err(text);
    }
    Ok(())
}

fn tempfile_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "lifeboat-crm-write-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The configuration part of the model, comparable (the model has no PartialEq).
pub fn config(c: &Cluster) -> String {
    let mut c = c.clone();
    c.status = Default::default();
    format!("{c:#?}")
}

/// The digest of an agent's parameters when it has none, as Pacemaker records it: with it,
/// crm_simulate reads the same history as the scheduler does (without, it would restart
/// everything "due to resource definition change").
const DIGEST: &str = "f2317cad3d54cec5d7d7aa7d0bf35cf8";

/// A two-node cluster (fencing on) with `resources` and `constraints`, and `history` as the
/// `lrm_resources` of each node: `(node, [(rsc, class:provider:type, running)])`.
pub fn cluster(resources: &str, constraints: &str, history: &[(&str, &[(&str, bool)])]) -> String {
    let mut status = String::new();
    for (i, (node, rscs)) in history.iter().enumerate() {
        let mut lrm = String::new();
        for (call, (rsc, running)) in rscs.iter().enumerate() {
            let (class, provider, agent) = if *rsc == "fence" {
                ("stonith", "", "fence_dummy")
            } else {
                ("ocf", " provider=\"pacemaker\"", "Dummy")
            };
            let (op, rc) = if *running {
                ("start", 0)
            } else {
                ("monitor", 7)
            };
            lrm.push_str(&format!(
                r#"<lrm_resource id="{rsc}" class="{class}"{provider} type="{agent}"><lrm_rsc_op id="{rsc}_last_0" operation="{op}" call-id="{call}" rc-code="{rc}" op-status="0" interval="0" op-digest="{DIGEST}" transition-key="{call}:1:0:x"/></lrm_resource>"#
            ));
        }
        status.push_str(&format!(
            r#"<node_state id="{id}" uname="{node}" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="{id}"><lrm_resources>{lrm}</lrm_resources></lrm></node_state>"#,
            id = i + 1
        ));
    }
    format!(
        r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="true"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><primitive id="fence" class="stonith" type="fence_dummy"/>{resources}</resources>
<constraints>{constraints}</constraints></configuration><status>{status}</status></cib>"#
    )
}

pub fn dummy(id: &str) -> String {
    format!(r#"<primitive id="{id}" class="ocf" provider="pacemaker" type="Dummy"/>"#)
}

pub fn summary(xml: &str) -> Vec<String> {
    let cluster = lifeboat_crm::cib::parse(xml).expect("the test CIB parses");
    let t = lifeboat_crm::schedule(&cluster, 0);
    t.changes
        .iter()
        .map(|c| {
            lifeboat_crm::output::summary_line(c)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

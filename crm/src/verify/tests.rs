//! The bad-input table: each CIB is the valid one below with one mistake, and the message must
//! name the element, the id and the attribute at fault.

use super::*;

/// A small valid cluster: two nodes, a VIP, a group, a promotable clone, one of each
/// constraint.
pub(crate) const VALID: &str = r#"<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config><cluster_property_set id="opts"><nvpair id="opts-stonith" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="ctl1"/><node id="2" uname="ctl2"/></nodes>
    <resources>
      <primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">
        <instance_attributes id="vip-ia"><nvpair id="vip-ia-ip" name="ip" value="10.0.0.10"/></instance_attributes>
        <meta_attributes id="vip-meta"><nvpair id="vip-meta-st" name="resource-stickiness" value="100"/></meta_attributes>
        <operations><op id="vip-mon" name="monitor" interval="10s" timeout="20s"/></operations>
      </primitive>
      <group id="api">
        <primitive id="keystone" class="systemd" type="openstack-keystone"/>
        <primitive id="glance" class="systemd" type="openstack-glance-api"/>
      </group>
      <clone id="galera-clone">
        <meta_attributes id="galera-clone-meta"><nvpair id="galera-clone-meta-p" name="promotable" value="true"/></meta_attributes>
        <primitive id="galera" class="ocf" provider="heartbeat" type="galera"/>
      </clone>
    </resources>
    <constraints>
      <rsc_location id="vip-prefers-ctl1" rsc="vip" node="ctl1" score="50"/>
      <rsc_colocation id="api-with-vip" rsc="api" with-rsc="vip" score="INFINITY"/>
      <rsc_order id="galera-then-api" first="galera-clone" then="api"/>
      <rsc_order id="vip-then-api" first="vip" then="api" kind="Mandatory"/>
      <rsc_colocation id="set-colo" score="INFINITY">
        <resource_set id="set-colo-0"><resource_ref id="keystone"/><resource_ref id="vip"/></resource_set>
      </rsc_colocation>
    </constraints>
  </configuration>
  <status/>
</cib>"#;

fn with(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "{from} is not in the valid CIB");
    VALID.replacen(from, to, 1)
}

/// (what, the broken CIB, what the message must contain).
fn table() -> Vec<(&'static str, String, Vec<&'static str>)> {
    vec![
        (
            "malformed XML",
            with("</resources>", "</resource>"),
            vec!["parse CIB XML"],
        ),
        (
            "unknown class",
            with(
                r#"class="systemd" type="openstack-keystone""#,
                r#"class="sytemd" type="openstack-keystone""#,
            ),
            vec![r#"<primitive id="keystone">"#, r#"class="sytemd""#],
        ),
        (
            "ocf agent without a provider",
            with(
                r#"class="ocf" provider="heartbeat" type="galera""#,
                r#"class="ocf" type="galera""#,
            ),
            vec![r#"<primitive id="galera">"#, "provider"],
        ),
        (
            "a provider on a systemd agent",
            with(
                r#"class="systemd" type="openstack-glance-api""#,
                r#"class="systemd" provider="heartbeat" type="openstack-glance-api""#,
            ),
            vec![r#"<primitive id="glance">"#, r#"provider="heartbeat""#],
        ),
        (
            "an agent name that is a path",
            with(r#"type="IPaddr2""#, r#"type="../IPaddr2""#),
            vec![r#"<primitive id="vip">"#, r#"type="../IPaddr2""#],
        ),
        (
            "location naming no resource",
            with(r#"rsc="vip" node="ctl1""#, r#"rsc="vipp" node="ctl1""#),
            vec![
                r#"<rsc_location id="vip-prefers-ctl1">"#,
                r#"rsc="vipp""#,
                "no resource",
            ],
        ),
        (
            "location naming no node",
            with(r#"node="ctl1" score="50""#, r#"node="ctl9" score="50""#),
            vec![
                r#"<rsc_location id="vip-prefers-ctl1">"#,
                r#"node="ctl9""#,
                "no node",
            ],
        ),
        (
            "colocation naming no resource",
            with(
                r#"with-rsc="vip" score="INFINITY"/>"#,
                r#"with-rsc="vip2" score="INFINITY"/>"#,
            ),
            vec![
                r#"<rsc_colocation id="api-with-vip">"#,
                r#"with-rsc="vip2""#,
            ],
        ),
        (
            "order naming no resource",
            with(r#"first="galera-clone""#, r#"first="galera-master""#),
            vec![
                r#"<rsc_order id="galera-then-api">"#,
                r#"first="galera-master""#,
            ],
        ),
        (
            "resource set naming no resource",
            with(
                r#"<resource_ref id="keystone"/>"#,
                r#"<resource_ref id="nova"/>"#,
            ),
            vec![
                r#"<resource_set id="set-colo-0">"#,
                r#"resource_ref="nova""#,
            ],
        ),
        (
            "constraint score",
            with(r#"score="50""#, r#"score="fifty""#),
            vec![
                r#"<rsc_location id="vip-prefers-ctl1">"#,
                r#"score="fifty""#,
                "not a score",
            ],
        ),
        (
            "stickiness",
            with(
                r#"name="resource-stickiness" value="100""#,
                r#"name="resource-stickiness" value="high""#,
            ),
            vec![r#"<primitive id="vip">"#, r#"resource-stickiness="high""#],
        ),
        (
            "order cycle through a group",
            with(
                "</constraints>",
                r#"<rsc_order id="api-then-galera" first="keystone" then="galera"/></constraints>"#,
            ),
            vec![
                r#"<rsc_order id=""#,
                "cycle",
                "galera start",
                "keystone start",
            ],
        ),
        (
            "misspelt order kind",
            with(r#"kind="Mandatory""#, r#"kind="Mandatroy""#),
            vec![
                r#"<rsc_order id="vip-then-api">"#,
                r#"kind="Mandatroy""#,
                "not an order kind",
            ],
        ),
        (
            "misspelt role",
            with(
                r#"score="INFINITY"/>"#,
                r#"score="INFINITY" with-rsc-role="Primary"/>"#,
            ),
            vec![
                r#"<rsc_colocation id="api-with-vip">"#,
                r#"with-rsc-role="Primary""#,
            ],
        ),
        (
            "duplicate resource id",
            with(r#"<primitive id="glance""#, r#"<primitive id="keystone""#),
            vec![r#"<primitive id="keystone">"#, "already used"],
        ),
        (
            "constraint id used by an nvpair",
            with(
                r#"<rsc_order id="vip-then-api""#,
                r#"<rsc_order id="vip-ia-ip""#,
            ),
            vec![r#"<rsc_order id="vip-ia-ip">"#, "attribute id", "<nvpair>"],
        ),
        (
            "duplicate node id",
            with(r#"<node id="2""#, r#"<node id="1""#),
            vec![r#"<node id="1">"#, "already used"],
        ),
        (
            "missing required attribute",
            with(r#"<op id="vip-mon" name="monitor""#, r#"<op id="vip-mon""#),
            vec![r#"<op id="vip-mon">"#, "name"],
        ),
    ]
}

#[test]
fn the_valid_cib_passes() {
    let cluster = verify_cib(VALID).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cluster.resources.len(), 3);
}

#[test]
fn each_bad_cib_is_refused_naming_element_id_and_attribute() {
    for (what, cib, needles) in table() {
        let Err(problems) = verify_cib(&cib) else {
            panic!("{what}: accepted");
        };
        let text = problems.to_string();
        for needle in needles {
            assert!(text.contains(needle), "{what}: {needle:?} not in {text:?}");
        }
    }
}

#[test]
fn an_order_cycle_without_groups_names_the_order_that_closes_it() {
    let cib = with(
        "</constraints>",
        r#"<rsc_order id="api-then-vip" first="api" then="vip"/></constraints>"#,
    );
    let text = verify_cib(&cib)
        .err()
        .map(|p| p.to_string())
        .unwrap_or_default();
    assert!(text.contains("cycle"), "{text}");
    assert!(
        text.contains("api-then-vip") || text.contains("vip-then-api"),
        "{text}"
    );
}

#[test]
fn an_order_cycle_through_a_resource_set_is_found() {
    let cib = with(
        "</constraints>",
        r#"<rsc_order id="set-order"><resource_set id="set-order-0"><resource_ref id="api"/><resource_ref id="galera-clone"/></resource_set></rsc_order></constraints>"#,
    );
    let text = verify_cib(&cib)
        .err()
        .map(|p| p.to_string())
        .unwrap_or_default();
    assert!(text.contains("cycle"), "{text}");
    // Without the sequence inside the set, nothing waits for anything.
    let loose = cib.replace(
        r#"<resource_set id="set-order-0">"#,
        r#"<resource_set id="set-order-0" sequential="false">"#,
    );
    assert!(verify_cib(&loose).is_ok(), "{:?}", verify_cib(&loose).err());
}

#[test]
fn optional_and_asymmetric_orders_make_no_cycle() {
    // Optional orders only order what happens anyway: a loop of them is not a deadlock.
    let cib = with(
        "</constraints>",
        r#"<rsc_order id="api-then-vip" first="api" then="vip" kind="Optional"/></constraints>"#,
    );
    assert!(verify_cib(&cib).is_ok());
    // A start-then-stop pair is not a cycle either.
    let cib = with(
        "</constraints>",
        r#"<rsc_order id="api-stop-vip" first="api" first-action="stop" then="vip" then-action="stop" symmetrical="false"/></constraints>"#,
    );
    assert!(verify_cib(&cib).is_ok(), "{:?}", verify_cib(&cib).err());
}

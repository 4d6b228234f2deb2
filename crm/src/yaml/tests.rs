//! The YAML format: the sample reads into the model it says, the one-line forms mean what the
//! long forms mean, bad documents are refused naming the entry and field, and the writer's
//! output reads back into the same model.

use super::*;
use crate::model::{Cluster, OrderKind, ResourceKind, Role, Score};

const SAMPLE: &str = include_str!("../../../etc/crm/openstack-control-plane.yaml");

fn config(c: &Cluster) -> String {
    format!("{c:#?}")
}

#[test]
fn the_sample_reads_into_the_model_it_describes() {
    let c = parse(SAMPLE).unwrap_or_else(|e| panic!("{e}"));
    crate::verify::verify_model(&c).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        c.nodes
            .iter()
            .map(|n| (n.id.as_str(), n.uname.as_str()))
            .collect::<Vec<_>>(),
        [("1", "ctl1"), ("2", "ctl2"), ("3", "ctl3")]
    );
    assert_eq!(c.option("stonith-enabled"), Some("true"));
    assert_eq!(
        c.rsc_defaults
            .get("resource-stickiness")
            .map(String::as_str),
        Some("100")
    );
    let galera = c.resources.iter().find(|r| r.id == "galera-clone").unwrap();
    assert_eq!(
        galera.meta.get("promotable").map(String::as_str),
        Some("true")
    );
    let ResourceKind::Clone(inner) = &galera.kind else {
        panic!("{galera:?}")
    };
    let ResourceKind::Primitive(p) = &inner.kind else {
        panic!("{inner:?}")
    };
    assert_eq!(
        (p.class.as_str(), p.provider.as_deref(), p.agent.as_str()),
        ("ocf", Some("heartbeat"), "galera")
    );
    let promoted_monitor = p
        .ops
        .iter()
        .find(|o| o.role == Some(Role::Promoted))
        .unwrap();
    assert_eq!(
        (promoted_monitor.interval_ms, promoted_monitor.timeout_ms),
        (10_000, Some(30_000))
    );
    assert_eq!(promoted_monitor.id, "galera-monitor-interval-10s");
    let promote = p.ops.iter().find(|o| o.name == "promote").unwrap();
    assert_eq!(promote.on_fail.as_deref(), Some("block"));
    let vips = c.resources.iter().find(|r| r.id == "vips").unwrap();
    let ResourceKind::Group(members) = &vips.kind else {
        panic!("{vips:?}")
    };
    assert_eq!(
        members.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["vip-public", "vip-internal"]
    );
}

#[test]
fn one_line_constraints_mean_what_they_say() {
    let c = parse(SAMPLE).unwrap();
    let avoid = &c.locations[0];
    assert_eq!(
        (avoid.rsc.as_str(), avoid.node.as_deref(), avoid.score),
        ("fence-ctl1", Some("ctl1"), Score::NEG_INF)
    );
    assert_eq!(avoid.id, "location-fence-ctl1-ctl1--INFINITY");
    assert_eq!(c.locations[3].score, Score(50));
    let colo = &c.colocations[0];
    assert_eq!(
        (colo.rsc.as_str(), colo.with_rsc.as_str(), colo.score),
        ("vips", "haproxy-clone", Score::INF)
    );
    let optional = &c.orders[0];
    assert_eq!(optional.kind, OrderKind::Optional);
    let promote = &c.orders[1];
    assert_eq!(
        (promote.first_action.as_str(), promote.then_action.as_str()),
        ("promote", "start")
    );
    assert!(promote.symmetrical);
    let roles = parse(
        "locations: [\"db:Promoted avoids ctl2 100\"]\ncolocations: [\"vip with db:Promoted\"]",
    )
    .unwrap();
    assert_eq!(
        (roles.locations[0].role, roles.locations[0].score),
        (Some(Role::Promoted), Score(-100))
    );
    assert_eq!(roles.colocations[0].with_role, Some(Role::Promoted));
}

#[test]
fn bad_documents_are_refused_naming_entry_and_field() {
    let cases: &[(&str, &[&str])] = &[
        (
            "resources: [{primitive: vip, agent: ocf:IPaddr2}]",
            &[r#"<primitive id="vip">"#, "agent", "ocf:provider:type"],
        ),
        (
            "resources: [{primitive: vip}]",
            &[r#"<primitive id="vip">"#, "agent"],
        ),
        (
            "resources: [{primitive: vip, group: g, agent: lsb:x}]",
            &["resources[0]", "exactly one"],
        ),
        ("resources: [{clone: c}]", &[r#"<clone id="c">"#, "of"]),
        (
            "resources: [{group: g, agent: lsb:x}]",
            &[r#"<group id="g">"#, "agent"],
        ),
        (
            "resources: [{primitive: vip, agent: lsb:x, ops: [{name: monitor, interval: often}]}]",
            &["vip", "interval", "often"],
        ),
        (
            "resources: [{primitive: vip, agent: lsb:x, agnt: y}]",
            &["parse YAML", "agnt"],
        ),
        (
            "locations: [{rsc: vip, node: ctl1, score: lots}]",
            &[r#"<location id="vip">"#, "score", "lots"],
        ),
        (
            "locations: [\"vip likes ctl1\"]",
            &["location", "vip likes ctl1"],
        ),
        (
            "orders: [{first: a, then: b, kind: Sometimes}]",
            &["order", "kind", "Sometimes"],
        ),
        (
            "colocations: [{rsc: a, with: b, rsc-role: Boss}]",
            &["colocation", "rsc-role", "Boss"],
        ),
        ("nodes: [ctl1\n", &["parse YAML"]),
    ];
    for (yaml, needles) in cases {
        let Err(e) = parse(yaml) else {
            panic!("accepted: {yaml}")
        };
        let text = e.to_string();
        for needle in *needles {
            assert!(text.contains(needle), "{yaml}: {needle:?} not in {text:?}");
        }
    }
}

#[test]
fn meaning_errors_come_from_verify_with_the_element() {
    let yaml = "nodes: [ctl1]\nresources: [{primitive: vip, agent: sytemd:x}]\norders: [\"vip then api\"]\nlocations: [\"vip prefers ctl9\"]";
    let c = parse(yaml).unwrap();
    let text = crate::verify::verify_model(&c).unwrap_err().to_string();
    for needle in [
        r#"<primitive id="vip">: attribute class="sytemd""#,
        r#"<rsc_order id="order-vip-api-mandatory">: attribute then="api" names no resource"#,
        r#"node="ctl9" names no node"#,
    ] {
        assert!(text.contains(needle), "{needle:?} not in {text}");
    }
}

#[test]
fn the_written_yaml_reads_back_into_the_same_model() {
    let c = parse(SAMPLE).unwrap();
    let yaml = write(&c).unwrap();
    let again = parse(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert_eq!(config(&c), config(&again), "{yaml}");
    // The short forms are used where they lose nothing.
    assert!(yaml.contains("- fence-ctl1 avoids ctl1"), "{yaml}");
    assert!(
        yaml.contains("- galera-clone:promote then haproxy-clone:start"),
        "{yaml}"
    );
    assert!(yaml.contains("promotable: galera-clone"), "{yaml}");
    assert!(
        !yaml.contains("interval-10s"),
        "derived op ids are left out:\n{yaml}"
    );
}

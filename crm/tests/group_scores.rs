//! A group's location constraints in the allocation scores, on a CIB written for this test
//! (the expected lines are what Debian's crm_simulate 2.1.5 `--show-scores` prints for it).

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on the first surprise"
)]

/// Group g (a, b), 50 on n1 and -INFINITY on n2.
const GROUP_LOCATED: &str = r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><group id="g"><primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/><primitive id="b" class="ocf" provider="heartbeat" type="Dummy"/></group></resources>
<constraints><rsc_location id="g-n1" rsc="g" node="n1" score="50"/><rsc_location id="g-not-n2" rsc="g" node="n2" score="-INFINITY"/></constraints></configuration><status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/><node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/></status></cib>"#;

#[test]
fn a_groups_location_counts_once_for_its_first_member() {
    let cluster = lifeboat_crm::cib::parse(GROUP_LOCATED).unwrap();
    let t = lifeboat_crm::schedule(&cluster, 0);
    let mut got: Vec<String> = lifeboat_crm::output::scores_text(&t.working)
        .lines()
        .filter(|l| l.contains("allocation score"))
        .map(str::to_string)
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "pcmk__group_assign: a allocation score on n1: 50",
            "pcmk__group_assign: a allocation score on n2: -INFINITY",
            "pcmk__group_assign: b allocation score on n1: 0",
            "pcmk__group_assign: b allocation score on n2: 0",
            "pcmk__group_assign: g allocation score on n1: 50",
            "pcmk__group_assign: g allocation score on n2: -INFINITY",
            "pcmk__primitive_assign: a allocation score on n1: 50",
            "pcmk__primitive_assign: a allocation score on n2: -INFINITY",
            "pcmk__primitive_assign: b allocation score on n1: 0",
            "pcmk__primitive_assign: b allocation score on n2: -INFINITY",
        ]
    );
}

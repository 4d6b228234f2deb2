//! `lifeboat crm verify` and `lifeboat crm config export` as an operator runs them: exit codes,
//! the messages naming the element at fault, and conversions that keep the model. (That the
//! written CIB passes Pacemaker's own `crm_verify` is tested in crm/tests/convert.rs, on the
//! same writer the command prints with.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/etc/crm/openstack-control-plane.yaml"
);

fn lifeboat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lifeboat"))
        .args(["crm"])
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// A scratch directory removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("lifeboat-crm-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn export(file: &Path, format: &str) -> String {
    let out = lifeboat(&["config", "export", file.to_str().unwrap(), "--as", format]);
    assert!(
        out.status.success(),
        "export --as {format}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The configuration part of a model (the model has no PartialEq).
fn config(xml: &str) -> String {
    let mut c = lifeboat_crm::cib::parse(xml).unwrap();
    c.status = Default::default();
    format!("{c:#?}")
}

#[test]
fn export_prints_the_sample_as_the_cib_the_writer_makes() {
    let cluster = lifeboat_crm::yaml::parse(&std::fs::read_to_string(SAMPLE).unwrap()).unwrap();
    let expected = lifeboat_crm::cib::write::write(&cluster).unwrap();
    assert_eq!(export(Path::new(SAMPLE), "xml"), expected);
}

#[test]
fn xml_to_yaml_to_xml_is_the_same_model() {
    let scratch = Scratch::new("roundtrip");
    let first = scratch.file("first.xml", &export(Path::new(SAMPLE), "xml"));
    let yaml = scratch.file("back.yaml", &export(&first, "yaml"));
    let again = export(&yaml, "xml");
    assert_eq!(
        config(&std::fs::read_to_string(&first).unwrap()),
        config(&again)
    );
    // Both say nothing is wrong.
    for (flag, path) in [("--xml-file", &first), ("--yaml-file", &yaml)] {
        let out = lifeboat(&["verify", flag, path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(
            (text(&out.stdout), text(&out.stderr)),
            (String::new(), String::new())
        );
    }
}

#[test]
fn bad_input_exits_non_zero_naming_the_element_and_prints_nothing() {
    let scratch = Scratch::new("bad");
    let cib = export(Path::new(SAMPLE), "xml");
    let cases: &[(&str, String, &[&str])] = &[
        ("malformed.xml", cib.replace("</resources>", ""), &["parse CIB XML"]),
        (
            "class.xml",
            cib.replace(r#"class="systemd" type="haproxy""#, r#"class="systemdd" type="haproxy""#),
            &[r#"<primitive id="haproxy">"#, r#"class="systemdd""#],
        ),
        (
            "dangling.xml",
            cib.replace(r#"rsc="vips" with-rsc="haproxy-clone""#, r#"rsc="vips" with-rsc="nginx-clone""#),
            &[r#"<rsc_colocation id="colocation-vips-haproxy-clone-INFINITY">"#, r#"with-rsc="nginx-clone""#],
        ),
        (
            "score.xml",
            cib.replace(r#"score="50""#, r#"score="much""#),
            &[r#"<rsc_location id="location-vips-ctl1-50">"#, r#"score="much""#],
        ),
        (
            "cycle.xml",
            cib.replace(
                "</constraints>",
                r#"<rsc_order id="haproxy-then-rabbitmq" first="haproxy-clone" then="rabbitmq-clone"/></constraints>"#,
            ),
            &["<rsc_order id=", "cycle", "rabbitmq-clone start", "haproxy-clone start"],
        ),
        (
            "duplicate.xml",
            cib.replace(r#"<primitive id="vip-internal""#, r#"<primitive id="vip-public""#),
            &[r#"<primitive id="vip-public">"#, "already used"],
        ),
        ("agent.yaml", "resources: [{primitive: vip, agent: ocf:IPaddr2}]".into(), &[r#"<primitive id="vip">"#, "agent"]),
        (
            "dangling.yaml",
            "nodes: [ctl1]\nresources: [{primitive: vip, agent: ocf:heartbeat:IPaddr2}]\norders: [\"vip then haproxy\"]".into(),
            &[r#"<rsc_order id="order-vip-haproxy-mandatory">"#, r#"then="haproxy""#],
        ),
        ("malformed.yaml", "nodes: [ctl1\n".into(), &["parse YAML"]),
    ];
    for (name, content, needles) in cases {
        let path = scratch.file(name, content);
        let path = path.to_str().unwrap();
        let flag = if name.ends_with(".xml") {
            "--xml-file"
        } else {
            "--yaml-file"
        };
        for args in [
            vec!["verify", flag, path],
            vec!["config", "export", path, "--as", "yaml"],
        ] {
            let out = lifeboat(&args);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{name} {args:?}: {err}");
            assert!(
                out.stdout.is_empty(),
                "{name} {args:?}: printed {}",
                text(&out.stdout)
            );
            for needle in *needles {
                assert!(
                    err.contains(needle),
                    "{name} {args:?}: {needle:?} not in {err}"
                );
            }
            assert!(
                err.starts_with(path),
                "{name}: the message names the file: {err}"
            );
        }
    }
}

use super::*;

fn env(dir: &std::path::Path) -> ToolEnv {
    ToolEnv {
        attributes_dir: Some(dir.to_path_buf()),
        node: Some("node1".into()),
        resource_instance: Some("stateful:0".into()),
    }
}

fn run(program: &str, args: &[&str], env: &ToolEnv) -> ToolOutput {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    run_tool(program, &args, env).expect("a tool name")
}

#[test]
fn promotion_scores_as_stateful_sets_them() {
    let dir = tempfile::tempdir().unwrap();
    let e = env(dir.path());
    let store = AttributeStore::new(dir.path());
    assert_eq!(
        run("/x/crm_attribute", &["--promotion", "-v", "5"], &e).code,
        0
    );
    assert_eq!(
        store
            .get(Lifetime::Reboot, "node1", "master-stateful:0")
            .unwrap()
            .as_deref(),
        Some("5")
    );
    let q = run("crm_attribute", &["-p", "-G"], &e);
    assert_eq!(q.stdout, "scope=status  name=master-stateful:0 value=5\n");
    let q = run("crm_attribute", &["--promotion=other", "-G", "-q"], &e);
    assert_eq!(q.code, 105, "another resource's score is not set");
    assert!(q.stderr.contains("No such device or address"));
    assert_eq!(run("crm_attribute", &["--promotion", "-D"], &e).code, 0);
    assert_eq!(run("crm_attribute", &["-p", "-Gq"], &e).code, 105);
}

#[test]
fn crm_master_defaults_to_forever_and_takes_the_resource() {
    let dir = tempfile::tempdir().unwrap();
    let e = env(dir.path());
    let store = AttributeStore::new(dir.path());
    assert_eq!(run("crm_master", &["-l", "reboot", "-v", "10"], &e).code, 0);
    assert_eq!(run("crm_master", &["-v", "3", "-r", "db"], &e).code, 0);
    let get = |l, n: &str| store.get(l, "node1", n).unwrap();
    assert_eq!(
        get(Lifetime::Reboot, "master-stateful:0").as_deref(),
        Some("10")
    );
    assert_eq!(get(Lifetime::Forever, "master-db").as_deref(), Some("3"));
    let q = run("crm_master", &["-G", "-q", "-r", "db"], &e);
    assert_eq!((q.code, q.stdout.as_str()), (0, "3\n"));
    let none = ToolEnv {
        resource_instance: None,
        ..e
    };
    let out = run("crm_master", &["-v", "1"], &none);
    assert_eq!(out.code, 64);
    assert!(out.stderr.contains("no resource given"), "{}", out.stderr);
}

#[test]
fn node_attributes_with_every_spelling_of_the_options() {
    let dir = tempfile::tempdir().unwrap();
    let e = env(dir.path());
    let set = run(
        "crm_attribute",
        &["--node", "node2", "--name=location", "--update", "office"],
        &e,
    );
    assert_eq!(set.code, 0, "{}", set.stderr);
    let q = run("crm_attribute", &["-Nnode2", "-n", "location", "-G"], &e);
    assert_eq!(q.stdout, "scope=nodes  name=location value=office\n");
    let q = run(
        "crm_attribute",
        &["-l", "reboot", "-n", "location", "-G"],
        &e,
    );
    assert_eq!(q.code, 105, "node1's status section has none");
    let q = run(
        "crm_attribute",
        &["-N", "node2", "-n", "x", "-G", "-d", "dflt", "-q"],
        &e,
    );
    assert_eq!(q.stdout, "dflt\n");
    assert_eq!(
        run(
            "crm_attribute",
            &["-N", "node2", "-n", "location", "-D"],
            &e
        )
        .code,
        0
    );
    let q = run(
        "crm_attribute",
        &["-N", "node2", "-n", "location", "-G"],
        &e,
    );
    assert_eq!(q.code, 105);
}

#[test]
fn what_is_not_served_is_refused_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let e = env(dir.path());
    let usage = |args: &[&str]| {
        let out = run("crm_attribute", args, &e);
        assert_eq!(out.code, 64, "{args:?}");
        out.stderr
    };
    assert!(usage(&["-n", "stonith-enabled", "-v", "false"]).contains("cluster options"));
    assert!(usage(&["-t", "crm_config", "-n", "x", "-G"]).contains("not a lifetime"));
    assert!(usage(&["-v"]).contains("needs a value"));
    assert!(usage(&["--colour"]).contains("unknown option --colour"));
    assert!(usage(&["-G", "extra"]).contains("unexpected argument"));
    assert!(usage(&["-G"]).contains("no attribute given"));
    let unset = ToolEnv {
        attributes_dir: None,
        ..e.clone()
    };
    let out = run("crm_attribute", &["-p", "-v", "1"], &unset);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains(ATTRIBUTES_DIR_VAR));
    assert!(run_tool("lifeboat", &[], &e).is_none());
}

#[test]
fn crm_node_names_the_local_node() {
    let e = env(std::path::Path::new("/nonexistent"));
    assert_eq!(run("crm_node", &["-n"], &e).stdout, "node1\n");
    assert_eq!(run("crm_node", &["--name"], &e).stdout, "node1\n");
    assert_eq!(run("crm_node", &["-l"], &e).code, 64);
    let env = ToolEnv::from_lookup(|k| (k == NODE_VAR).then(|| "n9".to_owned()));
    assert_eq!(env.node.as_deref(), Some("n9"));
    assert_eq!(env.attributes_dir, None);
}

#[test]
fn the_tool_directory_links_every_tool_to_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let sbin = dir.path().join("sbin");
    install_links(&sbin, Path::new("/usr/bin/true")).unwrap();
    install_links(&sbin, Path::new("/usr/bin/lifeboat")).unwrap();
    for name in TOOL_NAMES {
        let target = std::fs::read_link(sbin.join(name)).unwrap();
        assert_eq!(target, Path::new("/usr/bin/lifeboat"), "{name} replaced");
    }
}

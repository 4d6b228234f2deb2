//! Loading masakarimonitors.conf files, the checks across options, and the committed sample.

use super::*;

fn load(text: &str) -> Result<LoadedMonitors, Vec<ConfigError>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("masakarimonitors.conf");
    std::fs::write(&path, text).unwrap();
    MonitorsConfig::load(&[path], Vec::new())
}

/// The errors loading `text` gives, one a line.
fn errors_of(text: &str) -> String {
    load(text)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_masakarimonitors_conf_loads_as_is() {
    let loaded = load(
        "[DEFAULT]\nhost = compute-1\n[api]\nauth_type = none\nendpoint = http://127.0.0.1:15868/v1\n\
         [host]\nmonitoring_driver = default\nmonitoring_samples = 2\ncorosync_multicast_interfaces = eth0,eth1\n\
         [process]\nprocess_list_path = /tmp/pl.yaml\nrestart_retries = 1\n\
         [introspectiveinstancemonitor]\nguest_monitoring_interval = 5\n[libvirt]\nconnection_uri = test:///default\n",
    )
    .unwrap();
    let c = &loaded.config;
    assert_eq!(c.hostname(), "compute-1");
    assert_eq!(c.host.monitoring_samples, 2);
    assert_eq!(c.host.corosync_multicast_interfaces, vec!["eth0", "eth1"]);
    assert_eq!(c.process.restart_retries, 1);
    assert_eq!(c.libvirt.connection_uri, "test:///default");
    assert_eq!(
        c.introspective.guest_monitoring_interval.0,
        std::time::Duration::from_secs(5)
    );
    assert!(!c.introspective.enabled);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn the_guest_agent_heartbeat_options_are_masakaris_and_checked() {
    let c = load("[api]\nauth_type = none\nendpoint = http://x/v1\n")
        .unwrap()
        .config;
    let g = &c.introspective;
    assert_eq!(
        g.guest_monitoring_timeout.0,
        std::time::Duration::from_secs(2)
    );
    assert_eq!(g.guest_monitoring_failure_threshold, 3);
    assert!(matches!(
        crate::instance::agent_channels(&g.qemu_guest_agent_sock_path).unwrap(),
        crate::instance::AgentChannels::SocketPath(_)
    ));
    let any = load(
        "[api]\nauth_type = none\nendpoint = http://x/v1\n\
         [introspectiveinstancemonitor]\nqemu_guest_agent_sock_path =\n",
    )
    .unwrap()
    .config;
    assert!(matches!(
        crate::instance::agent_channels(&any.introspective.qemu_guest_agent_sock_path),
        Ok(crate::instance::AgentChannels::AnyAgent)
    ));
    let errors = errors_of(
        "[api]\nauth_type = none\nendpoint = http://x/v1\n[introspectiveinstancemonitor]\n\
         enabled = true\nguest_monitoring_failure_threshold = 0\nqemu_guest_agent_sock_path = (\n",
    );
    assert!(
        errors.contains("failure_threshold") && errors.contains("regex"),
        "{errors}"
    );
}

#[test]
fn incomplete_api_credentials_are_refused_with_the_missing_options() {
    let errors = load("[api]\nauth_type = password\nusername = u\npassword = hunter2\n")
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(errors.contains("auth_url"), "{errors}");
    assert!(!errors.contains("hunter2"));
    let errors = load("[api]\nauth_type = admin_token\nendpoint = http://x/v1\n").unwrap_err();
    assert!(errors[0].to_string().contains("token"), "{errors:?}");
    let errors = load("[api]\nauth_type = none\n[process]\ncheck_interval = soon\n").unwrap_err();
    let text = errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        text.contains("check_interval") && text.contains("endpoint"),
        "{text}"
    );
}

#[test]
fn each_agent_has_its_own_metrics_listener_and_bad_addresses_are_named() {
    let api = "[api]\nauth_type = none\nendpoint = http://x/v1\n";
    let c = load(&format!(
        "{api}[metrics]\nhostmonitor_listen = 127.0.0.1:9105\nprocessmonitor_listen = [::1]:9106\n"
    ))
    .unwrap()
    .config;
    assert_eq!(
        c.metrics_listen("hostmonitor"),
        Some("127.0.0.1:9105".parse().unwrap())
    );
    assert_eq!(
        c.metrics_listen("processmonitor"),
        Some("[::1]:9106".parse().unwrap())
    );
    assert_eq!(c.metrics_listen("instancemonitor"), None);
    let off = load(api).unwrap().config;
    assert_eq!(off.metrics_listen("hostmonitor"), None, "off by default");
    let errors = errors_of(&format!(
        "{api}[metrics]\nhostmonitor_listen = 127.0.0.1\nprocessmonitor_listen = 0.0.0.0:9\n\
         instancemonitor_listen = 0.0.0.0:9\n"
    ));
    assert!(
        errors.contains("[metrics] hostmonitor_listen = 127.0.0.1: not an address:port"),
        "{errors}"
    );
    assert!(
        errors.contains("instancemonitor_listen = 0.0.0.0:9: processmonitor_listen has it"),
        "{errors}"
    );
}

#[test]
fn the_committed_sample_is_current() {
    let committed = include_str!("../../../etc/lifeboat-monitors.conf.sample");
    assert_eq!(
        MonitorsConfig::sample(),
        committed,
        "etc/lifeboat-monitors.conf.sample is stale: regenerate it with \
         `lifeboat manage config sample --monitors > etc/lifeboat-monitors.conf.sample`"
    );
}

//! `lifeboat manage policy sample`: every policy rule with its default, what it guards and the
//! calls it is checked on, as `oslopolicy-sample-generator` writes a sample policy file (YAML,
//! every rule commented out, so the file as written changes nothing).

use crate::policy::default_rules;

/// What a rule guards, and the calls it is checked on.
fn describe(rule: &str) -> (&'static str, &'static [&'static str]) {
    match rule {
        "context_is_admin" => ("Decides who is an administrator (`is_admin:True`).", &[]),
        "admin_or_owner" => (
            "An administrator, or a member of the target's project.",
            &[],
        ),
        "admin_api" => ("Administrators only: the default of every rule below.", &[]),
        "instance_ha_monitor" => (
            "The role a monitor agent's service user has: it may post notifications and \
             nothing else.",
            &[],
        ),
        "os_masakari_api:extensions:index" => {
            ("Lists the API extensions.", &["GET /v1/extensions"])
        }
        "os_masakari_api:extensions:detail" => (
            "Shows one API extension.",
            &["GET /v1/extensions/{extension_id}"],
        ),
        "os_masakari_api:segments:index" => ("Lists failover segments.", &["GET /v1/segments"]),
        "os_masakari_api:segments:detail" => (
            "Shows a failover segment.",
            &["GET /v1/segments/{segment_id}"],
        ),
        "os_masakari_api:segments:create" => {
            ("Creates a failover segment.", &["POST /v1/segments"])
        }
        "os_masakari_api:segments:update" => (
            "Changes a failover segment.",
            &["PUT /v1/segments/{segment_id}"],
        ),
        "os_masakari_api:segments:delete" => (
            "Deletes a failover segment.",
            &["DELETE /v1/segments/{segment_id}"],
        ),
        "os_masakari_api:os-hosts:index" => (
            "Lists a segment's hosts.",
            &["GET /v1/segments/{segment_id}/hosts"],
        ),
        "os_masakari_api:os-hosts:detail" => (
            "Shows a host.",
            &["GET /v1/segments/{segment_id}/hosts/{host_id}"],
        ),
        "os_masakari_api:os-hosts:create" => (
            "Adds a host to a segment.",
            &["POST /v1/segments/{segment_id}/hosts"],
        ),
        "os_masakari_api:os-hosts:update" => (
            "Changes a host (maintenance, reserved, …).",
            &["PUT /v1/segments/{segment_id}/hosts/{host_id}"],
        ),
        "os_masakari_api:os-hosts:delete" => (
            "Removes a host from its segment.",
            &["DELETE /v1/segments/{segment_id}/hosts/{host_id}"],
        ),
        "os_masakari_api:os-hosts:power" => (
            "Switches a host's power through its fence devices (off, on, reboot; microversion \
             1.5).",
            &["POST /v1/segments/{segment_id}/hosts/{host_id}/action"],
        ),
        "os_masakari_api:os-hosts:power:status" => (
            "Reads a host's power state through its fence devices (microversion 1.5); the \
             hostmonitor's power check needs it.",
            &["POST /v1/segments/{segment_id}/hosts/{host_id}/action"],
        ),
        "os_masakari_api:fence-devices:index" => (
            "Lists a host's fence devices (microversion 1.5).",
            &["GET /v1/segments/{segment_id}/hosts/{host_id}/fence_devices"],
        ),
        "os_masakari_api:fence-devices:detail" => (
            "Shows a fence device (never its password).",
            &["GET /v1/segments/{segment_id}/hosts/{host_id}/fence_devices/{device_id}"],
        ),
        "os_masakari_api:fence-devices:create" => (
            "Adds a fence device to a host.",
            &["POST /v1/segments/{segment_id}/hosts/{host_id}/fence_devices"],
        ),
        "os_masakari_api:fence-devices:update" => (
            "Changes a fence device.",
            &["PUT /v1/segments/{segment_id}/hosts/{host_id}/fence_devices/{device_id}"],
        ),
        "os_masakari_api:fence-devices:delete" => (
            "Removes a fence device.",
            &["DELETE /v1/segments/{segment_id}/hosts/{host_id}/fence_devices/{device_id}"],
        ),
        "os_masakari_api:fence-history:index" => (
            "Lists a host's fence attempts, newest first.",
            &["GET /v1/segments/{segment_id}/hosts/{host_id}/fence_history"],
        ),
        "os_masakari_api:notifications:index" => {
            ("Lists notifications.", &["GET /v1/notifications"])
        }
        "os_masakari_api:notifications:detail" => (
            "Shows a notification and its recovery steps.",
            &["GET /v1/notifications/{notification_id}"],
        ),
        "os_masakari_api:notifications:create" => (
            "Reports a failure (what monitor agents do).",
            &["POST /v1/notifications"],
        ),
        "os_masakari_api:notifications:action" => (
            "Cancels or retries a notification.",
            &["POST /v1/notifications/{notification_id}/action"],
        ),
        "os_masakari_api:vmoves:index" => (
            "Lists the instance moves of a host recovery.",
            &["GET /v1/notifications/{notification_id}/vmoves"],
        ),
        "os_masakari_api:vmoves:detail" => (
            "Shows one instance move.",
            &["GET /v1/notifications/{notification_id}/vmoves/{vmove_id}"],
        ),
        "os_masakari_api:versions:index" => ("Lists the API versions.", &["GET /"]),
        rule if rule.ends_with(":discoverable") => {
            ("Whether the extension is listed to the caller.", &[])
        }
        _ => ("", &[]),
    }
}

/// The sample policy file.
pub fn sample() -> String {
    let mut out = String::from(
        "# Lifeboat's policy rules with their defaults. Uncomment a rule to change it; a policy\n\
         # file needs only the rules it changes ([oslo_policy] policy_file).\n",
    );
    for (name, check) in default_rules() {
        let (description, calls) = describe(&name);
        out.push('\n');
        out.push_str(&format!("# {description}\n"));
        for call in calls {
            out.push_str(&format!("# {call}\n"));
        }
        out.push_str(&format!("#\"{name}\": \"{check}\"\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn every_rule_is_described_and_the_sample_uncommented_is_the_defaults() {
        for (name, _) in default_rules() {
            assert!(!describe(&name).0.is_empty(), "{name} has no description");
        }
        let uncommented: String = sample()
            .lines()
            .filter_map(|l| l.strip_prefix('#'))
            .filter(|l| l.starts_with('"'))
            .map(|l| format!("{l}\n"))
            .collect();
        let rules: HashMap<String, String> = serde_yaml::from_str(&uncommented).unwrap();
        let defaults: HashMap<String, String> = default_rules().into_iter().collect();
        assert_eq!(rules, defaults);
    }

    #[test]
    fn the_sample_as_a_policy_file_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.yaml");
        std::fs::write(&path, sample()).unwrap();
        let policy = crate::policy::Policy::load(&path).unwrap();
        let admin = crate::policy::Credentials {
            is_admin: true,
            ..Default::default()
        };
        let nobody = crate::policy::Credentials::default();
        let target = HashMap::new();
        assert!(policy.allows("os_masakari_api:segments:index", &admin, &target));
        assert!(!policy.allows("os_masakari_api:segments:index", &nobody, &target));
    }
}

//! Which instances of a failed host move, in what order, and where to.

use std::cmp::Reverse;

use lifeboat_core::compute::{Server, VmState};

use super::truthy;

/// Which instances of a failed host to evacuate, and in what order.
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    /// Metadata key marking HA-enabled instances.
    pub ha_key: &'a str,
    /// Metadata key of a numeric priority (higher first).
    pub priority_key: &'a str,
    /// Also evacuate instances that are not HA-enabled (after the HA-enabled ones).
    pub evacuate_all: bool,
    /// Leave instances in error state alone.
    pub ignore_error: bool,
}

/// The instances to evacuate: HA-enabled first, then by priority (higher first), then by name,
/// so a recovery always proceeds in the same order. (Masakari evacuates HA-enabled ones last.)
pub fn select_instances(servers: &[Server], s: &Selection<'_>) -> Vec<Server> {
    let mut chosen: Vec<Server> = servers
        .iter()
        .filter(|v| !(s.ignore_error && v.vm_state == VmState::Error))
        .filter(|v| s.evacuate_all || truthy(v.metadata.get(s.ha_key).map(String::as_str)))
        .cloned()
        .collect();
    chosen.sort_by_key(|v| {
        let ha = truthy(v.metadata.get(s.ha_key).map(String::as_str));
        let priority: i64 = v
            .metadata
            .get(s.priority_key)
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0);
        (Reverse(ha), Reverse(priority), v.name.clone(), v.id.clone())
    });
    chosen
}

/// A host an instance could be evacuated to, with its free capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Compute host name.
    pub host: String,
    /// Free vCPUs.
    pub free_vcpus: u64,
    /// Free RAM in MiB.
    pub free_ram_mb: u64,
}

/// Assigns each instance (in order) the target with the most free RAM that fits it, so the
/// load spreads and big instances are placed while room remains. `None`: nothing fits.
pub fn plan_targets(instances: &[Server], targets: &[Target]) -> Vec<Option<String>> {
    let mut room: Vec<Target> = targets.to_vec();
    instances
        .iter()
        .map(|server| {
            let (cpu, ram) = (server.vcpus.unwrap_or(1), server.ram_mb.unwrap_or(0));
            let best = room
                .iter_mut()
                .filter(|t| t.free_vcpus >= cpu && t.free_ram_mb >= ram)
                .max_by_key(|t| (t.free_ram_mb, t.free_vcpus, Reverse(t.host.clone())))?;
            best.free_vcpus -= cpu;
            best.free_ram_mb -= ram;
            Some(best.host.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::server;
    use super::*;

    #[test]
    fn ha_enabled_instances_go_first_then_priority_then_name() {
        let servers = vec![
            server("c", &[], "active"),
            server("b", &[("HA_Enabled", "True")], "active"),
            server(
                "a",
                &[("HA_Enabled", "yes"), ("HA_Priority", "5")],
                "active",
            ),
            server("d", &[("HA_Priority", "9")], "active"),
            server("e", &[], "error"),
        ];
        let all = Selection {
            ha_key: "HA_Enabled",
            priority_key: "HA_Priority",
            evacuate_all: true,
            ignore_error: false,
        };
        let names = |v: Vec<Server>| v.into_iter().map(|s| s.name).collect::<Vec<_>>();
        assert_eq!(
            names(select_instances(&servers, &all)),
            ["a", "b", "d", "c", "e"]
        );
        assert_eq!(
            names(select_instances(
                &servers,
                &Selection {
                    ignore_error: true,
                    ..all.clone()
                }
            )),
            ["a", "b", "d", "c"]
        );
        assert_eq!(
            names(select_instances(
                &servers,
                &Selection {
                    evacuate_all: false,
                    ..all
                }
            )),
            ["a", "b"]
        );
    }

    #[test]
    fn targets_spread_by_free_room_and_unplaceable_instances_get_none() {
        let mut big = server("big", &[], "active");
        big.ram_mb = Some(4096);
        let small = server("s", &[], "active");
        let targets = vec![
            Target {
                host: "t1".into(),
                free_vcpus: 8,
                free_ram_mb: 2048,
            },
            Target {
                host: "t2".into(),
                free_vcpus: 8,
                free_ram_mb: 1536,
            },
        ];
        let plan = plan_targets(
            &[small.clone(), small.clone(), small.clone(), big],
            &targets,
        );
        assert_eq!(
            plan,
            vec![
                Some("t1".into()),
                Some("t2".into()),
                Some("t1".into()),
                None
            ]
        );
        assert_eq!(plan_targets(&[small], &[]), vec![None]);
    }
}

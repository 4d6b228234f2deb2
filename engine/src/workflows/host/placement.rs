//! Where instances go: per the segment's recovery method, to hosts of the segment with room
//! (`auto`) or to reserved hosts brought into service one at a time.

use std::collections::HashMap;
use std::sync::Arc;

use lifeboat_core::compute::{Compute, ComputeError, ComputeService, Hypervisor, Server, VmState};
use lifeboat_core::model::{Host, RecoveryMethod, VMove};
use lifeboat_core::store::{HostFilter, ListQuery, StoreError};

use super::super::evacuation_watch::EvacuationWatch;
use super::super::{Ctx, Outcome};
use super::moves::{Destination, NotMoved, evacuate_batch};
use crate::decisions::{self, Target};
use crate::policy::Placement;

/// Why finding the hosts of the segment to evacuate to failed.
#[derive(Debug, thiserror::Error)]
enum TargetsError {
    #[error(transparent)]
    ReadHosts(StoreError),
    #[error(transparent)]
    ListComputeServices(ComputeError),
    #[error(transparent)]
    ReadHypervisors(ComputeError),
}

impl TargetsError {
    fn is_retryable(&self) -> bool {
        match self {
            Self::ReadHosts(_) => true,
            Self::ListComputeServices(e) | Self::ReadHypervisors(e) => e.is_retryable(),
        }
    }
}

/// Why bringing a reserved host into service, or putting it back in reserve, failed.
#[derive(Debug, thiserror::Error)]
enum SpareError {
    #[error(transparent)]
    FindComputeService(ComputeError),
    #[error("Nova has no nova-compute service on reserved host {0}")]
    NoComputeService(String),
    #[error(transparent)]
    EnableService(ComputeError),
    #[error(transparent)]
    DisableService(ComputeError),
    #[error(transparent)]
    SetReserved(StoreError),
    #[error(transparent)]
    ListAggregates(ComputeError),
    #[error(transparent)]
    AddToAggregate(ComputeError),
    #[error(transparent)]
    RemoveFromAggregate(ComputeError),
}

impl SpareError {
    /// Whether another attempt may bring the spare into service.
    fn is_retryable(&self) -> bool {
        match self {
            Self::FindComputeService(e)
            | Self::EnableService(e)
            | Self::DisableService(e)
            | Self::ListAggregates(e)
            | Self::AddToAggregate(e)
            | Self::RemoveFromAggregate(e) => e.is_retryable(),
            // Nova may register the service later (a spare still being set up).
            Self::NoComputeService(_) | Self::SetReserved(_) => true,
        }
    }
}

/// The methods to try in turn, first `reserved_host` or not, then the other if it falls back.
fn methods(method: RecoveryMethod) -> &'static [bool] {
    match method {
        RecoveryMethod::Auto => &[false],
        RecoveryMethod::ReservedHost => &[true],
        RecoveryMethod::AutoPriority => &[false, true],
        RecoveryMethod::RhPriority => &[true, false],
    }
}

fn method_name(reserved: bool) -> &'static str {
    if reserved { "reserved_host" } else { "auto" }
}

/// Evacuates per the segment's recovery method; returns the moves that failed (with why) and
/// the method that actually ran.
pub(super) async fn evacuate(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
    method: RecoveryMethod,
    pending: Vec<VMove>,
    servers: &HashMap<String, Server>,
) -> Result<(Vec<(VMove, NotMoved)>, String), Outcome> {
    // One watch for every move of this recovery, both methods included.
    let watch = EvacuationWatch::start(nova.clone(), ctx.host.name.clone(), ctx.now());
    let watch = &watch;
    let mut failed: Vec<(VMove, NotMoved)> = Vec::new();
    let mut next = pending;
    let mut ran = Vec::new();
    for (i, &reserved) in methods(method).iter().enumerate() {
        if i > 0 {
            if failed.is_empty() {
                break;
            }
            ctx.checkpoint().await?;
            next = failed.drain(..).map(|(m, _)| m).collect();
        }
        ran.push(method_name(reserved));
        let moves = std::mem::take(&mut next);
        failed = if reserved {
            with_reserved_hosts(ctx, nova, watch, moves, servers).await?
        } else {
            automatically(ctx, nova, watch, moves, servers).await?
        };
    }
    Ok((failed, ran.join(" then ")))
}

/// `auto`: each instance to a host of the segment with room (or wherever Nova's scheduler
/// puts it, if the policy says so).
async fn automatically(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
    watch: &EvacuationWatch,
    moves: Vec<VMove>,
    servers: &HashMap<String, Server>,
) -> Result<Vec<(VMove, NotMoved)>, Outcome> {
    let mut step = ctx.rec.start("EvacuateInstancesTask").await;
    step.progress(
        0.0,
        format!("Evacuating {} instance(s) (auto).", moves.len()),
    )
    .await;
    let targets = match ctx.policy.host.placement {
        Placement::Scheduler => vec![Destination::Scheduler; moves.len()],
        Placement::Segment => {
            let candidates = segment_targets(ctx, nova).await.map_err(|e| {
                Outcome::failure(
                    format!(
                        "Finding hosts of segment {} to evacuate to failed: {e}",
                        ctx.host.failover_segment.name
                    ),
                    e.is_retryable(),
                )
            })?;
            destinations(&moves, servers, &candidates)
        }
    };
    let failed = evacuate_batch(ctx, nova, watch, moves, targets, servers).await;
    finish_step(step, &failed, "auto").await;
    Ok(failed)
}

/// Where each move goes when placed on the segment's hosts: the instances as Nova showed them
/// (a placeholder, sized as nothing, for one Nova no longer listed), spread over `candidates`.
fn destinations(
    moves: &[VMove],
    servers: &HashMap<String, Server>,
    candidates: &[Target],
) -> Vec<Destination> {
    let instances: Vec<Server> = moves
        .iter()
        .map(|m| {
            servers
                .get(&m.instance_uuid)
                .cloned()
                .unwrap_or_else(|| placeholder(m))
        })
        .collect();
    decisions::plan_targets(&instances, candidates)
        .into_iter()
        .map(|t| t.map_or(Destination::NoRoom, Destination::Host))
        .collect()
}

fn placeholder(m: &VMove) -> Server {
    Server {
        id: m.instance_uuid.clone(),
        name: m.instance_name.clone(),
        status: String::new(),
        vm_state: VmState::Other(String::new()),
        task_state: None,
        host: m.source_host.clone(),
        locked: false,
        metadata: Default::default(),
        vcpus: None,
        ram_mb: None,
    }
}

async fn finish_step(step: crate::recorder::Step<'_>, failed: &[(VMove, NotMoved)], method: &str) {
    if failed.is_empty() {
        step.succeed(format!("Evacuation completed ({method})."))
            .await;
    } else {
        let names: Vec<&str> = failed
            .iter()
            .map(|(m, _)| m.instance_name.as_str())
            .collect();
        step.fail(format!(
            "{} instance(s) not evacuated ({method}): {}",
            failed.len(),
            names.join(", ")
        ))
        .await;
    }
}

/// Hosts of the failed host's segment that can take instances, with their free room: not the
/// failed host, not reserved, not in maintenance, compute service enabled and up.
async fn segment_targets(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
) -> Result<Vec<Target>, TargetsError> {
    let hosts = ctx
        .deps
        .store
        .list_hosts(
            ctx.host.failover_segment.uuid,
            &ListQuery::<HostFilter>::default(),
        )
        .await
        .map_err(TargetsError::ReadHosts)?;
    let services = nova
        .compute_services()
        .await
        .map_err(TargetsError::ListComputeServices)?;
    let hypervisors = nova
        .hypervisors()
        .await
        .map_err(TargetsError::ReadHypervisors)?;
    let eligible: Vec<&str> = hosts
        .iter()
        .filter(|h| h.uuid != ctx.host.uuid && !h.reserved && !h.on_maintenance())
        .map(|h| h.name.as_str())
        .collect();
    Ok(room(&eligible, &services, &hypervisors))
}

/// The free room of each of `hosts` whose compute service is usable and whose hypervisor Nova
/// lists.
fn room(hosts: &[&str], services: &[ComputeService], hypervisors: &[Hypervisor]) -> Vec<Target> {
    hosts
        .iter()
        .filter(|h| services.iter().any(|s| s.host == **h && s.is_usable()))
        .filter_map(|h| {
            let hv = hypervisors.iter().find(|v| v.host == *h)?;
            Some(Target {
                host: (*h).to_owned(),
                free_vcpus: hv.vcpus.saturating_sub(hv.vcpus_used),
                free_ram_mb: hv.memory_mb.saturating_sub(hv.memory_mb_used),
            })
        })
        .collect()
}

/// `reserved_host`: bring the segment's spares into service one at a time and move the
/// instances there. A spare that ends up with nothing on it is put back as it was.
async fn with_reserved_hosts(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
    watch: &EvacuationWatch,
    moves: Vec<VMove>,
    servers: &HashMap<String, Server>,
) -> Result<Vec<(VMove, NotMoved)>, Outcome> {
    let mut step = ctx.rec.start("EvacuateInstancesTask").await;
    let filter = HostFilter {
        reserved: Some(true),
        on_maintenance: Some(false),
        ..HostFilter::default()
    };
    let query = ListQuery {
        filter,
        sort: vec![lifeboat_core::store::Sort {
            key: "name",
            dir: lifeboat_core::store::SortDir::Asc,
        }],
        ..ListQuery::default()
    };
    let spares = ctx
        .deps
        .store
        .list_hosts(ctx.host.failover_segment.uuid, &query)
        .await
        .map_err(|e| Outcome::error(e.to_string()))?;
    if spares.is_empty() {
        // An operator may add a spare before the next attempt.
        let why = NotMoved::retryable("No reserved_hosts available for evacuation.");
        step.fail(why.why.clone()).await;
        return Ok(moves.into_iter().map(|m| (m, why.clone())).collect());
    }
    let mut remaining = moves;
    let mut failed = Vec::new();
    for spare in spares {
        if remaining.is_empty() {
            break;
        }
        ctx.checkpoint().await?;
        step.progress(
            0.1,
            format!(
                "Bringing reserved host {} into service for {} instance(s).",
                spare.name,
                remaining.len()
            ),
        )
        .await;
        let added = match activate_spare(ctx, nova, &spare).await {
            Ok(added) => added,
            Err(e) => {
                step.progress(
                    0.1,
                    format!("Reserved host {} could not be used: {e}", spare.name),
                )
                .await;
                let why = NotMoved::new(e.to_string(), e.is_retryable());
                failed = remaining.iter().map(|m| (m.clone(), why.clone())).collect();
                continue;
            }
        };
        let targets = vec![Destination::Host(spare.name.clone()); remaining.len()];
        let count = remaining.len();
        failed = evacuate_batch(ctx, nova, watch, remaining, targets, servers).await;
        if failed.len() == count {
            step.progress(
                0.5,
                format!(
                    "Nothing went to reserved host {}; putting it back in reserve.",
                    spare.name
                ),
            )
            .await;
            if let Err(e) = deactivate_spare(ctx, nova, &spare, &added).await {
                step.progress(
                    0.5,
                    format!("Putting reserved host {} back failed: {e}", spare.name),
                )
                .await;
            }
        }
        remaining = failed.iter().map(|(m, _)| m.clone()).collect();
    }
    finish_step(step, &failed, "reserved_host").await;
    Ok(failed)
}

/// Enables a spare's compute service, marks it no longer reserved and (if configured) adds it to
/// the failed host's aggregates; returns the aggregates it was added to.
async fn activate_spare(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
    spare: &Host,
) -> Result<Vec<String>, SpareError> {
    let service = nova
        .find_compute_service(&spare.name)
        .await
        .map_err(SpareError::FindComputeService)?
        .ok_or_else(|| SpareError::NoComputeService(spare.name.clone()))?;
    if !service.is_enabled() {
        nova.enable_service(&service.id)
            .await
            .map_err(SpareError::EnableService)?;
    }
    ctx.deps
        .store
        .set_host_flags(spare.uuid, None, Some(false), ctx.now())
        .await
        .map_err(SpareError::SetReserved)?;
    let mut added = Vec::new();
    if ctx.policy.host.reserved_host_to_aggregate {
        for aggregate in nova
            .aggregates()
            .await
            .map_err(SpareError::ListAggregates)?
        {
            if aggregate.hosts.contains(&ctx.host.name) && !aggregate.hosts.contains(&spare.name) {
                nova.add_host_to_aggregate(&aggregate.id, &spare.name)
                    .await
                    .map_err(SpareError::AddToAggregate)?;
                added.push(aggregate.id);
            }
        }
    }
    Ok(added)
}

/// Undoes [`activate_spare`] (Masakari never does: a failed attempt used up its spares).
async fn deactivate_spare(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
    spare: &Host,
    added: &[String],
) -> Result<(), SpareError> {
    for aggregate in added {
        nova.remove_host_from_aggregate(aggregate, &spare.name)
            .await
            .map_err(SpareError::RemoveFromAggregate)?;
    }
    if let Some(service) = nova
        .find_compute_service(&spare.name)
        .await
        .map_err(SpareError::FindComputeService)?
    {
        nova.disable_service(&service.id, "Lifeboat: reserved host returned to reserve")
            .await
            .map_err(SpareError::DisableService)?;
    }
    ctx.deps
        .store
        .set_host_flags(spare.uuid, None, Some(true), ctx.now())
        .await
        .map_err(SpareError::SetReserved)
}

#[cfg(test)]
mod tests {
    use lifeboat_core::model::{Timestamps, VMoveStatus, VMoveType};

    use super::*;
    use crate::decisions::fixtures::server;

    fn service(host: &str, status: &str, state: &str, forced_down: bool) -> ComputeService {
        ComputeService {
            id: format!("svc-{host}"),
            host: host.into(),
            status: status.into(),
            disabled_reason: None,
            state: state.into(),
            forced_down,
        }
    }

    fn hypervisor(host: &str, vcpus: (u64, u64), memory_mb: (u64, u64)) -> Hypervisor {
        Hypervisor {
            host: host.into(),
            vcpus: vcpus.0,
            vcpus_used: vcpus.1,
            memory_mb: memory_mb.0,
            memory_mb_used: memory_mb.1,
        }
    }

    fn vmove(instance: &str) -> VMove {
        VMove {
            id: 1,
            uuid: uuid::Uuid::nil(),
            notification_uuid: uuid::Uuid::nil(),
            instance_uuid: instance.into(),
            instance_name: instance.into(),
            source_host: Some("h1".into()),
            dest_host: None,
            start_time: None,
            end_time: None,
            vmove_type: VMoveType::Evacuation,
            status: VMoveStatus::Pending,
            message: None,
            timestamps: Timestamps {
                created_at: chrono::DateTime::UNIX_EPOCH,
                updated_at: None,
                deleted_at: None,
                deleted: false,
            },
        }
    }

    #[test]
    fn each_recovery_method_tries_its_ways_in_turn() {
        let table = [
            (RecoveryMethod::Auto, vec!["auto"]),
            (RecoveryMethod::ReservedHost, vec!["reserved_host"]),
            (RecoveryMethod::AutoPriority, vec!["auto", "reserved_host"]),
            (RecoveryMethod::RhPriority, vec!["reserved_host", "auto"]),
        ];
        for (method, ways) in table {
            let names: Vec<&str> = methods(method).iter().map(|r| method_name(*r)).collect();
            assert_eq!(names, ways, "{method:?}");
        }
    }

    #[test]
    fn room_is_on_usable_hosts_with_a_listed_hypervisor_and_never_below_zero() {
        let services = [
            service("up", "enabled", "up", false),
            service("disabled", "disabled", "up", false),
            service("down", "enabled", "down", false),
            service("forced", "enabled", "up", true),
            service("no-hypervisor", "enabled", "up", false),
            service("overcommitted", "enabled", "up", false),
        ];
        let hypervisors = [
            hypervisor("up", (8, 2), (4096, 1024)),
            hypervisor("disabled", (8, 0), (4096, 0)),
            hypervisor("down", (8, 0), (4096, 0)),
            hypervisor("forced", (8, 0), (4096, 0)),
            hypervisor("overcommitted", (4, 6), (1024, 2048)),
        ];
        let hosts = [
            "up",
            "disabled",
            "down",
            "forced",
            "no-hypervisor",
            "overcommitted",
            "no-service",
        ];
        let target = |host: &str, free_vcpus, free_ram_mb| Target {
            host: host.into(),
            free_vcpus,
            free_ram_mb,
        };
        assert_eq!(
            room(&hosts, &services, &hypervisors),
            vec![target("up", 6, 3072), target("overcommitted", 0, 0)]
        );
    }

    #[test]
    fn moves_go_where_there_is_room_and_the_rest_get_no_room() {
        let mut big = server("big", &[], "active");
        big.id = "big".into();
        big.ram_mb = Some(4096);
        let mut small = server("small", &[], "active");
        small.id = "small".into();
        let servers: HashMap<String, Server> = [big, small]
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
        let candidates = [Target {
            host: "h2".into(),
            free_vcpus: 4,
            free_ram_mb: 1024,
        }];
        // Nova no longer lists "gone": it is placed as if it needed nothing.
        let moves = [vmove("big"), vmove("small"), vmove("gone")];
        assert_eq!(
            destinations(&moves, &servers, &candidates),
            vec![
                Destination::NoRoom,
                Destination::Host("h2".into()),
                Destination::Host("h2".into()),
            ]
        );
        assert_eq!(
            destinations(&moves[..1], &servers, &[]),
            vec![Destination::NoRoom]
        );
    }
}

//! Host failure: storm guard → maintenance → fence → custom pre steps → force the compute
//! service down and disable it → choose and order instances → evacuate (per recovery method,
//! in parallel, each one confirmed) → custom post steps.

use std::collections::HashMap;
use std::sync::Arc;

use lifeboat_core::compute::{Compute, ComputeError, Server};
use lifeboat_core::fencing::FenceError;
use lifeboat_core::model::{Host, RecoveryMethod, VMove, VMoveStatus, VMoveType};
use lifeboat_core::store::{HostFilter, ListQuery, NewVMove, VMoveUpdate};
use tokio::sync::Semaphore;

use super::evacuation_watch::{Cue, EvacuationWatch, Waiter};
use super::{Ctx, Outcome, custom, recovery_maintenance};
use crate::decisions::{self, Evacuation, MigrationEnd, Selection, Target};
use crate::policy::{Fencing, Placement};
use crate::wait::{self, Look, WaitError};

/// A moving instance is read every this many `verify_interval`s even while the evacuation
/// watch says nothing, so progress never rests on the migration listing alone.
const FALLBACK_LOOKS: u32 = 5;

/// The result of moving one instance.
#[derive(Debug, Clone)]
enum Moved {
    To(String),
    Gone,
    Failed(String),
}

/// Recovers a failed host.
pub(crate) async fn recover(ctx: &Ctx<'_>) -> Outcome {
    match recover_inner(ctx).await {
        Ok(outcome) | Err(outcome) => outcome,
    }
}

async fn recover_inner(ctx: &Ctx<'_>) -> Result<Outcome, Outcome> {
    let nova = ctx.nova()?;
    storm_guard(ctx).await?;
    ctx.checkpoint().await?;
    set_maintenance(ctx).await?;
    ctx.checkpoint().await?;
    fence(ctx).await?;
    custom::run_all(ctx, &ctx.policy.host.pre, "host_failure").await?;
    ctx.checkpoint().await?;
    if ctx.policy.host.disable_compute_service {
        disable_compute_service(ctx, &nova).await?;
    }
    ctx.checkpoint().await?;
    let (moves, servers) = prepare(ctx, &nova).await?;
    let pending: Vec<VMove> = moves
        .iter()
        .filter(|m| !matches!(m.status, VMoveStatus::Succeeded | VMoveStatus::Ignored))
        .cloned()
        .collect();
    if moves.is_empty() {
        custom::run_all(ctx, &ctx.policy.host.post, "host_failure").await?;
        return Ok(Outcome::Finished {
            message: Some(format!(
                "Host {} had no instances to evacuate.",
                ctx.host.name
            )),
            method: None,
        });
    }
    ctx.checkpoint().await?;
    let method = ctx.host.failover_segment.recovery_method;
    let (failed, ran) = if ctx.policy.host.evacuate {
        evacuate(ctx, &nova, method, pending, &servers).await?
    } else {
        (Vec::new(), "none".to_owned())
    };
    if failed.is_empty() {
        custom::run_all(ctx, &ctx.policy.host.post, "host_failure").await?;
        Ok(Outcome::Finished {
            message: Some(format!(
                "Evacuated {} instance(s) from host {} ({ran}).",
                moves.len(),
                ctx.host.name
            )),
            method: Some(ran),
        })
    } else {
        let list: Vec<String> = failed
            .iter()
            .map(|(m, why)| format!("'{}' ({why})", m.instance_name))
            .collect();
        Ok(Outcome::Error {
            message: format!(
                "Failed to evacuate instances {} from host '{}'.",
                list.join(", "),
                ctx.host.name
            ),
            method: Some(ran),
        })
    }
}

/// Too many hosts of the segment failing at once looks like a partition or a power event:
/// stop and let an operator decide.
async fn storm_guard(ctx: &Ctx<'_>) -> Result<(), Outcome> {
    const NAME: &str = "StormGuardTask";
    if ctx.rec.succeeded_before(NAME).await {
        return Ok(());
    }
    let p = &ctx.policy.host;
    let step = ctx.rec.start(NAME).await;
    let segment = &ctx.host.failover_segment;
    // A tripped guard retries only when an operator asks: that is the operator's go-ahead.
    if ctx.rec.failed_last_attempt(NAME) {
        step.succeed(
            "An operator retried this notification after the storm guard paused it: recovering.",
        )
        .await;
        return Ok(());
    }
    let since = ctx.now() - chrono::Duration::from_std(p.storm_window).unwrap_or_default();
    let failed = ctx.deps.store.failed_hosts_since(segment.uuid, since).await;
    let hosts = ctx
        .deps
        .store
        .list_hosts(segment.uuid, &ListQuery::<HostFilter>::default())
        .await;
    let (failed, hosts) = match (failed, hosts) {
        (Ok(f), Ok(h)) => (f, h.len() as u64),
        (Err(e), _) | (_, Err(e)) => {
            step.fail(format!("counting failed hosts failed: {e}"))
                .await;
            return Err(Outcome::error(format!(
                "Counting the segment's failed hosts failed: {e}"
            )));
        }
    };
    match decisions::storm(failed, hosts, p.storm_max_failed_share, p.storm_min_hosts) {
        Some(message) => {
            step.fail(message.clone()).await;
            Err(Outcome::NeedsOperator(message))
        }
        None => {
            step.succeed(format!(
                "{failed} of {hosts} hosts of segment {} failed recently.",
                segment.name
            ))
            .await;
            Ok(())
        }
    }
}

async fn set_maintenance(ctx: &Ctx<'_>) -> Result<(), Outcome> {
    const NAME: &str = "SetHostMaintenanceTask";
    if ctx.rec.succeeded_before(NAME).await {
        return Ok(());
    }
    let step = ctx.rec.start(NAME).await;
    // A failed reserved host is no spare any more.
    let reserved = ctx.host.reserved.then_some(false);
    match ctx
        .deps
        .store
        .set_host_flags(
            ctx.host.uuid,
            Some(recovery_maintenance(ctx)),
            reserved,
            ctx.now(),
        )
        .await
    {
        Ok(()) => {
            step.succeed(format!("Host {} is in maintenance.", ctx.host.name))
                .await;
            Ok(())
        }
        Err(e) => {
            step.fail(e.to_string()).await;
            Err(Outcome::error(format!(
                "Putting host {} in maintenance failed: {e}",
                ctx.host.name
            )))
        }
    }
}

/// Fencing must come before evacuation: a host that is only cut off from the network still
/// runs its instances, and starting them elsewhere puts two writers on the same disks.
async fn fence(ctx: &Ctx<'_>) -> Result<(), Outcome> {
    const NAME: &str = "FenceHostTask";
    if ctx.rec.succeeded_before(NAME).await {
        return Ok(());
    }
    let host = &ctx.host.name;
    let mut step = ctx.rec.start(NAME).await;
    let has_device = match &ctx.deps.fencer {
        Some(f) => f.has_device(host).await,
        None => false,
    };
    let mode = match ctx.policy.host.fencing {
        Fencing::Auto if has_device => Fencing::Required,
        Fencing::Auto => {
            step.skip(format!(
                "No fence device is configured for host {host}: it is not fenced. Configure one, or set \
                 fencing = disabled for this segment to say that is intended."
            ))
            .await;
            return Ok(());
        }
        other => other,
    };
    if mode == Fencing::Disabled {
        step.skip("Fencing is disabled for this segment.").await;
        return Ok(());
    }
    let Some(fencer) = ctx.deps.fencer.clone().filter(|_| has_device) else {
        let message = format!(
            "Fencing is required but no fence device is configured for host {host}; no instance was evacuated."
        );
        if mode == Fencing::BestEffort {
            step.fail(format!("{message} Continuing (best effort)."))
                .await;
            return Ok(());
        }
        step.fail(message.clone()).await;
        return Err(Outcome::error(message));
    };
    step.progress(0.1, format!("Powering off host {host}."))
        .await;
    match fencer.fence(host).await {
        Ok(attempts) => {
            let by = attempts
                .iter()
                .rfind(|a| a.succeeded)
                .map(|a| format!("{} (level {})", a.device, a.level))
                .unwrap_or_else(|| "its fence device".into());
            step.succeed(format!("Host {host} is powered off, verified by {by}."))
                .await;
            Ok(())
        }
        Err(e) => {
            let reason = match &e {
                FenceError::AllLevelsFailed { summary, .. } => summary.clone(),
                other => other.to_string(),
            };
            if mode == Fencing::BestEffort {
                step.fail(format!(
                    "Fencing failed ({reason}); continuing (best effort)."
                ))
                .await;
                return Ok(());
            }
            let message =
                format!("Fencing host {host} failed: {reason}; no instance was evacuated.");
            step.fail(message.clone()).await;
            Err(Outcome::error(message))
        }
    }
}

/// Forces the compute service down (so Nova treats the host as dead at once and accepts
/// evacuations), then disables it with a reason. Forced down first: disabling a service Nova
/// still thinks is up makes Nova wait for the dead compute for a minute.
async fn disable_compute_service(ctx: &Ctx<'_>, nova: &Arc<dyn Compute>) -> Result<(), Outcome> {
    const NAME: &str = "DisableComputeServiceTask";
    if ctx.rec.succeeded_before(NAME).await {
        return Ok(());
    }
    let host = &ctx.host.name;
    let mut step = ctx.rec.start(NAME).await;
    let result: Result<String, ComputeError> = async {
        let Some(service) = nova.find_compute_service(host).await? else {
            return Ok(format!("Nova has no nova-compute service on host {host}."));
        };
        if !service.forced_down {
            nova.set_forced_down(&service.id, true).await?;
        }
        step.progress(0.5, format!("Compute service of {host} forced down."))
            .await;
        if service.status != "disabled" {
            nova.disable_service(&service.id, &ctx.policy.host.disable_reason)
                .await?;
        }
        Ok(format!(
            "Compute service of {host} forced down and disabled."
        ))
    }
    .await;
    match result {
        Ok(message) => {
            step.succeed(message).await;
            Ok(())
        }
        Err(e) => {
            step.fail(e.to_string()).await;
            Err(Outcome::error(e.to_string()))
        }
    }
}

/// Lists the host's instances, chooses and orders them, and records a vmove for each. A new
/// attempt gives earlier failed moves another chance (Masakari counts them against it forever).
async fn prepare(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
) -> Result<(Vec<VMove>, HashMap<String, Server>), Outcome> {
    const NAME: &str = "PrepareHAEnabledInstancesTask";
    let p = &ctx.policy.host;
    let repeat = ctx.rec.succeeded_before(NAME).await;
    let mut step = if repeat {
        None
    } else {
        Some(ctx.rec.start(NAME).await)
    };
    let servers = match nova.servers_on_host(&ctx.host.name).await {
        Ok(s) => s,
        Err(e) => {
            if let Some(step) = step {
                step.fail(e.to_string()).await;
            }
            return Err(Outcome::error(e.to_string()));
        }
    };
    let chosen = decisions::select_instances(
        &servers,
        &Selection {
            ha_key: &p.ha_enabled_key,
            priority_key: &p.priority_key,
            evacuate_all: p.evacuate_all_instances,
            ignore_error: p.ignore_instances_in_error_state,
        },
    );
    if let Some(step) = step.as_mut() {
        step.progress(
            0.5,
            format!(
                "{} instance(s) on host {}, {} to evacuate.",
                servers.len(),
                ctx.host.name,
                chosen.len()
            ),
        )
        .await;
    }
    let new: Vec<NewVMove> = chosen
        .iter()
        .map(|s| NewVMove {
            notification_uuid: ctx.notification.notification_uuid,
            instance_uuid: s.id.clone(),
            instance_name: s.name.clone(),
            source_host: ctx.host.name.clone(),
            vmove_type: VMoveType::Evacuation,
            status: VMoveStatus::Pending,
        })
        .collect();
    let store = &ctx.deps.store;
    let mut moves = if new.is_empty() {
        store
            .list_vmoves(ctx.notification.notification_uuid, &ListQuery::default())
            .await
            .map_err(|e| Outcome::error(e.to_string()))?
    } else {
        store
            .ensure_vmoves(new, ctx.now())
            .await
            .map_err(|e| Outcome::error(e.to_string()))?
    };
    if !ctx.claim.resumed {
        for m in moves.iter_mut().filter(|m| m.status == VMoveStatus::Failed) {
            let reset = VMoveUpdate {
                status: Some(VMoveStatus::Pending),
                message: Some(None),
                ..VMoveUpdate::default()
            };
            store
                .update_vmove(m.uuid, reset, ctx.now())
                .await
                .map_err(|e| Outcome::error(e.to_string()))?;
            m.status = VMoveStatus::Pending;
        }
    }
    // Evacuate in the chosen order (HA-enabled and high priority first).
    let order: HashMap<&str, usize> = chosen
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    moves.sort_by_key(|m| {
        order
            .get(m.instance_uuid.as_str())
            .copied()
            .unwrap_or(usize::MAX)
    });
    if let Some(step) = step {
        step.succeed(format!("{} instance(s) to evacuate.", moves.len()))
            .await;
    }
    Ok((
        moves,
        servers.into_iter().map(|s| (s.id.clone(), s)).collect(),
    ))
}

/// Evacuates per the segment's recovery method; returns the moves that failed (with why) and
/// the method that actually ran.
async fn evacuate(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
    method: RecoveryMethod,
    pending: Vec<VMove>,
    servers: &HashMap<String, Server>,
) -> Result<(Vec<(VMove, String)>, String), Outcome> {
    let (first_reserved, fallback) = match method {
        RecoveryMethod::Auto => (false, false),
        RecoveryMethod::ReservedHost => (true, false),
        RecoveryMethod::AutoPriority => (false, true),
        RecoveryMethod::RhPriority => (true, true),
    };
    // One watch for every move of this recovery, both methods included.
    let watch = EvacuationWatch::start(nova.clone(), ctx.host.name.clone(), ctx.now());
    let watch = &watch;
    let run = |reserved: bool, moves: Vec<VMove>| async move {
        if reserved {
            with_reserved_hosts(ctx, nova, watch, moves, servers).await
        } else {
            automatically(ctx, nova, watch, moves, servers).await
        }
    };
    let name = |reserved: bool| if reserved { "reserved_host" } else { "auto" };
    let failed = run(first_reserved, pending).await?;
    if failed.is_empty() || !fallback {
        return Ok((failed, name(first_reserved).to_owned()));
    }
    ctx.checkpoint().await?;
    let retry: Vec<VMove> = failed.into_iter().map(|(m, _)| m).collect();
    let still = run(!first_reserved, retry).await?;
    Ok((
        still,
        format!("{} then {}", name(first_reserved), name(!first_reserved)),
    ))
}

/// `auto`: each instance to a host of the segment with room (or wherever Nova's scheduler
/// puts it, if the policy says so).
async fn automatically(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
    watch: &EvacuationWatch,
    moves: Vec<VMove>,
    servers: &HashMap<String, Server>,
) -> Result<Vec<(VMove, String)>, Outcome> {
    let mut step = ctx.rec.start("EvacuateInstancesTask").await;
    step.progress(
        0.0,
        format!("Evacuating {} instance(s) (auto).", moves.len()),
    )
    .await;
    let targets: Vec<Option<String>> = match ctx.policy.host.placement {
        Placement::Scheduler => vec![None; moves.len()],
        Placement::Segment => {
            let candidates = segment_targets(ctx, nova).await.map_err(|e| {
                Outcome::error(format!(
                    "Finding hosts of segment {} to evacuate to failed: {e}",
                    ctx.host.failover_segment.name
                ))
            })?;
            let instances: Vec<Server> = moves
                .iter()
                .map(|m| {
                    servers
                        .get(&m.instance_uuid)
                        .cloned()
                        .unwrap_or_else(|| placeholder(m))
                })
                .collect();
            decisions::plan_targets(&instances, &candidates)
                .into_iter()
                .map(|t| Some(t.unwrap_or_default()))
                .collect()
        }
    };
    let failed = evacuate_batch(ctx, nova, watch, moves, targets, servers).await;
    finish_step(step, &failed, "auto").await;
    Ok(failed)
}

fn placeholder(m: &VMove) -> Server {
    Server {
        id: m.instance_uuid.clone(),
        name: m.instance_name.clone(),
        status: String::new(),
        vm_state: String::new(),
        task_state: None,
        host: m.source_host.clone(),
        locked: false,
        metadata: Default::default(),
        vcpus: None,
        ram_mb: None,
    }
}

async fn finish_step(step: crate::recorder::Step<'_>, failed: &[(VMove, String)], method: &str) {
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
async fn segment_targets(ctx: &Ctx<'_>, nova: &Arc<dyn Compute>) -> Result<Vec<Target>, String> {
    let hosts = ctx
        .deps
        .store
        .list_hosts(
            ctx.host.failover_segment.uuid,
            &ListQuery::<HostFilter>::default(),
        )
        .await
        .map_err(|e| e.to_string())?;
    let services = nova.compute_services().await.map_err(|e| e.to_string())?;
    let hypervisors = nova.hypervisors().await.map_err(|e| e.to_string())?;
    Ok(hosts
        .iter()
        .filter(|h| h.uuid != ctx.host.uuid && !h.reserved && !h.on_maintenance())
        .filter(|h| services.iter().any(|s| s.host == h.name && s.is_usable()))
        .filter_map(|h| {
            let hv = hypervisors.iter().find(|v| v.host == h.name)?;
            Some(Target {
                host: h.name.clone(),
                free_vcpus: hv.vcpus.saturating_sub(hv.vcpus_used),
                free_ram_mb: hv.memory_mb.saturating_sub(hv.memory_mb_used),
            })
        })
        .collect())
}

/// `reserved_host`: bring the segment's spares into service one at a time and move the
/// instances there. A spare that ends up with nothing on it is put back as it was.
async fn with_reserved_hosts(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
    watch: &EvacuationWatch,
    moves: Vec<VMove>,
    servers: &HashMap<String, Server>,
) -> Result<Vec<(VMove, String)>, Outcome> {
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
        let why = "No reserved_hosts available for evacuation.".to_owned();
        step.fail(why.clone()).await;
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
                failed = remaining.iter().map(|m| (m.clone(), e.clone())).collect();
                continue;
            }
        };
        let targets = vec![Some(spare.name.clone()); remaining.len()];
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
) -> Result<Vec<String>, String> {
    let service = nova
        .find_compute_service(&spare.name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "Nova has no nova-compute service on reserved host {}",
                spare.name
            )
        })?;
    if service.status != "enabled" {
        nova.enable_service(&service.id)
            .await
            .map_err(|e| e.to_string())?;
    }
    ctx.deps
        .store
        .set_host_flags(spare.uuid, None, Some(false), ctx.now())
        .await
        .map_err(|e| e.to_string())?;
    let mut added = Vec::new();
    if ctx.policy.host.reserved_host_to_aggregate {
        for aggregate in nova.aggregates().await.map_err(|e| e.to_string())? {
            if aggregate.hosts.contains(&ctx.host.name) && !aggregate.hosts.contains(&spare.name) {
                nova.add_host_to_aggregate(&aggregate.id, &spare.name)
                    .await
                    .map_err(|e| e.to_string())?;
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
) -> Result<(), String> {
    for aggregate in added {
        nova.remove_host_from_aggregate(aggregate, &spare.name)
            .await
            .map_err(|e| e.to_string())?;
    }
    if let Some(service) = nova
        .find_compute_service(&spare.name)
        .await
        .map_err(|e| e.to_string())?
    {
        nova.disable_service(&service.id, "Lifeboat: reserved host returned to reserve")
            .await
            .map_err(|e| e.to_string())?;
    }
    ctx.deps
        .store
        .set_host_flags(spare.uuid, None, Some(true), ctx.now())
        .await
        .map_err(|e| e.to_string())
}

/// Evacuates `moves` (to `targets`, `Some("")` meaning no room was found) with bounded
/// parallelism; returns the ones that failed. `servers` holds the instances as they were before
/// this recovery touched them (an earlier failed try may have left one in error).
async fn evacuate_batch(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
    watch: &EvacuationWatch,
    moves: Vec<VMove>,
    targets: Vec<Option<String>>,
    servers: &HashMap<String, Server>,
) -> Vec<(VMove, String)> {
    let permits = Arc::new(Semaphore::new(ctx.policy.host.parallelism.max(1)));
    let jobs = moves.into_iter().zip(targets).map(|(m, target)| {
        let permits = permits.clone();
        async move {
            let _permit = permits.acquire_owned().await;
            let result = match target.as_deref() {
                Some("") => Moved::Failed(format!(
                    "no host of segment {} has room for it",
                    ctx.host.failover_segment.name
                )),
                target => {
                    let original = servers.get(&m.instance_uuid).map(|s| s.vm_state.as_str());
                    move_one(ctx, nova, watch, &m, target, original).await
                }
            };
            // Recorded as each move ends, so progress shows while the others still run.
            record_move(ctx, &m, result).await.map(|why| (m, why))
        }
    });
    futures::future::join_all(jobs)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Records how a move ended; returns the failure, if it failed.
async fn record_move(ctx: &Ctx<'_>, m: &VMove, result: Moved) -> Option<String> {
    let (update, failure) = match result {
        Moved::To(host) => (
            VMoveUpdate {
                status: Some(VMoveStatus::Succeeded),
                dest_host: Some(Some(host)),
                end_time: Some(Some(ctx.now())),
                message: Some(None),
                ..VMoveUpdate::default()
            },
            None,
        ),
        Moved::Gone => (
            VMoveUpdate {
                status: Some(VMoveStatus::Ignored),
                end_time: Some(Some(ctx.now())),
                message: Some(Some("The instance no longer exists.".into())),
                ..VMoveUpdate::default()
            },
            None,
        ),
        Moved::Failed(why) => (
            VMoveUpdate {
                status: Some(VMoveStatus::Failed),
                end_time: Some(Some(ctx.now())),
                message: Some(Some(format!("Failed reason: {why}"))),
                ..VMoveUpdate::default()
            },
            Some(why),
        ),
    };
    if let Err(e) = ctx.deps.store.update_vmove(m.uuid, update, ctx.now()).await {
        tracing::warn!(vmove.id = %m.uuid, error = %e, "recording a vmove failed");
    }
    failure
}

/// Moves one instance off the failed host and waits until it is settled elsewhere. Safe to run
/// again after an engine restart: an instance already on another host, or already rebuilding,
/// is only waited for, never evacuated a second time.
async fn move_one(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
    watch: &EvacuationWatch,
    m: &VMove,
    target: Option<&str>,
    known_state: Option<&str>,
) -> Moved {
    let id = &m.instance_uuid;
    let source = ctx.host.name.as_str();
    let p = &ctx.policy.host;
    // A failed read is Nova (or the network) blinking, not the instance failing: look again
    // until the deadline, and say what went wrong if it passes.
    let last_error = std::sync::Mutex::new(None::<String>);
    let first = wait::until(p.instance_timeout, p.verify_interval, || async {
        Ok::<_, ComputeError>(match look_at(nova, id, &last_error).await? {
            Some(s) => Look::Done(s),
            None => Look::Pending,
        })
    })
    .await;
    let server = match first {
        Ok(s) => s,
        Err(WaitError::Look(e)) if e.is_not_found() => return Moved::Gone,
        Err(e) => return Moved::Failed(failure(e, &last_error)),
    };
    let moved_already = server.host.as_deref().is_some_and(|h| h != source);
    let rebuilding = decisions::evacuation_under_way(&server);
    let original = (!moved_already && !rebuilding)
        .then(|| known_state.unwrap_or(server.vm_state.as_str()).to_owned());
    if !moved_already && !rebuilding {
        // Nova refuses to evacuate an instance in the middle of a task or in an odd state.
        let odd = !matches!(server.vm_state.as_str(), "active" | "stopped" | "error");
        if (server.task_state.is_some() || odd)
            && let Err(e) = nova.reset_state(id, "error").await
        {
            return Moved::Failed(e.to_string());
        }
        let started = VMoveUpdate {
            status: Some(VMoveStatus::Ongoing),
            start_time: Some(Some(ctx.now())),
            ..VMoveUpdate::default()
        };
        if let Err(e) = ctx
            .deps
            .store
            .update_vmove(m.uuid, started, ctx.now())
            .await
        {
            return Moved::Failed(format!("recording the start of the move failed: {e}"));
        }
        tracing::info!(instance.uuid = %id, host.name = source, target = target.unwrap_or("(scheduler)"), "evacuating");
        if let Err(e) = nova.evacuate(id, target).await {
            return Moved::Failed(e.to_string());
        }
    }
    let expect = original.clone().unwrap_or_else(|| "active".into());
    let judge = |s: &Server, ended: Option<&MigrationEnd>| match decisions::evacuation_verdict(
        s, source, &expect, ended,
    ) {
        Evacuation::Done { host } => Look::Done(host),
        Evacuation::Failed(why) => Look::Failed(why),
        // Resumed without knowing the original state: a settled stopped instance is done too.
        Evacuation::Moving
            if original.is_none()
                && s.task_state.is_none()
                && s.vm_state == "stopped"
                && s.host.as_deref().is_some_and(|h| h != source) =>
        {
            Look::Done(s.host.clone().unwrap_or_default())
        }
        Evacuation::Moving => Look::Pending,
    };
    // Already moving or moved (a resumed recovery): what was just read may say it is done.
    let read = (moved_already || rebuilding).then_some(&server);
    let settled = settle(nova, watch.waiter(id), read, p, &last_error, judge).await;
    match settled {
        Ok(host) => {
            if original.as_deref() == Some("error") {
                // Nova boots an evacuated error-state instance; Masakari puts it back in error so
                // the operator still sees it needs attention.
                let _ = nova.reset_state(id, "error").await;
            }
            Moved::To(host)
        }
        Err(e) => Moved::Failed(failure(e, &last_error)),
    }
}

/// Waits for an evacuated instance to settle, until `instance_timeout`: reads the server when
/// the watch says its migration ended, and every [`FALLBACK_LOOKS`] `verify_interval`s anyway.
/// Once the listing does not answer, or told its end but the server is not settled yet (the
/// conductor closes a failed migration before it puts the server back), reads it as often as
/// it always did.
/// `read`: the server as just read, if it was already moving or moved.
async fn settle(
    nova: &Arc<dyn Compute>,
    mut waiter: Waiter,
    read: Option<&Server>,
    p: &crate::policy::HostPolicy,
    last_error: &std::sync::Mutex<Option<String>>,
    judge: impl Fn(&Server, Option<&MigrationEnd>) -> Look<String>,
) -> Result<String, WaitError<ComputeError>> {
    match read.map(|s| judge(s, None)) {
        Some(Look::Done(host)) => return Ok(host),
        Some(Look::Failed(why)) => return Err(WaitError::Failed(why)),
        Some(Look::Pending) | None => {}
    }
    let id = waiter.instance().to_owned();
    let started = tokio::time::Instant::now();
    let mut pause = wait::first_pause(p.verify_interval);
    let mut ended: Option<MigrationEnd> = None;
    loop {
        let elapsed = started.elapsed();
        if elapsed >= p.instance_timeout {
            return Err(WaitError::Timeout(p.instance_timeout));
        }
        let polling = ended.is_some() || !waiter.listing();
        let wait = if polling {
            let now = pause;
            pause = wait::next_pause(pause, p.verify_interval);
            now
        } else {
            p.verify_interval * FALLBACK_LOOKS
        };
        if let Cue::Ended(end) = waiter.cue(wait.min(p.instance_timeout - elapsed)).await {
            ended = Some(end);
        }
        let Some(s) = look_at(nova, &id, last_error)
            .await
            .map_err(WaitError::Look)?
        else {
            continue;
        };
        match judge(&s, ended.as_ref()) {
            Look::Done(host) => return Ok(host),
            Look::Failed(why) => return Err(WaitError::Failed(why)),
            Look::Pending => {}
        }
    }
}

/// Reads a server; a failure worth retrying is logged, kept in `last_error` and reads as `None`.
async fn look_at(
    nova: &Arc<dyn Compute>,
    id: &str,
    last_error: &std::sync::Mutex<Option<String>>,
) -> Result<Option<Server>, ComputeError> {
    match nova.get_server(id).await {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.is_retryable() => {
            tracing::warn!(instance.uuid = %id, error = %e, "reading the server failed; looking again");
            *last_error
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e.to_string());
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Why waiting for an instance failed, with the last Nova error when it timed out.
fn failure(e: WaitError<ComputeError>, last_error: &std::sync::Mutex<Option<String>>) -> String {
    let last = last_error
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    match (e, last) {
        (WaitError::Timeout(after), Some(last)) => {
            format!("timeout after {after:?}; last error: {last}")
        }
        (e, _) => e.to_string(),
    }
}

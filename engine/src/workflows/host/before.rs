//! The steps before any instance moves: storm guard, maintenance, fence, disabling the compute
//! service, and choosing the instances.

use std::collections::HashMap;
use std::sync::Arc;

use lifeboat_core::compute::{Compute, ComputeError, Server};
use lifeboat_core::fencing::FenceError;
use lifeboat_core::model::{VMove, VMoveStatus, VMoveType};
use lifeboat_core::store::{HostFilter, ListQuery, NewVMove, VMoveUpdate};

use super::super::{Ctx, Outcome, recovery_maintenance};
use crate::decisions::{self, Selection};
use crate::policy::Fencing;

/// Too many hosts of the segment failing at once looks like a partition or a power event:
/// stop and let an operator decide.
pub(super) async fn storm_guard(ctx: &Ctx<'_>) -> Result<(), Outcome> {
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

pub(super) async fn set_maintenance(ctx: &Ctx<'_>) -> Result<(), Outcome> {
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
pub(super) async fn fence(ctx: &Ctx<'_>) -> Result<(), Outcome> {
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
pub(super) async fn disable_compute_service(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
) -> Result<(), Outcome> {
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
        if service.is_enabled() {
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
            Err(Outcome::nova(e.to_string(), &e))
        }
    }
}

/// Lists the host's instances, chooses and orders them, and records a vmove for each. A new
/// attempt gives earlier failed moves another chance (Masakari counts them against it forever).
pub(super) async fn prepare(
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
            return Err(Outcome::nova(e.to_string(), &e));
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

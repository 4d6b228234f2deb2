//! Host failure: storm guard → maintenance → fence → custom pre steps → force the compute
//! service down and disable it → choose and order instances → evacuate (per recovery method,
//! in parallel, each one confirmed) → custom post steps.
//!
//! By flow: [`before`] the steps before any instance moves, [`placement`] where instances go
//! (auto, reserved hosts, spares), [`moves`] the mechanics of moving one (batch, move, settle,
//! record).

mod before;
mod moves;
mod placement;

use lifeboat_core::model::{VMove, VMoveStatus};

use super::{Ctx, Outcome, custom};

/// Recovers a failed host.
pub(crate) async fn recover(ctx: &Ctx<'_>) -> Outcome {
    match recover_inner(ctx).await {
        Ok(outcome) | Err(outcome) => outcome,
    }
}

async fn recover_inner(ctx: &Ctx<'_>) -> Result<Outcome, Outcome> {
    let nova = ctx.nova()?;
    before::storm_guard(ctx).await?;
    ctx.checkpoint().await?;
    before::set_maintenance(ctx).await?;
    ctx.checkpoint().await?;
    before::fence(ctx).await?;
    custom::run_all(ctx, &ctx.policy.host.pre, "host_failure").await?;
    ctx.checkpoint().await?;
    if ctx.policy.host.disable_compute_service {
        before::disable_compute_service(ctx, &nova).await?;
    }
    ctx.checkpoint().await?;
    let (moves, servers) = before::prepare(ctx, &nova).await?;
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
        placement::evacuate(ctx, &nova, method, pending, &servers).await?
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
            .map(|(m, not)| format!("'{}' ({})", m.instance_name, not.why))
            .collect();
        Ok(Outcome::Error {
            message: format!(
                "Failed to evacuate instances {} from host '{}'.",
                list.join(", "),
                ctx.host.name
            ),
            method: Some(ran),
            // Another attempt is worth it while one instance may move then.
            retryable: failed.iter().any(|(_, not)| not.retryable),
        })
    }
}

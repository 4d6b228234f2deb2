//! A host reports it is back (`COMPUTE_HOST` `STARTED`): it leaves the maintenance a recovery put
//! it in. Maintenance an operator set is the operator's to end; the API already refuses such a
//! host's reports, and the store never ends it for the engine either.

use super::{Ctx, Outcome};
use lifeboat_core::store::StoreError;

/// Takes the host out of a recovery's maintenance if the policy says so.
pub(crate) async fn host(ctx: &Ctx<'_>) -> Outcome {
    let name = &ctx.host.name;
    if !ctx.policy.host.unset_maintenance_on_started || !ctx.host.in_recovery_maintenance() {
        let message = if ctx.host.on_maintenance() && !ctx.host.in_recovery_maintenance() {
            format!("Host {name} is back; it stays in maintenance: an operator put it there.")
        } else {
            format!("Host {name} is back.")
        };
        return Outcome::Finished {
            message: Some(message),
            method: None,
        };
    }
    let step = ctx.rec.start("UnsetHostMaintenanceTask").await;
    match end_recovery_maintenance(ctx).await {
        Ok(()) => {
            step.succeed(format!("Host {name} is back and out of maintenance."))
                .await;
            Outcome::Finished {
                message: Some(format!(
                    "Host {name} is back and out of maintenance; its compute service stays disabled until an operator enables it."
                )),
                method: None,
            }
        }
        Err(e) => {
            step.fail(e.to_string()).await;
            Outcome::error(e.to_string())
        }
    }
}

/// Ends the maintenance a recovery put the host in (the store leaves an operator's alone).
pub(crate) async fn end_recovery_maintenance(ctx: &Ctx<'_>) -> Result<(), StoreError> {
    ctx.deps
        .store
        .set_host_flags(
            ctx.host.uuid,
            Some(lifeboat_core::store::MaintenanceChange::EndRecovery),
            None,
            ctx.now(),
        )
        .await
}

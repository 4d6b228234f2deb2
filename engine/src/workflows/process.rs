//! Process failure: nova-compute stopped on a host → disable its compute service (the host can
//! no longer manage instances, so the scheduler must stop sending new ones); nova-compute back
//! → enable it again. Other processes are the process monitor's business (it restarts them).

use std::sync::Arc;

use lifeboat_core::compute::{Compute, ComputeError};

use super::back::end_recovery_maintenance;
use super::{Ctx, Outcome, no_nova, recovery_maintenance};
use crate::wait::{self, Look};

const NOVA_COMPUTE: &str = "nova-compute";

fn finished(message: String) -> Outcome {
    Outcome::Finished {
        message: Some(message),
        method: None,
    }
}

/// A process stopped.
pub(crate) async fn down(ctx: &Ctx<'_>, process: &str) -> Outcome {
    if process != NOVA_COMPUTE {
        // Masakari puts the host in maintenance for any process, which then refuses every later
        // report from the host, including a real host failure.
        return finished(format!(
            "Process {process} is not one Lifeboat recovers; nothing was done."
        ));
    }
    let nova = match ctx.nova() {
        Ok(n) => n,
        Err(outcome) => return outcome,
    };
    if let Err(e) = ctx
        .deps
        .store
        .set_host_flags(
            ctx.host.uuid,
            Some(recovery_maintenance(ctx)),
            None,
            ctx.now(),
        )
        .await
    {
        return Outcome::error(format!(
            "Putting host {} in maintenance failed: {e}",
            ctx.host.name
        ));
    }
    match disable(ctx, &nova).await {
        Ok(()) => finished(format!(
            "nova-compute stopped on {}: its compute service is disabled.",
            ctx.host.name
        )),
        Err(outcome) => outcome,
    }
}

async fn disable(ctx: &Ctx<'_>, nova: &Arc<dyn Compute>) -> Result<(), Outcome> {
    let host = &ctx.host.name;
    let p = &ctx.policy.process;
    let err = |e: ComputeError| Outcome::nova(e.to_string(), &e);
    if !ctx.rec.succeeded_before("DisableComputeNodeTask").await {
        let step = ctx.rec.start("DisableComputeNodeTask").await;
        let result = async {
            let service = nova.find_compute_service(host).await?;
            match service {
                Some(s) if s.is_enabled() => {
                    nova.disable_service(&s.id, &p.disable_reason).await?;
                    Ok(format!("Disabled the compute service of {host}."))
                }
                Some(_) => Ok(format!(
                    "The compute service of {host} was already disabled."
                )),
                None => Ok(format!("Nova has no nova-compute service on {host}.")),
            }
        }
        .await;
        let result: Result<String, ComputeError> = result;
        match result {
            Ok(m) => step.succeed(m).await,
            Err(e) => {
                step.fail(e.to_string()).await;
                return Err(err(e));
            }
        }
    }
    ctx.checkpoint().await?;
    let step = ctx.rec.start("ConfirmComputeNodeDisabledTask").await;
    let confirmed = wait::until(p.service_timeout, p.verify_interval, || async {
        Ok::<_, ComputeError>(match nova.find_compute_service(host).await? {
            Some(s) if !s.is_enabled() => Look::Done(()),
            None => Look::Done(()),
            Some(_) => Look::Pending,
        })
    })
    .await;
    match confirmed {
        Ok(()) => {
            step.succeed(format!("The compute service of {host} reads disabled."))
                .await;
            Ok(())
        }
        Err(e) => {
            let message = format!("The compute service of {host} did not read disabled: {e}");
            step.fail(message.clone()).await;
            Err(Outcome::error(message))
        }
    }
}

/// A process came back.
pub(crate) async fn up(ctx: &Ctx<'_>, process: &str) -> Outcome {
    let p = &ctx.policy.process;
    if process != NOVA_COMPUTE || !p.reenable_on_started {
        return finished(format!(
            "Process {process} is running again on {}.",
            ctx.host.name
        ));
    }
    // Only undoing a recovery of ours needs Nova: without one configured, a host no recovery
    // put in maintenance has nothing to undo (there was no Nova to disable its service).
    let nova = match (&ctx.deps.compute, ctx.host.in_recovery_maintenance()) {
        (Some(nova), _) => nova.clone(),
        (None, false) => {
            return finished(format!(
                "Process {process} is running again on {}; no Nova is configured and no recovery disabled its compute service, so there is nothing to undo.",
                ctx.host.name
            ));
        }
        (None, true) => return no_nova(),
    };
    let host = &ctx.host.name;
    let step = ctx.rec.start("EnableComputeNodeTask").await;
    let result = async {
        match nova.find_compute_service(host).await? {
            // Only undo what the process failure did; an operator's own reason is respected.
            Some(s) if !s.is_enabled() && s.disabled_reason.as_deref() == Some(p.disable_reason.as_str()) => {
                nova.enable_service(&s.id).await?;
                Ok::<_, ComputeError>(format!("Enabled the compute service of {host} again."))
            }
            Some(s) if !s.is_enabled() => Ok(format!(
                "The compute service of {host} stays disabled: it was disabled for another reason ({}).",
                s.disabled_reason.unwrap_or_default()
            )),
            _ => Ok(format!("The compute service of {host} is enabled.")),
        }
    }
    .await;
    match result {
        Ok(message) => {
            if ctx.host.in_recovery_maintenance()
                && let Err(e) = end_recovery_maintenance(ctx).await
            {
                step.fail(e.to_string()).await;
                return Outcome::error(e.to_string());
            }
            step.succeed(message.clone()).await;
            finished(message)
        }
        Err(e) => {
            step.fail(e.to_string()).await;
            Outcome::nova(e.to_string(), &e)
        }
    }
}

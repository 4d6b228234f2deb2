//! Instance failure: stop, start and confirm it active (or hard-reboot it), for HA-enabled
//! instances unless the policy says every instance.

use std::sync::Arc;

use lifeboat_core::compute::{Compute, ComputeError};

use super::{Ctx, Outcome};
use crate::decisions::truthy;
use crate::policy::InstanceAction;
use crate::wait::{self, Look};

/// Recovers one instance.
pub(crate) async fn recover(ctx: &Ctx<'_>, id: &str) -> Outcome {
    let nova = match ctx.nova() {
        Ok(n) => n,
        Err(outcome) => return outcome,
    };
    match recover_inner(ctx, &nova, id).await {
        Ok(outcome) | Err(outcome) => outcome,
    }
}

fn failed(e: impl ToString) -> Outcome {
    Outcome::Error {
        message: e.to_string(),
        method: None,
    }
}

async fn recover_inner(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
    id: &str,
) -> Result<Outcome, Outcome> {
    let p = &ctx.policy.instance;
    let server = match nova.get_server(id).await {
        Ok(s) => s,
        Err(e) if e.is_not_found() => {
            return Ok(Outcome::Ignored(format!("Instance {id} no longer exists.")));
        }
        Err(e) => return Err(failed(e)),
    };
    if !p.process_all_instances
        && !truthy(server.metadata.get(&p.ha_enabled_key).map(String::as_str))
    {
        return Ok(Outcome::Finished {
            message: Some(format!(
                "Instance {id} is not HA-enabled; nothing was done."
            )),
            method: None,
        });
    }
    if matches!(server.vm_state.as_str(), "paused" | "rescued") {
        return Ok(Outcome::Ignored(format!(
            "Instance {id} is {}; it is left as it is.",
            server.vm_state
        )));
    }
    match p.action {
        InstanceAction::StopStart => {
            if !ctx.rec.succeeded_before("StopInstanceTask").await {
                let step = ctx.rec.start("StopInstanceTask").await;
                match stop(ctx, nova, id, &server.vm_state).await {
                    Ok(m) => step.succeed(m).await,
                    Err(e) => {
                        step.fail(e.clone()).await;
                        return Err(failed(e));
                    }
                }
            }
            ctx.checkpoint().await?;
            if !ctx.rec.succeeded_before("StartInstanceTask").await {
                let step = ctx.rec.start("StartInstanceTask").await;
                match nova.start_server(id).await {
                    Ok(()) => step.succeed(format!("Started instance {id}.")).await,
                    // Already starting or started: confirming will tell.
                    Err(ComputeError::Refused { status: 409, .. }) => {
                        step.succeed(format!("Instance {id} was already starting."))
                            .await
                    }
                    Err(e) => {
                        step.fail(e.to_string()).await;
                        return Err(failed(e));
                    }
                }
            }
        }
        InstanceAction::HardReboot => {
            if !ctx.rec.succeeded_before("HardRebootInstanceTask").await {
                let step = ctx.rec.start("HardRebootInstanceTask").await;
                match nova.hard_reboot(id).await {
                    Ok(()) => step.succeed(format!("Hard-rebooted instance {id}.")).await,
                    Err(e) => {
                        step.fail(e.to_string()).await;
                        return Err(failed(e));
                    }
                }
            }
        }
    }
    ctx.checkpoint().await?;
    let step = ctx.rec.start("ConfirmInstanceActiveTask").await;
    let active = wait::until(p.power_on_timeout, p.verify_interval, || async {
        let s = nova.get_server(id).await?;
        Ok::<_, ComputeError>(match (s.vm_state.as_str(), s.task_state.as_deref()) {
            ("active", None) => Look::Done(()),
            ("error", _) => Look::Failed(format!("instance {id} went to error state")),
            _ => Look::Pending,
        })
    })
    .await;
    match active {
        Ok(()) => {
            step.succeed(format!("Instance {id} is active.")).await;
            Ok(Outcome::Finished {
                message: Some(format!("Instance {id} was recovered.")),
                method: None,
            })
        }
        Err(e) => {
            let message = format!("Instance {id} did not become active: {e}");
            step.fail(message.clone()).await;
            Err(failed(message))
        }
    }
}

/// Stops the instance (unless it is stopped) and waits until it reads stopped.
async fn stop(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
    id: &str,
    vm_state: &str,
) -> Result<String, String> {
    let p = &ctx.policy.instance;
    if vm_state == "stopped" {
        return Ok(format!("Instance {id} was already stopped."));
    }
    if vm_state == "resized" {
        nova.reset_state(id, "active")
            .await
            .map_err(|e| e.to_string())?;
    }
    match nova.stop_server(id).await {
        // A conflict while stopping is fine if it is stopped by now.
        Ok(()) | Err(ComputeError::Refused { status: 409, .. }) => {}
        Err(e) => return Err(e.to_string()),
    }
    wait::until(p.power_off_timeout, p.verify_interval, || async {
        let s = nova.get_server(id).await?;
        Ok::<_, ComputeError>(match (s.vm_state.as_str(), s.task_state.as_deref()) {
            ("stopped", None) => Look::Done(()),
            _ => Look::Pending,
        })
    })
    .await
    .map_err(|e| format!("instance {id} did not stop: {e}"))?;
    Ok(format!("Stopped instance {id}."))
}

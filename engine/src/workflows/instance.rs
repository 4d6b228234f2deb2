//! Instance failure: stop, start and confirm it active (or hard-reboot it), for HA-enabled
//! instances unless the policy says every instance.

use std::sync::Arc;

use lifeboat_core::compute::{Compute, ComputeError, VmState};

use super::{Ctx, Outcome};
use crate::decisions::truthy;
use crate::policy::InstanceAction;
use crate::wait::{self, Look, WaitError};

/// Why stopping the instance failed.
#[derive(Debug, thiserror::Error)]
enum StopError {
    #[error(transparent)]
    ResetState(ComputeError),
    #[error(transparent)]
    Stop(ComputeError),
    #[error("instance {id} did not stop: {source}")]
    ConfirmStopped {
        id: String,
        source: WaitError<ComputeError>,
    },
}

impl StopError {
    fn is_retryable(&self) -> bool {
        match self {
            Self::ResetState(e) | Self::Stop(e) => e.is_retryable(),
            Self::ConfirmStopped { source, .. } => waited_retryable(source),
        }
    }
}

/// Whether waiting may succeed another time: only a read Nova refused says no.
fn waited_retryable(e: &WaitError<ComputeError>) -> bool {
    match e {
        WaitError::Look(e) => e.is_retryable(),
        WaitError::Timeout(_) | WaitError::Failed(_) => true,
    }
}

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
        Err(e) => return Err(Outcome::nova(e.to_string(), &e)),
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
    if matches!(server.vm_state, VmState::Paused | VmState::Rescued) {
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
                        step.fail(e.to_string()).await;
                        return Err(Outcome::failure(e.to_string(), e.is_retryable()));
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
                        return Err(Outcome::nova(e.to_string(), &e));
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
                        return Err(Outcome::nova(e.to_string(), &e));
                    }
                }
            }
        }
    }
    ctx.checkpoint().await?;
    let step = ctx.rec.start("ConfirmInstanceActiveTask").await;
    let active = wait::until(p.power_on_timeout, p.verify_interval, || async {
        let s = nova.get_server(id).await?;
        Ok::<_, ComputeError>(match (&s.vm_state, &s.task_state) {
            (VmState::Active, None) => Look::Done(()),
            (VmState::Error, _) => Look::Failed(format!("instance {id} went to error state")),
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
            Err(Outcome::failure(message, waited_retryable(&e)))
        }
    }
}

/// Stops the instance (unless it is stopped) and waits until it reads stopped.
async fn stop(
    ctx: &Ctx<'_>,
    nova: &Arc<dyn Compute>,
    id: &str,
    vm_state: &VmState,
) -> Result<String, StopError> {
    let p = &ctx.policy.instance;
    if *vm_state == VmState::Stopped {
        return Ok(format!("Instance {id} was already stopped."));
    }
    if *vm_state == VmState::Resized {
        nova.reset_state(id, VmState::Active)
            .await
            .map_err(StopError::ResetState)?;
    }
    match nova.stop_server(id).await {
        // A conflict while stopping is fine if it is stopped by now.
        Ok(()) | Err(ComputeError::Refused { status: 409, .. }) => {}
        Err(e) => return Err(StopError::Stop(e)),
    }
    wait::until(p.power_off_timeout, p.verify_interval, || async {
        let s = nova.get_server(id).await?;
        Ok::<_, ComputeError>(match (&s.vm_state, &s.task_state) {
            (VmState::Stopped, None) => Look::Done(()),
            _ => Look::Pending,
        })
    })
    .await
    .map_err(|source| StopError::ConfirmStopped {
        id: id.to_owned(),
        source,
    })?;
    Ok(format!("Stopped instance {id}."))
}

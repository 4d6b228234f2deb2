//! The recovery workflows and what they share.

mod back;
mod custom;
mod evacuation_watch;
mod host;
mod instance;
mod process;

use std::sync::Arc;

use lifeboat_core::compute::{Compute, ComputeError};
use lifeboat_core::model::{CANCEL_STEP, Host, Notification};
use lifeboat_core::store::{Claim, MaintenanceChange};
use tokio_util::sync::CancellationToken;

use crate::EngineDeps;
use crate::decisions::{Action, classify};
use crate::policy::Policy;
use crate::recorder::Recorder;
use crate::wait;

/// How a recovery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done (or nothing needed doing).
    Finished {
        /// What happened, if worth saying.
        message: Option<String>,
        /// The recovery method that ran, for host failures.
        method: Option<String>,
    },
    /// Deliberately not acted on.
    Ignored(String),
    /// Failed; retried while attempts remain if it may succeed later.
    Error {
        /// Why.
        message: String,
        /// The recovery method that ran, for host failures.
        method: Option<String>,
        /// Whether trying again may succeed (Nova unreachable, a timeout) rather than fail the
        /// same way (Nova refusing the request).
        retryable: bool,
    },
    /// Stopped for an operator to decide (the storm guard); retried only on request.
    NeedsOperator(String),
    /// An operator cancelled it.
    Cancelled,
    /// The engine is shutting down.
    Interrupted,
}

impl Outcome {
    /// A failure worth trying again.
    fn error(message: impl Into<String>) -> Self {
        Self::failure(message, true)
    }

    /// A failure, retried only if `retryable`.
    fn failure(message: impl Into<String>, retryable: bool) -> Self {
        Self::Error {
            message: message.into(),
            method: None,
            retryable,
        }
    }

    /// A failed Nova call, retried only if Nova may answer otherwise later.
    fn nova(message: impl Into<String>, e: &ComputeError) -> Self {
        Self::failure(message, e.is_retryable())
    }
}

/// What every step of a recovery can reach.
pub(crate) struct Ctx<'a> {
    pub(crate) deps: &'a EngineDeps,
    pub(crate) notification: &'a Notification,
    pub(crate) claim: &'a Claim,
    pub(crate) host: Host,
    pub(crate) policy: &'a Policy,
    pub(crate) rec: Recorder,
    cancel: &'a CancellationToken,
}

impl Ctx<'_> {
    /// Nova, or the outcome saying it is not configured.
    pub(crate) fn nova(&self) -> Result<Arc<dyn Compute>, Outcome> {
        self.deps.compute.clone().ok_or_else(no_nova)
    }

    /// Between steps: stop if the engine is shutting down or an operator cancelled.
    pub(crate) async fn checkpoint(&self) -> Result<(), Outcome> {
        if self.cancel.is_cancelled() {
            return Err(Outcome::Interrupted);
        }
        match self
            .deps
            .store
            .cancel_requested(self.notification.notification_uuid)
            .await
        {
            Ok(true) => {
                self.rec
                    .start(CANCEL_STEP)
                    .await
                    .succeed("Cancelled by an operator: the recovery stops here.")
                    .await;
                Err(Outcome::Cancelled)
            }
            Ok(false) => Ok(()),
            // The request will be seen at the next checkpoint.
            Err(_) => Ok(()),
        }
    }

    /// Now, from the engine's clock.
    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.deps.clock.now()
    }
}

/// The outcome of work that needs Nova when none is configured.
pub(crate) fn no_nova() -> Outcome {
    Outcome::error(
        "No Nova endpoint is configured ([DEFAULT] os_privileged_user_* or [nova] endpoint_override); nothing can be recovered.",
    )
}

/// The maintenance a recovery of this notification puts its host in.
pub(crate) fn recovery_maintenance(ctx: &Ctx<'_>) -> MaintenanceChange {
    MaintenanceChange::Recovery(ctx.notification.notification_uuid)
}

/// Recovers one claimed notification.
pub(crate) async fn run(deps: &EngineDeps, claim: &Claim, cancel: &CancellationToken) -> Outcome {
    let n = &claim.notification;
    let host = match wait::store(
        wait::STORE_PATIENCE,
        "reading the notification's host",
        || deps.store.get_host_by_uuid(n.source_host_uuid),
    )
    .await
    {
        Ok(Some(host)) => host,
        Ok(None) => {
            return Outcome::Ignored(
                "The notification's host was deleted; nothing to recover.".into(),
            );
        }
        Err(e) => return Outcome::error(format!("Reading the notification's host failed: {e}")),
    };
    let policy = deps.policies.for_segment(&host.failover_segment.name);
    let action = classify(n);
    let recovers = matches!(
        action,
        Action::RecoverHost | Action::RecoverInstance { .. } | Action::ProcessDown { .. }
    );
    if recovers && !host.failover_segment.enabled {
        return Outcome::Ignored("Recovery aborted: the segment HA is disabled.".into());
    }
    let rec = match Recorder::new(
        deps.store.clone(),
        deps.clock.clone(),
        n.notification_uuid,
        claim.attempt,
    )
    .await
    {
        Ok(rec) => rec,
        Err(e) => return Outcome::error(format!("Reading the recorded steps failed: {e}")),
    };
    let ctx = Ctx {
        deps,
        notification: n,
        claim,
        host,
        policy,
        rec,
        cancel,
    };
    match action {
        Action::RecoverHost => host::recover(&ctx).await,
        Action::HostBack => back::host(&ctx).await,
        Action::RecoverInstance { instance } => instance::recover(&ctx, &instance).await,
        Action::ProcessDown { process } => process::down(&ctx, &process).await,
        Action::ProcessUp { process } => process::up(&ctx, &process).await,
        Action::Ignore(reason) => Outcome::Ignored(reason),
    }
}

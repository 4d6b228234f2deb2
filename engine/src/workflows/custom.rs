//! Custom steps from workflow policies: run a command, call a webhook, or wait.

use std::process::Stdio;
use std::time::Duration;

use lifeboat_core::compute::WebhookError;
use serde_json::json;

use super::{Ctx, Outcome};
use crate::policy::CustomStep;
use crate::wait::{self, Look};

/// Why one try of a custom step failed.
#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error("no HTTP client is configured for webhooks")]
    NoWebhookClient,
    #[error(transparent)]
    PostWebhook(WebhookError),
    #[error("{url} answered {status}")]
    WebhookRefused { url: String, status: u16 },
    #[error("the condition {program} did not hold within {timeout:?}: {last}")]
    ConditionUnmet {
        program: String,
        timeout: Duration,
        last: String,
    },
    #[error("the step has nothing to do")]
    NothingToDo,
    #[error("starting {program} failed: {source}")]
    Start {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} did not finish within {timeout:?}")]
    Timeout { program: String, timeout: Duration },
    #[error("waiting for {program} failed: {source}")]
    Wait {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} exited with {status}: {stderr}")]
    Exited {
        program: String,
        status: std::process::ExitStatus,
        stderr: String,
    },
}

/// Runs `steps` in order; a failing step with `on_failure: abort` ends the recovery.
pub(crate) async fn run_all(
    ctx: &Ctx<'_>,
    steps: &[CustomStep],
    event: &str,
) -> Result<(), Outcome> {
    for step in steps {
        ctx.checkpoint().await?;
        if ctx.rec.succeeded_before(&step.name).await {
            continue;
        }
        let mut record = ctx.rec.start(&step.name).await;
        let tries = step.retries.unwrap_or(0) + 1;
        let mut last_error = String::new();
        let mut done = None;
        for attempt in 1..=tries {
            match run_one(ctx, step, event).await {
                Ok(what) => {
                    done = Some(what);
                    break;
                }
                Err(why) => {
                    last_error = why.to_string();
                    record
                        .progress(
                            0.0,
                            format!("try {attempt} of {tries} failed: {last_error}"),
                        )
                        .await;
                }
            }
        }
        if let Some(what) = done {
            record.succeed(what).await;
        } else {
            let message = format!("Custom step {} failed: {last_error}", step.name);
            record.fail(message.clone()).await;
            if step.aborts_on_failure() {
                return Err(Outcome::error(message));
            }
        }
    }
    Ok(())
}

async fn run_one(ctx: &Ctx<'_>, step: &CustomStep, event: &str) -> Result<String, StepError> {
    let n = ctx.notification;
    if let Some(seconds) = step.wait {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        return Ok(format!("waited {seconds} s"));
    }
    if let Some(url) = &step.webhook {
        let hook = ctx
            .deps
            .webhook
            .as_ref()
            .ok_or(StepError::NoWebhookClient)?;
        let body = json!({
            "event": event,
            "notification_uuid": n.notification_uuid,
            "type": n.notification_type,
            "host": ctx.host.name,
            "segment": ctx.host.failover_segment.name,
            "payload": n.payload,
        });
        let status = hook
            .post_json(url, &body, step.timeout())
            .await
            .map_err(StepError::PostWebhook)?;
        return if (200..300).contains(&status) {
            Ok(format!("{url} answered {status}"))
        } else {
            Err(StepError::WebhookRefused {
                url: url.clone(),
                status,
            })
        };
    }
    if let Some(argv) = step.until.as_ref().filter(|a| !a.is_empty()) {
        let interval = Duration::from_secs(step.interval.unwrap_or(2));
        let last = std::sync::Mutex::new(String::new());
        let held = wait::until(step.timeout(), interval, || async {
            Ok::<_, StepError>(match command(ctx, argv, event, step.timeout()).await {
                Ok(_) => Look::Done(()),
                Err(why) => {
                    *last
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = why.to_string();
                    Look::Pending
                }
            })
        })
        .await;
        let last = last
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        return match held {
            Ok(()) => Ok(format!("{} succeeded: the condition holds", argv[0])),
            Err(_) => Err(StepError::ConditionUnmet {
                program: argv[0].clone(),
                timeout: step.timeout(),
                last,
            }),
        };
    }
    let Some(argv) = step.run.as_ref().filter(|a| !a.is_empty()) else {
        return Err(StepError::NothingToDo);
    };
    command(ctx, argv, event, step.timeout()).await
}

/// Runs `argv` (no shell) with the notification in its environment; `Ok` on exit 0.
async fn command(
    ctx: &Ctx<'_>,
    argv: &[String],
    event: &str,
    timeout: Duration,
) -> Result<String, StepError> {
    let n = ctx.notification;
    let mut command = tokio::process::Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .env("LIFEBOAT_NOTIFICATION", n.notification_uuid.to_string())
        .env("LIFEBOAT_HOST", &ctx.host.name)
        .env("LIFEBOAT_SEGMENT", &ctx.host.failover_segment.name)
        .env("LIFEBOAT_EVENT", event)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let program = || argv[0].clone();
    let child = command.spawn().map_err(|source| StepError::Start {
        program: program(),
        source,
    })?;
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| StepError::Timeout {
            program: program(),
            timeout,
        })?
        .map_err(|source| StepError::Wait {
            program: program(),
            source,
        })?;
    let tail = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        text.trim()
            .chars()
            .rev()
            .take(300)
            .collect::<String>()
            .chars()
            .rev()
            .collect::<String>()
    };
    if output.status.success() {
        Ok(format!("{} succeeded: {}", argv[0], tail(&output.stdout)))
    } else {
        Err(StepError::Exited {
            program: program(),
            status: output.status,
            stderr: tail(&output.stderr),
        })
    }
}

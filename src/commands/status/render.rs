//! The overview as one screen of text.

use std::fmt::Write as _;

use super::snapshot::{Failure, Snapshot};

/// The screen.
pub fn text(s: &Snapshot) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Lifeboat at {}, {}",
        s.endpoint,
        s.taken_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    let e = &s.engine;
    let here = match e.in_api_process {
        Some(true) => format!(
            "an engine runs in the API's process ({} claims, {} lease losses since it started); ",
            e.claims.unwrap_or(0),
            e.lease_losses.unwrap_or(0)
        ),
        Some(false) => "no engine in the API's process; ".to_owned(),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "Engine: {here}{} running, {} waiting for an engine, {} in error",
        e.running, e.waiting, e.in_error
    );
    if s.storm_guard.tripped {
        let _ = writeln!(
            out,
            "Storm guard: TRIPPED, {} recoveries paused until an operator retries them:",
            s.storm_guard.paused.len()
        );
        for p in &s.storm_guard.paused {
            failure_line(&mut out, p);
        }
    } else {
        let _ = writeln!(out, "Storm guard: not tripped");
    }
    for segment in &s.segments {
        let _ = writeln!(
            out,
            "\nSegment {} ({}{}), {} hosts",
            segment.name,
            segment.recovery_method,
            if segment.enabled { "" } else { ", disabled" },
            segment.hosts.len()
        );
        if segment.hosts.is_empty() {
            continue;
        }
        let width = segment
            .hosts
            .iter()
            .map(|h| h.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let _ = writeln!(
            out,
            "  {:width$}  {:10}  {:8}  MAINTENANCE",
            "HOST", "STATE", "RESERVED"
        );
        for h in &segment.hosts {
            let maintenance = match (h.on_maintenance, &h.maintenance_reason) {
                (false, _) => "no".to_owned(),
                (true, Some(reason)) => match h.maintenance_notification_uuid {
                    Some(n) => format!("yes, by {reason} (notification {n})"),
                    None => format!("yes, by {reason}"),
                },
                (true, None) => "yes".to_owned(),
            };
            let reserved = if h.reserved { "yes" } else { "no" };
            let _ = writeln!(
                out,
                "  {:width$}  {:10}  {:8}  {maintenance}",
                h.name, h.state, reserved
            );
        }
    }
    let _ = writeln!(out, "\nRecoveries in progress: {}", s.recoveries.len());
    for r in &s.recoveries {
        let summary: Vec<String> = r
            .instances_by_status
            .iter()
            .map(|(status, n)| format!("{n} {status}"))
            .collect();
        let _ = writeln!(
            out,
            "  {} {} of {}: {} instances{}",
            r.notification_uuid,
            r.r#type,
            r.host,
            r.instances.len(),
            if summary.is_empty() {
                String::new()
            } else {
                format!(" ({})", summary.join(", "))
            }
        );
        if let Some(step) = r
            .steps
            .iter()
            .rev()
            .find(|s| s.state == "RUNNING")
            .or(r.steps.last())
        {
            let _ = writeln!(
                out,
                "    step {} {} ({:.0}%){}",
                step.name,
                step.state,
                step.progress * 100.0,
                step.last_message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            );
        }
        for i in &r.instances {
            let _ = writeln!(
                out,
                "    {} ({}) {}: {} -> {}{}",
                i.instance_name,
                i.instance_uuid,
                i.status,
                i.source_host.as_deref().unwrap_or("-"),
                i.dest_host.as_deref().unwrap_or("-"),
                i.message
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            );
        }
    }
    let _ = writeln!(out, "\nRecent failures: {}", s.recent_failures.len());
    for f in &s.recent_failures {
        failure_line(&mut out, f);
    }
    out
}

fn failure_line(out: &mut String, f: &Failure) {
    let _ = writeln!(
        out,
        "  {} {} of {} {} at {}: {}",
        f.notification_uuid,
        f.r#type,
        f.host,
        f.status,
        f.updated_at.map_or_else(
            || "-".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M:%S").to_string()
        ),
        f.message.as_deref().unwrap_or("")
    );
}

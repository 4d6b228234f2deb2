//! The overview as one screen of text: a header (engine, storm guard), each segment's hosts,
//! the recoveries in progress, the recent failures.

use std::fmt::Write as _;

use super::snapshot::{Failure, Recovery, SegmentState, Snapshot};

/// The screen.
pub fn text(s: &Snapshot) -> String {
    let mut out = String::new();
    header(&mut out, s);
    for segment in &s.segments {
        segment_table(&mut out, segment);
    }
    let _ = writeln!(out, "\nRecoveries in progress: {}", s.recoveries.len());
    for r in &s.recoveries {
        recovery(&mut out, r);
    }
    let _ = writeln!(out, "\nRecent failures: {}", s.recent_failures.len());
    for f in &s.recent_failures {
        failure_line(&mut out, f);
    }
    out
}

fn header(out: &mut String, s: &Snapshot) {
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
    if !s.storm_guard.tripped {
        let _ = writeln!(out, "Storm guard: not tripped");
        return;
    }
    let _ = writeln!(
        out,
        "Storm guard: TRIPPED, {} recoveries paused until an operator retries them:",
        s.storm_guard.paused.len()
    );
    for p in &s.storm_guard.paused {
        failure_line(out, p);
    }
}

fn segment_table(out: &mut String, segment: &SegmentState) {
    let disabled = if segment.enabled { "" } else { ", disabled" };
    let _ = writeln!(
        out,
        "\nSegment {} ({}{disabled}), {} hosts",
        segment.name,
        segment.recovery_method,
        segment.hosts.len()
    );
    if segment.hosts.is_empty() {
        return;
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

fn recovery(out: &mut String, r: &Recovery) {
    let summary: Vec<String> = r
        .instances_by_status
        .iter()
        .map(|(status, n)| format!("{n} {status}"))
        .collect();
    let summary = if summary.is_empty() {
        String::new()
    } else {
        format!(" ({})", summary.join(", "))
    };
    let _ = writeln!(
        out,
        "  {} {} of {}: {} instances{summary}",
        r.notification_uuid,
        r.r#type,
        r.host,
        r.instances.len(),
    );
    let current = r
        .steps
        .iter()
        .rev()
        .find(|s| s.state == "RUNNING")
        .or(r.steps.last());
    if let Some(step) = current {
        let _ = writeln!(
            out,
            "    step {} {} ({:.0}%){}",
            step.name,
            step.state,
            step.progress * 100.0,
            after(": ", step.last_message.as_deref())
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
            after(
                " ",
                i.message.as_deref().map(|m| format!("({m})")).as_deref()
            )
        );
    }
}

fn failure_line(out: &mut String, f: &Failure) {
    let at = f.updated_at.map_or_else(
        || "-".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
    );
    let _ = writeln!(
        out,
        "  {} {} of {} {} at {at}: {}",
        f.notification_uuid,
        f.r#type,
        f.host,
        f.status,
        f.message.as_deref().unwrap_or("")
    );
}

/// `text` after `separator`, or nothing when there is no text.
fn after(separator: &str, text: Option<&str>) -> String {
    text.map(|t| format!("{separator}{t}")).unwrap_or_default()
}

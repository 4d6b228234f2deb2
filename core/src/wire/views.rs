use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::time_format::{format_detail_timestamp, optional, required};
use crate::model::{
    Host, MaintenanceReason, Notification, NotificationStatus, NotificationType, Payload,
    RecoveryMethod, RecoveryStep, Segment, Timestamps, VMove, VMoveStatus, VMoveType,
};

/// The timestamp fields every resource shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimestampsView {
    /// Insert time.
    #[serde(with = "required")]
    pub created_at: DateTime<Utc>,
    /// Last update time.
    #[serde(with = "optional", default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// Soft-delete time.
    #[serde(with = "optional", default)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Soft-deleted flag.
    #[serde(default)]
    pub deleted: bool,
}

impl From<&Timestamps> for TimestampsView {
    fn from(t: &Timestamps) -> Self {
        Self {
            created_at: t.created_at,
            updated_at: t.updated_at,
            deleted_at: t.deleted_at,
            deleted: t.deleted,
        }
    }
}

/// `{"segment": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentView {
    /// Integer id.
    pub id: i64,
    /// UUID.
    pub uuid: Uuid,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Recovery method.
    pub recovery_method: RecoveryMethod,
    /// Service type.
    pub service_type: String,
    /// Enabled flag (shown at every microversion, as Masakari does).
    pub enabled: bool,
    /// Timestamps.
    #[serde(flatten)]
    pub timestamps: TimestampsView,
}

impl From<&Segment> for SegmentView {
    fn from(s: &Segment) -> Self {
        Self {
            id: s.id,
            uuid: s.uuid,
            name: s.name.clone(),
            description: s.description.clone(),
            recovery_method: s.recovery_method,
            service_type: s.service_type.clone(),
            enabled: s.enabled,
            timestamps: (&s.timestamps).into(),
        }
    }
}

/// `{"host": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostView {
    /// Integer id.
    pub id: i64,
    /// UUID.
    pub uuid: Uuid,
    /// Name.
    pub name: String,
    /// The segment's UUID.
    pub failover_segment_id: Uuid,
    /// The whole segment.
    pub failover_segment: SegmentView,
    /// Host type.
    #[serde(rename = "type")]
    pub host_type: String,
    /// Reserved flag.
    pub reserved: bool,
    /// Control attributes.
    pub control_attributes: String,
    /// Maintenance flag.
    pub on_maintenance: bool,
    /// Why the host is in maintenance: only from microversion 1.6 (older clients see exactly
    /// Masakari's fields).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<MaintenanceView>,
    /// Timestamps.
    #[serde(flatten)]
    pub timestamps: TimestampsView,
}

/// Why a host is in maintenance (host views at microversion 1.6 and later).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceView {
    /// `operator` (set through the API), `recovery` (set by the engine) or null (not in
    /// maintenance).
    pub maintenance_reason: Option<MaintenanceReason>,
    /// The notification whose recovery put the host in maintenance (null otherwise).
    pub maintenance_notification_uuid: Option<Uuid>,
}

impl HostView {
    /// The view with the maintenance reason (microversion 1.6 and later).
    pub fn with_maintenance(mut self, h: &Host) -> Self {
        self.maintenance = Some(MaintenanceView {
            maintenance_reason: h.maintenance.map(|m| m.reason),
            maintenance_notification_uuid: h.maintenance.and_then(|m| m.notification_uuid),
        });
        self
    }
}

impl From<&Host> for HostView {
    fn from(h: &Host) -> Self {
        Self {
            id: h.id,
            uuid: h.uuid,
            name: h.name.clone(),
            failover_segment_id: h.failover_segment.uuid,
            failover_segment: (&h.failover_segment).into(),
            host_type: h.host_type.clone(),
            reserved: h.reserved,
            control_attributes: h.control_attributes.clone(),
            on_maintenance: h.on_maintenance(),
            maintenance: None,
            timestamps: (&h.timestamps).into(),
        }
    }
}

/// One line of a step's progress, as Masakari shows it (space-separated timestamp, progress
/// as a string).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressDetailView {
    /// `YYYY-MM-DD HH:MM:SS.ffffff`.
    pub timestamp: String,
    /// Progress as a string, e.g. `"0.3"`.
    pub progress: String,
    /// What happened.
    pub message: String,
}

/// One item of `recovery_workflow_details`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowDetailView {
    /// Step name.
    pub name: String,
    /// Progress between 0 and 1.
    pub progress: f64,
    /// `SUCCESS`, `FAILURE`, `RUNNING`, …
    pub state: String,
    /// Progress lines.
    pub progress_details: Vec<ProgressDetailView>,
}

impl From<&RecoveryStep> for WorkflowDetailView {
    fn from(step: &RecoveryStep) -> Self {
        Self {
            name: step.name.clone(),
            progress: step.progress,
            state: step.state.as_str().to_owned(),
            progress_details: step
                .details
                .iter()
                .map(|d| ProgressDetailView {
                    timestamp: format_detail_timestamp(&d.timestamp),
                    progress: format!("{:?}", d.progress),
                    message: d.message.clone(),
                })
                .collect(),
        }
    }
}

/// `{"notification": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationView {
    /// Integer id.
    pub id: i64,
    /// Public identifier.
    pub notification_uuid: Uuid,
    /// Notification type.
    #[serde(rename = "type")]
    pub notification_type: NotificationType,
    /// When the monitor saw the failure.
    #[serde(with = "required")]
    pub generated_time: DateTime<Utc>,
    /// Reporting host.
    pub source_host_uuid: Uuid,
    /// Details.
    pub payload: Payload,
    /// Lifecycle status.
    pub status: NotificationStatus,
    /// The host's segment.
    pub failover_segment_uuid: Option<Uuid>,
    /// Outcome message.
    pub message: Option<String>,
    /// Timestamps.
    #[serde(flatten)]
    pub timestamps: TimestampsView,
    /// Workflow steps, only on show at microversion 1.1 and later.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recovery_workflow_details: Option<Vec<WorkflowDetailView>>,
}

impl From<&Notification> for NotificationView {
    fn from(n: &Notification) -> Self {
        Self {
            id: n.id,
            notification_uuid: n.notification_uuid,
            notification_type: n.notification_type,
            generated_time: n.generated_time,
            source_host_uuid: n.source_host_uuid,
            payload: n.payload.clone(),
            status: n.status,
            failover_segment_uuid: n.failover_segment_uuid,
            message: n.message.clone(),
            timestamps: (&n.timestamps).into(),
            recovery_workflow_details: None,
        }
    }
}

/// `{"vmove": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VMoveView {
    /// Integer id.
    pub id: i64,
    /// UUID.
    pub uuid: Uuid,
    /// The notification.
    pub notification_uuid: Uuid,
    /// Nova server id.
    pub instance_uuid: String,
    /// Nova server name.
    pub instance_name: String,
    /// Failed host.
    pub source_host: Option<String>,
    /// Destination host.
    pub dest_host: Option<String>,
    /// Start.
    #[serde(with = "optional", default)]
    pub start_time: Option<DateTime<Utc>>,
    /// End.
    #[serde(with = "optional", default)]
    pub end_time: Option<DateTime<Utc>>,
    /// Move type.
    #[serde(rename = "type")]
    pub vmove_type: VMoveType,
    /// Status.
    pub status: VMoveStatus,
    /// Failure reason.
    pub message: Option<String>,
    /// Timestamps.
    #[serde(flatten)]
    pub timestamps: TimestampsView,
}

impl From<&VMove> for VMoveView {
    fn from(v: &VMove) -> Self {
        Self {
            id: v.id,
            uuid: v.uuid,
            notification_uuid: v.notification_uuid,
            instance_uuid: v.instance_uuid.clone(),
            instance_name: v.instance_name.clone(),
            source_host: v.source_host.clone(),
            dest_host: v.dest_host.clone(),
            start_time: v.start_time,
            end_time: v.end_time,
            vmove_type: v.vmove_type,
            status: v.status,
            message: v.message.clone(),
            timestamps: (&v.timestamps).into(),
        }
    }
}

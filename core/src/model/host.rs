use uuid::Uuid;

use super::{Segment, Timestamps, string_enum};
use crate::validation::{Description, HostType, Name};

/// A compute host that belongs to one failover segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Integer database id.
    pub id: i64,
    /// Public identifier.
    pub uuid: Uuid,
    /// Nova compute service host name; unique among live hosts of all segments.
    pub name: String,
    /// The segment the host belongs to.
    pub failover_segment: Segment,
    /// Free text matching `^[a-zA-Z0-9]*$`, e.g. `COMPUTE`.
    pub host_type: String,
    /// A spare kept empty for `reserved_host` recovery.
    pub reserved: bool,
    /// Free text (Masakari: how to reach the host, e.g. `SSH`).
    pub control_attributes: String,
    /// In maintenance, and why (none: not in maintenance). Notifications from a host in
    /// maintenance are refused, but for the `STARTED` report that ends a recovery's.
    pub maintenance: Option<Maintenance>,
    /// Row timestamps.
    pub timestamps: Timestamps,
}

string_enum! {
    /// Who put a host in maintenance.
    pub enum MaintenanceReason {
        /// An operator, through the API: only an operator takes it out again.
        Operator = "operator",
        /// A recovery: the host's (or nova-compute's) `STARTED` report takes it out again.
        Recovery = "recovery",
    }
}

/// Why a host is in maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Maintenance {
    /// Who put it there.
    pub reason: MaintenanceReason,
    /// The notification whose recovery put it there (for [`MaintenanceReason::Recovery`]).
    pub notification_uuid: Option<Uuid>,
}

impl Host {
    /// Whether the host is in maintenance (Masakari's `on_maintenance`).
    pub fn on_maintenance(&self) -> bool {
        self.maintenance.is_some()
    }

    /// Whether a recovery put the host in maintenance, so that its `STARTED` report ends it.
    pub fn in_recovery_maintenance(&self) -> bool {
        self.maintenance
            .is_some_and(|m| m.reason == MaintenanceReason::Recovery)
    }

    /// Columns a list may be sorted by.
    pub const SORT_KEYS: &'static [&'static str] = &[
        "id",
        "uuid",
        "name",
        "reserved",
        "type",
        "control_attributes",
        "on_maintenance",
        "failover_segment_id",
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted",
    ];
}

/// A validated host to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHost {
    /// Host name (must match the Nova compute service host when Nova is configured).
    pub name: Name,
    /// Host type.
    pub host_type: HostType,
    /// Control attributes.
    pub control_attributes: Description,
    /// Defaults to false.
    pub reserved: bool,
    /// Defaults to false; true puts the host in the operator's maintenance.
    pub on_maintenance: bool,
}

/// A validated partial host update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostUpdate {
    /// New name.
    pub name: Option<Name>,
    /// New type.
    pub host_type: Option<HostType>,
    /// New control attributes.
    pub control_attributes: Option<Description>,
    /// New reserved flag.
    pub reserved: Option<bool>,
    /// New maintenance flag: true puts the host in the operator's maintenance (whoever put it
    /// there before), false ends any maintenance.
    pub on_maintenance: Option<bool>,
}

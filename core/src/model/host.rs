use uuid::Uuid;

use super::{Segment, Timestamps};
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
    /// Notifications from a host under maintenance are refused.
    pub on_maintenance: bool,
    /// Row timestamps.
    pub timestamps: Timestamps,
}

impl Host {
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
    /// Defaults to false.
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
    /// New maintenance flag.
    pub on_maintenance: Option<bool>,
}

use uuid::Uuid;

use super::{Timestamps, string_enum};
use crate::validation::{Description, Name};

string_enum! {
    /// How a segment's failed hosts are recovered.
    pub enum RecoveryMethod {
        /// Evacuate to any suitable host (Lifeboat: inside the segment).
        Auto = "auto",
        /// Evacuate to the segment's reserved hosts.
        ReservedHost = "reserved_host",
        /// `auto`, falling back to `reserved_host`.
        AutoPriority = "auto_priority",
        /// `reserved_host`, falling back to `auto`.
        RhPriority = "rh_priority",
    }
}

/// A failover segment: a group of hosts that back each other up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Integer database id (Masakari exposes it; clients page with it).
    pub id: i64,
    /// Public identifier.
    pub uuid: Uuid,
    /// Unique among live segments.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// How failed hosts are recovered.
    pub recovery_method: RecoveryMethod,
    /// Free text, conventionally `COMPUTE`.
    pub service_type: String,
    /// Whether notifications of this segment's hosts are acted on.
    pub enabled: bool,
    /// Row timestamps.
    pub timestamps: Timestamps,
}

impl Segment {
    /// Columns a list may be sorted by (Masakari accepts any model column).
    pub const SORT_KEYS: &'static [&'static str] = &[
        "id",
        "uuid",
        "name",
        "description",
        "recovery_method",
        "service_type",
        "enabled",
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted",
    ];
}

/// A validated segment to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSegment {
    /// Segment name.
    pub name: Name,
    /// Optional description.
    pub description: Option<Description>,
    /// Recovery method.
    pub recovery_method: RecoveryMethod,
    /// Service type.
    pub service_type: Name,
    /// Defaults to true.
    pub enabled: bool,
}

/// A validated partial update; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegmentUpdate {
    /// New name.
    pub name: Option<Name>,
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<Description>>,
    /// New recovery method.
    pub recovery_method: Option<RecoveryMethod>,
    /// New service type.
    pub service_type: Option<Name>,
    /// New enabled flag.
    pub enabled: Option<bool>,
}

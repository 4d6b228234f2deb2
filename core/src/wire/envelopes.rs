//! The envelopes the API wraps its views in, for clients that read answers (the monitor
//! agents): `{"notification": …}`, `{"segments": [ … ]}` and the like.

use serde::{Deserialize, Serialize};

use super::{FenceDeviceView, HostView, NotificationView, SegmentView};

/// `{"notification": {...}}`: the answer to `POST /v1/notifications` and to a show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationBody {
    /// The notification.
    pub notification: NotificationView,
}

/// `{"segments": [...]}`: one page of `GET /v1/segments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentsPage {
    /// The page's segments, in the listing's order.
    pub segments: Vec<SegmentView>,
}

/// `{"hosts": [...]}`: one page of `GET /v1/segments/{id}/hosts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostsPage {
    /// The page's hosts.
    pub hosts: Vec<HostView>,
}

/// `{"fence_devices": [...]}`: a host's fence devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FenceDevicesPage {
    /// The devices, by level.
    pub fence_devices: Vec<FenceDeviceView>,
}

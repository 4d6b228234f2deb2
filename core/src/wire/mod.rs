//! The JSON shapes of the Masakari v1 API.
//!
//! Views (`SegmentView`, …) are what the API returns and what our client reads; request parsers
//! turn a request body into validated domain values with Masakari's error messages. Field names
//! follow Masakari exactly, even where Rust would name them differently.

mod envelopes;
mod fence;
mod fence_views;
mod requests;
mod time_format;
mod views;

pub use envelopes::{FenceDevicesPage, HostsPage, NotificationBody, SegmentsPage};
pub use fence::{
    FenceDeviceChange, FenceDeviceRequest, MAX_FENCE_LEVEL, check_fence_device,
    parse_create_fence_device, parse_power_action, parse_update_fence_device,
};
pub use fence_views::{FenceAttemptView, FenceDeviceView, FenceRecordView, PowerBody, PowerView};
pub use requests::{
    CreateNotification, CreateNotificationBody, parse_create_host, parse_create_notification,
    parse_create_segment, parse_update_host, parse_update_segment,
};
pub use time_format::{format_datetime, format_detail_timestamp, format_naive};
pub use views::{
    HostView, MaintenanceView, NotificationView, ProgressDetailView, SegmentView, VMoveView,
    WorkflowDetailView,
};

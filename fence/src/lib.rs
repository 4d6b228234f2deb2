//! Fencing: powering a failed host off, and knowing it is off, before its instances start
//! anywhere else.
//!
//! * [`ipmi`]: a native IPMI v2.0 (RMCP+) client over UDP, with verified power operations;
//! * [`agent`]: runs any ClusterLabs fence agent (`fence_ipmilan`, `fence_redfish`, …) through
//!   its stdin `key=value` protocol;
//! * [`devices`]: one configured device, ready to run through either;
//! * [`topology`]: a host's devices in ordered levels, implementing core's
//!   [`Fencer`](lifeboat_core::fencing::Fencer) seam with fence history;
//! * [`credentials`]: BMC passwords sealed with a key from the configuration before they are
//!   stored.
//!
//! Depends on `lifeboat-core` only; the binary wires it to the store.

pub mod agent;
pub mod credentials;
pub mod devices;
pub mod ipmi;
pub mod topology;

pub use credentials::KeySealer;
pub use devices::{Device, FenceSettings};
pub use topology::TopologyFencer;

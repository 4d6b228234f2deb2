//! Lifeboat's monitor agents, the compute-node side of the service.
//!
//! * [`delivery`]: what every monitor shares: Masakari's notification payloads, and a durable
//!   on-disk [`Outbox`](delivery::Outbox) that keeps each report until the API has it (an
//!   agent restart or an API outage of any length loses nothing);
//! * [`process`]: the processmonitor (`process_list.yaml`, restarts, PROCESS reports);
//! * [`instance`]: the instancemonitor (libvirt domain events over libvirt's own RPC protocol,
//!   so no C library is needed);
//! * [`host`]: the hostmonitor, with the `pacemaker` driver (`crm_mon` XML) and the `peer`
//!   driver (UDP heartbeats between the agents of a segment on one to three networks);
//! * [`config`]: masakari-monitors' sections and option names.
//!
//! This crate depends on `lifeboat-core` only. The API client is a seam
//! ([`delivery::NotificationApi`], [`delivery::ApiRequests`]) that the binary fills in; the
//! hostmonitor reads failed hosts' power through it ([`host::api_power`], a
//! [`lifeboat_core::fencing::Fencer`] that never powers anything).

pub mod config;
pub mod delivery;
pub mod host;
pub mod instance;

pub mod process;

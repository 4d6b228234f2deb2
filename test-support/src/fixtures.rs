//! The segments, hosts and fence devices tests register, built from plain strings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lifeboat_core::config::Secret;
use lifeboat_core::fencing::CredentialSealer;
use lifeboat_core::model::{FenceDriver, NewFenceDevice, NewHost, NewSegment, RecoveryMethod};
use lifeboat_core::store::Store;
use lifeboat_core::validation::{Description, HostType, Name};
use serde_json::json;
use uuid::Uuid;

use crate::fail;

/// A valid name (of a segment, host or service type).
pub fn name(s: &str) -> Name {
    Name::parse("name", &json!(s)).unwrap_or_else(|e| fail(&format!("name {s:?}: {e}")))
}

/// A description (or control attributes).
pub fn description(s: &str) -> Description {
    Description::parse("description", &json!(s))
        .unwrap_or_else(|e| fail(&format!("description {s:?}: {e}")))
}

/// An enabled `COMPUTE` segment with `method`, without description.
pub fn new_segment(segment: &str, method: RecoveryMethod) -> NewSegment {
    NewSegment {
        name: name(segment),
        description: None,
        recovery_method: method,
        service_type: name("COMPUTE"),
        enabled: true,
    }
}

/// A `COMPUTE` host reached by `SSH`, neither reserved nor in maintenance.
pub fn new_host(host: &str) -> NewHost {
    NewHost {
        name: name(host),
        host_type: HostType::parse("type", &json!("COMPUTE"))
            .unwrap_or_else(|e| fail(&format!("host type: {e}"))),
        control_attributes: description("SSH"),
        reserved: false,
        on_maintenance: false,
    }
}

/// Registers segment `seg` (auto recovery) holding `hosts`; returns the segment's UUID and
/// the hosts' UUIDs in order.
pub async fn segment_with_hosts(
    store: &dyn Store,
    hosts: &[&str],
    now: DateTime<Utc>,
) -> (Uuid, Vec<Uuid>) {
    let segment = store
        .create_segment(new_segment("seg", RecoveryMethod::Auto), now)
        .await
        .unwrap_or_else(|e| fail(&format!("creating segment seg: {e}")))
        .uuid;
    let mut uuids = Vec::with_capacity(hosts.len());
    for host in hosts {
        let created = store
            .create_host(segment, new_host(host), now)
            .await
            .unwrap_or_else(|e| fail(&format!("creating host {host}: {e}")));
        uuids.push(created.uuid);
    }
    (segment, uuids)
}

/// A fence device logging in as `admin` with `password`, sealed by `sealer`, with `options`.
pub fn fence_device(
    device: &str,
    level: u32,
    driver: FenceDriver,
    address: &str,
    password: &str,
    sealer: &dyn CredentialSealer,
    options: &[(&str, &str)],
) -> NewFenceDevice {
    NewFenceDevice {
        name: device.to_owned(),
        level,
        driver,
        address: Some(address.to_owned()),
        username: Some("admin".to_owned()),
        password: Some(
            sealer
                .seal(&Secret::new(password))
                .unwrap_or_else(|e| fail(&format!("sealing the password of {device}: {e}"))),
        ),
        options: options
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    }
}

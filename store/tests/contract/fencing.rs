//! Fence devices and fence history.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::fencing::{FenceAttempt, PowerAction, SealedSecret};
use lifeboat_core::model::{FenceDeviceUpdate, FenceDriver, NewFenceDevice, RecoveryMethod};
use lifeboat_core::store::{Store, StoreError};

use crate::{new_host, new_segment, t};

fn device(name: &str, level: u32, driver: FenceDriver) -> NewFenceDevice {
    NewFenceDevice {
        name: name.to_owned(),
        level,
        driver,
        address: Some("127.0.0.1:9623".to_owned()),
        username: Some("admin".to_owned()),
        password: Some(SealedSecret(format!("v1:sealed-{name}"))),
        options: BTreeMap::from([("cipher".to_owned(), "3".to_owned())]),
    }
}

pub async fn fence_devices_are_kept_per_host_by_level_and_name(store: Arc<dyn Store>) {
    let seg = store
        .create_segment(
            new_segment("seg-f", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    let host = store
        .create_host(seg.uuid, new_host("compute-f"), t(0))
        .await
        .unwrap();
    let other = store
        .create_host(seg.uuid, new_host("compute-g"), t(0))
        .await
        .unwrap();

    let pdu = store
        .create_fence_device(
            host.uuid,
            device("pdu", 2, FenceDriver::Agent("fence_apc".into())),
            t(1),
        )
        .await
        .unwrap();
    let bmc = store
        .create_fence_device(host.uuid, device("bmc", 1, FenceDriver::Ipmi), t(2))
        .await
        .unwrap();
    assert_eq!(bmc.level, 1);
    assert_eq!(bmc.driver, FenceDriver::Ipmi);
    assert_eq!(bmc.password, Some(SealedSecret("v1:sealed-bmc".into())));
    assert_eq!(bmc.options["cipher"], "3");
    assert_eq!(bmc.created_at, t(2));
    assert_eq!(pdu.driver, FenceDriver::Agent("fence_apc".into()));
    // The same name on another host is fine; twice on one host is not.
    store
        .create_fence_device(other.uuid, device("bmc", 1, FenceDriver::Ipmi), t(3))
        .await
        .unwrap();
    let dup = store
        .create_fence_device(host.uuid, device("bmc", 3, FenceDriver::Ipmi), t(3))
        .await
        .unwrap_err();
    assert!(
        matches!(dup, StoreError::FenceDeviceNameTaken { ref name, .. } if name == "bmc"),
        "{dup:?}"
    );

    let listed: Vec<String> = store
        .list_fence_devices(host.uuid)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(listed, vec!["bmc", "pdu"]);
    let by_name = store.fence_devices_of("compute-f").await.unwrap();
    assert_eq!(by_name, store.list_fence_devices(host.uuid).await.unwrap());
    assert!(store.fence_devices_of("nobody").await.unwrap().is_empty());
    assert_eq!(
        store.get_fence_device(host.uuid, bmc.uuid).await.unwrap(),
        bmc
    );
    assert!(matches!(
        store.get_fence_device(other.uuid, bmc.uuid).await,
        Err(StoreError::FenceDeviceNotFound { .. })
    ));

    let changed = store
        .update_fence_device(
            host.uuid,
            bmc.uuid,
            FenceDeviceUpdate {
                level: Some(3),
                password: Some(None),
                address: Some(None),
                options: Some(BTreeMap::new()),
                ..FenceDeviceUpdate::default()
            },
            t(4),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            changed.level,
            changed.password.clone(),
            changed.address.clone()
        ),
        (3, None, None)
    );
    assert!(changed.options.is_empty());
    assert_eq!(changed.username.as_deref(), Some("admin"));
    assert_eq!(changed.updated_at, Some(t(4)));
    let clash = store
        .update_fence_device(
            host.uuid,
            bmc.uuid,
            FenceDeviceUpdate {
                name: Some("pdu".into()),
                ..FenceDeviceUpdate::default()
            },
            t(5),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(clash, StoreError::FenceDeviceNameTaken { .. }),
        "{clash:?}"
    );
    let levels: Vec<(String, u32)> = store
        .fence_devices_of("compute-f")
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.name, d.level))
        .collect();
    assert_eq!(levels, vec![("pdu".to_owned(), 2), ("bmc".to_owned(), 3)]);

    store
        .delete_fence_device(host.uuid, pdu.uuid)
        .await
        .unwrap();
    assert!(matches!(
        store.delete_fence_device(host.uuid, pdu.uuid).await,
        Err(StoreError::FenceDeviceNotFound { .. })
    ));
    let unknown = store
        .create_fence_device(
            uuid::Uuid::new_v4(),
            device("x", 1, FenceDriver::Ipmi),
            t(6),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(unknown, StoreError::HostNotFound { .. }),
        "{unknown:?}"
    );

    // A deleted host's devices no longer fence anything.
    store.delete_host(seg.uuid, host.uuid, t(7)).await.unwrap();
    assert!(
        store
            .fence_devices_of("compute-f")
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn fence_history_is_kept_newest_first(store: Arc<dyn Store>) {
    for (i, (device, succeeded)) in [("bmc", false), ("pdu", true), ("bmc", true)]
        .into_iter()
        .enumerate()
    {
        store
            .record_fence_attempt(
                &FenceAttempt {
                    host: "compute-h".into(),
                    device: device.into(),
                    level: if device == "bmc" { 1 } else { 2 },
                    action: PowerAction::Off,
                    succeeded,
                    message: format!("attempt {i}"),
                    duration: Duration::from_millis(1500 + i as u64),
                    started_at: t(10 + i as i64),
                },
                t(20),
            )
            .await
            .unwrap();
    }
    let history = store.fence_history("compute-h", 2).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].message, "attempt 2");
    assert_eq!(history[0].started_at, t(12));
    assert_eq!(history[0].duration_ms, 1502);
    assert!(history[0].succeeded);
    assert_eq!((history[1].device.as_str(), history[1].level), ("pdu", 2));
    assert_eq!(history[1].action, PowerAction::Off);
    assert_eq!(store.fence_history("compute-h", 10).await.unwrap().len(), 3);
    assert!(
        store
            .fence_history("compute-x", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

//! Fence devices (per host, in topology levels) and the fence history.

use chrono::{DateTime, Utc};
use lifeboat_core::fencing::{FenceAttempt, SealedSecret};
use lifeboat_core::model::{FenceDevice, FenceDeviceUpdate, FenceRecord, NewFenceDevice};
use lifeboat_core::store::{FencingStore, StoreError};
use uuid::Uuid;

use super::listing::Sql;
use super::rows::{FENCE_DEVICE_COLUMNS, FENCE_RECORD_COLUMNS, fence_device, fence_record};
use super::{SqlStore, db_error, is_unique_violation};
use crate::backend::{Backend, Conn};

fn options_json(device: &NewFenceDevice) -> String {
    // A map of strings always serialises.
    serde_json::to_string(&device.options).unwrap_or_else(|_| "{}".to_owned())
}

impl<B: Backend> SqlStore<B> {
    fn device_select() -> Sql {
        Sql::new(&format!(
            "SELECT {FENCE_DEVICE_COLUMNS} FROM fence_devices d WHERE 1 = 1"
        ))
    }

    async fn device_in(
        conn: &mut Conn<B>,
        host: Uuid,
        uuid: Uuid,
        lock: bool,
    ) -> Result<FenceDevice, StoreError> {
        let mut sql = Self::device_select();
        sql.push(" AND d.host_uuid = ")
            .bind(host)
            .push(" AND d.uuid = ")
            .bind(uuid);
        if lock {
            sql.push(B::LOCK_ROWS);
        }
        Self::fetch(conn, &sql, "reading a fence device", fence_device::<B>)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::FenceDeviceNotFound {
                device: uuid.to_string(),
                host: host.to_string(),
            })
    }

    fn name_taken(host: Uuid, name: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
        move |e| {
            if is_unique_violation(&e) {
                StoreError::FenceDeviceNameTaken {
                    host: host.to_string(),
                    name: name.to_owned(),
                }
            } else {
                db_error("writing a fence device")(e)
            }
        }
    }
}

#[async_trait::async_trait]
impl<B: Backend> FencingStore for SqlStore<B> {
    async fn create_fence_device(
        &self,
        host: Uuid,
        new: NewFenceDevice,
        now: DateTime<Utc>,
    ) -> Result<FenceDevice, StoreError> {
        let uuid = Uuid::new_v4();
        let mut tx = self.begin_write().await?;
        let mut live = Sql::new("SELECT COUNT(*) AS n FROM hosts WHERE deleted = 0 AND uuid = ");
        live.bind(host);
        if Self::count(&mut tx, &live, "looking up the host").await? == 0 {
            return Err(StoreError::HostNotFound {
                host: host.to_string(),
                segment: "(any)".to_owned(),
            });
        }
        let mut sql = Sql::new(
            "INSERT INTO fence_devices (uuid, host_uuid, name, level, driver, address, username, \
             password_sealed, options, created_at) VALUES (",
        );
        sql.bind(uuid)
            .push(", ")
            .bind(host)
            .push(", ")
            .bind(new.name.as_str())
            .push(", ")
            .bind(i64::from(new.level))
            .push(", ")
            .bind(new.driver.as_str())
            .push(", ")
            .bind(new.address.clone())
            .push(", ")
            .bind(new.username.clone())
            .push(", ")
            .bind(new.password.clone().map(|p| p.0))
            .push(", ")
            .bind(options_json(&new))
            .push(", ")
            .bind(now)
            .push(")");
        B::execute(&mut tx, &sql.text, &sql.args)
            .await
            .map_err(Self::name_taken(host, &new.name))?;
        let created = Self::device_in(&mut tx, host, uuid, false).await?;
        tx.commit()
            .await
            .map_err(db_error("committing a fence device"))?;
        Ok(created)
    }

    async fn list_fence_devices(&self, host: Uuid) -> Result<Vec<FenceDevice>, StoreError> {
        let mut conn = self.read_conn().await?;
        let mut sql = Self::device_select();
        sql.push(" AND d.host_uuid = ")
            .bind(host)
            .push(" ORDER BY d.level, d.name");
        Self::fetch(&mut conn, &sql, "listing fence devices", fence_device::<B>).await
    }

    async fn get_fence_device(&self, host: Uuid, device: Uuid) -> Result<FenceDevice, StoreError> {
        let mut conn = self.read_conn().await?;
        Self::device_in(&mut conn, host, device, false).await
    }

    async fn update_fence_device(
        &self,
        host: Uuid,
        device: Uuid,
        update: FenceDeviceUpdate,
        now: DateTime<Utc>,
    ) -> Result<FenceDevice, StoreError> {
        let mut tx = self.begin_write().await?;
        let current = Self::device_in(&mut tx, host, device, true).await?;
        let new = update.apply(&current.spec());
        let mut sql = Sql::new("UPDATE fence_devices SET name = ");
        sql.bind(new.name.as_str())
            .push(", level = ")
            .bind(i64::from(new.level))
            .push(", driver = ")
            .bind(new.driver.as_str())
            .push(", address = ")
            .bind(new.address.clone())
            .push(", username = ")
            .bind(new.username.clone())
            .push(", password_sealed = ")
            .bind(new.password.clone().map(|p: SealedSecret| p.0))
            .push(", options = ")
            .bind(options_json(&new))
            .push(", updated_at = ")
            .bind(now)
            .push(" WHERE uuid = ")
            .bind(device);
        B::execute(&mut tx, &sql.text, &sql.args)
            .await
            .map_err(Self::name_taken(host, &new.name))?;
        let changed = Self::device_in(&mut tx, host, device, false).await?;
        tx.commit()
            .await
            .map_err(db_error("committing a fence device change"))?;
        Ok(changed)
    }

    async fn delete_fence_device(&self, host: Uuid, device: Uuid) -> Result<(), StoreError> {
        let mut conn = self.write_conn().await?;
        let mut sql = Sql::new("DELETE FROM fence_devices WHERE uuid = ");
        sql.bind(device).push(" AND host_uuid = ").bind(host);
        match Self::execute(&mut conn, &sql, "deleting a fence device").await? {
            0 => Err(StoreError::FenceDeviceNotFound {
                device: device.to_string(),
                host: host.to_string(),
            }),
            _ => Ok(()),
        }
    }

    async fn fence_devices_of(&self, host: &str) -> Result<Vec<FenceDevice>, StoreError> {
        let mut conn = self.read_conn().await?;
        let mut sql = Sql::new(&format!(
            "SELECT {FENCE_DEVICE_COLUMNS} FROM fence_devices d JOIN hosts h ON h.uuid = d.host_uuid \
             WHERE h.deleted = 0 AND h.name = "
        ));
        sql.bind(host).push(" ORDER BY d.level, d.name");
        Self::fetch(
            &mut conn,
            &sql,
            "reading a host's fence devices",
            fence_device::<B>,
        )
        .await
    }

    async fn record_fence_attempt(
        &self,
        a: &FenceAttempt,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.write_conn().await?;
        let mut sql = Sql::new(
            "INSERT INTO fence_history (host, device, level, action, succeeded, message, \
             duration_ms, started_at, created_at) VALUES (",
        );
        sql.bind(a.host.as_str())
            .push(", ")
            .bind(a.device.as_str())
            .push(", ")
            .bind(i64::from(a.level))
            .push(", ")
            .bind(a.action.as_str())
            .push(", ")
            .bind(a.succeeded)
            .push(", ")
            .bind(a.message.as_str())
            .push(", ")
            .bind(i64::try_from(a.duration.as_millis()).unwrap_or(i64::MAX))
            .push(", ")
            .bind(a.started_at)
            .push(", ")
            .bind(now)
            .push(")");
        Self::execute(&mut conn, &sql, "recording a fencing attempt")
            .await
            .map(|_| ())
    }

    async fn fence_history(&self, host: &str, limit: u32) -> Result<Vec<FenceRecord>, StoreError> {
        let mut conn = self.read_conn().await?;
        let mut sql = Sql::new(&format!(
            "SELECT {FENCE_RECORD_COLUMNS} FROM fence_history WHERE host = "
        ));
        sql.bind(host)
            .push(&format!(" ORDER BY started_at DESC, id DESC LIMIT {limit}"));
        Self::fetch(
            &mut conn,
            &sql,
            "reading the fence history",
            fence_record::<B>,
        )
        .await
    }
}

//! Reading rows into domain types. Column aliases are fixed by the `*_COLUMNS` constants.

use chrono::{DateTime, NaiveDateTime, Utc};
use lifeboat_core::fencing::{PowerAction, SealedSecret};
use lifeboat_core::model::{
    FenceDevice, FenceDriver, FenceRecord, Host, Maintenance, MaintenanceReason, Notification,
    Payload, ProgressDetail, RecoveryStep, Segment, Timestamps, UnknownVariant, VMove,
};
use lifeboat_core::store::StoreError;
use uuid::Uuid;

use crate::backend::{Backend, DbRow};

/// Segment columns under the alias `s`.
macro_rules! segment_columns {
    () => {
        "s.id AS s_id, s.uuid AS s_uuid, s.name AS s_name, \
    s.service_type AS s_service_type, s.description AS s_description, \
    s.recovery_method AS s_recovery_method, s.enabled AS s_enabled, s.created_at AS s_created_at, \
    s.updated_at AS s_updated_at, s.deleted_at AS s_deleted_at, s.deleted AS s_deleted"
    };
}
pub(crate) use segment_columns;
pub(crate) const SEGMENT_COLUMNS: &str = segment_columns!();

/// Host columns under the alias `h` (joined with its segment `s`).
macro_rules! host_columns {
    () => {
        "h.id AS h_id, h.uuid AS h_uuid, h.name AS h_name, \
    h.reserved AS h_reserved, h.type AS h_type, h.control_attributes AS h_control_attributes, \
    h.on_maintenance AS h_on_maintenance, h.maintenance_reason AS h_maintenance_reason, \
    h.maintenance_notification_uuid AS h_maintenance_notification_uuid, h.created_at AS h_created_at, \
    h.updated_at AS h_updated_at, h.deleted_at AS h_deleted_at, h.deleted AS h_deleted"
    };
}
pub(crate) use host_columns;

/// Notification columns, each qualified by `$q` (`"n."` in a SELECT, `""` in RETURNING) and
/// aliased `n_*`.
macro_rules! notification_columns {
    ($q:literal) => {
        concat!(
            $q,
            "id AS n_id, ",
            $q,
            "notification_uuid AS n_notification_uuid, ",
            $q,
            "generated_time AS n_generated_time, ",
            $q,
            "source_host_uuid AS n_source_host_uuid, ",
            $q,
            "type AS n_type, ",
            $q,
            "payload AS n_payload, ",
            $q,
            "status AS n_status, ",
            $q,
            "failover_segment_uuid AS n_failover_segment_uuid, ",
            $q,
            "message AS n_message, ",
            $q,
            "created_at AS n_created_at, ",
            $q,
            "updated_at AS n_updated_at, ",
            $q,
            "deleted_at AS n_deleted_at, ",
            $q,
            "deleted AS n_deleted"
        )
    };
}
/// Notification columns under the alias `n`.
pub(crate) const NOTIFICATION_COLUMNS: &str = notification_columns!("n.");
/// Notification columns for `INSERT … RETURNING`.
pub(crate) const NOTIFICATION_RETURNING: &str = notification_columns!("");

/// VMove columns under the alias `v`.
pub(crate) const VMOVE_COLUMNS: &str = "v.id AS v_id, v.uuid AS v_uuid, v.notification_uuid AS v_notification_uuid, \
    v.instance_uuid AS v_instance_uuid, v.instance_name AS v_instance_name, v.source_host AS v_source_host, \
    v.dest_host AS v_dest_host, v.start_time AS v_start_time, v.end_time AS v_end_time, v.type AS v_type, \
    v.status AS v_status, v.message AS v_message, v.created_at AS v_created_at, v.updated_at AS v_updated_at, \
    v.deleted_at AS v_deleted_at, v.deleted AS v_deleted";

/// Recovery step columns (unaliased table `recovery_steps`).
pub(crate) const STEP_COLUMNS: &str =
    "id, notification_uuid, attempt, seq, name, state, progress, details, created_at, updated_at";

/// Fence device columns under the alias `d`.
pub(crate) const FENCE_DEVICE_COLUMNS: &str = "d.id AS d_id, d.uuid AS d_uuid, d.host_uuid AS d_host_uuid, \
    d.name AS d_name, d.level AS d_level, d.driver AS d_driver, d.address AS d_address, \
    d.username AS d_username, d.password_sealed AS d_password_sealed, d.options AS d_options, \
    d.created_at AS d_created_at, d.updated_at AS d_updated_at";

/// Fence history columns (unaliased table `fence_history`).
pub(crate) const FENCE_RECORD_COLUMNS: &str =
    "id, host, device, level, action, succeeded, message, duration_ms, started_at";

/// Typed access to one row, with errors that name the column.
pub(crate) struct RowReader<'r, B: Backend> {
    row: &'r DbRow<B>,
}

/// The four timestamp columns under a prefix, e.g. `timestamps!(r, "s_")`.
macro_rules! timestamps {
    ($reader:expr, $prefix:literal) => {
        $reader.timestamps([
            concat!($prefix, "created_at"),
            concat!($prefix, "updated_at"),
            concat!($prefix, "deleted_at"),
            concat!($prefix, "deleted"),
        ])
    };
}

fn read_err(what: &'static str, e: sqlx::Error) -> StoreError {
    StoreError::CorruptRow {
        what,
        detail: e.to_string(),
    }
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

impl<'r, B: Backend> RowReader<'r, B> {
    pub(crate) fn new(row: &'r DbRow<B>) -> Self {
        Self { row }
    }

    pub(crate) fn i64(&self, name: &'static str) -> Result<i64, StoreError> {
        B::get_i64(self.row, name).map_err(|e| read_err(name, e))
    }

    pub(crate) fn f64(&self, name: &'static str) -> Result<f64, StoreError> {
        B::get_f64(self.row, name).map_err(|e| read_err(name, e))
    }

    pub(crate) fn bool(&self, name: &'static str) -> Result<bool, StoreError> {
        B::get_bool(self.row, name).map_err(|e| read_err(name, e))
    }

    pub(crate) fn opt_text(&self, name: &'static str) -> Result<Option<String>, StoreError> {
        B::get_opt_text(self.row, name).map_err(|e| read_err(name, e))
    }

    pub(crate) fn text(&self, name: &'static str) -> Result<String, StoreError> {
        self.opt_text(name)?.ok_or(StoreError::CorruptRow {
            what: name,
            detail: "unexpected NULL".to_owned(),
        })
    }

    pub(crate) fn parsed<T: std::str::FromStr>(&self, name: &'static str) -> Result<T, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        self.text(name)?
            .parse()
            .map_err(|e: T::Err| StoreError::CorruptRow {
                what: name,
                detail: e.to_string(),
            })
    }

    pub(crate) fn u32(&self, name: &'static str) -> Result<u32, StoreError> {
        u32::try_from(self.i64(name)?).map_err(|e| StoreError::CorruptRow {
            what: name,
            detail: e.to_string(),
        })
    }

    pub(crate) fn uuid(&self, name: &'static str) -> Result<Uuid, StoreError> {
        self.parsed(name)
    }

    pub(crate) fn opt_uuid(&self, name: &'static str) -> Result<Option<Uuid>, StoreError> {
        self.opt_text(name)?
            .map(|t| {
                t.parse().map_err(|e: uuid::Error| StoreError::CorruptRow {
                    what: name,
                    detail: e.to_string(),
                })
            })
            .transpose()
    }

    pub(crate) fn opt_time(&self, name: &'static str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(B::get_opt_time(self.row, name)
            .map_err(|e| read_err(name, e))?
            .map(utc))
    }

    pub(crate) fn time(&self, name: &'static str) -> Result<DateTime<Utc>, StoreError> {
        self.opt_time(name)?.ok_or(StoreError::CorruptRow {
            what: name,
            detail: "unexpected NULL".to_owned(),
        })
    }

    pub(crate) fn timestamps(
        &self,
        [created, updated, deleted_at, deleted]: [&'static str; 4],
    ) -> Result<Timestamps, StoreError> {
        Ok(Timestamps {
            created_at: self.time(created)?,
            updated_at: self.opt_time(updated)?,
            deleted_at: self.opt_time(deleted_at)?,
            deleted: self.i64(deleted)? != 0,
        })
    }
}

pub(crate) fn segment<B: Backend>(row: &DbRow<B>) -> Result<Segment, StoreError> {
    let r = RowReader::<B>::new(row);
    Ok(Segment {
        id: r.i64("s_id")?,
        uuid: r.uuid("s_uuid")?,
        name: r.text("s_name")?,
        description: r.opt_text("s_description")?,
        recovery_method: r.parsed("s_recovery_method")?,
        service_type: r.text("s_service_type")?,
        enabled: r.bool("s_enabled")?,
        timestamps: timestamps!(r, "s_")?,
    })
}

pub(crate) fn host<B: Backend>(row: &DbRow<B>) -> Result<Host, StoreError> {
    let r = RowReader::<B>::new(row);
    Ok(Host {
        id: r.i64("h_id")?,
        uuid: r.uuid("h_uuid")?,
        name: r.text("h_name")?,
        failover_segment: segment::<B>(row)?,
        host_type: r.text("h_type")?,
        reserved: r.bool("h_reserved")?,
        control_attributes: r.text("h_control_attributes")?,
        maintenance: maintenance::<B>(&r)?,
        timestamps: timestamps!(r, "h_")?,
    })
}

/// A host's maintenance. A host in maintenance with no reason recorded (written by a Lifeboat
/// before the reason existed) counts as the operator's: that reading never overrides one.
fn maintenance<B: Backend>(r: &RowReader<'_, B>) -> Result<Option<Maintenance>, StoreError> {
    if !r.bool("h_on_maintenance")? {
        return Ok(None);
    }
    let reason = match r.opt_text("h_maintenance_reason")? {
        Some(text) => text
            .parse()
            .map_err(|e: UnknownVariant| StoreError::CorruptRow {
                what: "h_maintenance_reason",
                detail: e.to_string(),
            })?,
        None => MaintenanceReason::Operator,
    };
    Ok(Some(Maintenance {
        reason,
        notification_uuid: r.opt_uuid("h_maintenance_notification_uuid")?,
    }))
}

pub(crate) fn notification<B: Backend>(row: &DbRow<B>) -> Result<Notification, StoreError> {
    let r = RowReader::<B>::new(row);
    let payload_text = r.text("n_payload")?;
    let payload: Payload =
        serde_json::from_str(&payload_text).map_err(|e| StoreError::CorruptRow {
            what: "payload",
            detail: e.to_string(),
        })?;
    Ok(Notification {
        id: r.i64("n_id")?,
        notification_uuid: r.uuid("n_notification_uuid")?,
        notification_type: r.parsed("n_type")?,
        generated_time: r.time("n_generated_time")?,
        source_host_uuid: r.uuid("n_source_host_uuid")?,
        payload,
        status: r.parsed("n_status")?,
        failover_segment_uuid: r.opt_uuid("n_failover_segment_uuid")?,
        message: r.opt_text("n_message")?,
        timestamps: timestamps!(r, "n_")?,
    })
}

pub(crate) fn vmove<B: Backend>(row: &DbRow<B>) -> Result<VMove, StoreError> {
    let r = RowReader::<B>::new(row);
    Ok(VMove {
        id: r.i64("v_id")?,
        uuid: r.uuid("v_uuid")?,
        notification_uuid: r.uuid("v_notification_uuid")?,
        instance_uuid: r.text("v_instance_uuid")?,
        instance_name: r.text("v_instance_name")?,
        source_host: r.opt_text("v_source_host")?,
        dest_host: r.opt_text("v_dest_host")?,
        start_time: r.opt_time("v_start_time")?,
        end_time: r.opt_time("v_end_time")?,
        vmove_type: r.parsed("v_type")?,
        status: r.parsed("v_status")?,
        message: r.opt_text("v_message")?,
        timestamps: timestamps!(r, "v_")?,
    })
}

pub(crate) fn recovery_step<B: Backend>(row: &DbRow<B>) -> Result<RecoveryStep, StoreError> {
    let r = RowReader::<B>::new(row);
    let details: Vec<ProgressDetail> =
        serde_json::from_str(&r.text("details")?).map_err(|e| StoreError::CorruptRow {
            what: "details",
            detail: e.to_string(),
        })?;
    let small = |name: &'static str| -> Result<i32, StoreError> {
        i32::try_from(r.i64(name)?).map_err(|e| StoreError::CorruptRow {
            what: name,
            detail: e.to_string(),
        })
    };
    Ok(RecoveryStep {
        id: r.i64("id")?,
        notification_uuid: r.uuid("notification_uuid")?,
        attempt: small("attempt")?,
        seq: small("seq")?,
        name: r.text("name")?,
        state: r.parsed("state")?,
        progress: r.f64("progress")?,
        details,
    })
}

pub(crate) fn fence_device<B: Backend>(row: &DbRow<B>) -> Result<FenceDevice, StoreError> {
    let r = RowReader::<B>::new(row);
    let driver = r.text("d_driver")?;
    let options =
        serde_json::from_str(&r.text("d_options")?).map_err(|e| StoreError::CorruptRow {
            what: "options",
            detail: e.to_string(),
        })?;
    Ok(FenceDevice {
        id: r.i64("d_id")?,
        uuid: r.uuid("d_uuid")?,
        host_uuid: r.uuid("d_host_uuid")?,
        name: r.text("d_name")?,
        level: r.u32("d_level")?,
        driver: FenceDriver::parse(&driver).ok_or(StoreError::CorruptRow {
            what: "driver",
            detail: format!("'{driver}' is not a fence driver"),
        })?,
        address: r.opt_text("d_address")?,
        username: r.opt_text("d_username")?,
        password: r.opt_text("d_password_sealed")?.map(SealedSecret),
        options,
        created_at: r.time("d_created_at")?,
        updated_at: r.opt_time("d_updated_at")?,
    })
}

pub(crate) fn fence_record<B: Backend>(row: &DbRow<B>) -> Result<FenceRecord, StoreError> {
    let r = RowReader::<B>::new(row);
    let action = r.text("action")?;
    Ok(FenceRecord {
        id: r.i64("id")?,
        host: r.text("host")?,
        device: r.text("device")?,
        level: r.u32("level")?,
        action: PowerAction::parse(&action).ok_or(StoreError::CorruptRow {
            what: "action",
            detail: format!("'{action}' is not a power action"),
        })?,
        succeeded: r.bool("succeeded")?,
        message: r.text("message")?,
        duration_ms: u64::try_from(r.i64("duration_ms")?).unwrap_or(0),
        started_at: r.time("started_at")?,
    })
}

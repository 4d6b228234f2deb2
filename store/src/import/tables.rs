//! The four tables an import copies, column by column: how each is read from Masakari's
//! schema, checked, and written into Lifeboat's (same names; Lifeboat's extra columns keep
//! their defaults, except the few derived here).

use lifeboat_core::model::{
    NotificationStatus, NotificationType, Payload, RecoveryMethod, VMoveStatus, VMoveType,
};

use super::ImportError;
use crate::backend::Value;

/// How a column is read and checked.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    /// An integer (ids, `deleted`).
    Int,
    /// Text that must be present.
    Text,
    /// Text that may be NULL.
    OptText,
    /// A UUID that must be present.
    Uuid,
    /// A UUID that may be NULL.
    OptUuid,
    /// Text that must be one of these.
    OneOf(fn() -> Vec<&'static str>),
    /// A boolean; NULL (Masakari's columns allow it) reads as the default.
    Flag(bool),
    /// A timestamp that must be present.
    Time,
    /// A timestamp that may be NULL.
    OptTime,
    /// A notification payload: a JSON object, stored in Lifeboat's canonical form.
    Payload,
}

/// A copied column.
#[derive(Debug, Clone, Copy)]
pub(super) struct Column {
    pub name: &'static str,
    pub kind: Kind,
}

const fn col(name: &'static str, kind: Kind) -> Column {
    Column { name, kind }
}

/// A copied table.
#[derive(Debug)]
pub(super) struct Table {
    pub name: &'static str,
    /// What the report calls its rows.
    pub rows: &'static str,
    pub columns: &'static [Column],
    /// Lifeboat-only columns, computed by `derive` from the copied ones (in `columns` order).
    pub derived: &'static [&'static str],
    pub derive: fn(&[Value]) -> Vec<Value>,
}

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().copied().map(name).collect()
}

const TIMESTAMPS: [Column; 4] = [
    col("created_at", Kind::Time),
    col("updated_at", Kind::OptTime),
    col("deleted_at", Kind::OptTime),
    col("deleted", Kind::Int),
];

/// Segments, hosts (which name their segment's uuid), notifications, vmoves: the order
/// foreign keys need.
pub(super) const TABLES: [Table; 4] = [
    Table {
        name: "failover_segments",
        rows: "segments",
        columns: &[
            col("id", Kind::Int),
            col("uuid", Kind::Uuid),
            col("name", Kind::Text),
            col("service_type", Kind::Text),
            col("description", Kind::OptText),
            col(
                "recovery_method",
                Kind::OneOf(|| names(RecoveryMethod::ALL, RecoveryMethod::as_str)),
            ),
            col("enabled", Kind::Flag(true)),
            TIMESTAMPS[0],
            TIMESTAMPS[1],
            TIMESTAMPS[2],
            TIMESTAMPS[3],
        ],
        derived: &[],
        derive: |_| Vec::new(),
    },
    Table {
        name: "hosts",
        rows: "hosts",
        columns: &[
            col("id", Kind::Int),
            col("uuid", Kind::Uuid),
            col("name", Kind::Text),
            col("reserved", Kind::Flag(false)),
            col("type", Kind::Text),
            col("control_attributes", Kind::Text),
            col("on_maintenance", Kind::Flag(false)),
            col("failover_segment_id", Kind::Uuid),
            TIMESTAMPS[0],
            TIMESTAMPS[1],
            TIMESTAMPS[2],
            TIMESTAMPS[3],
        ],
        // Masakari's maintenance is always the operator's (as migration 0004 assumes).
        derived: &["maintenance_reason"],
        derive: |row| match row.get(6) {
            Some(Value::Bool(true)) => vec![Value::Text("operator".into())],
            _ => vec![Value::NullText],
        },
    },
    Table {
        name: "notifications",
        rows: "notifications",
        columns: &[
            col("id", Kind::Int),
            col("notification_uuid", Kind::Uuid),
            col("generated_time", Kind::Time),
            col("source_host_uuid", Kind::Uuid),
            col(
                "type",
                Kind::OneOf(|| names(NotificationType::ALL, NotificationType::as_str)),
            ),
            col("payload", Kind::Payload),
            col(
                "status",
                Kind::OneOf(|| names(NotificationStatus::ALL, NotificationStatus::as_str)),
            ),
            col("failover_segment_uuid", Kind::OptUuid),
            col("message", Kind::OptText),
            TIMESTAMPS[0],
            TIMESTAMPS[1],
            TIMESTAMPS[2],
            TIMESTAMPS[3],
        ],
        // Duplicate detection looks reports up by the canonical payload's hash.
        derived: &["payload_hash"],
        derive: |row| match row.get(5) {
            Some(Value::Text(payload)) => vec![Value::Text(crate::sql::hex_sha256(payload))],
            _ => vec![Value::NullText],
        },
    },
    Table {
        name: "vmoves",
        rows: "vmoves",
        columns: &[
            col("id", Kind::Int),
            col("uuid", Kind::Uuid),
            col("notification_uuid", Kind::Uuid),
            col("instance_uuid", Kind::Uuid),
            col("instance_name", Kind::Text),
            col("source_host", Kind::OptText),
            col("dest_host", Kind::OptText),
            col("start_time", Kind::OptTime),
            col("end_time", Kind::OptTime),
            col(
                "type",
                Kind::OneOf(|| names(VMoveType::ALL, VMoveType::as_str)),
            ),
            col(
                "status",
                Kind::OneOf(|| names(VMoveStatus::ALL, VMoveStatus::as_str)),
            ),
            col("message", Kind::OptText),
            TIMESTAMPS[0],
            TIMESTAMPS[1],
            TIMESTAMPS[2],
            TIMESTAMPS[3],
        ],
        derived: &[],
        derive: |_| Vec::new(),
    },
];

/// A column's raw value as read from the source, before it is checked.
#[derive(Debug)]
pub(super) enum Raw {
    Int(i64),
    Text(Option<String>),
    Time(Option<chrono::NaiveDateTime>),
}

/// Checks one raw value against its column and turns it into what is written.
pub(super) fn check(
    table: &Table,
    id: i64,
    column: &Column,
    raw: Raw,
) -> Result<Value, ImportError> {
    let bad = |reason: String| ImportError::InvalidValue {
        table: table.name,
        id,
        column: column.name,
        reason,
    };
    let missing = || bad("is NULL".into());
    match (column.kind, raw) {
        (Kind::Int, Raw::Int(v)) => Ok(Value::I64(v)),
        (Kind::Text, Raw::Text(v)) => v.map(Value::Text).ok_or_else(missing),
        (Kind::OptText, Raw::Text(v)) => Ok(v.into()),
        (Kind::Uuid | Kind::OptUuid, Raw::Text(Some(v))) => uuid::Uuid::parse_str(&v)
            .map(|_| Value::Text(v.clone()))
            .map_err(|_| bad(format!("'{v}' is not a UUID"))),
        (Kind::OptUuid, Raw::Text(None)) => Ok(Value::NullText),
        (Kind::OneOf(choices), Raw::Text(Some(v))) => {
            let choices = choices();
            if choices.contains(&v.as_str()) {
                Ok(Value::Text(v))
            } else {
                Err(bad(format!("'{v}' is not one of {}", choices.join(", "))))
            }
        }
        (Kind::Flag(default), Raw::Text(v)) => match v.as_deref() {
            None => Ok(Value::Bool(default)),
            Some("1" | "t" | "true" | "TRUE") => Ok(Value::Bool(true)),
            Some("0" | "f" | "false" | "FALSE") => Ok(Value::Bool(false)),
            Some(other) => Err(bad(format!("'{other}' is not a boolean"))),
        },
        (Kind::Time, Raw::Time(v)) => v.map(Value::Time).ok_or_else(missing),
        (Kind::OptTime, Raw::Time(v)) => Ok(v.map_or(Value::NullTime, Value::Time)),
        (Kind::Payload, Raw::Text(v)) => canonical_payload(v.as_deref().unwrap_or("{}"))
            .map(Value::Text)
            .map_err(bad),
        (_, _) => Err(missing()),
    }
}

/// Masakari keeps the payload as a JSON object whose values are usually strings; Lifeboat's are
/// always strings, so other values are kept as their JSON text rather than dropped.
fn canonical_payload(text: &str) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("is not JSON ({e})"))?;
    let serde_json::Value::Object(map) = value else {
        return Err("is not a JSON object".into());
    };
    let payload = Payload(
        map.into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect(),
    );
    Ok(payload.to_canonical_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_become_canonical_and_keep_non_string_values_as_json() {
        assert_eq!(
            canonical_payload(r#"{"host_status": "NORMAL", "event": "STOPPED", "n": 3}"#).unwrap(),
            r#"{"event":"STOPPED","host_status":"NORMAL","n":"3"}"#
        );
        assert!(canonical_payload("[1]").unwrap_err().contains("object"));
        assert!(canonical_payload("{").unwrap_err().contains("JSON"));
    }

    #[test]
    fn values_are_checked_against_their_column() {
        let segments = &TABLES[0];
        let method = &segments.columns[5];
        assert!(check(segments, 7, method, Raw::Text(Some("auto".into()))).is_ok());
        let err = check(segments, 7, method, Raw::Text(Some("manual".into()))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "failover_segments row 7: recovery_method 'manual' is not one of auto, reserved_host, auto_priority, rh_priority"
        );
        let enabled = &segments.columns[6];
        assert!(matches!(
            check(segments, 7, enabled, Raw::Text(None)).unwrap(),
            Value::Bool(true)
        ));
        let uuid = &segments.columns[1];
        assert!(check(segments, 7, uuid, Raw::Text(Some("x".into()))).is_err());
        assert!(check(segments, 7, uuid, Raw::Text(None)).is_err());
    }
}

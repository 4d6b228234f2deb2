//! Request bodies, validated into domain values. Unknown keys are refused everywhere, as
//! Masakari's `additionalProperties: false` does.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::{
    HostEvent, HostUpdate, NewHost, NewNotification, NewSegment, NotificationType, Payload,
    RecoveryMethod, SegmentUpdate,
};
use crate::validation::{
    Description, HostType, Hostname, MAX_NAME_LEN, Name, ValidationError, parse_body_bool,
    parse_body_datetime, parse_uuid_like, shorten, shown,
};

/// Reads the fields of one JSON object, refusing keys nobody asked for.
pub(super) struct Fields<'a> {
    pub(super) object: &'a Map<String, Value>,
    prefix: String,
}

impl<'a> Fields<'a> {
    /// The object under `key` of the top-level body (`{"segment": {...}}`).
    pub(super) fn envelope(body: &'a Value, key: &str) -> Result<Self, ValidationError> {
        let top = body.as_object().ok_or_else(|| {
            ValidationError::new(
                "request body",
                body,
                "The request body must be a JSON object",
            )
        })?;
        if let Some(extra) = top.keys().find(|k| k.as_str() != key) {
            return Err(additional(key, &Value::Object(top.clone()), extra));
        }
        let inner = top.get(key).ok_or_else(|| ValidationError::missing(key))?;
        let object = inner.as_object().ok_or_else(|| {
            ValidationError::new(key, inner, format!("'{key}' must be a JSON object"))
        })?;
        Ok(Self {
            object,
            prefix: String::new(),
        })
    }

    fn nested(object: &'a Map<String, Value>, prefix: &str) -> Self {
        Self {
            object,
            prefix: format!("{prefix}."),
        }
    }

    fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Fails if the object has a key outside `allowed`.
    pub(super) fn only(&self, allowed: &[&str]) -> Result<(), ValidationError> {
        match self.object.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(extra) => Err(additional(
                self.prefix.trim_end_matches('.'),
                &Value::Object(self.object.clone()),
                extra,
            )),
            None => Ok(()),
        }
    }

    pub(super) fn optional(&self, key: &str) -> Option<&'a Value> {
        self.object.get(key)
    }

    pub(super) fn required(&self, key: &str) -> Result<&'a Value, ValidationError> {
        self.object
            .get(key)
            .ok_or_else(|| ValidationError::missing(self.name(key)))
    }
}

fn additional(field: &str, value: &Value, extra: &str) -> ValidationError {
    let field = if field.is_empty() {
        "request body"
    } else {
        field
    };
    ValidationError::new(
        field,
        value,
        format!(
            "Additional properties are not allowed ('{}' was unexpected)",
            shorten(extra)
        ),
    )
}

fn recovery_method(field: &str, value: &Value) -> Result<RecoveryMethod, ValidationError> {
    value.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
        ValidationError::new(
            field,
            value,
            format!("It must be one of: {}", RecoveryMethod::choices()),
        )
    })
}

pub(super) fn nullable<T>(
    value: &Value,
    parse: impl FnOnce(&Value) -> Result<T, ValidationError>,
) -> Result<Option<T>, ValidationError> {
    if value.is_null() {
        Ok(None)
    } else {
        parse(value).map(Some)
    }
}

/// `POST /v1/segments`. `enabled` is accepted only from microversion 1.2.
pub fn parse_create_segment(
    body: &Value,
    allow_enabled: bool,
) -> Result<NewSegment, ValidationError> {
    let f = Fields::envelope(body, "segment")?;
    let mut allowed = vec!["name", "description", "recovery_method", "service_type"];
    if allow_enabled {
        allowed.push("enabled");
    }
    f.only(&allowed)?;
    Ok(NewSegment {
        name: Name::parse("name", f.required("name")?)?,
        description: match f.optional("description") {
            Some(v) => nullable(v, |v| Description::parse("description", v))?,
            None => None,
        },
        recovery_method: recovery_method("recovery_method", f.required("recovery_method")?)?,
        service_type: Name::parse("service_type", f.required("service_type")?)?,
        enabled: match f.optional("enabled") {
            Some(v) => parse_body_bool("enabled", v)?,
            None => true,
        },
    })
}

/// `PUT /v1/segments/{id}`: at least one field. String booleans are parsed properly (Masakari
/// turns `"false"` into true here; we do not).
pub fn parse_update_segment(
    body: &Value,
    allow_enabled: bool,
) -> Result<SegmentUpdate, ValidationError> {
    let f = Fields::envelope(body, "segment")?;
    let mut allowed = vec!["name", "description", "recovery_method", "service_type"];
    if allow_enabled {
        allowed.push("enabled");
    }
    f.only(&allowed)?;
    if f.object.is_empty() {
        return Err(ValidationError::new(
            "segment",
            &Value::Object(Map::new()),
            format!("At least one of {} must be given", allowed.join(", ")),
        ));
    }
    Ok(SegmentUpdate {
        name: f
            .optional("name")
            .map(|v| Name::parse("name", v))
            .transpose()?,
        description: f
            .optional("description")
            .map(|v| nullable(v, |v| Description::parse("description", v)))
            .transpose()?,
        recovery_method: f
            .optional("recovery_method")
            .map(|v| recovery_method("recovery_method", v))
            .transpose()?,
        service_type: f
            .optional("service_type")
            .map(|v| Name::parse("service_type", v))
            .transpose()?,
        enabled: f
            .optional("enabled")
            .map(|v| parse_body_bool("enabled", v))
            .transpose()?,
    })
}

const HOST_FIELDS: &[&str] = &[
    "name",
    "type",
    "control_attributes",
    "reserved",
    "on_maintenance",
];

/// `POST /v1/segments/{id}/hosts`. `type` and `control_attributes` may not be null (Masakari
/// answers 500 there).
pub fn parse_create_host(body: &Value) -> Result<NewHost, ValidationError> {
    let f = Fields::envelope(body, "host")?;
    f.only(HOST_FIELDS)?;
    Ok(NewHost {
        name: Name::parse("name", f.required("name")?)?,
        host_type: HostType::parse("type", f.required("type")?)?,
        control_attributes: Description::parse(
            "control_attributes",
            f.required("control_attributes")?,
        )?,
        reserved: f
            .optional("reserved")
            .map(|v| parse_body_bool("reserved", v))
            .transpose()?
            .unwrap_or(false),
        on_maintenance: f
            .optional("on_maintenance")
            .map(|v| parse_body_bool("on_maintenance", v))
            .transpose()?
            .unwrap_or(false),
    })
}

/// `PUT /v1/segments/{id}/hosts/{id}`: at least one field.
pub fn parse_update_host(body: &Value) -> Result<HostUpdate, ValidationError> {
    let f = Fields::envelope(body, "host")?;
    f.only(HOST_FIELDS)?;
    if f.object.is_empty() {
        return Err(ValidationError::new(
            "host",
            &Value::Object(Map::new()),
            format!("At least one of {} must be given", HOST_FIELDS.join(", ")),
        ));
    }
    Ok(HostUpdate {
        name: f
            .optional("name")
            .map(|v| Name::parse("name", v))
            .transpose()?,
        host_type: f
            .optional("type")
            .map(|v| HostType::parse("type", v))
            .transpose()?,
        control_attributes: f
            .optional("control_attributes")
            .map(|v| Description::parse("control_attributes", v))
            .transpose()?,
        reserved: f
            .optional("reserved")
            .map(|v| parse_body_bool("reserved", v))
            .transpose()?,
        on_maintenance: f
            .optional("on_maintenance")
            .map(|v| parse_body_bool("on_maintenance", v))
            .transpose()?,
    })
}

/// `POST /v1/notifications`: the four keys, then the type-specific payload rules.
pub fn parse_create_notification(body: &Value) -> Result<NewNotification, ValidationError> {
    let f = Fields::envelope(body, "notification")?;
    f.only(&["type", "hostname", "generated_time", "payload"])?;
    let type_value = f.required("type")?;
    let notification_type: NotificationType = type_value
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            ValidationError::new(
                "type",
                type_value,
                format!("It must be one of: {}", NotificationType::choices()),
            )
        })?;
    let hostname = Hostname::parse("hostname", f.required("hostname")?)?;
    let generated_time = parse_body_datetime("generated_time", f.required("generated_time")?)?;
    let payload = parse_payload(notification_type, f.required("payload")?)?;
    Ok(NewNotification {
        notification_type,
        hostname,
        generated_time,
        payload,
    })
}

fn payload_key_ok(key: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&key.chars().count())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.' | ' '))
}

fn parse_payload(kind: NotificationType, value: &Value) -> Result<Payload, ValidationError> {
    let object = value.as_object().ok_or_else(|| {
        ValidationError::new(
            "payload",
            value,
            "'payload' must be a JSON object of strings",
        )
    })?;
    let mut payload = Payload::default();
    for (key, v) in object {
        if !payload_key_ok(key) {
            return Err(ValidationError::new(
                "payload",
                value,
                format!(
                    "'{}' does not match '^[a-zA-Z0-9-_:. ]{{1,255}}$'",
                    shorten(key)
                ),
            ));
        }
        let field = format!("payload.{key}");
        let text = v.as_str().ok_or_else(|| {
            ValidationError::new(
                &field,
                v,
                format!("{} is not of type 'string'", shown(&field, v)),
            )
        })?;
        if text.chars().count() > MAX_NAME_LEN {
            return Err(ValidationError::new(
                &field,
                v,
                format!("the value is too long (maximum {MAX_NAME_LEN} characters)"),
            ));
        }
        payload.0.insert(key.clone(), text.to_owned());
    }
    let f = Fields::nested(object, "payload");
    let one_of = |key: &str, choices: &[&str], required: bool| -> Result<(), ValidationError> {
        match f.optional(key) {
            None if required => Err(ValidationError::missing(f.name(key))),
            None => Ok(()),
            Some(v) if v.as_str().is_some_and(|s| choices.contains(&s)) => Ok(()),
            Some(v) => Err(ValidationError::new(
                f.name(key),
                v,
                format!("It must be one of: {}", choices.join(", ")),
            )),
        }
    };
    let events = [HostEvent::Started.as_str(), HostEvent::Stopped.as_str()];
    match kind {
        NotificationType::ComputeHost => {
            f.only(&["event", "host_status", "cluster_status"])?;
            one_of("event", &events, true)?;
            one_of("host_status", &["NORMAL", "UNKNOWN"], false)?;
            one_of("cluster_status", &["ONLINE", "OFFLINE"], false)?;
        }
        NotificationType::Process => {
            f.only(&["process_name", "event"])?;
            let name = f.required("process_name")?;
            if name.as_str().is_some_and(str::is_empty) {
                return Err(ValidationError::new(
                    f.name("process_name"),
                    name,
                    "'' is too short (minimum length 1)",
                ));
            }
            one_of("event", &events, true)?;
        }
        NotificationType::Vm => {
            f.only(&["instance_uuid", "vir_domain_event", "event"])?;
            let id = f.required("instance_uuid")?;
            if id.as_str().and_then(parse_uuid_like).is_none() {
                return Err(ValidationError::new(
                    f.name("instance_uuid"),
                    id,
                    "It is not a valid UUID",
                ));
            }
            for key in ["vir_domain_event", "event"] {
                let v = f.required(key)?;
                if v.as_str().is_some_and(str::is_empty) {
                    return Err(ValidationError::new(
                        f.name(key),
                        v,
                        "'' is too short (minimum length 1)",
                    ));
                }
            }
        }
    }
    Ok(payload)
}

/// The body a monitor posts (`{"notification": {...}}`), for our own client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateNotificationBody {
    /// The notification.
    pub notification: CreateNotification,
}

/// The inner object of [`CreateNotificationBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateNotification {
    /// `COMPUTE_HOST`, `VM` or `PROCESS`.
    #[serde(rename = "type")]
    pub notification_type: NotificationType,
    /// The reporting host.
    pub hostname: String,
    /// When the failure was seen.
    #[serde(with = "super::time_format::required")]
    pub generated_time: DateTime<Utc>,
    /// Details.
    pub payload: Payload,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn segment_create_requires_fields_and_gates_enabled_by_microversion() {
        let body =
            json!({"segment": {"name": "s", "recovery_method": "auto", "service_type": "COMPUTE"}});
        let seg = parse_create_segment(&body, false).unwrap();
        assert!(seg.enabled);
        let with_enabled = json!({"segment": {"name": "s", "recovery_method": "auto", "service_type": "C", "enabled": "no"}});
        let err = parse_create_segment(&with_enabled, false).unwrap_err();
        assert!(err.reason.contains("'enabled' was unexpected"), "{err}");
        assert!(!parse_create_segment(&with_enabled, true).unwrap().enabled);
        let err = parse_create_segment(
            &json!({"segment": {"name": "s", "service_type": "C"}}),
            true,
        )
        .unwrap_err();
        assert_eq!(err.field, "recovery_method");
        let err = parse_create_segment(
            &json!({"segment": {"name": "s", "recovery_method": "manual", "service_type": "C"}}),
            true,
        )
        .unwrap_err();
        assert!(err.to_string().contains("recovery_method"), "{err}");
    }

    #[test]
    fn segment_update_needs_a_field_and_parses_string_booleans_properly() {
        assert!(parse_update_segment(&json!({"segment": {}}), true).is_err());
        let update = parse_update_segment(&json!({"segment": {"enabled": "false"}}), true).unwrap();
        assert_eq!(update.enabled, Some(false));
        let err = parse_update_segment(&json!({"segments": {"name": "x"}}), true).unwrap_err();
        assert!(err.reason.contains("'segments' was unexpected"), "{err}");
    }

    #[test]
    fn host_create_refuses_null_type_instead_of_crashing() {
        let err = parse_create_host(
            &json!({"host": {"name": "h", "type": null, "control_attributes": "SSH"}}),
        )
        .unwrap_err();
        assert_eq!(err.field, "type");
        let host = parse_create_host(&json!({"host": {"name": "h", "type": "COMPUTE", "control_attributes": "SSH", "reserved": "True"}})).unwrap();
        assert!(host.reserved);
        assert!(!host.on_maintenance);
    }

    #[test]
    fn notification_payloads_follow_the_type_specific_rules() {
        let ok = |kind: &str, payload: Value| {
            parse_create_notification(&json!({"notification": {
                "type": kind, "hostname": "compute-1", "generated_time": "2024-01-01T00:00:00", "payload": payload}}))
        };
        assert!(
            ok(
                "COMPUTE_HOST",
                json!({"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"})
            )
            .is_ok()
        );
        assert!(
            ok(
                "PROCESS",
                json!({"event": "STOPPED", "process_name": "nova-compute"})
            )
            .is_ok()
        );
        assert!(ok("VM", json!({"event": "LIFECYCLE", "instance_uuid": "5c3f4b3e-6d0e-4b8f-9a43-0e6f1d2a7b10", "vir_domain_event": "STOPPED_FAILED"})).is_ok());

        let field_of = |kind: &str, payload: Value| ok(kind, payload).unwrap_err().field;
        assert_eq!(
            field_of("COMPUTE_HOST", json!({"event": "stopped"})),
            "payload.event"
        );
        assert_eq!(
            field_of("COMPUTE_HOST", json!({"host_status": "NORMAL"})),
            "payload.event"
        );
        assert_eq!(
            field_of(
                "COMPUTE_HOST",
                json!({"event": "STOPPED", "host_status": "DEAD"})
            ),
            "payload.host_status"
        );
        assert_eq!(
            field_of("COMPUTE_HOST", json!({"event": "STOPPED", "extra": "x"})),
            "payload"
        );
        assert_eq!(
            field_of("PROCESS", json!({"event": "STOPPED"})),
            "payload.process_name"
        );
        assert_eq!(
            field_of(
                "VM",
                json!({"event": "LIFECYCLE", "instance_uuid": "nope", "vir_domain_event": "X"})
            ),
            "payload.instance_uuid"
        );
        assert_eq!(
            field_of("VM", json!({"event": {"nested": "x"}})),
            "payload.event"
        );
        assert_eq!(
            field_of("VM", json!({"event": "x".repeat(256)})),
            "payload.event"
        );
        assert_eq!(field_of("BOGUS", json!({})), "type");
    }
}

//! Fence devices and fence history (Lifeboat's microversion 1.5): request parsing and views.
//! Passwords are accepted, checked and handed on for sealing; no view or error ever shows one.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::requests::{Fields, nullable};
use super::time_format::{optional, required};
use crate::config::Secret;
use crate::fencing::{FenceAttempt, PowerAction, PowerState};
use crate::model::{FenceDevice, FenceDeviceUpdate, FenceDriver, FenceRecord, NewFenceDevice};
use crate::validation::{MAX_NAME_LEN, Name, ValidationError, is_printable};

const FIELDS: &[&str] = &[
    "name", "level", "driver", "address", "username", "password", "options",
];

/// Highest topology level (as Pacemaker's fencing levels).
pub const MAX_FENCE_LEVEL: u32 = 9;

/// Options that have their own field, or that Lifeboat sets itself.
const RESERVED_OPTIONS: &[(&str, &str)] = &[
    ("action", "Lifeboat sets the action of each call"),
    ("password", "use the password field"),
    ("passwd", "use the password field"),
    (
        "password_script",
        "scripts are not run; use the password field",
    ),
    ("ip", "use the address field"),
    ("ipaddr", "use the address field"),
    ("ipport", "give the port in the address field (host:port)"),
    ("username", "use the username field"),
    ("login", "use the username field"),
];

/// Options of the `ipmi` driver, with their accepted values.
const IPMI_OPTIONS: &[(&str, &[&str])] = &[
    ("cipher", &["auto", "3", "17"]),
    ("privilege", &["operator", "administrator"]),
];

/// A creation request: the device (its password not yet sealed) and the password in clear.
#[derive(Debug, Clone)]
pub struct FenceDeviceRequest {
    /// The device, `password` empty.
    pub device: NewFenceDevice,
    /// The password to seal.
    pub password: Option<Secret>,
}

/// An update request: the changes (password not yet sealed) and the new password, if any
/// (`Some(None)` removes it).
#[derive(Debug, Clone)]
pub struct FenceDeviceChange {
    /// The changes, `password` empty.
    pub update: FenceDeviceUpdate,
    /// The new password.
    pub password: Option<Option<Secret>>,
}

fn level(value: &Value) -> Result<u32, ValidationError> {
    value
        .as_u64()
        .filter(|l| (1..=u64::from(MAX_FENCE_LEVEL)).contains(l))
        .map(|l| l as u32)
        .ok_or_else(|| {
            ValidationError::new(
                "level",
                value,
                format!("It must be an integer from 1 to {MAX_FENCE_LEVEL}"),
            )
        })
}

fn driver(value: &Value) -> Result<FenceDriver, ValidationError> {
    value.as_str().and_then(FenceDriver::parse).ok_or_else(|| {
        ValidationError::new(
            "driver",
            value,
            "It must be 'ipmi' (Lifeboat's own IPMI client) or the name of a fence agent \
             (fence_ipmilan, fence_redfish, ...)",
        )
    })
}

/// A short single-token text: address or user name.
fn token(field: &str, value: &Value) -> Result<String, ValidationError> {
    let s = value
        .as_str()
        .ok_or_else(|| ValidationError::new(field, value, format!("'{field}' must be a string")))?;
    let bad = s.is_empty()
        || s.chars().count() > MAX_NAME_LEN
        || s.chars().any(|c| c.is_whitespace() || !is_printable(c));
    if bad {
        return Err(ValidationError::new(
            field,
            value,
            format!("It must be 1 to {MAX_NAME_LEN} printable characters without spaces"),
        ));
    }
    Ok(s.to_owned())
}

/// The password: checked without ever quoting it.
fn password(value: &Value) -> Result<Secret, ValidationError> {
    let refuse = |reason: &str| ValidationError {
        field: "password".to_owned(),
        value: None,
        reason: reason.to_owned(),
    };
    let s = value
        .as_str()
        .ok_or_else(|| refuse("'password' must be a string"))?;
    if s.is_empty() || s.chars().count() > MAX_NAME_LEN || s.chars().any(char::is_control) {
        return Err(refuse(&format!(
            "It must be 1 to {MAX_NAME_LEN} characters without control characters"
        )));
    }
    Ok(Secret::new(s))
}

fn options(value: &Value) -> Result<BTreeMap<String, String>, ValidationError> {
    let object = value.as_object().ok_or_else(|| {
        ValidationError::new(
            "options",
            value,
            "'options' must be a JSON object of names and values",
        )
    })?;
    let mut out = BTreeMap::new();
    for (key, v) in object {
        let field = format!("options.{key}");
        let key_ok = key.len() <= 64
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            return Err(ValidationError::new(
                field,
                &Value::String(key.clone()),
                "Option names are lowercase letters, digits and '_', starting with a letter",
            ));
        }
        if let Some((_, why)) = RESERVED_OPTIONS.iter().find(|(k, _)| k == key) {
            return Err(ValidationError {
                field,
                value: None,
                reason: format!("This option cannot be set here: {why}"),
            });
        }
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
            other => {
                return Err(ValidationError::new(
                    field,
                    other,
                    "Option values are strings, numbers or booleans",
                ));
            }
        };
        if text.chars().any(|c| c.is_control()) || text.chars().count() > 1024 {
            return Err(ValidationError::new(
                field,
                v,
                "Option values are at most 1024 characters without control characters",
            ));
        }
        out.insert(key.clone(), text);
    }
    Ok(out)
}

/// The `fence_device` object, refusing other top-level keys without quoting the body (it may
/// hold a password).
fn envelope(body: &Value) -> Result<Fields<'_>, ValidationError> {
    if let Some(extra) = body
        .as_object()
        .and_then(|o| o.keys().find(|k| k.as_str() != "fence_device"))
    {
        return Err(ValidationError {
            field: "request body".to_owned(),
            value: None,
            reason: format!("Additional properties are not allowed ('{extra}' was unexpected)"),
        });
    }
    Fields::envelope(body, "fence_device")
}

/// Refuses unknown keys without quoting the object (it may hold a password).
fn only_known(f: &Fields<'_>) -> Result<(), ValidationError> {
    match f.object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        Some(extra) => Err(ValidationError {
            field: "fence_device".to_owned(),
            value: None,
            reason: format!("Additional properties are not allowed ('{extra}' was unexpected)"),
        }),
        None => Ok(()),
    }
}

/// `POST …/hosts/{id}/fence_devices`.
pub fn parse_create_fence_device(body: &Value) -> Result<FenceDeviceRequest, ValidationError> {
    let f = envelope(body)?;
    only_known(&f)?;
    let device = NewFenceDevice {
        name: Name::parse("name", f.required("name")?)?
            .as_str()
            .to_owned(),
        level: f.optional("level").map(level).transpose()?.unwrap_or(1),
        driver: driver(f.required("driver")?)?,
        address: f
            .optional("address")
            .map(|v| nullable(v, |v| token("address", v)))
            .transpose()?
            .flatten(),
        username: f
            .optional("username")
            .map(|v| nullable(v, |v| token("username", v)))
            .transpose()?
            .flatten(),
        password: None,
        options: f
            .optional("options")
            .map(options)
            .transpose()?
            .unwrap_or_default(),
    };
    let password = f
        .optional("password")
        .map(|v| nullable(v, password))
        .transpose()?
        .flatten();
    check_fence_device(&device, password.as_ref())?;
    Ok(FenceDeviceRequest { device, password })
}

/// `PUT …/fence_devices/{id}`: at least one field. Cross-field checks need the stored device:
/// apply the update, then call [`check_fence_device`].
pub fn parse_update_fence_device(body: &Value) -> Result<FenceDeviceChange, ValidationError> {
    let f = envelope(body)?;
    only_known(&f)?;
    if f.object.is_empty() {
        return Err(ValidationError::new(
            "fence_device",
            &Value::Object(Map::new()),
            format!("At least one of {} must be given", FIELDS.join(", ")),
        ));
    }
    let update = FenceDeviceUpdate {
        name: f
            .optional("name")
            .map(|v| Name::parse("name", v).map(|n| n.as_str().to_owned()))
            .transpose()?,
        level: f.optional("level").map(level).transpose()?,
        driver: f.optional("driver").map(driver).transpose()?,
        address: f
            .optional("address")
            .map(|v| nullable(v, |v| token("address", v)))
            .transpose()?,
        username: f
            .optional("username")
            .map(|v| nullable(v, |v| token("username", v)))
            .transpose()?,
        password: None,
        options: f.optional("options").map(options).transpose()?,
    };
    let password = f
        .optional("password")
        .map(|v| nullable(v, password))
        .transpose()?;
    Ok(FenceDeviceChange { update, password })
}

/// Checks that go across fields: what the `ipmi` driver needs, and IPMI's own limits.
/// `password` is the new password in clear, if one was given.
pub fn check_fence_device(
    device: &NewFenceDevice,
    password: Option<&Secret>,
) -> Result<(), ValidationError> {
    if device.driver != FenceDriver::Ipmi {
        return Ok(());
    }
    let missing = |field: &str| ValidationError {
        field: field.to_owned(),
        value: None,
        reason: format!("The ipmi driver needs '{field}'"),
    };
    device.address.as_ref().ok_or_else(|| missing("address"))?;
    let user = device
        .username
        .as_ref()
        .ok_or_else(|| missing("username"))?;
    if user.len() > 16 {
        return Err(ValidationError::new(
            "username",
            &Value::String(user.clone()),
            "IPMI user names are at most 16 bytes",
        ));
    }
    if password.is_some_and(|p| p.expose().len() > 20) {
        return Err(ValidationError {
            field: "password".to_owned(),
            value: None,
            reason: "IPMI 2.0 passwords are at most 20 bytes".to_owned(),
        });
    }
    for (key, value) in &device.options {
        let field = format!("options.{key}");
        let Some((_, accepted)) = IPMI_OPTIONS.iter().find(|(k, _)| k == key) else {
            let known: Vec<&str> = IPMI_OPTIONS.iter().map(|(k, _)| *k).collect();
            return Err(ValidationError::new(
                field,
                &Value::String(value.clone()),
                format!(
                    "The ipmi driver has no option '{key}'; its options are {}",
                    known.join(", ")
                ),
            ));
        };
        if !accepted.contains(&value.as_str()) {
            return Err(ValidationError::new(
                field,
                &Value::String(value.clone()),
                format!("It must be one of: {}", accepted.join(", ")),
            ));
        }
    }
    Ok(())
}

/// `{"fence_device": {...}}`: never the password, only whether one is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FenceDeviceView {
    /// Integer id.
    pub id: i64,
    /// UUID.
    pub uuid: Uuid,
    /// The host's UUID.
    pub host_uuid: Uuid,
    /// Name.
    pub name: String,
    /// Level.
    pub level: u32,
    /// Driver.
    pub driver: String,
    /// Address.
    pub address: Option<String>,
    /// Login.
    pub username: Option<String>,
    /// Whether a password is stored.
    pub password_set: bool,
    /// Options.
    pub options: BTreeMap<String, String>,
    /// Creation time.
    #[serde(with = "required")]
    pub created_at: DateTime<Utc>,
    /// Last change.
    #[serde(with = "optional", default)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<&FenceDevice> for FenceDeviceView {
    fn from(d: &FenceDevice) -> Self {
        Self {
            id: d.id,
            uuid: d.uuid,
            host_uuid: d.host_uuid,
            name: d.name.clone(),
            level: d.level,
            driver: d.driver.as_str().to_owned(),
            address: d.address.clone(),
            username: d.username.clone(),
            password_set: d.password.is_some(),
            options: d.options.clone(),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// One fence history entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FenceRecordView {
    /// Integer id.
    pub id: i64,
    /// The host.
    pub host: String,
    /// The device.
    pub device: String,
    /// Its level.
    pub level: u32,
    /// `status`, `off`, `on` or `reboot`.
    pub action: String,
    /// `success` or `failure`.
    pub result: String,
    /// What happened.
    pub message: String,
    /// Duration in milliseconds.
    pub duration_ms: u64,
    /// Start time.
    #[serde(with = "required")]
    pub started_at: DateTime<Utc>,
}

impl From<&FenceRecord> for FenceRecordView {
    fn from(r: &FenceRecord) -> Self {
        Self {
            id: r.id,
            host: r.host.clone(),
            device: r.device.clone(),
            level: r.level,
            action: r.action.as_str().to_owned(),
            result: if r.succeeded { "success" } else { "failure" }.to_owned(),
            message: r.message.clone(),
            duration_ms: r.duration_ms,
            started_at: r.started_at,
        }
    }
}

/// One attempt of a power action, as the action's answer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FenceAttemptView {
    /// The device.
    pub device: String,
    /// Its level.
    pub level: u32,
    /// `success` or `failure`.
    pub result: String,
    /// What happened.
    pub message: String,
    /// Duration in milliseconds.
    pub duration_ms: u64,
}

impl From<&FenceAttempt> for FenceAttemptView {
    fn from(a: &FenceAttempt) -> Self {
        Self {
            device: a.device.clone(),
            level: a.level,
            result: if a.succeeded { "success" } else { "failure" }.to_owned(),
            message: a.message.clone(),
            duration_ms: u64::try_from(a.duration.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// `{"power": {...}}`: what a power action did (the answer to `POST …/hosts/{id}/action`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerBody {
    /// The action's outcome.
    pub power: PowerView,
}

/// One power action's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerView {
    /// The host's name.
    pub host: String,
    /// The action run.
    pub action: PowerAction,
    /// The power state read after it.
    pub state: PowerState,
    /// Each device tried, in order.
    #[serde(default)]
    pub attempts: Vec<FenceAttemptView>,
}

/// `POST …/hosts/{id}/action` with `{"power": "status" | "off" | "on" | "reboot"}`.
pub fn parse_power_action(body: &Value) -> Result<PowerAction, ValidationError> {
    let only_power = body
        .as_object()
        .is_some_and(|o| o.len() == 1 && o.contains_key("power"));
    if !only_power {
        return Err(ValidationError::new(
            "request body",
            body,
            "The body must be {\"power\": \"status\" | \"off\" | \"on\" | \"reboot\"}",
        ));
    }
    let value = &body["power"];
    value.as_str().and_then(PowerAction::parse).ok_or_else(|| {
        ValidationError::new("power", value, "It must be one of: status, off, on, reboot")
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_ipmi_device_parses_with_defaults_and_its_password_is_kept_apart() {
        let r = parse_create_fence_device(&json!({"fence_device": {
            "name": "bmc", "driver": "ipmi", "address": "10.0.0.5:623", "username": "admin",
            "password": "s3cret", "options": {"cipher": "3", "privilege": "operator"}}}))
        .unwrap();
        assert_eq!(r.device.level, 1);
        assert_eq!(r.device.driver, FenceDriver::Ipmi);
        assert_eq!(r.device.password, None);
        assert_eq!(r.password.unwrap().expose(), "s3cret");
        assert_eq!(r.device.options["privilege"], "operator");
    }

    #[test]
    fn bad_devices_are_refused_naming_the_field_and_never_the_password() {
        let cases = [
            (
                json!({"name": "x", "driver": "ipmi", "address": "a", "username": "u", "level": 0}),
                "level",
            ),
            (json!({"name": "x", "driver": "ipmitool"}), "driver"),
            (
                json!({"name": "x", "driver": "ipmi", "username": "u"}),
                "address",
            ),
            (
                json!({"name": "x", "driver": "ipmi", "address": "a b", "username": "u"}),
                "address",
            ),
            (
                json!({"name": "x", "driver": "fence_x", "options": {"ip": "1.2.3.4"}}),
                "options.ip",
            ),
            (
                json!({"name": "x", "driver": "ipmi", "address": "a", "username": "u", "options": {"cipher": "0"}}),
                "options.cipher",
            ),
            (
                json!({"name": "x", "driver": "ipmi", "address": "a", "username": "u", "options": {"lanplus": "1"}}),
                "options.lanplus",
            ),
            (
                json!({"name": "x", "driver": "ipmi", "address": "a", "username": "u", "password": "abcdefghijklmnopqrstuvwxyz"}),
                "password",
            ),
            (
                json!({"name": "x", "driver": "fence_x", "password": "bad\u{1}pass"}),
                "password",
            ),
            (
                json!({"name": "x", "driver": "fence_x", "colour": "red", "password": "abcdefghijk"}),
                "fence_device",
            ),
        ];
        for (body, field) in cases {
            let err = parse_create_fence_device(&json!({ "fence_device": body })).unwrap_err();
            assert_eq!(err.field, field, "{err}");
            let text = err.to_string();
            assert!(
                !text.contains("abcdefghij") && !text.contains("bad\u{1}"),
                "{text}"
            );
        }
    }

    #[test]
    fn updates_need_a_field_and_power_actions_parse() {
        assert!(parse_update_fence_device(&json!({"fence_device": {}})).is_err());
        let c = parse_update_fence_device(&json!({"fence_device": {"password": null, "level": 2}}))
            .unwrap();
        assert!(matches!(c.password, Some(None)));
        assert_eq!(c.update.level, Some(2));
        assert_eq!(
            parse_power_action(&json!({"power": "off"})).unwrap(),
            PowerAction::Off
        );
        assert!(parse_power_action(&json!({"power": "explode"})).is_err());
        assert!(parse_power_action(&json!({"other": "off"})).is_err());
    }
}

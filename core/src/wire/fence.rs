//! Fence device requests and power actions (Lifeboat's microversion 1.5). Passwords are
//! accepted, checked and handed on for sealing; no error ever shows one (views: `fence_views`).
//!
//! A fence device body carries a password, and a body of the wrong shape puts it where any
//! other value was expected: so no refusal of such a body quotes a value of it. Messages name
//! the field and what was expected instead (see [`ValidationError::refused`]).

use std::collections::BTreeMap;

use serde_json::Value;

use super::requests::{Fields, nullable};
use crate::config::Secret;
use crate::fencing::PowerAction;
use crate::model::{FenceDeviceUpdate, FenceDriver, NewFenceDevice};
use crate::validation::{MAX_NAME_LEN, Name, ValidationError, is_printable, json_kind, shorten};

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

/// `field` was given something other than a string.
fn not_a_string(field: &str, value: &Value) -> ValidationError {
    ValidationError::refused(
        field,
        format!("'{field}' must be a string, not {}", json_kind(value)),
    )
}

fn level(value: &Value) -> Result<u32, ValidationError> {
    value
        .as_u64()
        .filter(|l| (1..=u64::from(MAX_FENCE_LEVEL)).contains(l))
        .map(|l| l as u32)
        .ok_or_else(|| {
            let given = if value.is_number() {
                "another number"
            } else {
                json_kind(value)
            };
            ValidationError::refused(
                "level",
                format!("It must be an integer from 1 to {MAX_FENCE_LEVEL}, not {given}"),
            )
        })
}

fn driver(value: &Value) -> Result<FenceDriver, ValidationError> {
    let text = value
        .as_str()
        .ok_or_else(|| not_a_string("driver", value))?;
    FenceDriver::parse(text).ok_or_else(|| {
        ValidationError::refused(
            "driver",
            "It must be 'ipmi' (Lifeboat's own IPMI client) or the name of a fence agent \
             (fence_ipmilan, fence_redfish, ...)",
        )
    })
}

/// The device name (as a segment's), refused without quoting it.
fn name(value: &Value) -> Result<String, ValidationError> {
    let text = value.as_str().ok_or_else(|| not_a_string("name", value))?;
    Name::parse("name", value)
        .map(|_| text.to_owned())
        .map_err(|_| {
            ValidationError::refused(
                "name",
                format!(
                    "It must be 1 to {MAX_NAME_LEN} printable characters, not starting or \
                     ending with whitespace"
                ),
            )
        })
}

/// A short single-token text: address or user name.
fn token(field: &str, value: &Value) -> Result<String, ValidationError> {
    let s = value.as_str().ok_or_else(|| not_a_string(field, value))?;
    let bad = s.is_empty()
        || s.chars().count() > MAX_NAME_LEN
        || s.chars().any(|c| c.is_whitespace() || !is_printable(c));
    if bad {
        return Err(ValidationError::refused(
            field,
            format!("It must be 1 to {MAX_NAME_LEN} printable characters without spaces"),
        ));
    }
    Ok(s.to_owned())
}

/// The password: checked without ever quoting it.
fn password(value: &Value) -> Result<Secret, ValidationError> {
    let s = value
        .as_str()
        .ok_or_else(|| not_a_string("password", value))?;
    if s.is_empty() || s.chars().count() > MAX_NAME_LEN || s.chars().any(char::is_control) {
        return Err(ValidationError::refused(
            "password",
            format!("It must be 1 to {MAX_NAME_LEN} characters without control characters"),
        ));
    }
    Ok(Secret::new(s))
}

fn options(value: &Value) -> Result<BTreeMap<String, String>, ValidationError> {
    let object = value.as_object().ok_or_else(|| {
        ValidationError::refused(
            "options",
            format!(
                "'options' must be a JSON object of names and values, not {}",
                json_kind(value)
            ),
        )
    })?;
    let mut out = BTreeMap::new();
    for (key, v) in object {
        let key_ok = key.len() <= 64
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            return Err(ValidationError::refused(
                format!("options.{}", shorten(key)),
                "Option names are at most 64 lowercase letters, digits and '_', starting with a \
                 letter",
            ));
        }
        let field = format!("options.{key}");
        if let Some((_, why)) = RESERVED_OPTIONS.iter().find(|(k, _)| k == key) {
            return Err(ValidationError::refused(
                field,
                format!("This option cannot be set here: {why}"),
            ));
        }
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
            other => {
                return Err(ValidationError::refused(
                    field,
                    format!(
                        "Option values are strings, numbers or booleans, not {}",
                        json_kind(other)
                    ),
                ));
            }
        };
        if text.chars().any(|c| c.is_control()) || text.chars().count() > 1024 {
            return Err(ValidationError::refused(
                field,
                "Option values are at most 1024 characters without control characters",
            ));
        }
        out.insert(key.clone(), text);
    }
    Ok(out)
}

/// `Additional properties are not allowed`, naming the key (shortened) but no value.
fn unexpected(field: &str, extra: &str) -> ValidationError {
    ValidationError::refused(
        field,
        format!(
            "Additional properties are not allowed ('{}' was unexpected)",
            shorten(extra)
        ),
    )
}

/// The `fence_device` object, refusing every other shape without quoting the body.
fn envelope(body: &Value) -> Result<Fields<'_>, ValidationError> {
    let top = body.as_object().ok_or_else(|| {
        ValidationError::refused(
            "request body",
            format!(
                "The request body must be a JSON object {{\"fence_device\": {{...}}}}, not {}",
                json_kind(body)
            ),
        )
    })?;
    if let Some(extra) = top.keys().find(|k| k.as_str() != "fence_device") {
        return Err(unexpected("request body", extra));
    }
    match top.get("fence_device") {
        Some(inner) if !inner.is_object() => Err(ValidationError::refused(
            "fence_device",
            format!(
                "'fence_device' must be a JSON object, not {}",
                json_kind(inner)
            ),
        )),
        _ => Fields::envelope(body, "fence_device"),
    }
}

/// Refuses unknown keys without quoting the object.
fn only_known(f: &Fields<'_>) -> Result<(), ValidationError> {
    match f.object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        Some(extra) => Err(unexpected("fence_device", extra)),
        None => Ok(()),
    }
}

/// `POST …/hosts/{id}/fence_devices`.
pub fn parse_create_fence_device(body: &Value) -> Result<FenceDeviceRequest, ValidationError> {
    let f = envelope(body)?;
    only_known(&f)?;
    let device = NewFenceDevice {
        name: name(f.required("name")?)?,
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
        return Err(ValidationError::refused(
            "fence_device",
            format!("At least one of {} must be given", FIELDS.join(", ")),
        ));
    }
    let update = FenceDeviceUpdate {
        name: f.optional("name").map(name).transpose()?,
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
    let missing =
        |field: &str| ValidationError::refused(field, format!("The ipmi driver needs '{field}'"));
    device.address.as_ref().ok_or_else(|| missing("address"))?;
    let user = device
        .username
        .as_ref()
        .ok_or_else(|| missing("username"))?;
    if user.len() > 16 {
        return Err(ValidationError::refused(
            "username",
            "IPMI user names are at most 16 bytes",
        ));
    }
    if password.is_some_and(|p| p.expose().len() > 20) {
        return Err(ValidationError::refused(
            "password",
            "IPMI 2.0 passwords are at most 20 bytes",
        ));
    }
    for (key, value) in &device.options {
        let field = format!("options.{key}");
        let Some((_, accepted)) = IPMI_OPTIONS.iter().find(|(k, _)| k == key) else {
            let known: Vec<&str> = IPMI_OPTIONS.iter().map(|(k, _)| *k).collect();
            return Err(ValidationError::refused(
                field,
                format!(
                    "The ipmi driver has no option '{key}'; its options are {}",
                    known.join(", ")
                ),
            ));
        };
        if !accepted.contains(&value.as_str()) {
            return Err(ValidationError::refused(
                field,
                format!("It must be one of: {}", accepted.join(", ")),
            ));
        }
    }
    Ok(())
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
    fn bodies_of_the_wrong_shape_are_refused_without_quoting_anything() {
        let device = json!({"name": "bmc", "driver": "ipmi", "password": "s3cretpw"});
        for body in [
            json!([device]),
            json!({"fence_device": [device]}),
            json!({"fence_device": "s3cretpw"}),
            json!({"fence_device": {"name": ["s3cretpw"], "driver": "ipmi"}}),
            json!({"fence_device": {"name": "bmc", "driver": "ipmi", "level": "s3cretpw"}}),
            json!({"fence_device": {"name": "bmc", "driver": "fence_x", "options": {"snmp_priv_passwd": ["s3cretpw"]}}}),
        ] {
            for err in [
                parse_create_fence_device(&body).unwrap_err(),
                parse_update_fence_device(&body).unwrap_err(),
            ] {
                let text = err.to_string();
                assert!(!text.contains("s3cretpw"), "{body}: {text}");
                assert_eq!(err.value, None, "{body}: {text}");
            }
        }
        let err = parse_create_fence_device(&json!({"fence_device": [device]})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid input for field/attribute fence_device. 'fence_device' must be a JSON \
             object, not an array"
        );
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

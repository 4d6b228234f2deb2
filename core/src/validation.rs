//! Parse-once validation of user-supplied values.
//!
//! Every check names the field it failed on, in Masakari's words:
//! `Invalid input for field/attribute <field>. Value: <value>. <reason>`.
//!
//! Values of secret fields (a password, a token: see [`is_secret_name`]) are never quoted, at
//! any depth of the value shown; bodies that carry a secret are parsed with
//! [`ValidationError::refused`], which quotes nothing at all.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde_json::Value;

/// Longest name, type, hostname or payload value Masakari accepts.
pub const MAX_NAME_LEN: usize = 255;

/// A value that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// The field (leaf name) that failed.
    pub field: String,
    /// The offending value, rendered for the message (absent for a missing field).
    pub value: Option<String>,
    /// Why it was refused.
    pub reason: String,
}

impl ValidationError {
    /// A refusal of `value` in `field` (not quoted if `field` names a secret).
    pub fn new(field: impl Into<String>, value: &Value, reason: impl Into<String>) -> Self {
        let field = field.into();
        Self {
            value: (!is_secret_name(leaf(&field))).then(|| render(value)),
            field,
            reason: reason.into(),
        }
    }

    /// A refusal that quotes no value: for bodies that carry a secret, where a value may sit
    /// where another was expected.
    pub fn refused(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            value: None,
            reason: reason.into(),
        }
    }

    /// A required field that is absent.
    pub fn missing(field: impl Into<String>) -> Self {
        let field = field.into();
        Self {
            reason: format!("'{field}' is a required property"),
            field,
            value: None,
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(
                f,
                "Invalid input for field/attribute {}. Value: {}. {}",
                self.field, v, self.reason
            ),
            None => write!(
                f,
                "Invalid input for field/attribute {}. {}",
                self.field, self.reason
            ),
        }
    }
}

/// Names of fields whose values are secrets wherever they appear (`password`,
/// `os_password`, `snmp_priv_passwd`, `auth_token`, ...).
const SECRET_NAME_PARTS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "credential",
];

/// Whether a field called `name` holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_NAME_PARTS.iter().any(|part| name.contains(part))
}

/// The last part of a dotted field name (`payload.password` → `password`).
fn leaf(field: &str) -> &str {
    field.rsplit('.').next().unwrap_or(field)
}

/// What kind of JSON value `value` is, for messages that must not quote it.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `value` with the values of secret-named keys replaced, at any depth.
fn redacted(value: &Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(k, v)| {
                    let v = if is_secret_name(k) {
                        Value::String("***".to_owned())
                    } else {
                        redacted(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redacted).collect()),
        other => other.clone(),
    }
}

/// Renders a JSON value for an error message: secrets inside it hidden, and shortened so a huge
/// value cannot flood a log.
fn render(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => redacted(other).to_string(),
    };
    shorten(&text)
}

/// `text` cut to 80 characters.
pub(crate) fn shorten(text: &str) -> String {
    if text.chars().count() > 80 {
        let head: String = text.chars().take(77).collect();
        format!("{head}...")
    } else {
        text.to_owned()
    }
}

/// `value` as a message may show it when found in `field`: `***` for a secret field.
pub(crate) fn shown(field: &str, value: &Value) -> String {
    if is_secret_name(leaf(field)) {
        "***".to_owned()
    } else {
        render(value)
    }
}

/// Whether `c` is "printable" in Masakari's sense: not in Unicode categories C* (control,
/// format, private use, surrogate) or Z* other than the space separators.
pub fn is_printable(c: char) -> bool {
    if c.is_control() {
        return false;
    }
    let cp = c as u32;
    let format = matches!(cp,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x08E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F);
    let line_or_paragraph_separator = matches!(cp, 0x2028 | 0x2029);
    let private_use = matches!(cp, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD);
    let noncharacter = (cp & 0xFFFE) == 0xFFFE || matches!(cp, 0xFDD0..=0xFDEF);
    !(format || line_or_paragraph_separator || private_use || noncharacter)
}

fn as_str<'a>(field: &str, value: &'a Value) -> Result<&'a str, ValidationError> {
    value.as_str().ok_or_else(|| {
        ValidationError::new(
            field,
            value,
            format!("{} is not of type 'string'", shown(field, value)),
        )
    })
}

fn check_length(
    field: &str,
    value: &Value,
    s: &str,
    min: usize,
    max: usize,
) -> Result<(), ValidationError> {
    let len = s.chars().count();
    if len < min {
        return Err(ValidationError::new(
            field,
            value,
            format!("'{s}' is too short (minimum length {min})"),
        ));
    }
    if len > max {
        return Err(ValidationError::new(
            field,
            value,
            format!("the value is too long ({len} characters, maximum {max})"),
        ));
    }
    Ok(())
}

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The validated text, owned.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_newtype! {
    /// A segment name, segment service type or host name: 1–255 printable characters, not
    /// starting or ending with whitespace.
    Name
}

impl Name {
    /// Validates `value` found in `field`.
    pub fn parse(field: &str, value: &Value) -> Result<Self, ValidationError> {
        let s = as_str(field, value)?;
        check_length(field, value, s, 1, MAX_NAME_LEN)?;
        let bad_char = s.chars().any(|c| !is_printable(c));
        let first = s.chars().next();
        let last = s.chars().last();
        let bad_edge = [first, last].into_iter().flatten().any(char::is_whitespace);
        if bad_char || bad_edge {
            return Err(ValidationError::new(
                field,
                value,
                format!(
                    "An invalid '{field}' value was provided. The name must be: printable \
                     characters. Can not start or end with whitespace."
                ),
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

string_newtype! {
    /// Free text (segment description, host control attributes): printable characters and
    /// newlines, no length limit beyond the request size.
    Description
}

impl Description {
    /// Validates `value` found in `field`.
    pub fn parse(field: &str, value: &Value) -> Result<Self, ValidationError> {
        let s = as_str(field, value)?;
        if s.chars().any(|c| c != '\n' && !is_printable(c)) {
            return Err(ValidationError::new(
                field,
                value,
                format!(
                    "An invalid '{field}' value was provided. It must be printable characters \
                     or newlines."
                ),
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

string_newtype! {
    /// A host type: 0–255 ASCII letters and digits.
    HostType
}

impl HostType {
    /// Validates `value` found in `field`.
    pub fn parse(field: &str, value: &Value) -> Result<Self, ValidationError> {
        let s = as_str(field, value)?;
        check_length(field, value, s, 0, MAX_NAME_LEN)?;
        if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ValidationError::new(
                field,
                value,
                format!("'{s}' does not match '^[a-zA-Z0-9]*$'"),
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

string_newtype! {
    /// The host name a notification comes from: 1–255 of `[a-zA-Z0-9-._]`.
    Hostname
}

impl Hostname {
    /// Validates `value` found in `field`.
    pub fn parse(field: &str, value: &Value) -> Result<Self, ValidationError> {
        let s = as_str(field, value)?;
        check_length(field, value, s, 1, MAX_NAME_LEN)?;
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(ValidationError::new(
                field,
                value,
                format!("'{s}' does not match '^[a-zA-Z0-9-._]*$'"),
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

/// The strings Masakari's body schema accepts as booleans.
const TRUE_STRINGS: &[&str] = &[
    "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
];
const FALSE_STRINGS: &[&str] = &[
    "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no",
];

/// A boolean in a request body: JSON `true`/`false` or one of Masakari's exact strings
/// (`True`, `yes`, `0`, …).
pub fn parse_body_bool(field: &str, value: &Value) -> Result<bool, ValidationError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if TRUE_STRINGS.contains(&s.as_str()) => Ok(true),
        Value::String(s) if FALSE_STRINGS.contains(&s.as_str()) => Ok(false),
        other => Err(ValidationError::new(
            field,
            other,
            format!(
                "{} is not a boolean; use true or false",
                shown(field, other)
            ),
        )),
    }
}

/// A boolean in a query string, parsed strictly (oslo `bool_from_string(strict=True)`).
pub fn parse_query_bool(field: &str, value: &str) -> Result<bool, ValidationError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "on" | "y" | "yes" => Ok(true),
        "0" | "f" | "false" | "off" | "n" | "no" => Ok(false),
        _ => Err(ValidationError {
            field: field.to_owned(),
            value: Some(value.to_owned()),
            reason: format!(
                "Invalid value for {field}: Unrecognized value '{value}', acceptable values are: \
                 '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"
            ),
        }),
    }
}

/// Parses an ISO 8601 date-time the way Masakari's `iso8601.parse_date` does: `T` or space
/// separator, optional seconds and fraction, optional `Z` / `±HH:MM` / `±HHMM` / `±HH`, or a bare
/// date. Naive values are taken as UTC; aware ones are converted to UTC.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.len() == 10 {
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        return Some(Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN)));
    }
    let (date_part, rest) = text.split_at_checked(10)?;
    let date = NaiveDate::parse_from_str(date_part, "%Y-%m-%d").ok()?;
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (time_part, offset) = split_offset(rest)?;
    let time = parse_time(time_part)?;
    let naive = NaiveDateTime::new(date, time);
    let local = offset.from_local_datetime(&naive).single()?;
    Some(local.with_timezone(&Utc))
}

fn split_offset(rest: &str) -> Option<(&str, FixedOffset)> {
    if let Some(time) = rest.strip_suffix(['Z', 'z']) {
        return Some((time, FixedOffset::east_opt(0)?));
    }
    match rest.rfind(['+', '-']) {
        None => Some((rest, FixedOffset::east_opt(0)?)),
        Some(at) => {
            let (time, zone) = rest.split_at(at);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
            if !digits.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (hours, minutes) = match digits.len() {
                2 => (digits.parse::<i32>().ok()?, 0),
                4 => (
                    digits[..2].parse::<i32>().ok()?,
                    digits[2..].parse::<i32>().ok()?,
                ),
                _ => return None,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            Some((
                time,
                FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))?,
            ))
        }
    }
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M", "%H%M%S%.f", "%H%M%S"]
        .iter()
        .find_map(|format| NaiveTime::parse_from_str(text, format).ok())
}

/// A date-time field of a request body.
pub fn parse_body_datetime(field: &str, value: &Value) -> Result<DateTime<Utc>, ValidationError> {
    let s = as_str(field, value)?;
    parse_datetime(s)
        .ok_or_else(|| ValidationError::new(field, value, format!("'{s}' is not a 'date-time'")))
}

/// Whether `text` is UUID-like in oslo's lenient sense (hyphens optional, any case, braces or
/// `urn:uuid:` prefix allowed).
pub fn parse_uuid_like(text: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::try_parse(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_refuse_edges_control_characters_and_bad_lengths() {
        assert!(Name::parse("name", &json!("seg 1")).is_ok());
        assert!(Name::parse("name", &json!("Ünïcødé")).is_ok());
        for bad in [
            json!(" seg"),
            json!("seg "),
            json!("a\u{0}b"),
            json!("a\nb"),
            json!(""),
            json!(5),
        ] {
            let err = Name::parse("name", &bad).unwrap_err();
            assert_eq!(err.field, "name");
            assert!(err.to_string().contains("field/attribute name"), "{err}");
        }
        let long = "x".repeat(256);
        assert!(Name::parse("name", &json!(long)).is_err());
        assert!(Name::parse("name", &json!("x".repeat(255))).is_ok());
    }

    #[test]
    fn descriptions_allow_newlines_but_not_control_characters() {
        assert!(Description::parse("description", &json!("line 1\nline 2")).is_ok());
        assert!(Description::parse("description", &json!("bell\u{7}")).is_err());
        assert!(Description::parse("description", &json!(null)).is_err());
    }

    #[test]
    fn host_types_and_hostnames_follow_masakari_patterns() {
        assert!(HostType::parse("type", &json!("COMPUTE")).is_ok());
        assert!(HostType::parse("type", &json!("")).is_ok());
        assert!(HostType::parse("type", &json!("COMP-UTE")).is_err());
        assert!(Hostname::parse("hostname", &json!("compute-1.example_org")).is_ok());
        assert!(Hostname::parse("hostname", &json!("compute 1")).is_err());
        assert!(Hostname::parse("hostname", &json!("")).is_err());
    }

    #[test]
    fn body_booleans_accept_masakari_strings_only() {
        assert!(parse_body_bool("reserved", &json!("yes")).unwrap());
        assert!(!parse_body_bool("reserved", &json!("False")).unwrap());
        assert!(!parse_body_bool("reserved", &json!(false)).unwrap());
        assert!(parse_body_bool("reserved", &json!("maybe")).is_err());
        assert!(parse_body_bool("reserved", &json!("yEs")).is_err());
        assert!(parse_body_bool("reserved", &json!(1)).is_err());
    }

    #[test]
    fn query_booleans_are_case_insensitive_and_strict() {
        assert!(parse_query_bool("enabled", "TRUE").unwrap());
        assert!(!parse_query_bool("enabled", "f").unwrap());
        let err = parse_query_bool("reserved", "maybe").unwrap_err();
        assert!(err.reason.contains("Invalid value for reserved"), "{err}");
    }

    #[test]
    fn datetimes_parse_like_iso8601() {
        let utc = |s: &str| parse_datetime(s).map(|d| d.format("%F %T%.f").to_string());
        assert_eq!(
            utc("2017-04-24 08:34:46").as_deref(),
            Some("2017-04-24 08:34:46")
        );
        assert_eq!(
            utc("2017-04-24T08:34:46Z").as_deref(),
            Some("2017-04-24 08:34:46")
        );
        assert_eq!(
            utc("2017-04-24T08:34:46+09:00").as_deref(),
            Some("2017-04-23 23:34:46")
        );
        assert_eq!(
            utc("2017-04-24T08:34:46-0130").as_deref(),
            Some("2017-04-24 10:04:46")
        );
        assert_eq!(
            utc("2016-01-01T01:00:00.000").as_deref(),
            Some("2016-01-01 01:00:00")
        );
        assert_eq!(
            utc("2016-01-01T01:00:00.250").as_deref(),
            Some("2016-01-01 01:00:00.250")
        );
        assert_eq!(utc("2016-01-01").as_deref(), Some("2016-01-01 00:00:00"));
        for bad in [
            "yesterday",
            "2016-13-01T00:00:00",
            "2016-01-01X01:00",
            "2016-01-01T25:00:00",
            "",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn values_of_secret_fields_are_never_quoted_at_any_depth() {
        let nested =
            json!([{"name": "x", "auth": {"password": "hunter2", "list": [{"token": "t0k3n"}]}}]);
        let err = ValidationError::new("request body", &nested, "It must be an object");
        let text = err.to_string();
        assert!(text.contains("\"password\":\"***\""), "{text}");
        assert!(
            !text.contains("hunter2") && !text.contains("t0k3n"),
            "{text}"
        );
        let err = parse_body_bool("payload.os_password", &json!("hunter2"));
        let text = err.unwrap_err().to_string();
        assert!(
            text.contains("os_password") && !text.contains("hunter2"),
            "{text}"
        );
        assert!(is_secret_name("snmp_priv_passwd") && !is_secret_name("name"));
    }

    #[test]
    fn uuids_are_lenient() {
        let id = "5c3f4b3e-6d0e-4b8f-9a43-0e6f1d2a7b10";
        assert!(parse_uuid_like(id).is_some());
        assert!(parse_uuid_like(&id.replace('-', "")).is_some());
        assert!(parse_uuid_like(&id.to_uppercase()).is_some());
        assert!(parse_uuid_like("not-a-uuid").is_none());
    }
}

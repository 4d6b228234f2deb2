//! Masakari's datetime spelling: `YYYY-MM-DDTHH:MM:SS.ffffff`, UTC, no zone suffix.

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serializer};

use crate::validation::parse_datetime;

/// Formats a timestamp as the API shows it.
pub fn format_datetime(at: &DateTime<Utc>) -> String {
    format_naive(&at.naive_utc(), 'T')
}

/// Formats a `recovery_workflow_details` progress timestamp (space separator).
pub fn format_detail_timestamp(at: &DateTime<Utc>) -> String {
    format_naive(&at.naive_utc(), ' ')
}

/// `YYYY-MM-DD<sep>HH:MM:SS.ffffff`. Written with `format!` rather than chrono's `format`,
/// which parses its pattern on every call and showed up in API profiles (every listed row has
/// three timestamps).
pub fn format_naive(at: &NaiveDateTime, sep: char) -> String {
    format!(
        "{:04}-{:02}-{:02}{sep}{:02}:{:02}:{:02}.{:06}",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.and_utc().timestamp_subsec_micros().min(999_999)
    )
}

/// Serde adapter for required timestamps.
pub(crate) mod required {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_datetime(at))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        parse_datetime(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("bad datetime {text}")))
    }
}

/// Serde adapter for optional timestamps.
pub(crate) mod optional {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        at: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => s.serialize_str(&format_datetime(at)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| {
            parse_datetime(&t).ok_or_else(|| serde::de::Error::custom(format!("bad datetime {t}")))
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn timestamps_have_six_fraction_digits_and_no_zone() {
        let at = Utc.timestamp_opt(1_700_000_000, 1_000).unwrap();
        assert_eq!(format_datetime(&at), "2023-11-14T22:13:20.000001");
        assert_eq!(format_detail_timestamp(&at), "2023-11-14 22:13:20.000001");
        assert_eq!(
            format_datetime(&Utc.timestamp_opt(0, 0).unwrap()),
            "1970-01-01T00:00:00.000000"
        );
    }
}

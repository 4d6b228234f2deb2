//! ISO 8601 dates and times as `crm_simulate --set-datetime` takes them: `2026-12-07`,
//! `2026-12-07T14:00`, `2026-12-07T14:00:05Z`, `2026-12-07 14:00:05+02:00`; UTC unless an
//! offset is given.

/// Seconds since the epoch, or why the text is not a date and time.
pub(super) fn parse(text: &str) -> Result<i64, &'static str> {
    let t = text.trim();
    let (date, time) = match t.find(['T', 't', ' ']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mut parts = date.split('-');
    let year = number(parts.next(), 4, "the year is not 4 digits")?;
    let month = number(parts.next(), 2, "the month is not 2 digits")?;
    let day = number(parts.next(), 2, "the day is not 2 digits")?;
    if parts.next().is_some() {
        return Err("the date has more than 3 parts");
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err("no such day");
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    if let Some(time) = time {
        let (clock, offset) = split_offset(time)?;
        let mut hms = clock.split(':');
        let h = number(hms.next(), 2, "the hour is not 2 digits")?;
        let m = number(hms.next(), 2, "the minutes are not 2 digits")?;
        let s = match hms.next() {
            Some(s) => number(
                Some(s.split('.').next().unwrap_or(s)),
                2,
                "the seconds are not 2 digits",
            )?,
            None => 0,
        };
        if hms.next().is_some() || h > 24 || m > 59 || s > 60 {
            return Err("no such time of day");
        }
        secs += h * 3600 + m * 60 + s - offset;
    }
    Ok(secs)
}

/// The clock part and the offset from UTC in seconds.
fn split_offset(time: &str) -> Result<(&str, i64), &'static str> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Ok((clock, 0));
    }
    let Some(i) = time.rfind(['+', '-']) else {
        return Ok((time, 0));
    };
    let (clock, off) = time.split_at(i);
    let sign = if off.starts_with('-') { -1 } else { 1 };
    let off = &off[1..];
    let (h, m) = match off.split_once(':') {
        Some((h, m)) => (h, m),
        None if off.len() == 4 => off.split_at(2),
        None => (off, "00"),
    };
    let h = number(Some(h), 2, "the offset's hours are not 2 digits")?;
    let m = number(Some(m), 2, "the offset's minutes are not 2 digits")?;
    Ok((clock, sign * (h * 3600 + m * 60)))
}

fn number(part: Option<&str>, digits: usize, why: &'static str) -> Result<i64, &'static str> {
    match part {
        Some(p) if p.len() == digits && p.bytes().all(|b| b.is_ascii_digit()) => {
            p.parse().map_err(|_| why)
        }
        _ => Err(why),
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn reads_the_iso_8601_spellings() {
        assert_eq!(parse("1970-01-01"), Ok(0));
        assert_eq!(parse("2026-12-07T14:00:00Z"), Ok(1_796_652_000));
        assert_eq!(parse("2026-12-07 14:00:00"), Ok(1_796_652_000));
        assert_eq!(parse("2026-12-07T16:00:00+02:00"), Ok(1_796_652_000));
        assert_eq!(parse("2026-12-07T14:00"), Ok(1_796_652_000));
        assert_eq!(parse("2024-02-29T00:00:00Z"), Ok(1_709_164_800));
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        assert!(parse("yesterday").is_err());
        assert!(parse("2026-13-01").is_err());
        assert!(parse("2025-02-29").is_err());
        assert!(parse("2026-12-07T25:00:00").is_err());
        assert!(parse("2026-12-07T14:00:00+2x").is_err());
    }
}

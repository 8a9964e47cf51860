//! Instants and time zones.
//!
//! Instants are microseconds since the Unix epoch: Postgres stores timestamps at
//! that precision, and Spin's Postgres interface cannot carry a `timestamptz`,
//! so instants cross into SQL as epoch microseconds or RFC 3339 text.

use chrono::{DateTime, SecondsFormat, Utc};

/// A point in time, to the microsecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(i64);

/// The earliest and latest instants accepted from clients: years 1 to 9999,
/// inside what both RFC 3339 and Postgres can represent.
const MIN_MICROS: i64 = -62_135_596_800_000_000;
const MAX_MICROS: i64 = 253_402_300_799_999_999;

impl Instant {
    pub fn from_micros(micros: i64) -> Self {
        Instant(micros)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    pub fn minus_minutes(self, minutes: i32) -> Self {
        Instant(self.0.saturating_sub(i64::from(minutes) * 60_000_000))
    }

    fn to_utc(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_micros(self.0)
    }

    /// RFC 3339 in UTC with microseconds, e.g. for binding as `($1::text)::timestamptz`.
    pub fn to_rfc3339(self) -> String {
        format_instant(self, None)
    }
}

/// Parses an RFC 3339 timestamp with an explicit offset; sub-microsecond digits
/// are dropped, as Postgres would.
pub fn parse_instant(raw: &str) -> Result<Instant, String> {
    let parsed = DateTime::parse_from_rfc3339(raw.trim()).map_err(|_| {
        format!(
            "{raw:?} is not an RFC 3339 timestamp with an offset, e.g. 2026-03-01T09:00:00+01:00"
        )
    })?;
    let micros = parsed.timestamp_micros();
    if !(MIN_MICROS..=MAX_MICROS).contains(&micros) {
        return Err("must be between the years 0001 and 9999".into());
    }
    Ok(Instant(micros))
}

/// Formats an instant as RFC 3339, in `zone` when given (so a due date reads in
/// the task's own time zone), else in UTC.
pub fn format_instant(instant: Instant, zone: Option<&TimeZone>) -> String {
    let Some(utc) = instant.to_utc() else {
        return instant.0.to_string();
    };
    match zone {
        Some(zone) => utc
            .with_timezone(&zone.0)
            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => utc.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    }
}

/// An IANA time zone name, e.g. `Europe/Paris`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    pub const UTC: TimeZone = TimeZone(chrono_tz::Tz::UTC);

    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.trim()
            .parse::<chrono_tz::Tz>()
            .map(TimeZone)
            .map_err(|_| format!("{raw:?} is not an IANA time zone name, e.g. Europe/Paris or UTC"))
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_round_trips_through_rfc3339() {
        let instant = parse_instant("2026-03-01T09:00:00.123456+01:00").unwrap();
        assert_eq!(format_instant(instant, None), "2026-03-01T08:00:00.123456Z");
    }

    #[test]
    fn a_timestamp_without_offset_is_rejected() {
        assert!(parse_instant("2026-03-01T09:00:00").is_err());
    }

    #[test]
    fn a_due_date_is_shown_in_its_time_zone() {
        let instant = parse_instant("2026-07-01T07:00:00Z").unwrap();
        let paris = TimeZone::parse("Europe/Paris").unwrap();
        assert_eq!(
            format_instant(instant, Some(&paris)),
            "2026-07-01T09:00:00+02:00"
        );
    }

    #[test]
    fn an_unknown_time_zone_is_rejected() {
        assert!(TimeZone::parse("Mars/Olympus").is_err());
    }
}

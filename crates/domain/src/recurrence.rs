//! Recurrence: a preset or an RFC 5545 RRULE, validated with the `rrule` crate.

use crate::time::{Instant, TimeZone};

const MAX_RULE_CHARS: usize = 500;

/// A validated recurrence rule, stored as RRULE text without the `RRULE:` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence(String);

impl Recurrence {
    /// Accepts `daily`, `weekdays`, `weekly`, `monthly`, `yearly`, or an RRULE such
    /// as `FREQ=WEEKLY;BYDAY=MO,WE` (optionally prefixed with `RRULE:`). The rule
    /// is checked against the task's first occurrence, `start`, in `zone`.
    pub fn parse(raw: &str, start: Instant, zone: TimeZone) -> Result<Self, String> {
        let trimmed = raw.trim();
        let rule = match trimmed.to_ascii_lowercase().as_str() {
            "daily" => "FREQ=DAILY".to_owned(),
            "weekdays" => "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR".to_owned(),
            "weekly" => "FREQ=WEEKLY".to_owned(),
            "monthly" => "FREQ=MONTHLY".to_owned(),
            "yearly" => "FREQ=YEARLY".to_owned(),
            _ => {
                let body = trimmed
                    .strip_prefix("RRULE:")
                    .or_else(|| trimmed.strip_prefix("rrule:"))
                    .unwrap_or(trimmed);
                body.to_ascii_uppercase()
            }
        };
        if rule.chars().count() > MAX_RULE_CHARS {
            return Err(format!("must be at most {MAX_RULE_CHARS} characters"));
        }
        if rule.contains('\n') || rule.contains('\r') {
            return Err("must be a single RRULE line, e.g. FREQ=WEEKLY;BYDAY=MO".into());
        }
        validate(&rule, start, zone)?;
        Ok(Recurrence(rule))
    }

    /// A rule already stored, trusted as written by `parse`.
    pub fn from_stored(rule: String) -> Self {
        Recurrence(rule)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn validate(rule: &str, start: Instant, zone: TimeZone) -> Result<(), String> {
    let unvalidated: rrule::RRule<rrule::Unvalidated> = rule
        .parse()
        .map_err(|e| format!("is not a valid RRULE ({e}); use a preset (daily, weekdays, weekly, monthly, yearly) or e.g. FREQ=WEEKLY;BYDAY=MO"))?;
    let tz = rrule::Tz::Tz(zone.tz());
    let dt_start = chrono::DateTime::from_timestamp_micros(start.micros())
        .ok_or_else(|| "has a start outside the supported range".to_owned())?
        .with_timezone(&tz);
    let set = unvalidated
        .build(dt_start)
        .map_err(|e| format!("is not a valid RRULE ({e})"))?;
    // A rule that never produces an occurrence (e.g. BYMONTHDAY=31;BYMONTH=2) is
    // accepted by the parser but would silently stop the series.
    if set.all(1).dates.is_empty() {
        return Err("never produces an occurrence".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_instant;

    fn start() -> Instant {
        parse_instant("2026-01-05T09:00:00Z").unwrap()
    }

    #[test]
    fn presets_expand_to_rrules() {
        let r = Recurrence::parse("Weekdays", start(), TimeZone::UTC).unwrap();
        assert_eq!(r.as_str(), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
    }

    #[test]
    fn an_rrule_with_prefix_is_accepted() {
        let r =
            Recurrence::parse("RRULE:FREQ=MONTHLY;BYMONTHDAY=15", start(), TimeZone::UTC).unwrap();
        assert_eq!(r.as_str(), "FREQ=MONTHLY;BYMONTHDAY=15");
    }

    #[test]
    fn nonsense_is_rejected() {
        assert!(Recurrence::parse("every other tuesday", start(), TimeZone::UTC).is_err());
        assert!(Recurrence::parse("FREQ=SOMETIMES", start(), TimeZone::UTC).is_err());
    }

    #[test]
    fn a_rule_with_no_occurrence_is_rejected() {
        assert!(Recurrence::parse(
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            start(),
            TimeZone::UTC
        )
        .is_err());
    }
}

//! Recurrence: a preset or an RFC 5545 RRULE, and the dates it gives in the
//! task's time zone.
//!
//! A rule is expanded on naive local wall-clock times: the `rrule` crate gets
//! the series' first due date (DTSTART) as local time *tagged UTC*, where
//! nothing ever shifts, and each instance is placed in the task's IANA zone
//! here. The crate's own zoned expansion (0.14) drops every instance on a day
//! whose local midnight does not exist (e.g. America/Santiago on 2026-09-06:
//! a daily task simply vanishes) and repeats an instance for `BYHOUR` rules on
//! a spring-forward day. Placing local times ourselves follows RFC 5545 3.3.5:
//! a time that occurs twice (fall back) is the first of the two; a time that
//! does not exist (spring forward) moves forward by the length of the gap,
//! as calendar apps do, rather than dropping that day's task.
//!
//! `COUNT` and `UNTIL` are applied here too: `COUNT=n` allows tasks with
//! occurrence index 0 to n−1 (in both modes), `UNTIL` bounds the due dates.

use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset as _, TimeZone as _, Utc,
};

use crate::reminder::ReminderSpec;
use crate::time::{Instant, TimeZone};

const MAX_RULE_CHARS: usize = 500;
/// The most instances looked at to find the next one: a daily rule ~270 years
/// past its first due date. Stops rules that match almost never.
const MAX_INSTANCES_SCANNED: usize = 100_000;
const PRESETS: &str = "daily, weekdays, weekly, monthly, yearly";

/// A validated recurrence rule, stored as RRULE text without the `RRULE:` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence(String);

/// How the next due date of a recurring task is found when it is completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecurrenceMode {
    /// The next date of the rule after the later of the due date and the
    /// completion: completing early or late does not move the series.
    #[default]
    Schedule,
    /// The rule starts over on the day of the completion ("every 3 days after
    /// I last did it").
    FromCompletion,
}

impl RecurrenceMode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "schedule" => Ok(RecurrenceMode::Schedule),
            "from_completion" => Ok(RecurrenceMode::FromCompletion),
            _ => Err(format!(
                "{raw:?} is not a recurrence mode; use schedule (the next date of the rule) or from_completion (counted from when the task is completed)"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RecurrenceMode::Schedule => "schedule",
            RecurrenceMode::FromCompletion => "from_completion",
        }
    }
}

/// A recurring task's series: its rule, mode, first due date (DTSTART) and zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series<'a> {
    pub rule: &'a Recurrence,
    pub mode: RecurrenceMode,
    pub start: Instant,
    pub zone: TimeZone,
}

impl Recurrence {
    /// Accepts `daily`, `weekdays`, `weekly`, `monthly`, `yearly`, or one RRULE
    /// line such as `FREQ=WEEKLY;BYDAY=MO,WE` (optionally prefixed `RRULE:`).
    /// The rule must give at least one date after `start` (the first due date)
    /// in `zone`.
    pub fn parse(raw: &str, start: Instant, zone: TimeZone) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(format!(
                "must not be empty; use a preset ({PRESETS}) or an RRULE such as FREQ=WEEKLY;BYDAY=MO, or null for a task that does not repeat"
            ));
        }
        let rule = match trimmed.to_ascii_lowercase().as_str() {
            "daily" => "FREQ=DAILY".to_owned(),
            "weekdays" => "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR".to_owned(),
            "weekly" => "FREQ=WEEKLY".to_owned(),
            "monthly" => "FREQ=MONTHLY".to_owned(),
            "yearly" => "FREQ=YEARLY".to_owned(),
            _ => {
                let upper = trimmed.to_ascii_uppercase();
                upper.strip_prefix("RRULE:").unwrap_or(&upper).to_owned()
            }
        };
        if rule.chars().count() > MAX_RULE_CHARS {
            return Err(format!("must be at most {MAX_RULE_CHARS} characters"));
        }
        if ["DTSTART", "RDATE", "EXDATE", "EXRULE"]
            .iter()
            .any(|name| rule.contains(name))
        {
            return Err("must be a single RRULE without DTSTART, RDATE, EXDATE or EXRULE: the task's due_at is the start of the series; write only the rule, e.g. FREQ=WEEKLY;BYDAY=MO".into());
        }
        if rule.contains(['\n', '\r', ':']) {
            return Err("must be a single RRULE line, e.g. FREQ=WEEKLY;BYDAY=MO".into());
        }
        let parts = Parts::parse(&rule)?;
        let local_start = local(start, zone)?;
        let first = parts
            .instances(local_start, zone)?
            .find(|(_, at)| *at > start);
        if first.is_none() {
            return Err(
                "never produces a date after the due date (check BYMONTH/BYMONTHDAY and UNTIL)"
                    .into(),
            );
        }
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

impl Series<'_> {
    /// The due date of the task after the one with occurrence index
    /// `occurrence`, due at `due` and completed at `completed_at`; `None` when
    /// the series has ended (`COUNT`, `UNTIL`).
    pub fn next_due(
        &self,
        due: Instant,
        completed_at: Instant,
        occurrence: i32,
    ) -> Option<Instant> {
        let parts = Parts::parse(self.rule.as_str()).ok()?;
        if parts.count_reached(occurrence) {
            return None;
        }
        let zone = self.zone;
        let start_local = local(self.start, zone).ok()?;
        let (anchor, after) = match self.mode {
            RecurrenceMode::Schedule => (start_local, due.max(completed_at)),
            RecurrenceMode::FromCompletion => {
                let day = local(completed_at, zone).ok()?.date();
                let anchor = day.and_time(start_local.time());
                (anchor, completed_at.max(place(anchor, zone)?))
            }
        };
        let next = parts
            .instances(anchor, zone)
            .ok()?
            .find(|(_, at)| *at > after);
        next.map(|(_, at)| at)
    }

    /// Up to `n` due dates planned after the task with occurrence index
    /// `occurrence` due at `due`, as if each were completed on time.
    pub fn upcoming(&self, due: Instant, occurrence: i32, n: usize) -> Vec<Instant> {
        let mut dates = Vec::with_capacity(n);
        let (mut due, mut occurrence) = (due, occurrence);
        while dates.len() < n {
            let Some(next) = self.next_due(due, due, occurrence) else {
                break;
            };
            dates.push(next);
            due = next;
            occurrence = occurrence.saturating_add(1);
        }
        dates
    }
}

/// The reminders of the next task: relative ones as they are (they follow the
/// new due date), absolute ones moved by as many local calendar days as the
/// due date moved, at the same local time.
pub fn next_reminders(
    reminders: &[ReminderSpec],
    due: Instant,
    next_due: Instant,
    zone: TimeZone,
) -> Vec<ReminderSpec> {
    let days = match (local(due, zone), local(next_due, zone)) {
        (Ok(from), Ok(to)) => (to.date() - from.date()).num_days(),
        _ => 0,
    };
    reminders
        .iter()
        .map(|spec| match *spec {
            ReminderSpec::At(at) => local(at, zone)
                .ok()
                .and_then(|t| t.checked_add_signed(Duration::days(days)))
                .and_then(|t| place(t, zone))
                .map_or(*spec, ReminderSpec::At),
            relative => relative,
        })
        .collect()
}

/// A rule split into what the `rrule` crate expands and the limits applied here.
struct Parts {
    /// The rule without COUNT and UNTIL.
    expand: String,
    count: Option<u32>,
    until: Option<Until>,
}

/// RFC 5545 allows UNTIL as a date, a UTC date-time or (as written by many
/// clients) a local date-time; the last two bound the due date, a date bounds
/// the local day.
enum Until {
    Date(NaiveDate),
    Local(NaiveDateTime),
    Utc(Instant),
}

impl Parts {
    fn parse(rule: &str) -> Result<Parts, String> {
        let mut expand = Vec::new();
        let (mut count, mut until, mut freq) = (None, None, None);
        for part in rule.split(';').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').ok_or_else(|| {
                format!("has {part:?}, which is not NAME=VALUE; write e.g. FREQ=WEEKLY;BYDAY=MO")
            })?;
            match name {
                "COUNT" => {
                    let n = value.parse::<u32>().ok().filter(|n| *n >= 1);
                    count = Some(n.ok_or("COUNT must be a whole number of at least 1")?);
                }
                "UNTIL" => until = Some(Until::parse(value)?),
                "FREQ" => {
                    if matches!(value, "SECONDLY" | "MINUTELY" | "HOURLY") {
                        return Err(format!("FREQ={value} is not supported: a task repeats at most daily; for several times a day use FREQ=DAILY with BYHOUR, e.g. FREQ=DAILY;BYHOUR=9,17"));
                    }
                    freq = Some(value);
                    expand.push(part);
                }
                _ => expand.push(part),
            }
        }
        if freq.is_none() {
            return Err(format!(
                "needs a FREQ, e.g. FREQ=WEEKLY;BYDAY=MO, or use a preset ({PRESETS})"
            ));
        }
        if count.is_some() && until.is_some() {
            return Err("may have COUNT or UNTIL, not both".into());
        }
        // Any other mistake is reported by the rrule crate when the rule is
        // first expanded (`Recurrence::parse` does that).
        Ok(Parts {
            expand: expand.join(";"),
            count,
            until,
        })
    }

    fn rrule(&self, anchor: NaiveDateTime) -> Result<rrule::RRuleSet, String> {
        let unvalidated: rrule::RRule<rrule::Unvalidated> = self.expand.parse().map_err(|e| {
            format!(
                "is not a valid RRULE ({e}); use a preset ({PRESETS}) or e.g. FREQ=WEEKLY;BYDAY=MO"
            )
        })?;
        let start = rrule::Tz::UTC.from_utc_datetime(&anchor);
        Ok(unvalidated
            .build(start)
            .map_err(|e| format!("is not a valid RRULE ({e})"))?
            .limit())
    }

    /// Whether a task with occurrence index `occurrence` is the last COUNT allows.
    fn count_reached(&self, occurrence: i32) -> bool {
        self.count
            .is_some_and(|count| i64::from(occurrence) + 1 >= i64::from(count))
    }

    /// The rule's instances from `anchor` (local wall-clock time), each with
    /// the instant it is in `zone`, up to UNTIL.
    fn instances(
        &self,
        anchor: NaiveDateTime,
        zone: TimeZone,
    ) -> Result<impl Iterator<Item = (NaiveDateTime, Instant)> + '_, String> {
        Ok(self
            .rrule(anchor)?
            .into_iter()
            .take(MAX_INSTANCES_SCANNED)
            .map_while(move |dt| {
                let naive = dt.naive_utc();
                Some((naive, place(naive, zone)?))
            })
            .take_while(|(naive, at)| self.until.as_ref().is_none_or(|u| u.allows(*naive, *at))))
    }
}

impl Until {
    fn parse(value: &str) -> Result<Until, String> {
        let bad = || {
            format!("UNTIL={value} is not a date (20261231) or a date-time (20261231T170000Z in UTC, or 20261231T170000 in the task's time zone)")
        };
        if let Some(utc) = value.strip_suffix('Z') {
            let naive = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").map_err(|_| bad())?;
            return Ok(Until::Utc(Instant::from_micros(
                naive.and_utc().timestamp_micros(),
            )));
        }
        if value.contains('T') {
            return NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S")
                .map(Until::Local)
                .map_err(|_| bad());
        }
        NaiveDate::parse_from_str(value, "%Y%m%d")
            .map(Until::Date)
            .map_err(|_| bad())
    }

    fn allows(&self, local: NaiveDateTime, at: Instant) -> bool {
        match self {
            Until::Date(day) => local.date() <= *day,
            Until::Local(until) => local <= *until,
            Until::Utc(until) => at <= *until,
        }
    }
}

/// The local wall-clock time of `at` in `zone`.
fn local(at: Instant, zone: TimeZone) -> Result<NaiveDateTime, String> {
    DateTime::<Utc>::from_timestamp_micros(at.micros())
        .map(|utc| utc.with_timezone(&zone.tz()).naive_local())
        .ok_or_else(|| "has a start outside the supported range".to_owned())
}

/// The instant of local wall-clock time `local` in `zone`: the first of two
/// (fall back), or moved forward by the gap when it does not exist (spring
/// forward: 02:30 on a day that jumps from 02:00 to 03:00 is 03:30).
fn place(local: NaiveDateTime, zone: TimeZone) -> Option<Instant> {
    let tz = zone.tz();
    let at = match tz.from_local_datetime(&local) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.with_timezone(&Utc),
        LocalResult::None => {
            // In a gap the offset in force before it still applies: the
            // instant `local - offset_before` reads `local + gap` on the clock.
            let before = local.checked_sub_signed(Duration::days(1))?;
            let offset = tz.offset_from_utc_datetime(&before).fix();
            (local - offset).and_utc()
        }
    };
    Some(Instant::from_micros(at.timestamp_micros()))
}

#[cfg(test)]
mod tests;

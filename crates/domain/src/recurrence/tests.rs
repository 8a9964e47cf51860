//! The dates a person expects, written out by hand.

use super::*;
use crate::time::format_instant;

fn zone(name: &str) -> TimeZone {
    TimeZone::parse(name).unwrap()
}

/// `2026-01-05T09:00` in `zone`, placed like any local time.
fn at(zone: TimeZone, local: &str) -> Instant {
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M").unwrap();
    place(naive, zone).unwrap()
}

struct Case {
    zone: &'static str,
    rule: &'static str,
    mode: RecurrenceMode,
    /// The series' first due date (DTSTART), local.
    start: &'static str,
    due: &'static str,
    completed: &'static str,
    occurrence: i32,
    /// The next due date as the API shows it, or `None` when the series ends.
    next: Option<&'static str>,
}

const S: RecurrenceMode = RecurrenceMode::Schedule;
const C: RecurrenceMode = RecurrenceMode::FromCompletion;

fn case(
    zone: &'static str,
    rule: &'static str,
    mode: RecurrenceMode,
    start: &'static str,
    due: &'static str,
    completed: &'static str,
    next: Option<&'static str>,
) -> Case {
    Case {
        zone,
        rule,
        mode,
        start,
        due,
        completed,
        occurrence: 0,
        next,
    }
}

fn check(cases: &[Case]) {
    let mut failures = Vec::new();
    for c in cases {
        let z = zone(c.zone);
        let start = at(z, c.start);
        let rule = Recurrence::parse(c.rule, start, z)
            .unwrap_or_else(|e| panic!("{} refused: {e}", c.rule));
        let series = Series {
            rule: &rule,
            mode: c.mode,
            start,
            zone: z,
        };
        let got = series
            .next_due(at(z, c.due), at(z, c.completed), c.occurrence)
            .map(|next| format_instant(next, Some(&z)));
        if got.as_deref() != c.next {
            failures.push(format!(
                "{} {} {:?} due {} completed {}: expected {:?}, got {:?}",
                c.zone, c.rule, c.mode, c.due, c.completed, c.next, got
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
#[rustfmt::skip] // One case a line: the table is read as a table.
fn presets_and_rules_give_the_dates_a_person_expects() {
    let b = "Europe/Berlin";
    check(&[
        case(b, "daily", S, "2026-01-05T09:00", "2026-01-05T09:00", "2026-01-05T09:10", Some("2026-01-06T09:00:00+01:00")),
        case(b, "weekly", S, "2026-01-05T09:00", "2026-01-05T09:00", "2026-01-05T09:10", Some("2026-01-12T09:00:00+01:00")),
        case(b, "monthly", S, "2026-01-15T09:00", "2026-01-15T09:00", "2026-01-15T09:10", Some("2026-02-15T09:00:00+01:00")),
        case("UTC", "yearly", S, "2026-03-10T09:00", "2026-03-10T09:00", "2026-03-10T09:10", Some("2027-03-10T09:00:00Z")),
        // Friday → Monday.
        case(b, "weekdays", S, "2026-01-05T09:00", "2026-01-09T09:00", "2026-01-09T09:10", Some("2026-01-12T09:00:00+01:00")),
        // Wednesday → Friday, Friday → Monday.
        case(b, "FREQ=WEEKLY;BYDAY=MO,WE,FR", S, "2026-01-05T09:00", "2026-01-07T09:00", "2026-01-07T12:00", Some("2026-01-09T09:00:00+01:00")),
        case(b, "FREQ=WEEKLY;BYDAY=MO,WE,FR", S, "2026-01-05T09:00", "2026-01-09T09:00", "2026-01-09T12:00", Some("2026-01-12T09:00:00+01:00")),
        // Every other Monday.
        case(b, "FREQ=WEEKLY;INTERVAL=2", S, "2026-01-05T09:00", "2026-01-05T09:00", "2026-01-05T10:00", Some("2026-01-19T09:00:00+01:00")),
        // The 31st: February and April have none and are skipped.
        case(b, "FREQ=MONTHLY;BYMONTHDAY=31", S, "2026-01-31T09:00", "2026-01-31T09:00", "2026-01-31T10:00", Some("2026-03-31T09:00:00+02:00")),
        case(b, "FREQ=MONTHLY;BYMONTHDAY=31", S, "2026-01-31T09:00", "2026-03-31T09:00", "2026-03-31T10:00", Some("2026-05-31T09:00:00+02:00")),
        // The last day of the month.
        case(b, "FREQ=MONTHLY;BYMONTHDAY=-1", S, "2026-01-31T09:00", "2026-01-31T09:00", "2026-01-31T10:00", Some("2026-02-28T09:00:00+01:00")),
        case(b, "FREQ=MONTHLY;BYMONTHDAY=-1", S, "2026-01-31T09:00", "2026-02-28T09:00", "2026-02-28T10:00", Some("2026-03-31T09:00:00+02:00")),
        // The last weekday of the month: Friday 30 Jan, Friday 27 Feb (the 28th is a Saturday), Tuesday 31 Mar.
        case(b, "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR", S, "2026-01-30T09:00", "2026-01-30T09:00", "2026-01-30T10:00", Some("2026-02-27T09:00:00+01:00")),
        case(b, "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR", S, "2026-01-30T09:00", "2026-02-27T09:00", "2026-02-27T10:00", Some("2026-03-31T09:00:00+02:00")),
        // 29 February comes back in the next leap year, both spelled out and as the preset.
        case(b, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", S, "2024-02-29T09:00", "2024-02-29T09:00", "2024-02-29T10:00", Some("2028-02-29T09:00:00+01:00")),
        case(b, "yearly", S, "2024-02-29T09:00", "2024-02-29T09:00", "2024-02-29T10:00", Some("2028-02-29T09:00:00+01:00")),
    ]);
}

#[test]
fn count_allows_that_many_tasks_from_the_first_one() {
    let b = "Europe/Berlin";
    let mut cases = Vec::new();
    for (occurrence, due, next) in [
        (0, "2026-01-05T09:00", Some("2026-01-06T09:00:00+01:00")),
        (1, "2026-01-06T09:00", Some("2026-01-07T09:00:00+01:00")),
        (2, "2026-01-07T09:00", None),
    ] {
        for mode in [S, C] {
            cases.push(Case {
                occurrence,
                ..case(
                    b,
                    "FREQ=DAILY;COUNT=3",
                    mode,
                    "2026-01-05T09:00",
                    due,
                    due,
                    next,
                )
            });
        }
    }
    check(&cases);
}

#[test]
#[rustfmt::skip] // One case a line: the table is read as a table.
fn until_is_the_last_possible_due_date() {
    let b = "Europe/Berlin";
    check(&[
        // 08:00 UTC is 09:00 in Berlin in January: the 10th is the last.
        case(b, "FREQ=DAILY;UNTIL=20260110T080000Z", S, "2026-01-05T09:00", "2026-01-09T09:00", "2026-01-09T09:00", Some("2026-01-10T09:00:00+01:00")),
        case(b, "FREQ=DAILY;UNTIL=20260110T080000Z", S, "2026-01-05T09:00", "2026-01-10T09:00", "2026-01-10T09:00", None),
        // A date: the whole local day.
        case(b, "FREQ=DAILY;UNTIL=20260110", S, "2026-01-05T09:00", "2026-01-09T09:00", "2026-01-09T09:00", Some("2026-01-10T09:00:00+01:00")),
        case(b, "FREQ=DAILY;UNTIL=20260110", S, "2026-01-05T09:00", "2026-01-10T09:00", "2026-01-10T09:00", None),
        // A local date-time, in the task's zone.
        case(b, "FREQ=DAILY;UNTIL=20260110T085959", S, "2026-01-05T09:00", "2026-01-09T09:00", "2026-01-09T09:00", None),
    ]);
}

#[test]
#[rustfmt::skip] // One case a line: the table is read as a table.
fn local_time_stays_put_across_both_dst_changes() {
    check(&[
        // Berlin: spring forward 29 March 02:00 → 03:00, fall back 25 October 03:00 → 02:00.
        case("Europe/Berlin", "daily", S, "2026-03-01T09:00", "2026-03-28T09:00", "2026-03-28T09:30", Some("2026-03-29T09:00:00+02:00")),
        case("Europe/Berlin", "daily", S, "2026-10-01T09:00", "2026-10-24T09:00", "2026-10-24T09:30", Some("2026-10-25T09:00:00+01:00")),
        // New York: 8 March 02:00 → 03:00, 1 November 02:00 → 01:00.
        case("America/New_York", "weekly", S, "2026-03-02T09:00", "2026-03-02T09:00", "2026-03-02T09:30", Some("2026-03-09T09:00:00-04:00")),
        case("America/New_York", "weekly", S, "2026-10-26T09:00", "2026-10-26T09:00", "2026-10-26T09:30", Some("2026-11-02T09:00:00-05:00")),
        // Sydney (southern hemisphere): 5 April 03:00 → 02:00, 4 October 02:00 → 03:00.
        case("Australia/Sydney", "daily", S, "2026-04-01T09:00", "2026-04-04T09:00", "2026-04-04T09:30", Some("2026-04-05T09:00:00+10:00")),
        case("Australia/Sydney", "daily", S, "2026-10-01T09:00", "2026-10-03T09:00", "2026-10-03T09:30", Some("2026-10-04T09:00:00+11:00")),
        // Lord Howe moves by 30 minutes: 5 April 02:00 → 01:30, 4 October 02:00 → 02:30.
        case("Australia/Lord_Howe", "daily", S, "2026-04-01T09:00", "2026-04-04T09:00", "2026-04-04T09:30", Some("2026-04-05T09:00:00+10:30")),
        case("Australia/Lord_Howe", "daily", S, "2026-10-01T09:00", "2026-10-03T09:00", "2026-10-03T09:30", Some("2026-10-04T09:00:00+11:00")),
    ]);
}

#[test]
#[rustfmt::skip] // One case a line: the table is read as a table.
fn a_missing_local_time_moves_forward_by_the_gap_and_a_repeated_one_is_the_first() {
    check(&[
        // Berlin 02:30 does not exist on 29 March: 03:30; the day after is 02:30 again.
        case("Europe/Berlin", "daily", S, "2026-03-01T02:30", "2026-03-28T02:30", "2026-03-28T07:00", Some("2026-03-29T03:30:00+02:00")),
        case("Europe/Berlin", "daily", S, "2026-03-01T02:30", "2026-03-29T02:30", "2026-03-29T07:00", Some("2026-03-30T02:30:00+02:00")),
        // 02:30 happens twice on 25 October: the first (summer time), then back to winter time.
        case("Europe/Berlin", "daily", S, "2026-10-01T02:30", "2026-10-24T02:30", "2026-10-24T07:00", Some("2026-10-25T02:30:00+02:00")),
        case("Europe/Berlin", "daily", S, "2026-10-01T02:30", "2026-10-25T02:30", "2026-10-25T07:00", Some("2026-10-26T02:30:00+01:00")),
        case("America/New_York", "daily", S, "2026-03-01T02:30", "2026-03-07T02:30", "2026-03-07T07:00", Some("2026-03-08T03:30:00-04:00")),
        case("America/New_York", "daily", S, "2026-10-01T01:30", "2026-10-31T01:30", "2026-10-31T07:00", Some("2026-11-01T01:30:00-04:00")),
        case("America/New_York", "daily", S, "2026-10-01T01:30", "2026-11-01T01:30", "2026-11-01T07:00", Some("2026-11-02T01:30:00-05:00")),
        case("Australia/Sydney", "daily", S, "2026-10-01T02:30", "2026-10-03T02:30", "2026-10-03T07:00", Some("2026-10-04T03:30:00+11:00")),
        case("Australia/Sydney", "daily", S, "2026-04-01T02:30", "2026-04-04T02:30", "2026-04-04T07:00", Some("2026-04-05T02:30:00+11:00")),
        case("Australia/Sydney", "daily", S, "2026-04-01T02:30", "2026-04-05T02:30", "2026-04-05T07:00", Some("2026-04-06T02:30:00+10:00")),
        // Lord Howe: a 30-minute gap and a 30-minute repeat.
        case("Australia/Lord_Howe", "daily", S, "2026-10-01T02:15", "2026-10-03T02:15", "2026-10-03T07:00", Some("2026-10-04T02:45:00+11:00")),
        case("Australia/Lord_Howe", "daily", S, "2026-04-01T01:45", "2026-04-04T01:45", "2026-04-04T07:00", Some("2026-04-05T01:45:00+11:00")),
        case("Australia/Lord_Howe", "daily", S, "2026-04-01T01:45", "2026-04-05T01:45", "2026-04-05T07:00", Some("2026-04-06T01:45:00+10:30")),
        // Santiago skips local midnight on 6 September: the task is at 01:00 that day, not dropped.
        case("America/Santiago", "daily", S, "2026-09-01T00:00", "2026-09-05T00:00", "2026-09-05T07:00", Some("2026-09-06T01:00:00-03:00")),
        case("America/Santiago", "daily", S, "2026-09-01T00:00", "2026-09-06T01:00", "2026-09-06T07:00", Some("2026-09-07T00:00:00-03:00")),
    ]);
}

#[test]
#[rustfmt::skip] // One case a line: the table is read as a table.
fn completing_early_on_time_or_weeks_late_keeps_the_schedule() {
    let b = "Europe/Berlin";
    let monday = "FREQ=WEEKLY;BYDAY=MO";
    check(&[
        // Early (Friday before): the series is not pulled forward.
        case(b, monday, S, "2026-01-05T09:00", "2026-01-12T09:00", "2026-01-09T18:00", Some("2026-01-19T09:00:00+01:00")),
        case(b, monday, S, "2026-01-05T09:00", "2026-01-12T09:00", "2026-01-12T09:05", Some("2026-01-19T09:00:00+01:00")),
        // Three weeks late (Wednesday 4 Feb): the next Monday after now, not three overdue tasks.
        case(b, monday, S, "2026-01-05T09:00", "2026-01-12T09:00", "2026-02-04T11:00", Some("2026-02-09T09:00:00+01:00")),
        // Late on a Monday after 09:00: next week.
        case(b, monday, S, "2026-01-05T09:00", "2026-01-12T09:00", "2026-01-26T10:00", Some("2026-02-02T09:00:00+01:00")),
    ]);
}

#[test]
#[rustfmt::skip] // One case a line: the table is read as a table.
fn from_completion_counts_the_rule_from_the_day_it_is_done() {
    let b = "Europe/Berlin";
    let every_3_days = "FREQ=DAILY;INTERVAL=3";
    check(&[
        // Done on the 10th in the afternoon: three days after, at the usual 09:00.
        case(b, every_3_days, C, "2026-01-05T09:00", "2026-01-05T09:00", "2026-01-10T15:00", Some("2026-01-13T09:00:00+01:00")),
        // Done early in the morning of the 10th, before 09:00: still three days after.
        case(b, every_3_days, C, "2026-01-05T09:00", "2026-01-05T09:00", "2026-01-10T07:00", Some("2026-01-13T09:00:00+01:00")),
        // Done two days early: counted from then.
        case(b, every_3_days, C, "2026-01-05T09:00", "2026-01-05T09:00", "2026-01-03T20:00", Some("2026-01-06T09:00:00+01:00")),
        // Across spring forward, at 09:00 local.
        case(b, "FREQ=DAILY;INTERVAL=2", C, "2026-03-01T09:00", "2026-03-27T09:00", "2026-03-28T18:00", Some("2026-03-30T09:00:00+02:00")),
        // Weekly on Mondays, done on a Wednesday: the Monday after.
        case(b, "FREQ=WEEKLY;BYDAY=MO", C, "2026-01-05T09:00", "2026-01-12T09:00", "2026-01-14T10:00", Some("2026-01-19T09:00:00+01:00")),
        // Monthly, done on the 20th: the 20th of next month.
        case(b, "monthly", C, "2026-01-05T09:00", "2026-01-05T09:00", "2026-01-20T10:00", Some("2026-02-20T09:00:00+01:00")),
    ]);
}

#[test]
fn upcoming_dates_follow_the_rule_and_stop_at_count() {
    let z = zone("Europe/Berlin");
    let start = at(z, "2026-03-27T02:30");
    let rule = Recurrence::parse("FREQ=DAILY;COUNT=4", start, z).unwrap();
    let series = Series {
        rule: &rule,
        mode: S,
        start,
        zone: z,
    };
    let dates: Vec<String> = series
        .upcoming(start, 0, 10)
        .into_iter()
        .map(|d| format_instant(d, Some(&z)))
        .collect();
    assert_eq!(
        dates,
        [
            "2026-03-28T02:30:00+01:00",
            "2026-03-29T03:30:00+02:00",
            "2026-03-30T02:30:00+02:00"
        ]
    );
}

#[test]
fn absolute_reminders_move_by_the_same_local_days_and_relative_ones_stay() {
    let z = zone("Europe/Berlin");
    let moved = next_reminders(
        &[
            ReminderSpec::At(at(z, "2026-03-28T08:00")),
            ReminderSpec::Before { minutes: 30 },
        ],
        at(z, "2026-03-28T09:00"),
        at(z, "2026-03-29T09:00"),
        z,
    );
    assert_eq!(
        moved,
        [
            ReminderSpec::At(at(z, "2026-03-29T08:00")),
            ReminderSpec::Before { minutes: 30 }
        ]
    );
    assert_eq!(
        format_instant(at(z, "2026-03-29T08:00"), Some(&z)),
        "2026-03-29T08:00:00+02:00"
    );
}

#[test]
fn presets_expand_to_rrules_and_a_prefix_is_accepted() {
    let z = TimeZone::UTC;
    let start = at(z, "2026-01-05T09:00");
    let r = Recurrence::parse("Weekdays", start, z).unwrap();
    assert_eq!(r.as_str(), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
    let r = Recurrence::parse("RRULE:FREQ=MONTHLY;BYMONTHDAY=15", start, z).unwrap();
    assert_eq!(r.as_str(), "FREQ=MONTHLY;BYMONTHDAY=15");
}

#[test]
fn rules_that_cannot_make_a_task_series_are_refused_with_the_reason() {
    let z = zone("Europe/Berlin");
    let start = at(z, "2026-01-05T09:00");
    for (raw, says) in [
        ("", "must not be empty"),
        ("  ", "must not be empty"),
        ("every other tuesday", "not NAME=VALUE"),
        ("FREQ=SOMETIMES", "not a valid RRULE"),
        ("BYDAY=MO", "needs a FREQ"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never produces"),
        ("FREQ=DAILY;UNTIL=20260101T000000Z", "never produces"),
        ("FREQ=HOURLY", "FREQ=HOURLY is not supported"),
        ("FREQ=MINUTELY", "FREQ=MINUTELY is not supported"),
        ("FREQ=SECONDLY", "FREQ=SECONDLY is not supported"),
        (
            "DTSTART:20260105T090000Z\nRRULE:FREQ=DAILY",
            "without DTSTART",
        ),
        ("FREQ=DAILY\nRDATE:20260107T090000Z", "without DTSTART"),
        ("FREQ=DAILY;EXDATE=20260107T090000Z", "without DTSTART"),
        ("FREQ=DAILY\nFREQ=WEEKLY", "single RRULE line"),
        ("FREQ=DAILY;COUNT=0", "COUNT must be"),
        ("FREQ=DAILY;COUNT=2;UNTIL=20270101", "not both"),
        ("FREQ=DAILY;UNTIL=tomorrow", "UNTIL=TOMORROW is not a date"),
    ] {
        let err = Recurrence::parse(raw, start, z).unwrap_err();
        assert!(err.contains(says), "{raw:?}: {err}");
    }
}

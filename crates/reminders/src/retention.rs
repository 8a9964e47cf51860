//! Retention: what is old and finished is deleted, a bounded batch per table
//! per run, so a database that runs for a year stays the size of its recent
//! past. Audit history (`audit_log`) is kept forever; so are open dead letters,
//! pending work and unread inbox entries (see each table's `prune_*`).
//!
//! The tick runs it at most once per `retention_interval_seconds` across every
//! ticker (claimed in `tick_heartbeat`); each delete reads a partial index of
//! the rows it may delete (migration 0008).

use std::time::Duration;

use spindle_ports::{Config, Db, DbError};
use spindle_storage::{deliveries, idempotency, notifications, outbox, processed};

use crate::settings::SettingsError;

/// Variable: seconds between two retention runs (default 60).
pub const RETENTION_INTERVAL_SECONDS: &str = "retention_interval_seconds";
/// Variable: days a delivered event stays in the outbox and the change feed (default 7).
pub const RETENTION_OUTBOX_DAYS: &str = "retention_outbox_days";
/// Variable: days a consumer's effect-once record and failure record stay (default 7).
pub const RETENTION_PROCESSED_DAYS: &str = "retention_processed_days";
/// Variable: hours an idempotency key stays (default 24, at least 24).
pub const RETENTION_IDEMPOTENCY_HOURS: &str = "retention_idempotency_hours";
/// Variable: days a finished delivery stays in the delivery log (default 30).
pub const RETENTION_DELIVERIES_DAYS: &str = "retention_deliveries_days";
/// Variable: days a read inbox entry stays (default 90).
pub const RETENTION_INBOX_DAYS: &str = "retention_inbox_days";
/// Variable: rows deleted per table per run (default 5000).
pub const RETENTION_BATCH: &str = "retention_batch";

const DAY: u64 = 24 * 3600;

/// How long each kind of finished row is kept, and how much one run deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionSettings {
    /// The least time between two runs.
    pub every: Duration,
    pub outbox: Duration,
    /// Never shorter than `outbox` (checked by [`RetentionSettings::from_config`]).
    pub processed: Duration,
    pub idempotency: Duration,
    pub deliveries: Duration,
    pub inbox: Duration,
    /// Rows deleted per table per run.
    pub batch: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            every: Duration::from_secs(60),
            outbox: Duration::from_secs(7 * DAY),
            processed: Duration::from_secs(7 * DAY),
            idempotency: Duration::from_secs(idempotency::REPLAY_HOURS * 3600),
            deliveries: Duration::from_secs(30 * DAY),
            inbox: Duration::from_secs(90 * DAY),
            batch: 5000,
        }
    }
}

/// A whole number from `min` to `max`.
fn whole(
    config: &(impl Config + ?Sized),
    name: &'static str,
    range: std::ops::RangeInclusive<u64>,
    expected: &'static str,
) -> Result<Option<u64>, SettingsError> {
    let Some(value) = config.get(name) else {
        return Ok(None);
    };
    match value.trim().parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(Some(n)),
        _ => Err(SettingsError {
            name,
            value,
            expected,
        }),
    }
}

impl RetentionSettings {
    /// The defaults, with whatever the `retention_*` variables set. Zero,
    /// negative or absurd values are refused, and so is a
    /// `retention_processed_days` shorter than `retention_outbox_days`.
    pub fn from_config(config: &(impl Config + ?Sized)) -> Result<Self, SettingsError> {
        let mut s = RetentionSettings::default();
        let days = "a whole number of days from 1 to 3650";
        if let Some(n) = whole(
            config,
            RETENTION_INTERVAL_SECONDS,
            1..=86_400,
            "a whole number of seconds from 1 to 86400",
        )? {
            s.every = Duration::from_secs(n);
        }
        if let Some(n) = whole(config, RETENTION_OUTBOX_DAYS, 1..=3650, days)? {
            s.outbox = Duration::from_secs(n * DAY);
        }
        if let Some(n) = whole(config, RETENTION_PROCESSED_DAYS, 1..=3650, days)? {
            s.processed = Duration::from_secs(n * DAY);
        }
        if let Some(n) = whole(
            config,
            RETENTION_IDEMPOTENCY_HOURS,
            idempotency::REPLAY_HOURS..=87_600,
            // Keys are replayed for 24 hours (REPLAY_HOURS): deleting them
            // sooner would turn a retried POST into a second write.
            "a whole number of hours from 24 (the time a key is replayed) to 87600",
        )? {
            s.idempotency = Duration::from_secs(n * 3600);
        }
        if let Some(n) = whole(config, RETENTION_DELIVERIES_DAYS, 1..=3650, days)? {
            s.deliveries = Duration::from_secs(n * DAY);
        }
        if let Some(n) = whole(config, RETENTION_INBOX_DAYS, 1..=3650, days)? {
            s.inbox = Duration::from_secs(n * DAY);
        }
        if let Some(n) = whole(
            config,
            RETENTION_BATCH,
            1..=100_000,
            "a whole number of rows from 1 to 100000",
        )? {
            s.batch = u32::try_from(n).unwrap_or(100_000);
        }
        // An effect-once record must outlive every redelivery of its event, or
        // the consumer would apply the event again. The relay republishes an
        // event until it is delivered (and a replayed dead letter republishes
        // it anew), so `prune_processed` only takes records of events that are
        // delivered or gone; keeping them at least as long as the outbox keeps
        // those events also covers a copy still in flight on the bus when the
        // event was marked delivered.
        if s.processed < s.outbox {
            return Err(SettingsError {
                name: RETENTION_PROCESSED_DAYS,
                value: config
                    .get(RETENTION_PROCESSED_DAYS)
                    .unwrap_or_else(|| format!("{} (default)", s.processed.as_secs() / DAY)),
                expected: "at least retention_outbox_days: a consumer's record of an event must outlive the event",
            });
        }
        Ok(s)
    }
}

/// Rows one run deleted, per table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RetentionReport {
    pub outbox: u64,
    pub processed_events: u64,
    pub consumer_failures: u64,
    pub idempotency_keys: u64,
    pub deliveries: u64,
    pub notifications: u64,
}

impl RetentionReport {
    pub fn total(&self) -> u64 {
        self.outbox
            + self.processed_events
            + self.consumer_failures
            + self.idempotency_keys
            + self.deliveries
            + self.notifications
    }
}

fn seconds(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// One retention run: at most `settings.batch` rows per table, each table in
/// its own statement (a lock held briefly, nothing to roll back together).
pub fn run(db: &impl Db, settings: &RetentionSettings) -> Result<RetentionReport, DbError> {
    let n = settings.batch;
    Ok(RetentionReport {
        outbox: outbox::prune_delivered(db, seconds(settings.outbox), n)?,
        processed_events: processed::prune_processed(db, seconds(settings.processed), n)?,
        consumer_failures: processed::prune_failures(db, seconds(settings.processed), n)?,
        idempotency_keys: idempotency::prune(db, seconds(settings.idempotency), n)?,
        deliveries: deliveries::prune_finished(db, seconds(settings.deliveries), n)?,
        notifications: notifications::prune_read(db, seconds(settings.inbox), n)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use spindle_ports::MapConfig;

    #[test]
    fn defaults_keep_a_week_of_events_a_day_of_keys_a_month_of_deliveries() {
        let s = RetentionSettings::from_config(&MapConfig::from_pairs(&[])).unwrap();
        assert_eq!(s, RetentionSettings::default());
        assert_eq!(s.outbox, Duration::from_secs(7 * DAY));
        assert_eq!(s.idempotency, Duration::from_secs(24 * 3600));
        assert_eq!(s.batch, 5000);
    }

    #[test]
    fn zero_negative_and_non_numbers_are_refused_by_name() {
        for (name, value) in [
            (RETENTION_OUTBOX_DAYS, "0"),
            (RETENTION_INBOX_DAYS, "-3"),
            (RETENTION_BATCH, "lots"),
            (RETENTION_INTERVAL_SECONDS, "0"),
            (RETENTION_IDEMPOTENCY_HOURS, "1"),
        ] {
            let err = RetentionSettings::from_config(&MapConfig::from_pairs(&[(name, value)]))
                .unwrap_err();
            assert_eq!(err.name, name, "{err}");
            assert!(err.to_string().contains(value), "{err}");
        }
    }

    #[test]
    fn processed_records_kept_shorter_than_the_outbox_are_refused() {
        let err = RetentionSettings::from_config(&MapConfig::from_pairs(&[(
            RETENTION_OUTBOX_DAYS,
            "14",
        )]))
        .unwrap_err();
        assert_eq!(err.name, RETENTION_PROCESSED_DAYS);
        let ok = RetentionSettings::from_config(&MapConfig::from_pairs(&[
            (RETENTION_OUTBOX_DAYS, "14"),
            (RETENTION_PROCESSED_DAYS, "30"),
        ]))
        .unwrap();
        assert_eq!(ok.processed, Duration::from_secs(30 * DAY));
    }
}

//! The outbox relay: one tick heals whatever the fast path after commit missed.
//!
//! A tick (a) marks delivered the events every required consumer has
//! processed, then repeatedly (b) claims a batch of due events in one
//! statement, which (c) also dead-letters those that used up their attempts,
//! and (d) publishes the batch and marks it published, until nothing is due or
//! the time budget is spent. A tick claims only what was due when it started,
//! so it publishes each event at most once, however short the backoff. Per batch that is three statements whatever its
//! size, plus one `PUBLISH` per event.

use std::time::{Duration, Instant};

use spindle_domain::event::{REMINDERS_CHANNEL, TASK_EVENTS_CHANNEL};
use spindle_ports::{Config, Db, DbError, PublishError, Publisher};
use spindle_storage::outbox::{self, ClaimCursor, ClaimRequest, Claimed, OutboxMessage};

use crate::publish::micros;

/// The Spin variable that bounds deliveries before an event is dead-lettered.
pub const MAX_DELIVERY_ATTEMPTS: &str = "max_delivery_attempts";

/// How the relay retries.
#[derive(Debug, Clone, PartialEq)]
pub struct RelaySettings {
    /// Deliveries of an event before it is dead-lettered (variable `max_delivery_attempts`).
    pub max_attempts: u32,
    /// Events claimed per statement.
    pub batch_size: u32,
    /// Wait before the first redelivery; doubles with each attempt.
    pub base_delay: Duration,
    /// Longest wait between two deliveries.
    pub max_backoff: Duration,
    /// A tick stops claiming after this long, so it
    /// ends well before the next one starts.
    pub time_budget: Duration,
    /// For each channel, the consumers that must process an event before it
    /// counts as delivered. A channel not listed needs no acknowledgement.
    pub required_consumers: Vec<(String, Vec<String>)>,
}

impl Default for RelaySettings {
    fn default() -> Self {
        RelaySettings {
            max_attempts: 8,
            batch_size: 500,
            base_delay: crate::publish::DEFAULT_REDELIVERY_DELAY,
            max_backoff: Duration::from_secs(600),
            time_budget: Duration::from_secs(5),
            required_consumers: vec![
                (
                    TASK_EVENTS_CHANNEL.to_owned(),
                    vec![
                        crate::audit::CONSUMER.to_owned(),
                        crate::recurrence::CONSUMER.to_owned(),
                    ],
                ),
                (
                    REMINDERS_CHANNEL.to_owned(),
                    vec![crate::NOTIFIER_CONSUMER.to_owned()],
                ),
            ],
        }
    }
}

/// A configuration value that is not what the relay needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "variable {name} is {value:?}, but must be {expected}; fix it or unset it to use the default"
)]
pub struct SettingsError {
    pub name: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// The `max_delivery_attempts` variable, when set: how often the relay publishes
/// an event, and the notifier tries a delivery, before giving up on it.
pub fn max_delivery_attempts(
    config: &(impl Config + ?Sized),
) -> Result<Option<u32>, SettingsError> {
    let Some(value) = config.get(MAX_DELIVERY_ATTEMPTS) else {
        return Ok(None);
    };
    match value.trim().parse::<u32>() {
        Ok(n) if (1..=100).contains(&n) => Ok(Some(n)),
        _ => Err(SettingsError {
            name: MAX_DELIVERY_ATTEMPTS,
            value,
            expected: "a whole number from 1 to 100",
        }),
    }
}

impl RelaySettings {
    /// The defaults, with `max_attempts` from the `max_delivery_attempts`
    /// variable when it is set. The other knobs are tuned in code: they follow
    /// from the tick interval and the benchmark, not from a deployment.
    pub fn from_config(config: &(impl Config + ?Sized)) -> Result<Self, SettingsError> {
        let mut settings = RelaySettings::default();
        if let Some(n) = max_delivery_attempts(config)? {
            settings.max_attempts = n;
        }
        Ok(settings)
    }

    /// These settings, with `consumers` required on `channel` (replacing any
    /// earlier requirement for it).
    pub fn requiring(mut self, channel: &str, consumers: &[&str]) -> Self {
        self.required_consumers.retain(|(c, _)| c != channel);
        self.required_consumers.push((
            channel.to_owned(),
            consumers.iter().map(|c| (*c).to_owned()).collect(),
        ));
        self
    }
}

/// What one tick did.
#[derive(Debug, Default)]
pub struct TickReport {
    /// Events newly marked delivered (all required consumers processed them).
    pub delivered: u64,
    /// Events claimed for publishing.
    pub claimed: usize,
    /// Events published.
    pub published: usize,
    /// Events moved to the dead letters.
    pub dead_lettered: usize,
    /// Dead letters whose announcement on the `.dlq` channel failed (they are
    /// recorded all the same).
    pub dlq_announcements_failed: usize,
    /// Claimed events given back unpublished because the bus refused.
    pub released: usize,
    /// Claim statements run.
    pub batches: usize,
    /// The tick stopped because its time budget was spent, with events maybe still due.
    pub budget_spent: bool,
    /// The bus refused a publish; the tick stopped there and the rest waits.
    pub publish_error: Option<PublishError>,
    pub elapsed: Duration,
    /// Where the time went, for metrics and tuning.
    pub timings: TickTimings,
}

/// Time spent in each step of a tick.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickTimings {
    /// Marking acknowledged events delivered.
    pub acknowledging: Duration,
    /// The claim statements (including dead-lettering).
    pub claiming: Duration,
    /// `PUBLISH` calls, dead-letter announcements included.
    pub publishing: Duration,
    /// Marking published (and releasing after a refusal).
    pub marking: Duration,
}

/// The relay could not use the outbox.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("the relay could not read or update the outbox: {source}; events stay due and the next tick retries them (report so far: {report:?})")]
    Database {
        source: DbError,
        report: Box<TickReport>,
    },
}

/// Announced on `<channel>.dlq` when an event is dead-lettered.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeadLetterNotice {
    pub dead_letter_id: i64,
    pub seq: i64,
    pub channel: String,
    pub attempts: i64,
    pub reason: String,
    /// The envelope as it was published.
    pub event: serde_json::Value,
}

/// Runs one relay tick; see the module documentation.
pub fn tick(
    db: &impl Db,
    publisher: &impl Publisher,
    settings: &RelaySettings,
) -> Result<TickReport, RelayError> {
    let started = Instant::now();
    let mut report = TickReport::default();
    let result = run_tick(db, publisher, settings, started, &mut report);
    report.elapsed = started.elapsed();
    match result {
        Ok(()) => Ok(report),
        Err(source) => Err(RelayError::Database {
            source,
            report: Box::new(report),
        }),
    }
}

fn run_tick(
    db: &impl Db,
    publisher: &impl Publisher,
    settings: &RelaySettings,
    started: Instant,
    report: &mut TickReport,
) -> Result<(), DbError> {
    let step = Instant::now();
    let tick_started_at = outbox::database_now_micros(db)?;
    report.delivered = outbox::mark_acknowledged(db, &settings.required_consumers)?;
    report.timings.acknowledging = step.elapsed();
    let mut request = ClaimRequest {
        limit: settings.batch_size.max(1),
        max_attempts: settings.max_attempts,
        base_delay_micros: micros(settings.base_delay),
        max_backoff_micros: micros(settings.max_backoff),
        required_consumers: &settings.required_consumers,
        due_at_micros: tick_started_at,
        after: ClaimCursor::default(),
    };
    loop {
        if started.elapsed() >= settings.time_budget {
            report.budget_spent = true;
            return Ok(());
        }
        let step = Instant::now();
        let batch = outbox::claim_due(db, &request)?;
        report.timings.claiming += step.elapsed();
        report.batches += 1;
        // A short batch does not mean nothing is left: a concurrent relay may
        // hold the rest. Only an empty claim ends the tick.
        if batch.is_empty() {
            return Ok(());
        }
        report.claimed += batch.len();
        request.after = batch
            .iter()
            .map(Claimed::cursor)
            .max()
            .unwrap_or(request.after);
        let mut published = Vec::with_capacity(batch.len());
        let mut published_for = Vec::with_capacity(batch.len());
        let mut unsent = Vec::new();
        let step = Instant::now();
        for claimed in batch {
            match claimed {
                Claimed::Publish { message, .. } => {
                    if report.publish_error.is_some() {
                        unsent.push(message.seq);
                        continue;
                    }
                    match publisher.publish(&message.channel, &message.payload) {
                        Ok(()) => {
                            published.push(message.seq);
                            published_for.push(message.user_id);
                        }
                        Err(err) => {
                            unsent.push(message.seq);
                            report.publish_error = Some(err);
                        }
                    }
                }
                Claimed::DeadLettered {
                    message,
                    dead_letter_id,
                    attempts,
                    reason,
                    ..
                } => {
                    report.dead_lettered += 1;
                    if report.publish_error.is_some()
                        || announce(publisher, &message, dead_letter_id, attempts, reason).is_err()
                    {
                        report.dlq_announcements_failed += 1;
                    }
                }
            }
        }
        crate::changes::signal_users(publisher, published_for.iter().map(String::as_str));
        report.timings.publishing += step.elapsed();
        report.published += published.len();
        let step = Instant::now();
        outbox::mark_published(db, &published)?;
        if report.publish_error.is_some() {
            report.released += outbox::release(db, &unsent, micros(settings.base_delay))? as usize;
        }
        report.timings.marking += step.elapsed();
        if report.publish_error.is_some() {
            return Ok(());
        }
    }
}

fn announce(
    publisher: &impl Publisher,
    message: &OutboxMessage,
    dead_letter_id: i64,
    attempts: i64,
    reason: String,
) -> Result<(), PublishError> {
    let notice = DeadLetterNotice {
        dead_letter_id,
        seq: message.seq,
        channel: message.channel.clone(),
        attempts,
        reason,
        event: serde_json::from_slice(&message.payload).unwrap_or(serde_json::Value::Null),
    };
    let channel = crate::dlq_channel(&message.channel);
    let payload = serde_json::to_vec(&notice).map_err(|e| PublishError {
        channel: channel.clone(),
        reason: e.to_string(),
    })?;
    publisher.publish(&channel, &payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    use spindle_ports::MapConfig;

    #[test]
    fn without_variables_the_relay_tries_eight_times_and_waits_for_audit_recurrence_and_notifier() {
        let settings = RelaySettings::from_config(&MapConfig::from_pairs(&[])).unwrap();
        assert_eq!(settings.max_attempts, 8);
        assert_eq!(
            settings.required_consumers,
            vec![
                (
                    "task-events".to_owned(),
                    vec!["audit".to_owned(), "recurrence".to_owned()]
                ),
                ("reminders".to_owned(), vec!["notifier".to_owned()]),
            ]
        );
    }

    #[test]
    fn max_delivery_attempts_is_read_from_its_variable() {
        let settings =
            RelaySettings::from_config(&MapConfig::from_pairs(&[("max_delivery_attempts", " 3 ")]))
                .unwrap();
        assert_eq!(settings.max_attempts, 3);
    }

    #[test]
    fn a_max_delivery_attempts_that_is_not_a_small_positive_number_is_refused_with_its_name() {
        for bad in ["0", "-1", "many", "1000"] {
            let err = RelaySettings::from_config(&MapConfig::from_pairs(&[(
                "max_delivery_attempts",
                bad,
            )]))
            .unwrap_err();
            assert!(err.to_string().contains("max_delivery_attempts"), "{err}");
        }
    }

    #[test]
    fn requiring_consumers_on_a_channel_replaces_its_earlier_requirement() {
        let settings = RelaySettings::default()
            .requiring("task-events", &["audit", "recurrence"])
            .requiring("other", &[]);
        assert_eq!(
            settings.required_consumers,
            vec![
                ("reminders".to_owned(), vec!["notifier".to_owned()]),
                (
                    "task-events".to_owned(),
                    vec!["audit".to_owned(), "recurrence".to_owned()]
                ),
                ("other".to_owned(), vec![]),
            ]
        );
    }
}

//! The tick: fire due reminders, announce due webhook retries, relay the outbox,
//! record the heartbeat, and now and then run retention.
//!
//! One function behind every entry point: the `reminder-cron` component (cron
//! trigger, every second locally), `POST /internal/tick`, and the command-triggered
//! `tick` component on a cluster ([`crate::runner`]).

use std::time::{Duration, Instant as WallClock};

use serde_json::json;
use spindle_domain::event::{Envelope, EventType, REMINDER_EVENT_SOURCE};
use spindle_domain::{format_instant, Instant, TimeZone};
use spindle_events::publish::{self, PublishProblem};
use spindle_events::relay::{self, RelayError, RelaySettings};
use spindle_ports::{Clock, Config, Db, DbError, PublishError, Publisher};
use spindle_storage::tasks::{self, FiredReminder};
use spindle_storage::{deliveries, outbox, tick_heartbeat};

use crate::retention::{self, RetentionReport, RetentionSettings};
use crate::settings::{micros, Settings, SettingsError};

/// Everything a tick is told through Spin variables.
#[derive(Debug, Clone, Default)]
pub struct TickSettings {
    pub reminders: Settings,
    pub relay: RelaySettings,
    pub retention: RetentionSettings,
}

impl TickSettings {
    /// The tick's settings; a variable set to something unusable stops the tick
    /// (nothing is fired, relayed or deleted) until it is fixed.
    pub fn from_config(config: &(impl Config + ?Sized)) -> Result<Self, SettingsError> {
        Ok(TickSettings {
            reminders: Settings::from_config(config)?,
            relay: RelaySettings::from_config(config)?,
            retention: RetentionSettings::from_config(config)?,
        })
    }
}

/// What one tick did.
#[derive(Debug, Default)]
pub struct TickReport {
    /// Reminders claimed on time (`reminder.due` to the inbox and the channels).
    pub fired: usize,
    /// Reminders claimed too late (`reminder.due` flagged missed: inbox only).
    pub missed: usize,
    /// Their events published now (the rest are left to the relay).
    pub published: usize,
    /// Why some were left to the relay.
    pub publish_problem: Option<PublishProblem>,
    /// Webhook deliveries announced to the notifier for another attempt.
    pub announced: usize,
    /// Why an announcement failed (they are announced again after the lease).
    pub announce_error: Option<PublishError>,
    /// The reminder claims stopped at the time budget, with reminders maybe still due.
    pub budget_spent: bool,
    pub relay: relay::TickReport,
    /// What retention deleted, when this tick ran it (at most one tick per
    /// `retention_interval_seconds` does).
    pub retention: Option<RetentionReport>,
    pub elapsed: Duration,
}

impl TickReport {
    /// Whether the tick moved anything: worth a log line.
    pub fn did_work(&self) -> bool {
        let deleted = self.retention.map_or(0, |r| r.total());
        self.fired + self.missed + self.announced + self.relay.published > 0 || deleted > 0
    }
}

impl std::fmt::Display for TickReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fired {} missed {} announced {} relayed {} deleted {} in {:?}",
            self.fired,
            self.missed,
            self.announced,
            self.relay.published,
            self.retention.map_or(0, |r| r.total()),
            self.elapsed
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TickError {
    #[error("the tick could not claim reminders or deliveries: {0}; they stay due and the next tick takes them")]
    Database(#[from] DbError),
    #[error(transparent)]
    Relay(#[from] RelayError),
    #[error("the tick did its work but could not record its heartbeat: {0}; /metrics shows the tick as late until a tick records it")]
    Heartbeat(DbError),
    #[error("retention could not delete old rows: {0}; they stay, and a run after retention_interval_seconds tries again")]
    Retention(DbError),
}

/// Runs one tick at `clock`'s now. The heartbeat is recorded once the work
/// is done, in the statement that also claims the retention run when it is due.
pub fn tick(
    db: &impl Db,
    publisher: &impl Publisher,
    clock: &(impl Clock + ?Sized),
    settings: &TickSettings,
) -> Result<TickReport, TickError> {
    let started = WallClock::now();
    let now = Instant::from_micros(clock.now_micros());
    let reminders = &settings.reminders;
    let mut report = TickReport::default();
    fire_due(db, publisher, now, reminders, started, &mut report)?;
    announce_due(db, publisher, now, reminders, &mut report)?;
    // The notifier must process what goes out on the reminders channel, whatever
    // that channel is called here.
    let relay_settings = settings
        .relay
        .clone()
        .requiring(&reminders.channel, &[crate::notifier::CONSUMER]);
    report.relay = relay::tick(db, publisher, &relay_settings)?;
    let every = i64::try_from(settings.retention.every.as_secs()).unwrap_or(i64::MAX);
    if tick_heartbeat::beat(db, every).map_err(TickError::Heartbeat)? {
        report.retention =
            Some(retention::run(db, &settings.retention).map_err(TickError::Retention)?);
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Claims due reminders batch by batch; each batch is one transaction that
/// marks them and writes their events, published after the commit.
fn fire_due(
    db: &impl Db,
    publisher: &impl Publisher,
    now: Instant,
    settings: &Settings,
    started: WallClock,
    report: &mut TickReport,
) -> Result<(), DbError> {
    loop {
        if started.elapsed() >= settings.time_budget {
            report.budget_spent = true;
            return Ok(());
        }
        let (messages, fired, missed) = db.transaction(|tx| {
            let batch = tasks::claim_due_reminders(
                tx,
                now,
                micros(settings.max_late),
                settings.batch_size.max(1),
            )?;
            let missed = batch.iter().filter(|r| r.missed).count();
            let events: Vec<_> = batch
                .iter()
                .map(|r| (reminder_due(r, now), Some(r.task_id)))
                .collect();
            let messages = outbox::append_batch(tx, &settings.channel, &events)?;
            let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
            publish::mark_for_publish(tx, &seqs)?;
            Ok::<_, DbError>((messages, batch.len() - missed, missed))
        })?;
        if messages.is_empty() {
            return Ok(());
        }
        report.fired += fired;
        report.missed += missed;
        let sent = publish::send_marked(db, publisher, &messages);
        report.published += sent.published.len();
        if let Some(problem) = sent.problem {
            // The bus is down: the relay publishes the rest; keep claiming, the
            // claims are durable.
            report.publish_problem.get_or_insert(problem);
        }
    }
}

/// The `reminder.due` event of a claimed reminder: the reminder, and its task as
/// it was when claimed.
fn reminder_due(r: &FiredReminder, now: Instant) -> Envelope {
    let zone = TimeZone::parse(&r.timezone).ok();
    let schedule = match r.minutes_before {
        Some(minutes) => json!({ "kind": "minutes_before", "minutes_before": minutes }),
        None => json!({ "kind": "at" }),
    };
    let mut reminder = json!({
        "id": r.id,
        "fire_at": format_instant(r.fire_at, zone.as_ref()),
        "missed": r.missed,
    });
    if let (Some(target), Some(extra)) = (reminder.as_object_mut(), schedule.as_object()) {
        target.extend(extra.clone());
    }
    Envelope::new(
        EventType::ReminderDue,
        REMINDER_EVENT_SOURCE,
        format!("tasks/{}/reminders/{}", r.task_id, r.id),
        &r.user_id,
        format_instant(now, None),
        json!({
            "reminder": reminder,
            "task": {
                "id": r.task_id,
                "title": r.title,
                "priority": r.priority,
                "due_at": r.due_at.map(|d| format_instant(d, zone.as_ref())),
                "timezone": r.timezone,
                "tags": r.tags,
            },
        }),
    )
}

/// Announces deliveries due for another attempt on `reminders` (not through the
/// outbox: the deliveries table is what is durable; an announcement nobody hears
/// is made again once its lease lapses).
fn announce_due(
    db: &impl Db,
    publisher: &impl Publisher,
    now: Instant,
    settings: &Settings,
    report: &mut TickReport,
) -> Result<(), DbError> {
    let until = Instant::from_micros(now.micros().saturating_add(micros(settings.announce_lease)));
    loop {
        let due = deliveries::take_due(db, now, until, settings.batch_size.max(1))?;
        if due.is_empty() {
            return Ok(());
        }
        for delivery in &due {
            let payload = crate::channels::announcement(delivery.id, &delivery.user_id, now);
            if let Err(err) = publisher.publish(&settings.channel, &payload) {
                report.announce_error = Some(err);
                return Ok(());
            }
            report.announced += 1;
        }
    }
}

//! Recurrence benchmarks against the local Postgres and Redis, each printed
//! next to a baseline measured in the same run.
//!
//! - `latency`: N recurring tasks are completed one at a time (the task
//!   API's transaction: lock, complete, append `task.completed`, commit), the
//!   event is published on Redis, and a real subscription thread feeds the
//!   recurrence handler, which creates the next task. Measures completion
//!   commit → the handler has committed the next task (and published its
//!   `task.created`). Baseline: a bare `PUBLISH` → subscriber round trip.
//! - `dates`: the next due date of N random rules in random zones, as the
//!   handler computes it (local wall-clock expansion). Baseline: the `rrule`
//!   crate's own zoned expansion of the same rules, first instance after the
//!   same instant.
//!
//! Usage: `cargo run --release -p spindle-bench --bin bench-recurrence --
//! [latency|dates|all] [--completions N] [--rules N]`

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant as Clock};

use anyhow::{bail, Context};
use chrono::TimeZone as _;
use spindle_domain::event::{Envelope, EventType};
use spindle_domain::{
    format_instant, DraftFields, FieldErrors, Instant, Recurrence, RecurrenceMode, Series, Status,
    TaskDraft, TimeZone, Title,
};
use spindle_events::publish;
use spindle_events::recurrence::Recurrences;
use spindle_native::testing::{Subscription, TestDb, TestRedis};
use spindle_native::{FixedClock, PgDb, RedisPublisher};
use spindle_ports::{Db, Publisher};
use spindle_storage::{outbox, tasks};

const USER: &str = "bench";
/// 2026-03-01T12:00:00Z.
const NOW_MICROS: i64 = 1_772_366_400_000_000;
const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Santiago",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Auckland",
];

struct Options {
    latency: bool,
    dates: bool,
    completions: usize,
    rules: usize,
}

fn options() -> anyhow::Result<Options> {
    let mut opts = Options {
        latency: true,
        dates: true,
        completions: 1_000,
        rules: 10_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> anyhow::Result<usize> {
            args.next()
                .with_context(|| format!("{name} needs a number"))?
                .parse()
                .with_context(|| format!("{name} needs a whole number"))
        };
        match arg.as_str() {
            "latency" => (opts.latency, opts.dates) = (true, false),
            "dates" => (opts.latency, opts.dates) = (false, true),
            "all" => (opts.latency, opts.dates) = (true, true),
            "--completions" => opts.completions = number("--completions")?,
            "--rules" => opts.rules = number("--rules")?,
            other => bail!("unknown argument {other:?}; expected latency, dates, all, --completions N, --rules N"),
        }
    }
    Ok(opts)
}

fn main() -> anyhow::Result<()> {
    let opts = options()?;
    if opts.latency {
        latency(&TestRedis::new(), opts.completions)?;
    }
    if opts.dates {
        dates(opts.rules)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// (a) completion → next task
// ---------------------------------------------------------------------------

fn latency(redis: &TestRedis, completions: usize) -> anyhow::Result<()> {
    println!(
        "== completion commit → next task committed: {completions} completions, one at a time"
    );
    let test_db = TestDb::new();
    let db = test_db.connect();
    let publisher = RedisPublisher::new(redis.url());

    let channel = redis.unique_channel("bench-baseline");
    let subscription = redis.subscribe(&channel);
    let mut round_trips = Vec::with_capacity(completions);
    for _ in 0..completions {
        let started = Clock::now();
        publisher.publish(&channel, b"{\"specversion\":\"1.0\"}")?;
        subscription
            .recv_timeout(Duration::from_secs(5))
            .context("the baseline message never arrived")?;
        round_trips.push(started.elapsed());
    }
    drop(subscription);
    report("baseline: PUBLISH → subscriber receives", &mut round_trips);

    let now = Instant::from_micros(NOW_MICROS);
    let mut ids = Vec::with_capacity(completions);
    for i in 0..completions {
        let zone = TimeZone::parse(ZONES[i % ZONES.len()]).map_err(anyhow::Error::msg)?;
        let due = Instant::from_micros(NOW_MICROS - 3_600_000_000);
        let fields = DraftFields {
            title: Some(Title::parse("Water the plants").map_err(anyhow::Error::msg)?),
            due_at: Some(Some(due)),
            timezone: Some(zone),
            recurrence: Some(Some(
                ["daily", "weekly", "FREQ=MONTHLY;BYMONTHDAY=-1"][i % 3].to_owned(),
            )),
            reminders: Some(vec![spindle_domain::ReminderSpec::Before { minutes: 30 }]),
            ..DraftFields::default()
        };
        let draft = TaskDraft::create(fields, FieldErrors::new())?;
        ids.push(tasks::insert(&db, USER, uuid::Uuid::new_v4(), &draft, now)?.id);
    }

    let channel = redis.unique_channel("task-events");
    let subscription = redis.subscribe(&channel);
    let (done_tx, done_rx) = mpsc::channel::<(String, Clock)>();
    let stop = Arc::new(AtomicBool::new(false));
    let consumer = {
        let (stop, handler_db) = (stop.clone(), test_db.connect());
        let handler_publisher = RedisPublisher::new(redis.url());
        std::thread::spawn(move || {
            consume(
                &handler_db,
                &handler_publisher,
                &subscription,
                &done_tx,
                &stop,
            )
        })
    };

    let mut end_to_end = Vec::with_capacity(completions);
    for id in ids {
        let (seq, event_id) = db.transaction(|tx| complete(tx, &channel, id, now))?;
        let committed = Clock::now();
        let report =
            publish::publish_now(&db, &publisher, &[seq], publish::DEFAULT_REDELIVERY_DELAY);
        if !report.all_published() {
            bail!("publishing the completion failed: {:?}", report.problem);
        }
        let (handled, at) = done_rx
            .recv_timeout(Duration::from_secs(10))
            .context("the recurrence handler did not finish in time")?;
        if handled != event_id {
            bail!("the handler finished {handled}, expected {event_id}");
        }
        end_to_end.push(at - committed);
    }
    stop.store(true, Ordering::SeqCst);
    consumer
        .join()
        .map_err(|_| anyhow::anyhow!("the handler thread panicked"))??;
    let created: i64 = db
        .query(
            "SELECT count(*)::int8 AS n FROM tasks WHERE occurrence = 1",
            &[],
        )?
        .first()
        .context("count")?
        .i64("n")?;
    report("completion commit → next task committed", &mut end_to_end);
    println!("   next tasks: {created} for {completions} completions");
    Ok(())
}

/// The task API's completion, with its event on the bench's own channel.
fn complete(
    db: &PgDb,
    channel: &str,
    id: uuid::Uuid,
    now: Instant,
) -> anyhow::Result<(i64, String)> {
    let task = tasks::get_for_update(db, USER, id)?.context("the task exists")?;
    let done = tasks::set_status(db, &task, Status::Completed(now), now)?;
    let event = Envelope::task(
        uuid::Uuid::new_v4(),
        EventType::TaskCompleted,
        USER,
        id,
        format_instant(now, None),
        serde_json::json!({ "task": spindle_api::task_view(&done) }),
    );
    let seq = outbox::append(db, channel, &event, Some(id))?;
    Ok((seq, event.id))
}

/// The recurrence-handler component's loop.
fn consume(
    db: &PgDb,
    publisher: &RedisPublisher,
    subscription: &Subscription,
    done: &mpsc::Sender<(String, Clock)>,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let clock = FixedClock::new(NOW_MICROS);
    let recurrences = Recurrences {
        db,
        publisher,
        clock: &clock,
        view: spindle_api::task_view,
    };
    while !stop.load(Ordering::SeqCst) {
        let Some(message) = subscription.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        recurrences
            .handle(&message)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let id = serde_json::from_slice::<Envelope>(&message)?.id;
        let _ = done.send((id, Clock::now()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// (b) next date of random rules
// ---------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn random_rule(rng: &mut Rng) -> String {
    let interval = 1 + rng.below(3);
    match rng.below(6) {
        0 => format!("FREQ=DAILY;INTERVAL={interval}"),
        1 => format!(
            "FREQ=WEEKLY;INTERVAL={interval};BYDAY={}",
            rng.pick(&["MO", "MO,WE,FR", "TU,TH", "SA,SU", "MO,TU,WE,TH,FR"])
        ),
        2 => format!(
            "FREQ=MONTHLY;BYMONTHDAY={}",
            rng.pick(&["1", "15", "31", "-1"])
        ),
        3 => "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR".to_owned(),
        4 => format!("FREQ=YEARLY;INTERVAL={interval}"),
        _ => format!("FREQ=DAILY;BYHOUR=9,17;COUNT={}", 5 + rng.below(50)),
    }
}

fn dates(rules: usize) -> anyhow::Result<()> {
    println!("== next due date of {rules} random rules in random zones");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut cases = Vec::with_capacity(rules);
    for _ in 0..rules {
        let zone = TimeZone::parse(rng.pick(ZONES)).map_err(anyhow::Error::msg)?;
        // A first due date in 2026, at a whole quarter hour, in the small hours
        // a quarter of the time (where DST changes happen).
        let hour = if rng.below(4) == 0 {
            rng.below(4)
        } else {
            rng.below(24)
        } as i64;
        let start = Instant::from_micros(
            1_767_225_600_000_000
                + rng.below(365) as i64 * 86_400_000_000
                + hour * 3_600_000_000
                + rng.below(4) as i64 * 900_000_000,
        );
        let rule =
            Recurrence::parse(&random_rule(&mut rng), start, zone).map_err(anyhow::Error::msg)?;
        // Completed within three weeks of the first due date.
        let completed =
            Instant::from_micros(start.micros() + rng.below(21 * 24) as i64 * 3_600_000_000);
        cases.push((rule, zone, start, completed));
    }

    let started = Clock::now();
    let mut found = 0;
    for (rule, zone, start, completed) in &cases {
        let series = Series {
            rule,
            mode: RecurrenceMode::Schedule,
            start: *start,
            zone: *zone,
        };
        found += usize::from(series.next_due(*start, *completed, 0).is_some());
    }
    let ours = started.elapsed();

    let started = Clock::now();
    let mut baseline_found = 0;
    for (rule, zone, start, completed) in &cases {
        let tz = rrule::Tz::Tz(zone.tz());
        let at = |i: Instant| {
            chrono::Utc
                .timestamp_micros(i.micros())
                .single()
                .map(|t| t.with_timezone(&tz))
        };
        let (Some(dt_start), Some(after)) = (at(*start), at((*start).max(*completed))) else {
            continue;
        };
        let parsed: rrule::RRule<rrule::Unvalidated> = rule.as_str().parse()?;
        let set = parsed.build(dt_start)?.after(after).limit();
        baseline_found += usize::from(!set.all(1).dates.is_empty());
    }
    let baseline = started.elapsed();

    let per = |d: Duration| d.as_secs_f64() * 1e6 / rules as f64;
    println!(
        "   baseline: rrule crate, zoned expansion (first instance after)   {:>8.2} µs/rule  ({baseline_found} found)",
        per(baseline)
    );
    println!(
        "   Spindle: next due date (local wall-clock expansion, zone placed) {:>8.2} µs/rule  ({found} found)",
        per(ours)
    );
    Ok(())
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "   {what:<50} p50 {:>9.3?}  p99 {:>9.3?}  max {:>9.3?}",
        pick(0.50),
        pick(0.99),
        samples[samples.len() - 1]
    );
}

//! Event-flow benchmarks against the local Postgres and Redis, on a fresh
//! database (`TestDb`), each printed next to a baseline measured in the same run.
//!
//! - `latency`: N changes, each a transaction appending an event followed by
//!   `publish::after_commit` through Redis, while a real subscription thread
//!   feeds `audit::handle`. Measures writer commit → audit row committed.
//!   Baselines: a bare `PUBLISH` → subscriber round trip, a bare `INSERT`.
//! - `throughput`: a backlog of unpublished events inserted in one statement,
//!   drained by `relay::tick` through Redis. Baseline: a bare `PUBLISH` loop.
//!
//! Usage: `cargo run --release -p spindle-bench --bin events -- [latency|throughput|all]
//! [--changes N] [--backlog N] [--batch N]`

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use spindle_bench::backlog::{count_messages, drain_backlog};
use spindle_domain::event::{Envelope, EventType};
use spindle_events::relay::RelaySettings;
use spindle_events::{audit, publish};
use spindle_native::testing::{Subscription, TestDb, TestRedis};
use spindle_native::{PgDb, RedisPublisher};
use spindle_ports::{Db, Param, Publisher};
use spindle_storage::outbox;

struct Options {
    latency: bool,
    throughput: bool,
    changes: usize,
    backlog: usize,
    batch: u32,
}

fn options() -> anyhow::Result<Options> {
    let mut opts = Options {
        latency: true,
        throughput: true,
        changes: 1_000,
        backlog: 100_000,
        batch: RelaySettings::default().batch_size,
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
            "latency" => (opts.latency, opts.throughput) = (true, false),
            "throughput" => (opts.latency, opts.throughput) = (false, true),
            "all" => (opts.latency, opts.throughput) = (true, true),
            "--changes" => opts.changes = number("--changes")?,
            "--backlog" => opts.backlog = number("--backlog")?,
            "--batch" => opts.batch = u32::try_from(number("--batch")?)?,
            other => bail!("unknown argument {other:?}; expected latency, throughput, all, --changes N, --backlog N, --batch N"),
        }
    }
    Ok(opts)
}

fn main() -> anyhow::Result<()> {
    let opts = options()?;
    let redis = TestRedis::new();
    if opts.latency {
        latency(&redis, opts.changes)?;
    }
    if opts.throughput {
        throughput(&redis, opts.backlog, opts.batch)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// (a) latency
// ---------------------------------------------------------------------------

fn latency(redis: &TestRedis, changes: usize) -> anyhow::Result<()> {
    println!("== end-to-end event latency: {changes} changes, one at a time");
    let test_db = TestDb::new();
    let db = test_db.connect();
    let publisher = RedisPublisher::new(redis.url());

    // Baseline 1: PUBLISH → a subscriber's receipt, on the same Redis.
    let channel = redis.unique_channel("bench-baseline");
    let subscription = redis.subscribe(&channel);
    let payload = serde_json::to_vec(&sample_event("alice", uuid::Uuid::new_v4()))?;
    let mut round_trips = Vec::with_capacity(changes);
    for _ in 0..changes {
        let started = Instant::now();
        publisher.publish(&channel, &payload)?;
        subscription
            .recv_timeout(Duration::from_secs(5))
            .context("the baseline message never arrived")?;
        round_trips.push(started.elapsed());
    }
    drop(subscription);
    report("baseline: PUBLISH → subscriber receives", &mut round_trips);

    // Baseline 2: a bare single-row INSERT (autocommit) of the same event.
    let mut inserts = Vec::with_capacity(changes);
    for _ in 0..changes {
        let event = sample_event("alice", uuid::Uuid::new_v4());
        let body = serde_json::to_vec(&event)?;
        let started = Instant::now();
        db.execute(
            "INSERT INTO outbox (event_id, type, channel, user_id, envelope, delivered_at)
             VALUES ($1, 'task.created', 'baseline', 'baseline', $2, now())",
            &[Param::Uuid(event.id.clone()), Param::Jsonb(body)],
        )?;
        inserts.push(started.elapsed());
    }
    report("baseline: bare INSERT of the event row", &mut inserts);

    // The real path: the subscriber thread plays the audit-handler component.
    let channel = redis.unique_channel("task-events");
    let subscription = redis.subscribe(&channel);
    let (done_tx, done_rx) = mpsc::channel::<(String, Instant)>();
    let consumer_db = test_db.connect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let consumer = {
        let stop = stop.clone();
        std::thread::spawn(move || consume(&consumer_db, &subscription, &done_tx, &stop))
    };

    let mut writes = Vec::with_capacity(changes);
    let mut publishes = Vec::with_capacity(changes);
    let mut end_to_end = Vec::with_capacity(changes);
    let task_id = uuid::Uuid::new_v4();
    for _ in 0..changes {
        let event = sample_event("alice", task_id);
        let started = Instant::now();
        let seq = db.transaction(|tx| outbox::append(tx, &channel, &event, Some(task_id)))?;
        let committed = Instant::now();
        let published = publish::after_commit(&db, &publisher, &[seq]);
        if !published.all_published() {
            bail!("publishing after commit failed: {:?}", published.problem);
        }
        publishes.push(committed.elapsed());
        writes.push(committed - started);
        let (id, audited) = done_rx
            .recv_timeout(Duration::from_secs(10))
            .context("the audit consumer did not record the event in time")?;
        if id != event.id {
            bail!("the audit consumer recorded {id}, expected {}", event.id);
        }
        end_to_end.push(audited - committed);
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    consumer
        .join()
        .map_err(|_| anyhow::anyhow!("the consumer thread panicked"))??;

    let recorded: i64 = db
        .query("SELECT count(*)::int8 AS n FROM audit_log", &[])?
        .first()
        .context("count")?
        .i64("n")?;
    report("write transaction (append + COMMIT)", &mut writes);
    report(
        "after_commit (read row, PUBLISH, mark published)",
        &mut publishes,
    );
    report("commit → audit row committed", &mut end_to_end);
    println!("   audit rows: {recorded} for {changes} changes");
    Ok(())
}

/// The audit-handler component's loop: every message into `audit::handle`,
/// reporting when each event's audit row is committed.
fn consume(
    db: &PgDb,
    subscription: &Subscription,
    done: &mpsc::Sender<(String, Instant)>,
    stop: &std::sync::atomic::AtomicBool,
) -> anyhow::Result<()> {
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let Some(message) = subscription.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        audit::handle(db, &message).map_err(|e| anyhow::anyhow!("{e}"))?;
        let id = serde_json::from_slice::<Envelope>(&message)?.id;
        let _ = done.send((id, Instant::now()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// (b) relay throughput
// ---------------------------------------------------------------------------

fn throughput(redis: &TestRedis, backlog: usize, batch: u32) -> anyhow::Result<()> {
    println!("== relay throughput: backlog of {backlog} unpublished events, batch {batch}");
    let test_db = TestDb::new();
    let db = test_db.connect();
    let publisher = RedisPublisher::new(redis.url());
    let sample = serde_json::to_vec(&sample_event("alice", uuid::Uuid::new_v4()))?;

    // Baseline: a bare PUBLISH loop of the same number of messages of the same size.
    let channel = redis.unique_channel("bench-baseline");
    let counter = count_messages(redis, &channel);
    let started = Instant::now();
    for _ in 0..backlog {
        publisher.publish(&channel, &sample)?;
    }
    let bare = started.elapsed();
    let heard = counter.finish(backlog)?;
    println!(
        "   baseline: bare PUBLISH loop      {:>9.0} msg/s   ({backlog} in {:.2?}, subscriber heard {heard})",
        backlog as f64 / bare.as_secs_f64(),
        bare
    );

    let drained = drain_backlog(&db, redis, backlog, batch)?;
    println!(
        "   relay::tick                      {:>9.0} events/s ({} published in {:.2?}, {} batches)",
        drained.events_per_second(),
        drained.published,
        drained.elapsed,
        drained.batches,
    );
    println!("   time in steps: {:?}", drained.timings);
    println!(
        "   idle tick over {backlog} pending rows: {:.2?} {:?}",
        drained.idle, drained.idle_timings
    );
    Ok(())
}

// ---------------------------------------------------------------------------

fn sample_event(user: &str, task_id: uuid::Uuid) -> Envelope {
    Envelope::task(
        uuid::Uuid::new_v4(),
        EventType::TaskUpdated,
        user,
        task_id,
        "2026-03-01T09:05:00Z".to_owned(),
        serde_json::json!({
            "task": {
                "id": task_id.to_string(), "title": "Task number 1", "description": "Something to do",
                "priority": "P2", "tags": ["home", "errands"], "status": "open", "completed_at": null,
                "due_at": null, "timezone": "Europe/Paris", "recurrence": null, "reminders": [],
                "version": 2, "created_at": "2026-03-01T09:00:00Z", "updated_at": "2026-03-01T09:05:00Z"
            },
            "changes": { "title": { "from": "Old", "to": "Task number 1" } }
        }),
    )
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

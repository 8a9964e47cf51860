//! Reminder delivery benchmarks against the local Postgres and Redis, a fresh
//! database and a webhook receiver on loopback, with the real clock:
//!
//! - `lateness`: N reminders due over a minute, the tick every second, the native
//!   notifier on a real Redis subscription; lateness = receiver arrival − `fire_at`.
//! - `burst`: M reminders due at once; time from the first tick until the
//!   receiver has the last one.
//!
//! Baseline in the same run: a bare HTTP POST to the same receiver (send → arrival).
//!
//! Usage: `cargo run --release -p spindle-bench --bin bench-reminders --
//! [--reminders N] [--spread-secs S] [--burst M] [--workers W]`

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant as WallClock};

use anyhow::{bail, Context};
use spindle_domain::{parse_instant, ChannelName, NetworkPolicy, WebhookUrl};
use spindle_events::relay::RelaySettings;
use spindle_native::testing::{Receiver, TestDb, TestRedis};
use spindle_native::{PgDb, RedisPublisher, UreqHttp};
use spindle_ports::{Clock, Db, HttpClient, HttpRequest, Method, Param, SystemClock};
use spindle_reminders::{channels, notifier, tick, Settings};

const USER: &str = "bench";

struct Options {
    reminders: i64,
    spread_secs: i64,
    burst: i64,
    workers: usize,
}

fn options() -> anyhow::Result<Options> {
    let mut opts = Options {
        reminders: 1_000,
        spread_secs: 60,
        burst: 10_000,
        workers: 4,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value: i64 = args
            .next()
            .with_context(|| format!("{arg} needs a number"))?
            .parse()
            .with_context(|| format!("{arg} needs a whole number"))?;
        match arg.as_str() {
            "--reminders" => opts.reminders = value,
            "--spread-secs" => opts.spread_secs = value,
            "--burst" => opts.burst = value,
            "--workers" => opts.workers = usize::try_from(value)?.max(1),
            other => bail!("unknown argument {other:?}; expected --reminders, --spread-secs, --burst, --workers"),
        }
    }
    Ok(opts)
}

fn main() -> anyhow::Result<()> {
    let opts = options()?;
    let redis = TestRedis::new();
    println!(
        "reminders: {} over {} s, then {} at once; {} notifier workers",
        opts.reminders, opts.spread_secs, opts.burst, opts.workers
    );
    baseline()?;
    lateness(&redis, &opts)?;
    burst(&redis, &opts)?;
    Ok(())
}

fn now_micros() -> i64 {
    SystemClock.now_micros()
}

/// A bare POST of a reminder-sized body, send → arrival at the receiver.
fn baseline() -> anyhow::Result<()> {
    let receiver = Receiver::start();
    let http = UreqHttp::new();
    let body = vec![b'x'; 600];
    let mut samples = Vec::new();
    for _ in 0..1_000 {
        let started = now_micros();
        let request = HttpRequest::new(
            Method::Post,
            receiver.url("/hook"),
            Settings::default().timeouts,
        )
        .header("content-type", "application/json")
        .body(body.clone());
        http.send(&request).context("the baseline POST failed")?;
        let arrived = receiver.received().last().map_or(started, |r| r.at_micros);
        samples.push(Duration::from_micros(
            u64::try_from(arrived - started).unwrap_or(0),
        ));
    }
    report("baseline: bare HTTP POST, send → arrival", &mut samples);
    Ok(())
}

struct Setup {
    _db: TestDb,
    db_url: String,
    receiver: Receiver,
    settings: Settings,
    relay: RelaySettings,
    redis_url: String,
}

fn setup(redis: &TestRedis) -> anyhow::Result<Setup> {
    let db = TestDb::new();
    let conn = db.connect();
    let receiver = Receiver::start();
    let channel = redis.unique_channel("bench-reminders");
    channels::create_webhook(
        &conn,
        USER,
        &ChannelName::parse("bench").map_err(anyhow::Error::msg)?,
        &WebhookUrl::parse(&receiver.url("/hook"), NetworkPolicy::AllowPrivate)
            .map_err(anyhow::Error::msg)?,
        spindle_domain::Instant::from_micros(now_micros()),
    )?;
    let settings = Settings {
        channel: channel.clone(),
        network_policy: NetworkPolicy::AllowPrivate,
        ..Settings::default()
    };
    let relay = RelaySettings {
        required_consumers: vec![(channel, vec![notifier::CONSUMER.to_owned()])],
        ..RelaySettings::default()
    };
    Ok(Setup {
        db_url: db.url().to_owned(),
        _db: db,
        receiver,
        settings,
        relay,
        redis_url: redis.url().to_owned(),
    })
}

/// `count` tasks with one reminder each, the i-th at `first + i * step` µs.
fn reminders(conn: &PgDb, count: i64, first: i64, step: i64) -> anyhow::Result<()> {
    conn.execute(
        "WITH t AS (
             INSERT INTO tasks (id, user_id, title, priority, due_at, created_at, updated_at)
             SELECT gen_random_uuid(), $1, 'Task ' || n, 2, ts_from_us($2 + n * $3 + 3600000000),
                    now(), now()
               FROM generate_series(0, $4::int8 - 1) AS n
             RETURNING id, user_id, due_at)
         INSERT INTO reminders (id, task_id, user_id, position, at, fire_at, state, created_at)
         SELECT gen_random_uuid(), t.id, t.user_id, 0, t.due_at - interval '1 hour',
                t.due_at - interval '1 hour', 'pending', now()
           FROM t",
        &[
            Param::Str(USER.to_owned()),
            Param::Int64(first),
            Param::Int64(step),
            Param::Int64(count),
        ],
    )?;
    Ok(())
}

/// The tick every second (on the second) and `workers` notifier threads fed by
/// one real subscription, until `stop`.
fn run_flow(
    setup: &Setup,
    workers: usize,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<Vec<std::thread::JoinHandle<()>>> {
    let redis = TestRedis::new();
    let subscription = Arc::new(Mutex::new(redis.subscribe(&setup.settings.channel)));
    let mut threads = Vec::new();
    for _ in 0..workers {
        let (db_url, settings, subscription, stop) = (
            setup.db_url.clone(),
            setup.settings.clone(),
            subscription.clone(),
            stop.clone(),
        );
        threads.push(std::thread::spawn(move || {
            let conn = PgDb::connect(&db_url).expect("a notifier connection");
            let http = UreqHttp::new();
            while !stop.load(Ordering::SeqCst) {
                let message = subscription
                    .lock()
                    .map(|s| s.recv_timeout(Duration::from_millis(50)))
                    .unwrap_or(None);
                if let Some(message) = message {
                    if let Err(err) =
                        notifier::handle(&conn, &http, &SystemClock, &settings, &message)
                    {
                        eprintln!("notifier: {err}");
                    }
                }
            }
        }));
    }
    let (db_url, settings, redis_url, stop) = (
        setup.db_url.clone(),
        tick::TickSettings {
            reminders: setup.settings.clone(),
            relay: setup.relay.clone(),
            ..Default::default()
        },
        setup.redis_url.clone(),
        stop.clone(),
    );
    threads.push(std::thread::spawn(move || {
        let conn = PgDb::connect(&db_url).expect("a tick connection");
        let publisher = RedisPublisher::new(redis_url);
        while !stop.load(Ordering::SeqCst) {
            if let Err(err) = tick::tick(&conn, &publisher, &SystemClock, &settings) {
                eprintln!("tick: {err}");
            }
            let into_second = now_micros().rem_euclid(1_000_000);
            std::thread::sleep(Duration::from_micros(
                u64::try_from(1_000_000 - into_second).unwrap_or(0),
            ));
        }
    }));
    Ok(threads)
}

fn lateness(redis: &TestRedis, opts: &Options) -> anyhow::Result<()> {
    let setup = setup(redis)?;
    let conn = PgDb::connect(&setup.db_url)?;
    let first = now_micros() + 2_000_000;
    let step = opts.spread_secs * 1_000_000 / opts.reminders.max(1);
    reminders(&conn, opts.reminders, first, step)?;
    let stop = Arc::new(AtomicBool::new(false));
    let threads = run_flow(&setup, opts.workers, &stop)?;
    let wait = Duration::from_secs(u64::try_from(opts.spread_secs).unwrap_or(60) + 60);
    let got = setup
        .receiver
        .wait_for(usize::try_from(opts.reminders)?, wait);
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        let _ = t.join();
    }
    let mut samples = Vec::new();
    for request in &got {
        let body: serde_json::Value = serde_json::from_slice(&request.body)?;
        let fire_at = body["data"]["reminder"]["fire_at"]
            .as_str()
            .and_then(|s| parse_instant(s).ok())
            .context("a webhook body without data.reminder.fire_at")?;
        samples.push(Duration::from_micros(
            u64::try_from(request.at_micros - fire_at.micros()).unwrap_or(0),
        ));
    }
    println!("   received {} of {}", got.len(), opts.reminders);
    report("lateness: fire_at → receiver arrival", &mut samples);
    Ok(())
}

fn burst(redis: &TestRedis, opts: &Options) -> anyhow::Result<()> {
    let setup = setup(redis)?;
    let conn = PgDb::connect(&setup.db_url)?;
    reminders(&conn, opts.burst, now_micros() - 1_000_000, 0)?;
    let started = WallClock::now();
    let stop = Arc::new(AtomicBool::new(false));
    let threads = run_flow(&setup, opts.workers, &stop)?;
    let got = setup
        .receiver
        .wait_for(usize::try_from(opts.burst)?, Duration::from_secs(600));
    let elapsed = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        let _ = t.join();
    }
    println!(
        "   burst: {} of {} due at once received in {:.2?} ({:.0}/s)",
        got.len(),
        opts.burst,
        elapsed,
        got.len() as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

fn report(what: &str, samples: &mut [Duration]) {
    if samples.is_empty() {
        println!("   {what:<45} no samples");
        return;
    }
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "   {what:<45} p50 {:>9.3?}  p99 {:>9.3?}  max {:>9.3?}",
        pick(0.50),
        pick(0.99),
        samples[samples.len() - 1]
    );
}

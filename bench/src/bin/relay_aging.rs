//! Outbox relay throughput as the outbox ages: a backlog of unpublished events
//! drained by `relay::tick` through Redis on a fresh outbox; on one that also
//! holds many delivered events (as a year without retention leaves it), before
//! and after a vacuum; and on that one after retention has deleted them.
//!
//! Usage: `cargo run --release -p spindle-bench --bin bench-relay-aging --
//! [--old N] [--backlog N] [--batch N]`

use std::time::{Duration, Instant};

use anyhow::Context;
use spindle_bench::backlog::{drain_backlog, insert_backlog, Drain};
use spindle_events::relay::RelaySettings;
use spindle_native::testing::{TestDb, TestRedis};
use spindle_native::PgDb;
use spindle_ports::Db;
use spindle_reminders::retention::{self, RetentionSettings};

struct Options {
    old: usize,
    backlog: usize,
    batch: u32,
}

fn options() -> anyhow::Result<Options> {
    let mut opts = Options {
        old: 1_000_000,
        backlog: 100_000,
        batch: RelaySettings::default().batch_size,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value: usize = args
            .next()
            .with_context(|| format!("{arg} needs a number"))?
            .parse()
            .with_context(|| format!("{arg} needs a whole number"))?;
        match arg.as_str() {
            "--old" => opts.old = value,
            "--backlog" => opts.backlog = value,
            "--batch" => opts.batch = u32::try_from(value)?,
            other => anyhow::bail!(
                "unknown argument {other:?}; expected --old N, --backlog N, --batch N"
            ),
        }
    }
    Ok(opts)
}

fn count(db: &PgDb, sql: &str) -> anyhow::Result<i64> {
    Ok(db.query(sql, &[])?.first().context("a count")?.i64("n")?)
}

fn main() -> anyhow::Result<()> {
    let opts = options()?;
    let redis = TestRedis::new();
    println!(
        "== relay throughput as the outbox ages: backlog {} unpublished events, batch {}",
        opts.backlog, opts.batch
    );

    let fresh_db = TestDb::new();
    let fresh = drain_backlog(&fresh_db.connect(), &redis, opts.backlog, opts.batch)?;
    drop(fresh_db);

    // The old events are inserted due and then marked delivered, as the relay
    // marks them: until a vacuum, their entries stay in the pending index.
    let aged_db = TestDb::new();
    let db = aged_db.connect();
    let started = Instant::now();
    insert_backlog(&db, "task-events", opts.old)?;
    deliver_everything(&db)?;
    db.execute("ANALYZE outbox", &[])?;
    println!(
        "   {} events inserted and marked delivered in {:.2?}",
        opts.old,
        started.elapsed()
    );
    let unvacuumed = drain_backlog(&db, &redis, opts.backlog, opts.batch)?;
    deliver_everything(&db)?;
    // What autovacuum does, once enough of the table is dead (20 % by default).
    let started = Instant::now();
    db.execute("VACUUM ANALYZE outbox", &[])?;
    println!("   VACUUM ANALYZE outbox took {:.2?}", started.elapsed());
    let vacuumed = drain_backlog(&db, &redis, opts.backlog, opts.batch)?;
    deliver_everything(&db)?;

    // Retention, as the tick runs it: a batch per table per run, until the old
    // events are gone.
    let settings = RetentionSettings::default();
    let started = Instant::now();
    let (mut runs, mut deleted, mut slowest) = (0, 0, Duration::ZERO);
    loop {
        let run = Instant::now();
        let report = retention::run(&db, &settings)?;
        slowest = slowest.max(run.elapsed());
        runs += 1;
        deleted += report.outbox;
        if report.outbox == 0 {
            break;
        }
    }
    let took = started.elapsed();
    println!(
        "   retention: {deleted} events deleted in {runs} runs of at most {} in {:.2?} ({:.1?} per run, slowest {:.1?}); {} left",
        settings.batch,
        took,
        took / runs,
        slowest,
        count(&db, "SELECT count(*) AS n FROM outbox")?
    );
    db.execute("VACUUM ANALYZE outbox", &[])?;
    let pruned = drain_backlog(&db, &redis, opts.backlog, opts.batch)?;

    println!();
    println!(
        "   {:<38} {:>10} {:>11} {:>11} {:>11} {:>11} {:>10}",
        "outbox", "events/s", "acknowledge", "claim", "publish", "mark", "idle tick"
    );
    let unvacuumed_name = format!("+ {} delivered, not vacuumed", opts.old);
    let vacuumed_name = format!("+ {} delivered, vacuumed", opts.old);
    for (name, d) in [
        ("fresh", &fresh),
        (unvacuumed_name.as_str(), &unvacuumed),
        (vacuumed_name.as_str(), &vacuumed),
        ("after retention (and a vacuum)", &pruned),
    ] {
        row(name, d);
    }
    Ok(())
}

/// Marks every event delivered a month ago (the relay's last step, aged), so
/// the next drain starts with nothing pending and retention may take them.
fn deliver_everything(db: &PgDb) -> anyhow::Result<()> {
    db.execute(
        "UPDATE outbox SET published_at = coalesce(published_at, now()),
                           delivered_at = now() - interval '30 days'
          WHERE delivered_at IS NULL",
        &[],
    )?;
    Ok(())
}

fn row(name: &str, d: &Drain) {
    let t = &d.timings;
    println!(
        "   {name:<38} {:>10.0} {:>11.1?} {:>11.1?} {:>11.1?} {:>11.1?} {:>10.1?}",
        d.events_per_second(),
        t.acknowledging,
        t.claiming,
        t.publishing,
        t.marking,
        d.idle
    );
}

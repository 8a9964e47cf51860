//! `bench-metrics`: what one `/metrics` scrape costs on a database the size of a
//! busy production one (1 000 000 tasks), beside a bare `SELECT 1` round trip and
//! the plain counts that task_counts and reminder_counts replace; and what keeping the counts costs
//! a task creation (the counting trigger switched off for the baseline).
//!
//! ```text
//! cargo run --release -p spindle-bench --bin bench-metrics
//! ```
//!
//! Needs the local Postgres (as for the tests) and Redis on 127.0.0.1:6379.
//! Creates a database of its own and drops it at the end. Seeding takes a few
//! minutes.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _, Result};
use http::StatusCode;
use serde_json::json;
use spindle_api::auth::{sign, Claims};
use spindle_api::{settings, Ctx};
use spindle_bench::tasks_api;
use spindle_native::testing::{CountingDb, TestDb};
use spindle_native::{MapConfig, PgDb, RedisPublisher, UreqHttp};
use spindle_ports::{Clock, Db, Param, SystemClock};

const TASKS: i64 = 1_000_000;
const USERS: i64 = 10_000;
const SAMPLES: usize = 200;
const WARMUP: usize = 20;
const JWT_SECRET: &str = "bench-secret";

fn main() -> Result<()> {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let started = Instant::now();
    seed(&db)?;
    println!(
        "seeded {TASKS} tasks of {USERS} users, reminders, outbox, deliveries in {:.0?}",
        started.elapsed()
    );

    let publisher = RedisPublisher::new("redis://127.0.0.1:6379");
    let clock = SystemClock;
    let config = MapConfig::new()
        .with(settings::JWT_SECRET, JWT_SECRET)
        .with(settings::ADMIN_TOKEN, "bench-admin")
        .with(settings::INTERNAL_TOKEN, "bench-internal");
    let http = UreqHttp::new();
    let ctx = Ctx {
        db: &db,
        publisher: &publisher,
        clock: &clock,
        config: &config,
        http: &http,
    };

    let scrape = || -> Result<()> {
        let resp = spindle_api::ops(
            &ctx,
            http::Request::get("/metrics").body(Vec::new()).unwrap(),
        );
        ensure!(resp.status() == StatusCode::OK, "/metrics: {:?}", resp);
        Ok(())
    };
    let body = String::from_utf8(
        spindle_api::ops(
            &ctx,
            http::Request::get("/metrics").body(Vec::new()).unwrap(),
        )
        .into_body(),
    )?;
    println!("\none scrape:\n{}", sample_lines(&body));
    explain(&ctx)?;

    println!("\n{:<44} {:>10} {:>10}", "per call", "p50", "p99");
    report("bare SELECT 1 (baseline)", || {
        db.query("SELECT 1 AS one", &[]).map(|_| ())?;
        Ok(())
    })?;
    report("GET /metrics (the whole scrape)", scrape)?;
    report("tasks by status: count(*) GROUP BY status", || {
        db.query(
            "SELECT status, count(*) AS n FROM tasks GROUP BY status",
            &[],
        )?;
        Ok(())
    })?;
    report("tasks by status: sum over task_counts", || {
        db.query(
            "SELECT status, sum(n)::int8 AS n FROM task_counts GROUP BY status",
            &[],
        )?;
        Ok(())
    })?;

    report("pending reminders: count(*) on reminders_due", || {
        db.query(
            "SELECT count(*) AS n FROM reminders WHERE state = 'pending'",
            &[],
        )?;
        Ok(())
    })?;
    report("pending reminders: sum over reminder_counts", || {
        db.query("SELECT sum(pending)::int8 AS n FROM reminder_counts", &[])?;
        Ok(())
    })?;

    // What the counts cost a write: the same creation with the trigger off.
    let token = sign(
        &Claims {
            sub: "user-1".into(),
            exp: Some(clock.now_micros() / 1_000_000 + 3600),
            nbf: None,
            iat: None,
        },
        JWT_SECRET.as_bytes(),
    );
    let create = |ctx: &Ctx<'_, PgDb, RedisPublisher>| -> Result<()> {
        let req = http::Request::post("/api/tasks")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&json!({ "title": "measured" }))?)?;
        let resp = tasks_api(ctx, req);
        ensure!(resp.status() == StatusCode::CREATED, "create: {:?}", resp);
        Ok(())
    };
    report("POST /api/tasks, task_counts trigger on", || create(&ctx))?;
    db.execute(
        "ALTER TABLE tasks DISABLE TRIGGER tasks_task_counts_insert",
        &[],
    )?;
    report("POST /api/tasks, task_counts trigger off", || create(&ctx))?;
    db.execute(
        "ALTER TABLE tasks ENABLE TRIGGER tasks_task_counts_insert",
        &[],
    )?;
    Ok(())
}

/// Runs `f` WARMUP + SAMPLES times and prints p50 and p99 of the samples.
fn report(name: &str, mut f: impl FnMut() -> Result<()>) -> Result<()> {
    let mut times = Vec::with_capacity(SAMPLES);
    for i in 0..WARMUP + SAMPLES {
        let start = Instant::now();
        f().with_context(|| name.to_owned())?;
        if i >= WARMUP {
            times.push(start.elapsed());
        }
    }
    times.sort();
    println!(
        "{name:<44} {:>10.2?} {:>10.2?}",
        percentile(&times, 50.0),
        percentile(&times, 99.0)
    );
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.max(1) - 1).copied().unwrap_or_default()
}

fn sample_lines(body: &str) -> String {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The plan of the scrape's one statement, with its own parameters.
fn explain(ctx: &Ctx<'_, PgDb, RedisPublisher>) -> Result<()> {
    let counting = CountingDb::new(ctx.db);
    let counted = Ctx {
        db: &counting,
        publisher: ctx.publisher,
        clock: ctx.clock,
        config: ctx.config,
        http: ctx.http,
    };
    spindle_api::ops(
        &counted,
        http::Request::get("/metrics").body(Vec::new()).unwrap(),
    );
    let statements = counting.take();
    ensure!(statements.len() == 1, "a scrape sent {statements:?}");
    let now = ctx.clock.now_micros();
    let text_array =
        |items: &[&str]| Param::ArrayStr(items.iter().map(|s| Some((*s).to_owned())).collect());
    let plan = ctx.db.query(
        &format!("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {}", statements[0]),
        &[
            Param::Int64(now),
            text_array(&["task-events", "reminders", "notifications"]),
            Param::Int64(spindle_storage::metrics::RECENT_SECONDS * 1_000_000),
            text_array(spindle_storage::metrics::CHANNEL_KINDS),
            text_array(spindle_storage::metrics::DELIVERY_STATES),
        ],
    )?;
    println!("\nEXPLAIN ANALYZE of the scrape:");
    for row in plan.iter() {
        println!("  {}", row.str("QUERY PLAN")?);
    }
    Ok(())
}

/// A production-like mix: 30 % of tasks completed, a pending reminder on
/// about a third of the open ones, a history of fired reminders and
/// delivered events and deliveries, and a little of everything in flight.
fn seed(db: &PgDb) -> Result<()> {
    let statements = [
        "INSERT INTO tasks (id, user_id, title, status, completed_at, due_at, created_at, updated_at)
         SELECT gen_random_uuid(), 'user-' || (n % $2::int8), 'Task ' || n,
                CASE WHEN n % 10 < 3 THEN 'completed' ELSE 'open' END,
                CASE WHEN n % 10 < 3 THEN now() - interval '1 day' END,
                now() + (n % 2000) * interval '1 hour', now() - interval '30 days', now()
           FROM generate_series(1, $1::int8) AS n",
        "INSERT INTO reminders (id, task_id, user_id, position, at, fire_at, state, created_at)
         SELECT gen_random_uuid(), id, user_id, 0, due_at, due_at, 'pending', now()
           FROM tasks WHERE status = 'open' AND (hashtext(id::text) % 3) = 0",
        "INSERT INTO reminders (id, task_id, user_id, position, at, fire_at, state, fired_at, created_at)
         SELECT gen_random_uuid(), id, user_id, 1, now() - interval '2 days', now() - interval '2 days',
                'fired', now() - interval '2 days', now()
           FROM tasks WHERE status = 'completed'",
        // In flight: 50 due and not yet claimed, 5 missed in the last hour.
        "UPDATE reminders SET fire_at = now() - interval '30 seconds', at = now() - interval '30 seconds'
          WHERE id IN (SELECT id FROM reminders WHERE state = 'pending' LIMIT 50)",
        "UPDATE reminders SET state = 'missed', fired_at = now() - interval '10 minutes'
          WHERE id IN (SELECT id FROM reminders WHERE state = 'fired' LIMIT 5)",
        "INSERT INTO outbox (event_id, type, channel, user_id, envelope, created_at, delivered_at)
         SELECT gen_random_uuid(), 'task.created',
                CASE WHEN n % 4 = 0 THEN 'reminders' ELSE 'task-events' END,
                'user-' || (n % $2::int8), '{}'::jsonb,
                now() - interval '1 day', now() - interval '1 day'
           FROM generate_series(1, $1::int8 / 2) AS n",
        "INSERT INTO outbox (event_id, type, channel, user_id, envelope)
         SELECT gen_random_uuid(), 'task.created', 'task-events', 'user-1', '{}'::jsonb
           FROM generate_series(1, 100)",
        "INSERT INTO dead_letters (seq, event_id, channel, reason, attempts)
         SELECT seq, event_id, channel, 'bench', 8 FROM outbox ORDER BY seq LIMIT 10",
        "INSERT INTO channels (id, user_id, kind, name, target, secret, enabled, created_at, updated_at)
         SELECT gen_random_uuid(), 'user-' || n, 'webhook', 'hook', 'https://hooks.example/' || n,
                'whsec_x', n % 100 <> 0, now(), now()
           FROM generate_series(1, 5000) AS n",
        "WITH r AS (SELECT id, user_id, task_id, row_number() OVER () AS rn
                      FROM reminders WHERE state IN ('fired', 'missed')),
              c AS (SELECT id, row_number() OVER () - 1 AS cn FROM channels)
         INSERT INTO deliveries (id, channel_id, user_id, reminder_id, task_id, payload, state,
                                 attempts, next_attempt_at, created_at, updated_at)
         SELECT gen_random_uuid(), c.id, r.user_id, r.id, r.task_id, '{}'::jsonb,
                CASE WHEN r.rn <= 5000 AND r.rn % 10 = 0 THEN 'failed' ELSE 'delivered' END, 1,
                now(), now() - interval '2 days',
                CASE WHEN r.rn <= 5000 THEN now() - (r.rn % 3600) * interval '1 second'
                     ELSE now() - interval '2 days' END
           FROM r JOIN c ON c.cn = r.rn % 5000",
        "INSERT INTO tick_heartbeat (last_tick_at) VALUES (now())",
    ];
    for sql in statements {
        let params: Vec<Param> = if sql.contains("$2") {
            vec![Param::Int64(TASKS), Param::Int64(USERS)]
        } else {
            Vec::new()
        };
        db.execute(sql, &params)
            .with_context(|| format!("seeding: {sql}"))?;
    }
    // What autovacuum would have done by now on a table this old.
    db.execute("VACUUM ANALYZE", &[])?;
    Ok(())
}

//! `bench-tasks`: latency of the tasks API's hot paths on a seeded database,
//! each next to the bare SQL it runs, so the handler's own cost is visible.
//!
//! ```text
//! cargo run --release -p spindle-bench --bin bench-tasks
//! ```
//!
//! Needs the local Postgres (as for the tests; `SPINDLE_TEST_PG_ADMIN_URL`
//! overrides the address) and Redis on 127.0.0.1:6379. It creates a database
//! of its own and drops it at the end.
//!
//! Targets: list and search p99 under 20 ms; the handler at most 2 ms slower
//! than the bare query.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _, Result};
use http::{header, Method, StatusCode};
use serde_json::{json, Value};
use spindle_api::auth::{sign, Claims};
use spindle_api::{settings, Ctx, Request, Response};
use spindle_bench::tasks_api;
use spindle_domain::event::{EventType, TASK_EVENTS_CHANNEL};
use spindle_native::testing::TestDb;
use spindle_native::{MapConfig, PgDb, RedisPublisher};
use spindle_ports::{Clock, Db, DbError, Param, Rows, SystemClock};
use uuid::Uuid;

const REDIS_URL: &str = "redis://127.0.0.1:6379";
const JWT_SECRET: &str = "bench-secret";

/// The user whose requests are measured, and how many tasks they have.
const USER: &str = "bench-user";
const USER_TASKS: i64 = 100_000;
/// Other users' tasks share the table and its indexes, as in production.
const OTHER_USERS: usize = 5;
const OTHER_USER_TASKS: i64 = 1_000;

const WARMUP: usize = 100;
const SAMPLES: usize = 1_000;

/// The p99 a list or search must stay under.
const READ_P99_TARGET: Duration = Duration::from_millis(20);
/// How much slower than its bare SQL a handler may be, at p50 and p99.
const OVERHEAD_TARGET: Duration = Duration::from_millis(2);

/// A word of the corpus that no other word starts with, so `invoice:*`
/// matches this word only (a few percent of tasks; the run prints how many).
const SEARCH_WORD: &str = "invoice";
/// What a user has typed after two keystrokes: a prefix of many words.
const SEARCH_PREFIX: &str = "re";
const FILTER_TAG: &str = "finance";

/// Titles and descriptions are drawn from these words, uniformly (a string
/// rather than an array so that rustfmt keeps it compact).
const WORDS: &str = "\
    account agenda agreement airport alarm analysis answer apartment appointment approval
    archive article assignment audit backup badge bakery balance bank banner battery
    benchmark bicycle birthday blog board book booking brief budget bug build buy calendar
    call camera campaign cancel candidate catalog certificate chapter check checklist clean
    client cloud coffee colleague command comment committee compiler concert conference
    confirm contract cookie course customer dashboard database deadline delivery demo
    dentist deploy design dinner document domain donation draft driver email estimate event
    exam expense feature feedback file finance finish fix flight folder follow form garden
    gift grocery guitar gym hardware holiday hotel insurance interview inventory invoice
    itinerary jacket journal kitchen label laptop laundry lawyer lease lecture letter
    library license logo lunch mailbox manual market meeting memo mentor metrics migration
    milestone module mortgage movie newsletter notebook office onboarding order organise
    package painting parcel party passport password pay payment payroll pharmacy phone photo
    piano pick plan plumber podcast policy portfolio poster prepare presentation print
    printer prototype purchase query quote receipt recipe record refund release renewal rent
    repair reply report request research reservation resume return review roadmap router
    salary sample schedule screen script send server shipment shopping sign signature sketch
    slides software spreadsheet sprint statement storage strategy submit subscription
    summary supplier survey syllabus tax teacher template tenant ticket timesheet training
    translation travel tutorial update upgrade vacation vaccine vendor video visa warranty
    website wedding whiteboard workshop write";

/// The pool of tags, drawn from uniformly.
const TAGS: &str = "\
    work home personal urgent finance health family errands shopping travel reading learning
    fitness garden car kids school backend frontend ops bugs meetings waiting someday ideas
    writing music admin taxes projects";

/// One user's tasks in a single statement. The random draws are made once per
/// row in a materialised CTE, so that `status` and `completed_at` (and the
/// other columns using the same draw) agree. Word and tag counts cycle with `g`,
/// which keeps the sub-selects correlated (an uncorrelated one would run once
/// and give every row the same title); the words themselves are random.
/// The pools `$3` (words) and `$4` (tags) stay parameters: were they columns
/// of the outer query, `string_agg` over them would belong to the outer query.
///
/// - 70% have a due date, spread evenly over a year either side of now;
/// - priorities P1 10%, P2 20%, P3 30%, P4 40%;
/// - 0 to 3 tags, 2 to 6 title words, 0 to 10 description words;
/// - 20% completed, at some time between creation and now.
const SEED_TASKS: &str = "
    WITH draw AS MATERIALIZED (
        SELECT g,
               random() AS r_due, random() AS r_done, random() AS r_priority, random() AS r_updated,
               now() - random() * interval '730 days' AS created_at,
               (SELECT string_agg(($3::text[])[1 + floor(random() * cardinality($3::text[]))::int], ' ')
                  FROM generate_series(1, 2 + g % 5)) AS title,
               (SELECT coalesce(string_agg(($3::text[])[1 + floor(random() * cardinality($3::text[]))::int], ' '), '')
                  FROM generate_series(1, (g * 7) % 11)) AS description,
               ARRAY(SELECT DISTINCT ($4::text[])[1 + floor(random() * cardinality($4::text[]))::int]
                       FROM generate_series(1, (g * 13) % 4)) AS tags
          FROM generate_series(1, $2::int8) AS g)
    INSERT INTO tasks (id, user_id, title, description, priority, tags, status, completed_at, due_at,
                       created_at, updated_at)
    SELECT gen_random_uuid(), $1, initcap(left(title, 1)) || substr(title, 2), description,
           CASE WHEN r_priority < 0.1 THEN 1 WHEN r_priority < 0.3 THEN 2 WHEN r_priority < 0.6 THEN 3 ELSE 4 END,
           tags,
           CASE WHEN r_done < 0.2 THEN 'completed' ELSE 'open' END,
           CASE WHEN r_done < 0.2 THEN created_at + (now() - created_at) * (r_done / 0.2) END,
           CASE WHEN r_due < 0.7 THEN now() + (r_due / 0.7 * 2 - 1) * interval '365 days' END,
           created_at,
           CASE WHEN r_done < 0.2 THEN created_at + (now() - created_at) * (r_done / 0.2)
                ELSE created_at + (now() - created_at) * r_updated END
      FROM draw";

/// A reminder an hour before the due date on 30% of the tasks that have one, so the
/// reminders sub-select of every listed task has something to fold in.
const SEED_REMINDERS: &str = "
    INSERT INTO reminders (id, task_id, user_id, position, minutes_before, fire_at, state, created_at)
    SELECT gen_random_uuid(), id, user_id, 0, 60, due_at - interval '60 minutes',
           CASE WHEN status = 'completed' THEN 'cancelled'
                WHEN due_at - interval '60 minutes' < now() THEN 'delivered'
                ELSE 'pending' END,
           created_at
      FROM tasks
     WHERE due_at IS NOT NULL AND random() < 0.3";

fn main() -> Result<()> {
    let test_db = TestDb::new();
    let db = test_db.connect();
    seed(&db);

    let publisher = RedisPublisher::new(REDIS_URL);
    let clock = SystemClock;
    let config = MapConfig::new().with(settings::JWT_SECRET, JWT_SECRET);
    let ctx = Ctx {
        db: &db,
        publisher: &publisher,
        clock: &clock,
        config: &config,
        http: &spindle_native::UreqHttp::new(),
    };
    let token = bearer_token(&clock);

    print_selectivity(&db)?;
    let mut results = Vec::new();
    let mut plans = Vec::new();
    for (name, uri) in read_scenarios() {
        let request = get_request(&uri, &token);
        let statement = capture_list_query(&ctx, &request)?;
        results.push(measure_read(&ctx, name, &request, &statement)?);
        plans.push((name, explain(&db, &statement)?));
    }
    results.extend(measure_create(&ctx, &token)?);

    print_table(&results);
    for (name, plan) in &plans {
        println!("\nEXPLAIN (ANALYZE, BUFFERS) {name}\n{plan}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------

fn seed(db: &PgDb) {
    let started = Instant::now();
    // The same words, tags, priorities and dates on every run (ids aside), so runs compare.
    db.execute("SELECT setseed(0.42)", &[])
        .expect("seeding the random generator");
    seed_tasks(db, USER, USER_TASKS);
    for n in 1..=OTHER_USERS {
        seed_tasks(db, &format!("other-user-{n}"), OTHER_USER_TASKS);
    }
    db.execute(SEED_REMINDERS, &[]).expect("seeding reminders");
    // VACUUM as well as ANALYZE: it merges the GIN indexes' pending lists and
    // sets the visibility map, the state autovacuum keeps a real table in.
    // Measuring before it would time the aftermath of a bulk load instead.
    db.execute("VACUUM (ANALYZE) tasks, reminders", &[])
        .expect("vacuuming and analysing");
    println!(
        "seeded {USER_TASKS} tasks of {USER} and {} of others in {:.1?}",
        OTHER_USERS as i64 * OTHER_USER_TASKS,
        started.elapsed()
    );
}

fn seed_tasks(db: &PgDb, user: &str, count: i64) {
    let words = text_array(WORDS);
    let tags = text_array(TAGS);
    db.execute(
        SEED_TASKS,
        &[
            Param::Str(user.to_owned()),
            Param::Int64(count),
            words,
            tags,
        ],
    )
    .unwrap_or_else(|err| panic!("seeding the tasks of {user}: {err}"));
}

/// A whitespace-separated list as a `text[]` parameter.
fn text_array(list: &str) -> Param {
    Param::ArrayStr(
        list.split_whitespace()
            .map(|w| Some(w.to_owned()))
            .collect(),
    )
}

fn bearer_token(clock: &dyn Clock) -> String {
    let now_seconds = clock.now_micros() / 1_000_000;
    let claims = Claims {
        sub: USER.to_owned(),
        exp: Some(now_seconds + 3_600),
        nbf: None,
        iat: None,
    };
    format!("Bearer {}", sign(&claims, JWT_SECRET.as_bytes()))
}

/// How many of the user's open tasks each read scenario matches, so a reader
/// can tell whether the corpus is realistic for it.
fn print_selectivity(db: &PgDb) -> Result<()> {
    let rows = db.query(
        "SELECT count(*) AS open,
                count(*) FILTER (WHERE search @@ to_tsquery('simple', $2)) AS word,
                count(*) FILTER (WHERE search @@ to_tsquery('simple', $3)) AS prefix,
                count(*) FILTER (WHERE priority IN (1, 2) AND tags @> ARRAY[$4]) AS filtered
           FROM tasks WHERE user_id = $1 AND status = 'open'",
        &[
            Param::Str(USER.to_owned()),
            Param::Str(format!("{SEARCH_WORD}:*")),
            Param::Str(format!("{SEARCH_PREFIX}:*")),
            Param::Str(FILTER_TAG.to_owned()),
        ],
    )?;
    let row = rows
        .first()
        .context("the selectivity query returned no row")?;
    let open = row.i64("open")?;
    let share = |column: &str| -> Result<String> {
        let n = row.i64(column)?;
        Ok(format!(
            "{n} ({:.1}% of {USER_TASKS})",
            100.0 * n as f64 / USER_TASKS as f64
        ))
    };
    println!("open tasks of {USER}: {open}");
    println!("  matching q={SEARCH_WORD}: {}", share("word")?);
    println!("  matching q={SEARCH_PREFIX}: {}", share("prefix")?);
    println!(
        "  matching priority=P1,P2&tag={FILTER_TAG}: {}",
        share("filtered")?
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

fn read_scenarios() -> Vec<(&'static str, String)> {
    vec![
        ("(a) list sort=due_at", "/api/tasks?sort=due_at".to_owned()),
        ("(b) search q=word", format!("/api/tasks?q={SEARCH_WORD}")),
        (
            "(b) search q=2-letter prefix",
            format!("/api/tasks?q={SEARCH_PREFIX}"),
        ),
        (
            "(c) filtered, sort=-priority",
            format!("/api/tasks?priority=P1,P2&tag={FILTER_TAG}&status=open&sort=-priority"),
        ),
    ]
}

fn get_request(uri: &str, token: &str) -> Request {
    http::Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header(header::AUTHORIZATION, token)
        .body(Vec::new())
        .expect("a well-formed GET request")
}

fn post_request(token: &str, clock: &dyn Clock) -> Request {
    let due = chrono::DateTime::from_timestamp_micros(clock.now_micros())
        .expect("the clock shows a representable time")
        + chrono::TimeDelta::days(3);
    let body = json!({
        "title": "Send the quarterly invoice to the supplier",
        "priority": "P2",
        "tags": ["finance", "work"],
        "due_at": due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "reminders": [{ "minutes_before": 30 }],
    });
    http::Request::builder()
        .method(Method::POST)
        .uri("/api/tasks")
        .header(header::AUTHORIZATION, token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.to_string().into_bytes())
        .expect("a well-formed POST request")
}

fn check_status(response: &Response, expected: StatusCode) -> Result<()> {
    ensure!(
        response.status() == expected,
        "expected {expected}, got {}: {}",
        response.status(),
        String::from_utf8_lossy(response.body())
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Capturing the handler's SQL
// ---------------------------------------------------------------------------

/// A statement as the handler sent it.
#[derive(Clone)]
struct Statement {
    sql: String,
    params: Vec<Param>,
}

/// A [`Db`] that passes everything through and keeps the last query, so the
/// bare floor runs exactly the SQL and parameters `spindle_storage::tasks::list`
/// built, rather than a copy that could drift from it.
struct Recording<'a> {
    db: &'a PgDb,
    last_query: RefCell<Option<Statement>>,
}

impl Db for Recording<'_> {
    fn query(&self, sql: &str, params: &[Param]) -> Result<Rows, DbError> {
        *self.last_query.borrow_mut() = Some(Statement {
            sql: sql.to_owned(),
            params: params.to_vec(),
        });
        self.db.query(sql, params)
    }

    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
        self.db.execute(sql, params)
    }
}

/// Sends `request` once through a recording database and returns the list
/// query it ran, after checking that the page is full (a page of 50 and a
/// cursor), so that every scenario measures a full page.
fn capture_list_query(ctx: &Ctx<'_, PgDb, RedisPublisher>, request: &Request) -> Result<Statement> {
    let recording = Recording {
        db: ctx.db,
        last_query: RefCell::new(None),
    };
    let recording_ctx = Ctx {
        db: &recording,
        publisher: ctx.publisher,
        clock: ctx.clock,
        config: ctx.config,
        http: ctx.http,
    };
    let response = tasks_api(&recording_ctx, request.clone());
    check_status(&response, StatusCode::OK)?;
    let page: Value =
        serde_json::from_slice(response.body()).context("the list response is not JSON")?;
    let items = page["items"].as_array().map_or(0, Vec::len);
    ensure!(
        items == 50 && page["next_cursor"].is_string(),
        "{} returned {items} tasks and no next page; the corpus does not fill a page",
        request.uri()
    );
    recording
        .last_query
        .into_inner()
        .context("the list handler ran no query")
}

// ---------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------

/// One row of the results table.
struct Comparison {
    name: &'static str,
    /// The handler's p99 target, for the scenarios that have one.
    p99_target: Option<Duration>,
    handler: Stats,
    bare: Stats,
}

struct Stats {
    p50: Duration,
    p99: Duration,
    mean: Duration,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Stats {
        samples.sort_unstable();
        let mean = samples.iter().sum::<Duration>()
            / u32::try_from(samples.len().max(1)).unwrap_or(u32::MAX);
        Stats {
            p50: percentile(&samples, 50.0),
            p99: percentile(&samples, 99.0),
            mean,
        }
    }
}

/// Nearest rank: the smallest sample that `p` percent of samples are at or below.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.max(1) - 1).copied().unwrap_or_default()
}

/// Runs `handler` and `bare` alternately, first one then the other, so both
/// see the same cache state and the same background noise; each returns the
/// time of its timed part only. The first `WARMUP` rounds are discarded.
fn compare(
    name: &'static str,
    p99_target: Option<Duration>,
    mut handler: impl FnMut() -> Result<Duration>,
    mut bare: impl FnMut() -> Result<Duration>,
) -> Result<Comparison> {
    let mut handler_samples = Vec::with_capacity(SAMPLES);
    let mut bare_samples = Vec::with_capacity(SAMPLES);
    for round in 0..WARMUP + SAMPLES {
        let (h, b) = if round % 2 == 0 {
            let h = handler()?;
            (h, bare()?)
        } else {
            let b = bare()?;
            (handler()?, b)
        };
        if round >= WARMUP {
            handler_samples.push(h);
            bare_samples.push(b);
        }
    }
    Ok(Comparison {
        name,
        p99_target,
        handler: Stats::of(handler_samples),
        bare: Stats::of(bare_samples),
    })
}

/// Times `tasks_api` from the request to the response; the request is cloned
/// before the clock starts, and the status checked after it stops.
fn time_handler(
    ctx: &Ctx<'_, PgDb, RedisPublisher>,
    request: &Request,
    expected: StatusCode,
) -> Result<Duration> {
    let request = request.clone();
    let started = Instant::now();
    let response = tasks_api(ctx, request);
    let elapsed = started.elapsed();
    check_status(&response, expected)?;
    Ok(elapsed)
}

fn measure_read(
    ctx: &Ctx<'_, PgDb, RedisPublisher>,
    name: &'static str,
    request: &Request,
    statement: &Statement,
) -> Result<Comparison> {
    compare(
        name,
        Some(READ_P99_TARGET),
        || time_handler(ctx, request, StatusCode::OK),
        || {
            let started = Instant::now();
            let rows = ctx.db.query(&statement.sql, &statement.params)?;
            let elapsed = started.elapsed();
            ensure!(
                !rows.is_empty(),
                "the bare query of {name} returned no rows"
            );
            Ok(elapsed)
        },
    )
}

/// `POST /api/tasks` against the bare write, then against the bare write plus
/// the publication the handler does after its commit, which separates the
/// handler's own cost from the cost of publishing.
fn measure_create(ctx: &Ctx<'_, PgDb, RedisPublisher>, token: &str) -> Result<Vec<Comparison>> {
    let request = post_request(token, ctx.clock);
    let first = tasks_api(ctx, request.clone());
    check_status(&first, StatusCode::CREATED)?;
    let envelope = envelope_like(ctx, first.body())?;
    let write = BareWrite {
        db: ctx.db,
        envelope: &envelope,
        now_micros: ctx.clock.now_micros(),
    };

    let plain = compare(
        "(d) create vs bare write",
        None,
        || time_handler(ctx, &request, StatusCode::CREATED),
        || {
            let started = Instant::now();
            write.run()?;
            Ok(started.elapsed())
        },
    )?;
    let published = compare(
        "(d) create vs write+publish",
        None,
        || time_handler(ctx, &request, StatusCode::CREATED),
        || {
            let started = Instant::now();
            let seq = write.run()?;
            let report = spindle_events::publish::after_commit(ctx.db, ctx.publisher, &[seq]);
            let elapsed = started.elapsed();
            ensure!(
                report.all_published(),
                "publishing the bare write's event failed: {report:?}"
            );
            Ok(elapsed)
        },
    )?;
    Ok(vec![plain, published])
}

/// An outbox envelope the size of the handler's: the created task inside a
/// CloudEvents-shaped object.
fn envelope_like(ctx: &Ctx<'_, PgDb, RedisPublisher>, created: &[u8]) -> Result<Vec<u8>> {
    let task: Value = serde_json::from_slice(created).context("the created task is not JSON")?;
    let envelope = json!({
        "specversion": "1.0",
        "id": Uuid::new_v4(),
        "source": "/spindle/tasks",
        "type": EventType::TaskCreated.as_str(),
        "subject": task["id"],
        "time": chrono::DateTime::from_timestamp_micros(ctx.clock.now_micros()).map(|t| t.to_rfc3339()),
        "datacontenttype": "application/json",
        "userid": USER,
        "data": { "task": task },
    });
    Ok(serde_json::to_vec(&envelope)?)
}

/// The floor of `POST /api/tasks`: the task row with its reminder, and its
/// outbox row, in one transaction, with no validation, JSON or locking.
struct BareWrite<'a> {
    db: &'a PgDb,
    envelope: &'a [u8],
    now_micros: i64,
}

impl BareWrite<'_> {
    /// Writes one task and returns the outbox sequence number of its event.
    fn run(&self) -> Result<i64> {
        let task_id = Param::Uuid(Uuid::new_v4().to_string());
        let seq = self.db.transaction(|db| -> Result<i64, DbError> {
            db.execute(
                "WITH task AS (
                    INSERT INTO tasks (id, user_id, title, priority, tags, status, due_at, created_at, updated_at)
                    VALUES ($1, $2, 'Send the quarterly invoice to the supplier', 2, ARRAY['finance', 'work'],
                            'open', ts_from_us($3) + interval '3 days', ts_from_us($3), ts_from_us($3))
                    RETURNING id, due_at)
                 INSERT INTO reminders (id, task_id, user_id, position, minutes_before, fire_at, created_at)
                 SELECT gen_random_uuid(), id, $2, 0, 30, due_at - interval '30 minutes', ts_from_us($3)
                   FROM task",
                &[task_id.clone(), Param::Str(USER.to_owned()), Param::Int64(self.now_micros)],
            )?;
            let rows = db.query(
                "INSERT INTO outbox (event_id, type, channel, user_id, task_id, envelope)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 RETURNING seq",
                &[
                    Param::Uuid(Uuid::new_v4().to_string()),
                    Param::Str(EventType::TaskCreated.as_str().to_owned()),
                    Param::Str(TASK_EVENTS_CHANNEL.to_owned()),
                    Param::Str(USER.to_owned()),
                    task_id,
                    Param::Jsonb(self.envelope.to_vec()),
                ],
            )?;
            rows.first().ok_or_else(|| DbError::Decode("the outbox insert returned no row".into()))?.i64("seq")
        })?;
        Ok(seq)
    }
}

fn explain(db: &PgDb, statement: &Statement) -> Result<String> {
    let rows = db.query(
        &format!("EXPLAIN (ANALYZE, BUFFERS) {}", statement.sql),
        &statement.params,
    )?;
    let lines = rows
        .iter()
        .map(|row| row.str("QUERY PLAN"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(lines.join("\n"))
}

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The targets a row misses, or `ok`.
fn verdict(r: &Comparison) -> String {
    let mut missed = Vec::new();
    if r.p99_target.is_some_and(|target| r.handler.p99 > target) {
        missed.push("p99");
    }
    let over = |handler: Duration, bare: Duration| handler.saturating_sub(bare) > OVERHEAD_TARGET;
    if over(r.handler.p50, r.bare.p50) || over(r.handler.p99, r.bare.p99) {
        missed.push("overhead");
    }
    if missed.is_empty() {
        "ok".to_owned()
    } else {
        format!("MISS {}", missed.join("+"))
    }
}

fn print_table(results: &[Comparison]) {
    println!(
        "\n{WARMUP} warm-up + {SAMPLES} measured requests each; milliseconds; targets: \
         list/search p99 < {} ms, overhead (handler - bare) < {} ms",
        ms(READ_P99_TARGET),
        ms(OVERHEAD_TARGET)
    );
    println!(
        "{:<30} | {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7} | {:>8} {:>8} | targets",
        "scenario", "hdl p50", "p99", "mean", "bare p50", "p99", "mean", "ovh p50", "ovh p99"
    );
    println!("{}", "-".repeat(30 + 3 + 23 + 3 + 24 + 3 + 17 + 3 + 16));
    for r in results {
        println!(
            "{:<30} | {:>7.3} {:>7.3} {:>7.3} | {:>8.3} {:>7.3} {:>7.3} | {:>+8.3} {:>+8.3} | {}",
            r.name,
            ms(r.handler.p50),
            ms(r.handler.p99),
            ms(r.handler.mean),
            ms(r.bare.p50),
            ms(r.bare.p99),
            ms(r.bare.mean),
            ms(r.handler.p50) - ms(r.bare.p50),
            ms(r.handler.p99) - ms(r.bare.p99),
            verdict(r),
        );
    }
}

//! `bench-longpoll`: what 1 000 clients long-polling the change feed cost the
//! other requests of the same process, with the database pool bounded like
//! Spin's (64 connections per address per process, recycled on every checkout).
//!
//! ```text
//! cargo run --release -p spindle-bench --bin bench-longpoll [clients] [wait-seconds]
//! ```
//!
//! Each request, as in Spin, gets a fresh session from the one pool. For each way
//! of waiting it measures, in the same run:
//! - a plain `GET /api/tasks?limit=5` while nobody waits (the baseline) and while
//!   every client waits in `GET /api/changes?wait=…`;
//! - for events written to 100 of the waiting users, the time from the write's
//!   response to the long-poll's response.
//!
//! Ways of waiting: `redis` (the feed counter in Redis, the outbox read only when
//! it moves), `db-poll` (Redis unreachable: read the outbox every second,
//! releasing the connection between reads) and `hold` (the old behaviour: keep
//! the connection for the whole wait; measured with 2 s waits and no writes, or
//! the run would take many minutes). Needs the local Postgres and Redis.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use http::{header, Method, StatusCode};
use serde_json::json;
use spindle_api::auth::{sign, Claims};
use spindle_api::{settings, Ctx, Request};
use spindle_bench::{changes_api, tasks_api};
use spindle_native::testing::{TestDb, TestRedis};
use spindle_native::{MapConfig, PgPool, PooledDb, RedisPublisher, UreqHttp, SPIN_POOL_SIZE};

/// The outbound HTTP every request context carries; these routes never call out.
static HTTP: std::sync::LazyLock<UreqHttp> = std::sync::LazyLock::new(UreqHttp::new);
use spindle_ports::{Clock, Db, DbError, Param, Rows, SystemClock};

const JWT_SECRET: &str = "bench-secret";
const LIST_USER: &str = "lister";
const LIST_TASKS: i64 = 10_000;
const LIST_SAMPLES: usize = 400;
/// Users that get an event while waiting; each wakes its waiters.
const WOKEN_USERS: usize = 100;

/// A session whose connection is never handed back before the request ends:
/// how the long-poll behaved before it released its connection.
struct Holding(PooledDb);

impl Db for Holding {
    fn query(&self, sql: &str, params: &[Param]) -> Result<Rows, DbError> {
        self.0.query(sql, params)
    }
    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
        self.0.execute(sql, params)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Waiting {
    Redis,
    DbPoll,
    Hold,
}

impl Waiting {
    fn name(self) -> &'static str {
        match self {
            Waiting::Redis => "redis counter",
            Waiting::DbPoll => "outbox poll 1 s (no Redis)",
            Waiting::Hold => "hold the connection (before)",
        }
    }
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let clients: usize = args.next().map_or(Ok(1_000), |a| a.parse())?;
    let wait: u64 = args.next().map_or(Ok(25), |a| a.parse())?;
    let test_db = TestDb::new();
    seed(&test_db.connect())?;
    let pool = PgPool::new(test_db.url(), SPIN_POOL_SIZE)?;
    let redis_url = TestRedis::new().url().to_owned();
    let config = MapConfig::new().with(settings::JWT_SECRET, JWT_SECRET);

    println!("{clients} long-polling clients (wait={wait}s), pool of {SPIN_POOL_SIZE}, {LIST_TASKS} tasks listed\n");
    println!(
        "| waiting | list p50 idle | list p99 idle | list p50 busy | list p99 busy | p99 ratio | wake p50 | wake p99 | wake max |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for waiting in [Waiting::Redis, Waiting::DbPoll, Waiting::Hold] {
        let run = Run {
            pool: &pool,
            config: &config,
            redis_url: &redis_url,
            waiting,
            clients,
            wait,
        };
        run.measure()?;
    }
    Ok(())
}

struct Run<'a> {
    pool: &'a Arc<PgPool>,
    config: &'a MapConfig,
    redis_url: &'a str,
    waiting: Waiting,
    clients: usize,
    wait: u64,
}

impl Run<'_> {
    fn measure(&self) -> Result<()> {
        let idle = self.list_latencies(LIST_SAMPLES)?;
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let user = |n: usize| format!("waiter-{tag}-{}", n % (self.clients / 2).max(1));
        let returned: Mutex<Vec<(String, Instant, usize)>> = Mutex::new(Vec::new());
        let stop = AtomicBool::new(false);
        let publishers: Vec<RedisPublisher> = (0..32)
            .map(|_| {
                RedisPublisher::new(match self.waiting {
                    Waiting::DbPoll => "redis://127.0.0.1:1",
                    _ => self.redis_url,
                })
            })
            .collect();
        let (busy, wakes) = std::thread::scope(|scope| -> Result<_> {
            for n in 0..self.clients {
                let (user, returned, stop, publisher) =
                    (user(n), &returned, &stop, &publishers[n % publishers.len()]);
                std::thread::Builder::new()
                    .stack_size(256 * 1024)
                    .spawn_scoped(scope, move || {
                        // Clients arrive spread over a second, as real ones do,
                        // rather than polling in lockstep.
                        std::thread::sleep(Duration::from_micros(
                            (n as u64 * 1_000_000) / self.clients as u64,
                        ));
                        let request = get(&format!("/api/changes?wait={}", self.wait()), &user);
                        // A client whose wait ends empty asks again, as a browser does.
                        while !stop.load(Ordering::SeqCst) {
                            let status = if self.waiting == Waiting::Hold {
                                let db = Holding(self.pool.session());
                                let ctx = self.ctx(&db, publisher);
                                let response = changes_api(&ctx, request.clone());
                                (response.status(), events_in(response.body()))
                            } else {
                                let db = self.pool.session();
                                let ctx = self.ctx(&db, publisher);
                                let response = changes_api(&ctx, request.clone());
                                (response.status(), events_in(response.body()))
                            };
                            if status.1 > 0 {
                                returned.lock().unwrap().push((
                                    user.clone(),
                                    Instant::now(),
                                    status.1,
                                ));
                                return;
                            }
                        }
                    })?;
            }
            // Let every client reach its wait.
            std::thread::sleep(Duration::from_secs(3));
            let busy = self.list_latencies(if self.waiting == Waiting::Hold {
                5
            } else {
                LIST_SAMPLES / 2
            })?;
            let writer_publisher = RedisPublisher::new(self.redis_url);
            let mut written = Vec::new();
            for n in 0..self.woken_users() {
                let user = user(n);
                let db = self.pool.session();
                let ctx = self.ctx(&db, &writer_publisher);
                let response = tasks_api(&ctx, post(&user));
                ensure!(response.status() == StatusCode::CREATED, "a write failed");
                written.push((user, Instant::now()));
                std::thread::sleep(Duration::from_millis(20));
            }
            // Give every woken client time to answer, then release the rest.
            std::thread::sleep(Duration::from_secs(3));
            stop.store(true, Ordering::SeqCst);
            let returned = returned.lock().unwrap();
            let mut wakes = Vec::new();
            for (user, at) in &written {
                for (_, woke, _) in returned.iter().filter(|(u, _, _)| u == user) {
                    wakes.push(woke.saturating_duration_since(*at));
                }
            }
            Ok((busy, wakes))
        })?;
        let (mut idle, mut busy, mut wakes) = (idle, busy, wakes);
        let expected = 2 * self.woken_users();
        println!(
            "| {} | {} | {} | {} | {} | {:.2}× | {} | {} | {} ({} of {expected} woke) |",
            self.waiting.name(),
            ms(percentile(&mut idle, 50)),
            ms(percentile(&mut idle, 99)),
            ms(percentile(&mut busy, 50)),
            ms(percentile(&mut busy, 99)),
            percentile(&mut busy, 99).as_secs_f64() / percentile(&mut idle, 99).as_secs_f64(),
            ms(percentile(&mut wakes, 50)),
            ms(percentile(&mut wakes, 99)),
            ms(percentile(&mut wakes, 100)),
            wakes.len(),
        );
        Ok(())
    }

    fn wait(&self) -> u64 {
        if self.waiting == Waiting::Hold {
            2
        } else {
            self.wait
        }
    }

    /// Each of these users has two waiting clients.
    fn woken_users(&self) -> usize {
        if self.waiting == Waiting::Hold {
            0
        } else {
            WOKEN_USERS.min(self.clients / 2).max(1)
        }
    }

    fn ctx<'c, D: Db>(
        &'c self,
        db: &'c D,
        publisher: &'c RedisPublisher,
    ) -> Ctx<'c, D, RedisPublisher> {
        Ctx {
            db,
            publisher,
            clock: &SystemClock,
            config: self.config,
            http: &*HTTP,
        }
    }

    /// `samples` plain list requests, one after the other, each on a fresh session.
    fn list_latencies(&self, samples: usize) -> Result<Vec<Duration>> {
        let publisher = RedisPublisher::new(self.redis_url);
        let request = get("/api/tasks?limit=5", LIST_USER);
        let mut latencies = Vec::with_capacity(samples);
        for _ in 0..samples {
            let started = Instant::now();
            let db = self.pool.session();
            let response = tasks_api(&self.ctx(&db, &publisher), request.clone());
            drop(db);
            latencies.push(started.elapsed());
            ensure!(response.status() == StatusCode::OK, "the list failed");
        }
        Ok(latencies)
    }
}

fn events_in(body: &[u8]) -> usize {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["items"].as_array().map(Vec::len))
        .unwrap_or(0)
}

fn seed(db: &impl Db) -> Result<()> {
    db.execute(
        "INSERT INTO tasks (id, user_id, title, due_at, created_at, updated_at)
         SELECT gen_random_uuid(), $1, 'task ' || g, now() + g * interval '1 minute', now(), now()
           FROM generate_series(1, $2::int8) g",
        &[Param::Str(LIST_USER.to_owned()), Param::Int64(LIST_TASKS)],
    )?;
    db.execute("VACUUM (ANALYZE) tasks", &[])?;
    Ok(())
}

fn token(user: &str) -> String {
    let now = SystemClock.now_micros() / 1_000_000;
    let claims = Claims {
        sub: user.to_owned(),
        exp: Some(now + 3_600),
        nbf: None,
        iat: None,
    };
    format!("Bearer {}", sign(&claims, JWT_SECRET.as_bytes()))
}

fn get(uri: &str, user: &str) -> Request {
    http::Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header(header::AUTHORIZATION, token(user))
        .body(Vec::new())
        .expect("a well-formed GET request")
}

fn post(user: &str) -> Request {
    http::Request::builder()
        .method(Method::POST)
        .uri("/api/tasks")
        .header(header::AUTHORIZATION, token(user))
        .header(header::CONTENT_TYPE, "application/json")
        .body(json!({ "title": "wake up" }).to_string().into_bytes())
        .expect("a well-formed POST request")
}

fn percentile(samples: &mut [Duration], p: usize) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let index = (samples.len() * p / 100).min(samples.len() - 1);
    samples[index]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1_000.0)
}

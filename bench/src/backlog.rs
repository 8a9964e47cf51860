//! A backlog of outbox events and a counter of what reaches Redis: what the
//! relay benchmarks (`bench-events throughput`, `bench-relay-aging`) share.

use std::sync::mpsc;
use std::time::Duration;

use spindle_events::audit;
use spindle_events::relay::{self, RelaySettings, TickTimings};
use spindle_native::testing::TestRedis;
use spindle_native::{PgDb, RedisPublisher};
use spindle_ports::{Db, DbError, Param};

/// Inserts `n` due, unpublished task events with realistic envelopes in one statement.
pub fn insert_backlog(db: &PgDb, channel: &str, n: usize) -> Result<u64, DbError> {
    db.execute(
        "INSERT INTO outbox (event_id, type, channel, user_id, task_id, envelope, next_attempt_at)
         SELECT e.id, 'task.updated', $1, 'user-' || (e.i % 100), e.task,
                jsonb_build_object(
                    'specversion', '1.0', 'id', e.id, 'source', '/spindle/tasks', 'type', 'task.updated',
                    'subject', 'tasks/' || e.task, 'time', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                    'datacontenttype', 'application/json', 'userid', 'user-' || (e.i % 100),
                    'data', jsonb_build_object(
                        'task', jsonb_build_object(
                            'id', e.task, 'title', 'Task number ' || e.i, 'description', 'Something to do',
                            'priority', 'P2', 'tags', jsonb_build_array('home', 'errands'), 'status', 'open',
                            'completed_at', NULL, 'due_at', NULL, 'timezone', 'Europe/Paris', 'recurrence', NULL,
                            'reminders', '[]'::jsonb, 'version', 2,
                            'created_at', '2026-03-01T09:00:00Z', 'updated_at', '2026-03-01T09:05:00Z'),
                        'changes', jsonb_build_object('title', jsonb_build_object('from', 'Old', 'to', 'Task number ' || e.i)))),
                now() - interval '1 second'
         FROM (SELECT i, gen_random_uuid() AS id, gen_random_uuid() AS task
               FROM generate_series(1, $2::int8) AS i) AS e",
        &[Param::Str(channel.to_owned()), Param::Int64(n as i64)],
    )
}

pub struct Counter {
    handle: std::thread::JoinHandle<usize>,
    expected: mpsc::Sender<usize>,
}

/// Counts messages on `channel` on a thread of its own (subscribed before this returns).
pub fn count_messages(redis: &TestRedis, channel: &str) -> Counter {
    let subscription = redis.subscribe(channel);
    let (expected_tx, expected_rx) = mpsc::channel::<usize>();
    let handle = std::thread::spawn(move || {
        let mut heard = 0;
        let mut target: Option<usize> = None;
        loop {
            if target.is_none() {
                target = expected_rx.try_recv().ok();
            }
            if target.is_some_and(|t| heard >= t) {
                return heard;
            }
            match subscription.recv_timeout(Duration::from_secs(5)) {
                Some(_) => heard += 1,
                None if target.is_some() => return heard,
                None => {}
            }
        }
    });
    Counter {
        handle,
        expected: expected_tx,
    }
}

impl Counter {
    pub fn finish(self, expected: usize) -> anyhow::Result<usize> {
        let _ = self.expected.send(expected);
        self.handle
            .join()
            .map_err(|_| anyhow::anyhow!("the counting thread panicked"))
    }
}

/// What draining a backlog through the relay measured.
#[derive(Debug)]
pub struct Drain {
    pub published: usize,
    pub elapsed: Duration,
    pub batches: usize,
    pub timings: TickTimings,
    /// A second tick with nothing due: the cost of an idle tick over this outbox.
    pub idle: Duration,
    pub idle_timings: TickTimings,
}

impl Drain {
    pub fn events_per_second(&self) -> f64 {
        self.published as f64 / self.elapsed.as_secs_f64()
    }
}

/// Inserts a backlog of `n` unpublished events on a fresh channel and drains it
/// with one `relay::tick` through Redis (a subscriber counts what arrives),
/// then runs an idle tick. Fails unless every event was published and heard.
pub fn drain_backlog(db: &PgDb, redis: &TestRedis, n: usize, batch: u32) -> anyhow::Result<Drain> {
    let publisher = RedisPublisher::new(redis.url());
    let channel = redis.unique_channel("task-events");
    insert_backlog(db, &channel, n)?;
    let counter = count_messages(redis, &channel);
    // Redelivery far out, so the tick after the drain is truly idle.
    let settings = RelaySettings {
        batch_size: batch,
        base_delay: Duration::from_secs(3600),
        time_budget: Duration::from_secs(600),
        ..RelaySettings::default()
    }
    .requiring(&channel, &[audit::CONSUMER]);
    let tick = relay::tick(db, &publisher, &settings).map_err(|e| anyhow::anyhow!("{e}"))?;
    let heard = counter.finish(n)?;
    if tick.published != n || heard != n {
        anyhow::bail!(
            "the relay published {} and the subscriber heard {heard} of {n}",
            tick.published
        );
    }
    let idle = relay::tick(db, &publisher, &settings).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Drain {
        published: tick.published,
        elapsed: tick.elapsed,
        batches: tick.batches,
        timings: tick.timings,
        idle: idle.elapsed,
        idle_timings: idle.timings,
    })
}

//! Retention and the heartbeat, through the real tick on a real database:
//! what is old and finished goes, a batch per table per run; what is pending,
//! unread, dead-lettered or audit history stays; two ticks at once run it once.

mod reminders_support;

use std::sync::Barrier;

use reminders_support::{count, Env, USER};
use spindle_native::testing::TestDb;
use spindle_native::PgDb;
use spindle_ports::{Db, Param};
use spindle_reminders::retention::{self, RetentionReport, RetentionSettings};
use spindle_reminders::tick;

fn exec(db: &PgDb, sql: &str) {
    db.execute(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// An outbox event of `user`, named by its `type` so the test can find it;
/// `state` is SQL for (delivered_at, dead_at). Returns its seq.
fn event(db: &PgDb, user: &str, name: &str, delivered_at: &str, dead_at: &str) -> i64 {
    db.query(
        &format!(
            "INSERT INTO outbox (event_id, type, channel, user_id, envelope, published_at,
                                 delivered_at, dead_at)
             VALUES (gen_random_uuid(), $1, 'task-events', $2, '{{}}'::jsonb, now(), {delivered_at}, {dead_at})
             RETURNING seq"
        ),
        &[Param::Str(name.to_owned()), Param::Str(user.to_owned())],
    )
    .expect("inserting an event")
    .first()
    .expect("a seq")
    .i64("seq")
    .expect("seq")
}

/// Every table retention looks at, with one row of each kind that must go
/// (named `old-…`) and of each kind that must stay. Returns the seq of the
/// one event that must go.
fn seed(db: &PgDb) -> i64 {
    let old = event(
        db,
        USER,
        "old-delivered",
        "now() - interval '8 days'",
        "NULL",
    );
    event(
        db,
        USER,
        "recent-delivered",
        "now() - interval '6 days'",
        "NULL",
    );
    let pending = event(db, USER, "pending", "NULL", "NULL");
    let dead = event(db, USER, "dead", "NULL", "now() - interval '30 days'");
    exec(
        db,
        &format!("UPDATE outbox SET created_at = now() - interval '30 days' WHERE seq IN ({pending}, {dead})"),
    );
    exec(
        db,
        &format!("INSERT INTO dead_letters (seq, event_id, channel, reason, attempts)
                  SELECT seq, event_id, channel, 'never processed', 8 FROM outbox WHERE seq = {dead}"),
    );
    // Effect-once and failure records: of a delivered-and-deleted event and of
    // an event no longer in the outbox (go), of the pending and the dead event
    // (stay, however old: they may be republished), and a recent one (stays).
    exec(
        db,
        "INSERT INTO processed_events (consumer, event_id, processed_at)
         SELECT 'audit', event_id, now() - interval '8 days' FROM outbox WHERE type IN ('old-delivered', 'pending', 'dead')
         UNION ALL SELECT 'audit', gen_random_uuid(), now() - interval '8 days'
         UNION ALL SELECT 'audit', event_id, now() - interval '1 day' FROM outbox WHERE type = 'recent-delivered'",
    );
    exec(
        db,
        "INSERT INTO consumer_failures (consumer, event_id, last_error, last_failed_at)
         SELECT 'audit', event_id, 'boom', now() - interval '8 days' FROM outbox WHERE type = 'dead'
         UNION ALL SELECT 'audit', gen_random_uuid(), 'boom', now() - interval '8 days'",
    );
    exec(
        db,
        "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES
             ('alice', 'old-key', 'h', now() - interval '25 hours'),
             ('alice', 'recent-key', 'h', now() - interval '23 hours')",
    );
    exec(
        db,
        "INSERT INTO channels (id, user_id, kind, name, target, secret, created_at, updated_at)
         VALUES ('00000000-0000-4000-8000-000000000001', 'alice', 'webhook', 'hook',
                 'https://hooks.example/x', 'whsec_x', now(), now())",
    );
    exec(
        db,
        "INSERT INTO deliveries (id, channel_id, user_id, payload, state, next_attempt_at, created_at, updated_at)
         SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', 'alice', '{}'::jsonb,
                s.state, now(), now() - s.age, now() - s.age
           FROM (VALUES ('delivered', interval '31 days'), ('failed', interval '31 days'),
                        ('skipped', interval '31 days'), ('pending', interval '31 days'),
                        ('sending', interval '31 days'), ('delivered', interval '29 days')) AS s(state, age)",
    );
    exec(
        db,
        "INSERT INTO notifications (id, user_id, kind, title, created_at, read_at)
         SELECT gen_random_uuid(), 'alice', 'reminder', n.title, now() - n.age, n.read_at
           FROM (VALUES ('old-read', interval '91 days', now() - interval '90 days'),
                        ('old-unread', interval '400 days', NULL::timestamptz),
                        ('recent-read', interval '89 days', now())) AS n(title, age, read_at)",
    );
    exec(
        db,
        "INSERT INTO audit_log (event_id, seq, user_id, task_id, type, actor, occurred_at)
         VALUES (gen_random_uuid(), 1, 'alice', gen_random_uuid(), 'task.created', 'alice',
                 now() - interval '5 years')",
    );
    old
}

#[test]
fn retention_deletes_exactly_what_is_old_and_finished_and_keeps_the_rest() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let old = seed(&db);

    let report = retention::run(&db, &RetentionSettings::default()).expect("a retention run");
    assert_eq!(
        report,
        RetentionReport {
            outbox: 1,
            processed_events: 2,
            consumer_failures: 1,
            idempotency_keys: 1,
            deliveries: 3,
            notifications: 1,
        }
    );
    let outbox: Vec<String> = db
        .query("SELECT type FROM outbox ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|r| r.str("type").unwrap())
        .collect();
    assert_eq!(outbox, ["recent-delivered", "pending", "dead"]);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM dead_letters WHERE replayed_at IS NULL"
        ),
        1,
        "an open dead letter is never deleted on its own"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM processed_events p JOIN outbox o USING (event_id)
              WHERE o.type IN ('pending', 'dead', 'recent-delivered')"
        ),
        3
    );
    assert_eq!(count(&db, "SELECT count(*) AS n FROM processed_events"), 3);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM consumer_failures"), 1);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM idempotency_keys WHERE key = 'recent-key'"
        ),
        1
    );
    assert_eq!(count(&db, "SELECT count(*) AS n FROM idempotency_keys"), 1);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM deliveries
              WHERE state IN ('pending', 'sending') OR updated_at > now() - interval '30 days'"
        ),
        3
    );
    assert_eq!(count(&db, "SELECT count(*) AS n FROM deliveries"), 3);
    let titles: Vec<String> = db
        .query("SELECT title FROM notifications ORDER BY title", &[])
        .unwrap()
        .iter()
        .map(|r| r.str("title").unwrap())
        .collect();
    assert_eq!(titles, ["old-unread", "recent-read"]);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM audit_log"), 1);
    assert_eq!(
        count(
            &db,
            &format!("SELECT count(*) AS n FROM feed_horizon WHERE user_id = 'alice' AND pruned_seq = {old}")
        ),
        1,
        "the horizon is the seq of the deleted event"
    );

    let again = retention::run(&db, &RetentionSettings::default()).unwrap();
    assert_eq!(again.total(), 0, "nothing old is left: {again:?}");
}

#[test]
fn a_run_deletes_at_most_the_batch_per_table_oldest_first() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    exec(
        &db,
        "INSERT INTO outbox (event_id, type, channel, user_id, envelope, published_at, delivered_at)
         SELECT gen_random_uuid(), 'e' || i, 'task-events', 'user-' || (i % 2), '{}'::jsonb, now(),
                now() - interval '10 days' + i * interval '1 minute'
           FROM generate_series(1, 7) AS i",
    );
    exec(
        &db,
        "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)
         SELECT 'alice', 'k' || i, 'h', now() - interval '2 days' FROM generate_series(1, 7) AS i",
    );
    let expected: Vec<(String, i64)> = db
        .query(
            "SELECT user_id, max(seq) AS seq FROM outbox GROUP BY user_id ORDER BY user_id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.str("user_id").unwrap(), r.i64("seq").unwrap()))
        .collect();
    let settings = RetentionSettings {
        batch: 3,
        ..RetentionSettings::default()
    };
    let run = || {
        let r = retention::run(&db, &settings).unwrap();
        (r.outbox, r.idempotency_keys)
    };
    assert_eq!(run(), (3, 3));
    let left: Vec<String> = db
        .query("SELECT type FROM outbox ORDER BY delivered_at", &[])
        .unwrap()
        .iter()
        .map(|r| r.str("type").unwrap())
        .collect();
    assert_eq!(
        left,
        ["e4", "e5", "e6", "e7"],
        "the oldest deliveries went first"
    );
    assert_eq!([run(), run(), run()], [(3, 3), (1, 1), (0, 0)]);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM outbox"), 0);
    assert_eq!(
        horizons(&db),
        expected,
        "each user's horizon is the highest seq of theirs deleted"
    );
}

fn horizons(db: &PgDb) -> Vec<(String, i64)> {
    db.query(
        "SELECT user_id, pruned_seq FROM feed_horizon ORDER BY user_id",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.str("user_id").unwrap(), r.i64("pruned_seq").unwrap()))
    .collect()
}

#[test]
fn the_heartbeat_advances_with_every_tick_and_retention_waits_its_interval() {
    let env = Env::new();
    let beat = |db: &PgDb| {
        db.query(
            "SELECT us_from_ts(last_tick_at) AS t, us_from_ts(last_retention_at) AS r FROM tick_heartbeat",
            &[],
        )
        .unwrap()
        .first()
        .map(|row| (row.i64("t").unwrap(), row.i64("r").unwrap()))
    };
    assert_eq!(beat(&env.conn), None);
    let first = env.tick();
    let (t1, r1) = beat(&env.conn).expect("the first tick records the heartbeat");
    assert!(
        first.retention.is_some(),
        "the first tick ever runs retention"
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = env.tick();
    let (t2, r2) = beat(&env.conn).unwrap();
    assert!(t2 > t1, "the heartbeat moved: {t1} → {t2}");
    assert_eq!(r2, r1, "retention is not due again within its interval");
    assert!(second.retention.is_none());

    // Once the interval has passed, the next tick runs it again.
    exec(
        &env.conn,
        "UPDATE tick_heartbeat SET last_retention_at = now() - interval '61 seconds'",
    );
    assert!(env.tick().retention.is_some());
}

#[test]
fn two_ticks_at_once_run_retention_once_and_fire_a_due_reminder_once() {
    let env = Env::new();
    env.due_reminder();
    exec(
        &env.conn,
        "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)
         SELECT 'alice', 'k' || i, 'h', now() - interval '2 days' FROM generate_series(1, 10) AS i",
    );
    let settings = env.tick_settings();
    let barrier = Barrier::new(2);
    let reports: Vec<tick::TickReport> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let conn = env.db.connect();
                    barrier.wait();
                    tick::tick(&conn, &env.publisher, &env.clock, &settings).expect("a tick")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let fired: usize = reports.iter().map(|r| r.fired).sum();
    assert_eq!(fired, 1, "{reports:?}");
    let ran: Vec<&RetentionReport> = reports
        .iter()
        .filter_map(|r| r.retention.as_ref())
        .collect();
    assert_eq!(ran.len(), 1, "exactly one tick ran retention: {reports:?}");
    assert_eq!(ran[0].idempotency_keys, 10);
    assert_eq!(
        count(&env.conn, "SELECT count(*) AS n FROM idempotency_keys"),
        0
    );
}

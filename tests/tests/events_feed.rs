//! The change feed: paging with `after_seq` cursors while writers append, and
//! long polling.

mod events_support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use events_support::*;
use spindle_domain::event::EventType;
use spindle_events::changes;
use spindle_native::testing::{TestDb, TestRedis};
use spindle_native::{PgPool, RedisPublisher};
use spindle_ports::Db;
use spindle_storage::outbox;

#[test]
fn a_reader_paging_while_writers_append_sees_every_event_exactly_once_in_order() {
    let test_db = TestDb::new();
    const WRITERS: usize = 4;
    const PER_WRITER: usize = 150;
    let written = Mutex::new(HashSet::new());
    let writing = AtomicBool::new(true);

    let seen = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (db, written) = (test_db.connect(), &written);
                scope.spawn(move || {
                    for i in 0..PER_WRITER {
                        let event = task_event(
                            USER,
                            uuid::Uuid::new_v4(),
                            EventType::TaskCreated,
                            &format!("{w}-{i}"),
                        );
                        // Some other user's writes interleave; the feed must not show them.
                        let noise = task_event(
                            "bob",
                            uuid::Uuid::new_v4(),
                            EventType::TaskCreated,
                            "noise",
                        );
                        db.transaction(|tx| {
                            outbox::append(tx, "task-events", &event, None)?;
                            outbox::append(tx, "task-events", &noise, None)?;
                            // Hold the transaction open a little, as a real write does,
                            // so that sequence numbers are taken long before commit.
                            std::thread::sleep(Duration::from_micros(300 * (i % 4) as u64));
                            Ok::<_, spindle_ports::DbError>(())
                        })
                        .unwrap();
                        written.lock().unwrap().insert(event.id);
                    }
                })
            })
            .collect();
        let reader = scope.spawn(|| {
            let db = test_db.connect();
            let mut cursor = 0;
            let mut seen = Vec::new();
            loop {
                let done = !writing.load(Ordering::SeqCst);
                let page = outbox::feed(&db, USER, cursor, 25).unwrap();
                if page.is_empty() && done {
                    return seen;
                }
                for event in page {
                    let seq = event.seq().unwrap();
                    assert!(seq > cursor, "out of order: {seq} after {cursor}");
                    assert_eq!(event.userid, USER);
                    cursor = seq;
                    seen.push(event.id);
                }
            }
        });
        for writer in writers {
            writer.join().unwrap();
        }
        writing.store(false, Ordering::SeqCst);
        reader.join().unwrap()
    });

    let written = written.into_inner().unwrap();
    assert_eq!(seen.len(), WRITERS * PER_WRITER, "every event once");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), written);
}

#[test]
fn the_latest_sequence_is_where_a_new_listener_starts() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    assert_eq!(changes::latest_seq(&db, USER).unwrap(), 0);
    let first = append(
        &db,
        "unused",
        &task_event(USER, uuid::Uuid::new_v4(), EventType::TaskCreated, "a"),
    );
    append(
        &db,
        "unused",
        &task_event("bob", uuid::Uuid::new_v4(), EventType::TaskCreated, "b"),
    );
    assert_eq!(changes::latest_seq(&db, USER).unwrap(), first);

    let from = changes::latest_seq(&db, USER).unwrap();
    let next = append(
        &db,
        "unused",
        &task_event(USER, uuid::Uuid::new_v4(), EventType::TaskCreated, "c"),
    );
    let events = changes::feed(&db, USER, from, 10).unwrap();
    assert_eq!(
        events.iter().map(|e| e.seq().unwrap()).collect::<Vec<_>>(),
        vec![next]
    );
}

/// A user of its own, so that no other test bumps its feed counter in Redis.
fn fresh_user() -> String {
    format!("feed-{}", uuid::Uuid::new_v4())
}

#[test]
fn waiting_for_changes_returns_as_soon_as_an_event_is_signalled() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let user = fresh_user();
    let publisher = RedisPublisher::new(TestRedis::new().url());
    let from = changes::latest_seq(&db, &user).unwrap();

    let (events, took) = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(500));
            let writer = test_db.connect();
            append(
                &writer,
                "unused",
                &task_event(&user, uuid::Uuid::new_v4(), EventType::TaskCreated, "late"),
            );
            changes::signal(&RedisPublisher::new(TestRedis::new().url()), &user).unwrap();
        });
        let started = Instant::now();
        let events = changes::wait_for(
            &db,
            &publisher,
            &user,
            from,
            10,
            Duration::from_secs(10),
            std::thread::sleep,
        )
        .unwrap();
        (events, started.elapsed())
    });

    assert_eq!(events.len(), 1);
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(2),
        "took {took:?}"
    );
}

#[test]
fn without_redis_a_wait_still_finds_the_event_by_reading_the_outbox() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let user = fresh_user();
    // Nothing listens on port 1: every counter read fails at once.
    let no_redis = RedisPublisher::new("redis://127.0.0.1:1");
    let from = changes::latest_seq(&db, &user).unwrap();

    let events = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            append(
                &test_db.connect(),
                "unused",
                &task_event(&user, uuid::Uuid::new_v4(), EventType::TaskCreated, "quiet"),
            );
        });
        changes::wait_for(
            &db,
            &no_redis,
            &user,
            from,
            10,
            Duration::from_secs(10),
            std::thread::sleep,
        )
        .unwrap()
    });

    assert_eq!(events.len(), 1);
}

#[test]
fn waiting_for_changes_gives_up_after_the_wait_looking_every_200_ms() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let naps = Mutex::new(Vec::new());
    let user = fresh_user();

    let events = changes::wait_for(
        &db,
        &RedisPublisher::new(TestRedis::new().url()),
        &user,
        0,
        10,
        Duration::from_millis(900),
        |nap| {
            naps.lock().unwrap().push(nap);
        },
    )
    .unwrap();

    assert!(events.is_empty());
    let naps = naps.into_inner().unwrap();
    assert!(
        naps.iter().all(|nap| *nap <= Duration::from_millis(200)),
        "{naps:?}"
    );
    assert_eq!(naps.iter().sum::<Duration>(), Duration::from_millis(900));
}

#[test]
fn long_polls_hold_no_connection_so_other_requests_of_a_full_pool_go_through() {
    const POOL: usize = 4;
    const WAITERS: usize = 3 * POOL;
    let test_db = TestDb::new();
    let pool = PgPool::new(test_db.url(), POOL).unwrap();
    let user = fresh_user();
    let from = changes::latest_seq(&test_db.connect(), &user).unwrap();
    let woken = AtomicUsize::new(0);

    std::thread::scope(|scope| {
        let waiters: Vec<_> = (0..WAITERS)
            .map(|_| {
                let (session, user, woken) = (pool.session(), &user, &woken);
                scope.spawn(move || {
                    let events = changes::wait_for(
                        &session,
                        &RedisPublisher::new(TestRedis::new().url()),
                        user,
                        from,
                        10,
                        Duration::from_secs(20),
                        std::thread::sleep,
                    )
                    .unwrap();
                    woken.fetch_add(1, Ordering::SeqCst);
                    events.len()
                })
            })
            .collect();
        // Every waiter has read the feed once and is now sleeping.
        std::thread::sleep(Duration::from_millis(700));

        // Three times as many waiters as connections, yet a plain request on the
        // same pool gets a connection and an answer while they all still wait.
        let other = pool.session();
        let answered = other.query("SELECT count(*) AS n FROM tasks", &[]).unwrap();
        assert_eq!(answered.len(), 1);
        drop(other);
        assert_eq!(
            woken.load(Ordering::SeqCst),
            0,
            "no waiter has returned yet"
        );
        assert_eq!(
            pool.in_use(),
            0,
            "waiters hold no connection while they wait"
        );

        append(
            &test_db.connect(),
            "unused",
            &task_event(&user, uuid::Uuid::new_v4(), EventType::TaskCreated, "wake"),
        );
        changes::signal(&RedisPublisher::new(TestRedis::new().url()), &user).unwrap();
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), 1, "every waiter gets the event");
        }
    });
}

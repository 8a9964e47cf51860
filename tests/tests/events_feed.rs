//! The change feed: paging with `after_seq` cursors while writers append, and
//! long polling.

mod events_support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use events_support::*;
use spindle_domain::event::EventType;
use spindle_events::changes;
use spindle_native::testing::TestDb;
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

#[test]
fn waiting_for_changes_returns_as_soon_as_an_event_arrives() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let from = changes::latest_seq(&db, USER).unwrap();

    let (events, took) = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(500));
            let writer = test_db.connect();
            append(
                &writer,
                "unused",
                &task_event(USER, uuid::Uuid::new_v4(), EventType::TaskCreated, "late"),
            );
        });
        let started = Instant::now();
        let events = changes::wait_for(
            &db,
            USER,
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
fn waiting_for_changes_gives_up_after_the_wait_polling_every_200_ms() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let naps = Mutex::new(Vec::new());

    let events = changes::wait_for(&db, USER, 0, 10, Duration::from_millis(900), |nap| {
        naps.lock().unwrap().push(nap);
    })
    .unwrap();

    assert!(events.is_empty());
    let naps = naps.into_inner().unwrap();
    assert!(
        naps.iter().all(|nap| *nap <= Duration::from_millis(200)),
        "{naps:?}"
    );
    assert_eq!(naps.iter().sum::<Duration>(), Duration::from_millis(900));
}

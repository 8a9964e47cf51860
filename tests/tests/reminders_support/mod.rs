//! Shared by the `reminders_*` tests: a database with tasks and reminders, the
//! tick and the notifier on a private Redis channel, a webhook receiver on
//! loopback, a clock the test moves, and an independent Standard Webhooks check.
#![allow(dead_code)]

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use spindle_domain::{ChannelName, Instant, NetworkPolicy, WebhookUrl};
use spindle_events::relay::RelaySettings;
use spindle_native::testing::{Received, Receiver, Subscription, TestDb, TestRedis};
use spindle_native::{FixedClock, PgDb, RedisPublisher, UreqHttp};
use spindle_ports::{Db, Param, Timeouts};
use spindle_reminders::notifier::{self, Handled};
use spindle_reminders::tick::{self, TickReport, TickSettings};
use spindle_reminders::Settings;
use spindle_storage::channels::Channel;

pub const USER: &str = "alice";
/// 2026-03-01T12:00:00Z.
pub const NOW_MICROS: i64 = 1_772_366_400_000_000;

pub struct Env {
    pub db: TestDb,
    pub conn: PgDb,
    pub clock: FixedClock,
    pub publisher: RedisPublisher,
    pub subscription: Subscription,
    pub http: UreqHttp,
    pub settings: Settings,
    pub relay: RelaySettings,
}

impl Env {
    pub fn new() -> Env {
        let db = TestDb::new();
        let conn = db.connect();
        let redis = TestRedis::new();
        let channel = redis.unique_channel("reminders");
        let subscription = redis.subscribe(&channel);
        let settings = Settings {
            channel: channel.clone(),
            network_policy: NetworkPolicy::AllowPrivate,
            timeouts: Timeouts {
                connect: Duration::from_secs(2),
                total: Duration::from_secs(2),
            },
            ..Settings::default()
        };
        let relay = RelaySettings {
            required_consumers: vec![(channel, vec![notifier::CONSUMER.to_owned()])],
            ..RelaySettings::default()
        };
        Env {
            db,
            conn,
            clock: FixedClock::new(NOW_MICROS),
            publisher: RedisPublisher::new(redis.url()),
            subscription,
            http: UreqHttp::new(),
            settings,
            relay,
        }
    }

    pub fn now(&self) -> Instant {
        Instant::from_micros(spindle_ports::Clock::now_micros(&self.clock))
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Creates `count` open tasks of `user`, each with one absolute reminder at
    /// `fire_at` (one statement); returns the reminder ids.
    pub fn tasks_with_reminders(
        &self,
        user: &str,
        count: i64,
        fire_at: Instant,
    ) -> Vec<uuid::Uuid> {
        let rows = self
            .conn
            .query(
                "WITH t AS (
                     INSERT INTO tasks (id, user_id, title, priority, tags, due_at, timezone,
                                        created_at, updated_at)
                     SELECT gen_random_uuid(), $1, 'Task ' || n, 2, ARRAY['home'],
                            ts_from_us($2 + 3600000000), 'Europe/Paris', ts_from_us($3), ts_from_us($3)
                       FROM generate_series(1, $4::int8) AS n
                     RETURNING id, user_id)
                 INSERT INTO reminders (id, task_id, user_id, position, at, fire_at, state, created_at)
                 SELECT gen_random_uuid(), t.id, t.user_id, 0, ts_from_us($2), ts_from_us($2),
                        'pending', ts_from_us($3)
                   FROM t
                 RETURNING id::text AS id",
                &[
                    Param::Str(user.to_owned()),
                    Param::Int64(fire_at.micros()),
                    Param::Int64(NOW_MICROS),
                    Param::Int64(count),
                ],
            )
            .expect("creating tasks with reminders");
        rows.iter()
            .map(|r| uuid::Uuid::parse_str(&r.str("id").unwrap()).unwrap())
            .collect()
    }

    /// One reminder due now.
    pub fn due_reminder(&self) -> uuid::Uuid {
        self.tasks_with_reminders(USER, 1, self.now())[0]
    }

    /// A webhook channel of `user` to `url` (registered with private addresses
    /// allowed); returns it and its secret.
    pub fn webhook(&self, user: &str, url: &str) -> (Channel, String) {
        spindle_reminders::channels::create_webhook(
            &self.conn,
            user,
            &ChannelName::parse("hook").unwrap(),
            &WebhookUrl::parse(url, NetworkPolicy::AllowPrivate).unwrap(),
            self.now(),
        )
        .expect("registering a webhook")
    }

    /// The tick's settings: these reminder and relay settings, default retention.
    pub fn tick_settings(&self) -> TickSettings {
        TickSettings {
            reminders: self.settings.clone(),
            relay: self.relay.clone(),
            ..TickSettings::default()
        }
    }

    pub fn tick(&self) -> TickReport {
        tick::tick(
            &self.conn,
            &self.publisher,
            &self.clock,
            &self.tick_settings(),
        )
        .expect("a tick")
    }

    /// Every message published on the test's channel so far (waiting briefly for
    /// `at_least`).
    pub fn messages(&self, at_least: usize) -> Vec<Vec<u8>> {
        let mut messages = Vec::new();
        while messages.len() < at_least {
            match self.subscription.recv_timeout(Duration::from_secs(5)) {
                Some(m) => messages.push(m),
                None => break,
            }
        }
        while let Some(m) = self.subscription.recv_timeout(Duration::from_millis(100)) {
            messages.push(m);
        }
        messages
    }

    pub fn notify(&self, message: &[u8]) -> Handled {
        notifier::handle(&self.conn, &self.http, &self.clock, &self.settings, message)
            .expect("the notifier handles the message")
    }

    /// Tick, then hand every message it published to the notifier.
    pub fn tick_and_notify(&self) -> Vec<Handled> {
        self.tick();
        self.messages(0).iter().map(|m| self.notify(m)).collect()
    }

    pub fn count(&self, sql: &str) -> i64 {
        count(&self.conn, sql)
    }

    pub fn delivery_state(&self) -> (String, i64, Option<String>) {
        let rows = self
            .conn
            .query(
                "SELECT state, attempts::int8 AS attempts, last_error FROM deliveries
                  WHERE reminder_id IS NOT NULL ORDER BY created_at LIMIT 1",
                &[],
            )
            .expect("reading the delivery");
        let row = rows.first().expect("one delivery");
        (
            row.str("state").unwrap(),
            row.i64("attempts").unwrap(),
            row.opt_str("last_error").unwrap(),
        )
    }
}

/// Verifies a received webhook per the Standard Webhooks specification, written
/// here from the specification and not from the sender's code: the HMAC-SHA256,
/// keyed with the base64-decoded secret after `whsec_`, of `id.timestamp.body`,
/// must equal one of the space-separated `v1,<base64>` signatures.
pub fn signature_valid(received: &Received, secret: &str) -> bool {
    let (Some(id), Some(timestamp), Some(header)) = (
        received.header("webhook-id"),
        received.header("webhook-timestamp"),
        received.header("webhook-signature"),
    ) else {
        return false;
    };
    let key = STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .expect("a base64 secret");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&received.body);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    header
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|sig| sig == expected)
}

pub fn receiver() -> Receiver {
    Receiver::start()
}

/// The count `sql` selects as `n`, on `db`.
pub fn count(db: &impl Db, sql: &str) -> i64 {
    db.query(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .first()
        .expect("a row")
        .i64("n")
        .expect("a count n")
}

//! Channel operations beyond their SQL: registering with a fresh secret, rotating
//! it, and a test ping sent through the same delivery machinery as reminders.

use std::time::Duration;

use spindle_domain::{ChannelKind, ChannelName, Instant, WebhookUrl};
use spindle_ports::{Clock, Db, DbError, HttpClient};
use spindle_storage::channels::{self, Channel, NewChannel};
use spindle_storage::deliveries::{self, Outcome};

use crate::delivery::{self, Attempted, Senders};
use crate::settings::{micros, Settings};
use crate::webhook;

/// How long the old secret keeps signing after a rotation.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);

/// Registers a webhook channel with a new secret; returns it with the secret,
/// which is shown this once.
pub fn create_webhook(
    db: &impl Db,
    user_id: &str,
    name: &ChannelName,
    url: &WebhookUrl,
    now: Instant,
) -> Result<(Channel, String), DbError> {
    let secret = webhook::new_secret();
    let channel = channels::insert(
        db,
        &NewChannel {
            id: uuid::Uuid::new_v4(),
            user_id,
            kind: ChannelKind::Webhook,
            name: name.as_str(),
            target: url.as_str(),
            secret: Some(&secret),
        },
        now,
    )?;
    Ok((channel, secret))
}

/// Replaces the secret; the old one signs beside it for [`ROTATION_OVERLAP`].
pub fn rotate_secret(
    db: &impl Db,
    user_id: &str,
    id: uuid::Uuid,
    now: Instant,
) -> Result<Option<(Channel, String)>, DbError> {
    let secret = webhook::new_secret();
    let until = Instant::from_micros(now.micros() + micros(ROTATION_OVERLAP));
    Ok(channels::rotate_secret(db, user_id, id, &secret, until, now)?.map(|c| (c, secret)))
}

/// The result of a test ping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ping {
    pub delivery_id: uuid::Uuid,
    pub outcome: Outcome,
}

/// Sends a `ping` to the channel now (one attempt, recorded in its delivery log).
pub fn ping<D: Db, H: HttpClient>(
    db: &D,
    http: &H,
    clock: &impl Clock,
    settings: &Settings,
    channel: &Channel,
) -> Result<Ping, DbError> {
    let now = Instant::from_micros(clock.now_micros());
    let payload = delivery::ping_payload(channel.id, now);
    // Created due, so the attempt below claims it like any delivery.
    let id = deliveries::create_ping(db, &channel.user_id, channel.id, &payload, now, now)?;
    let senders = Senders::new(http, settings);
    // A ping is never retried: one attempt is all it has.
    let once = Settings {
        max_delivery_attempts: 1,
        ..settings.clone()
    };
    match delivery::attempt(db, &senders, clock, &once, id)? {
        Attempted::Done { outcome, .. } => Ok(Ping {
            delivery_id: id,
            outcome,
        }),
        Attempted::NotClaimed => Err(DbError::Decode(
            "the test delivery was taken by someone else".into(),
        )),
    }
}

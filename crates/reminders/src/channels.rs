//! Channel operations beyond their SQL: registering with a fresh secret, rotating
//! it, and a test ping sent by the notifier like any delivery.

use std::time::Duration;

use spindle_domain::event::{Envelope, EventType, REMINDER_EVENT_SOURCE};
use spindle_domain::{format_instant, ChannelKind, ChannelName, Instant, WebhookUrl};
use spindle_ports::{Clock, Db, DbError, Publisher};
use spindle_storage::channels::{self, Channel, NewChannel};
use spindle_storage::deliveries;

use crate::delivery;
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

/// How long a ping waits for the notifier's answer beyond the call's own timeout.
const PING_GRACE: Duration = Duration::from_secs(2);
/// How often a ping looks at its delivery.
const PING_POLL: Duration = Duration::from_millis(100);

/// Sends a `ping` to the channel through the notifier, the only process that
/// calls user URLs, and waits for its outcome: the delivery is created due, its
/// `delivery.due` published on the reminders channel, and its row read until the
/// attempt is over. `None` when no answer came in time (the notifier is down or
/// busy); the attempt still happens later and shows in the delivery log.
pub fn ping(
    db: &impl Db,
    publisher: &impl Publisher,
    clock: &(impl Clock + ?Sized),
    settings: &Settings,
    channel: &Channel,
    sleep: impl Fn(Duration),
) -> Result<(uuid::Uuid, Option<deliveries::Status>), DbError> {
    let now = Instant::from_micros(clock.now_micros());
    let payload = delivery::ping_payload(channel.id, now);
    let announced_until = Instant::from_micros(now.micros() + micros(settings.announce_lease));
    let id = deliveries::create_ping(
        db,
        &channel.user_id,
        channel.id,
        &payload,
        now,
        announced_until,
    )?;
    let envelope = announcement(id, &channel.user_id, now);
    // Refused by the bus: the tick announces it once the lease lapses.
    let _ = publisher.publish(&settings.channel, &envelope);
    let deadline = std::time::Instant::now() + settings.timeouts.total + PING_GRACE;
    loop {
        if let Some(status) = deliveries::status(db, id)?.filter(|s| s.is_final()) {
            return Ok((id, Some(status)));
        }
        if std::time::Instant::now() >= deadline {
            return Ok((id, None));
        }
        sleep(PING_POLL);
    }
}

/// The `delivery.due` message that asks the notifier to attempt a delivery.
pub fn announcement(id: uuid::Uuid, user_id: &str, now: Instant) -> Vec<u8> {
    let envelope = Envelope::new(
        EventType::DeliveryDue,
        REMINDER_EVENT_SOURCE,
        format!("deliveries/{id}"),
        user_id,
        format_instant(now, None),
        serde_json::json!({ "delivery_id": id }),
    );
    serde_json::to_vec(&envelope).unwrap_or_default()
}

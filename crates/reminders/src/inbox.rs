//! Adding to the inbox: the entry, and its `notification.created` event in the
//! outbox so that the change feed shows it at once. Nothing here publishes: the
//! notifier's process must not talk to Redis (see the README on SSRF), so the
//! relay of the next tick publishes the event.

use spindle_domain::event::{
    Envelope, EventType, NOTIFICATIONS_CHANNEL, NOTIFICATION_EVENT_SOURCE,
};
use spindle_domain::{format_instant, Instant};
use spindle_ports::{Db, DbError};
use spindle_storage::notifications::{self, NewNotification, Notification};
use spindle_storage::outbox;

use crate::views;

/// Adds the entry in the caller's transaction; `None` when its reminder already
/// has one.
pub fn add(
    db: &impl Db,
    new: &NewNotification<'_>,
    now: Instant,
) -> Result<Option<Notification>, DbError> {
    let Some(entry) = notifications::insert(db, new, now)? else {
        return Ok(None);
    };
    let envelope = Envelope::new(
        EventType::NotificationCreated,
        NOTIFICATION_EVENT_SOURCE,
        format!("notifications/{}", entry.id),
        &entry.user_id,
        format_instant(now, None),
        serde_json::json!({ "notification": views::notification(&entry) }),
    );
    outbox::append(db, NOTIFICATIONS_CHANNEL, &envelope, entry.task_id)?;
    Ok(Some(entry))
}

//! The push message request (RFC 8030 §5): an encrypted body, its content coding, how long
//! the push service keeps it, how urgent it is, which earlier message it replaces, and the
//! VAPID authorization.

use spindle_domain::{Instant, Priority};
use uuid::Uuid;

use crate::{encrypt, EncryptError, PushSubscription, Vapid, VapidError};

/// The shortest time to live sent: a reminder whose task is already due still deserves a
/// minute to reach a phone that is briefly offline.
pub const MIN_TTL_SECONDS: u32 = 60;
/// The longest: four weeks, what push services keep at most.
pub const MAX_TTL_SECONDS: u32 = 28 * 24 * 60 * 60;

/// `TTL`: seconds the push service keeps an undelivered message (RFC 8030 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl(u32);

impl Ttl {
    /// Until the task is due (a reminder of a past deadline is stale), within
    /// [`MIN_TTL_SECONDS`]..=[`MAX_TTL_SECONDS`]; a task without a due date gets the most.
    pub fn until(due_at: Option<Instant>, now: Instant) -> Ttl {
        let seconds = match due_at {
            None => i64::from(MAX_TTL_SECONDS),
            Some(due) => due.micros().saturating_sub(now.micros()) / 1_000_000,
        };
        let clamped = seconds.clamp(i64::from(MIN_TTL_SECONDS), i64::from(MAX_TTL_SECONDS));
        Ttl(u32::try_from(clamped).unwrap_or(MAX_TTL_SECONDS))
    }

    pub fn seconds(self) -> u32 {
        self.0
    }
}

/// `Urgency` (RFC 8030 §5.3): lets a phone on battery hold back what can wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Normal,
    High,
}

impl Urgency {
    /// `high` for the most important tasks (P1), `normal` for the rest.
    pub fn for_priority(priority: Priority) -> Urgency {
        match priority {
            Priority::P1 => Urgency::High,
            Priority::P2 | Priority::P3 | Priority::P4 => Urgency::Normal,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }
}

/// `Topic` (RFC 8030 §5.4): a message with the same topic replaces one the push service
/// still holds, so a retried reminder is shown once. At most 32 characters of the
/// base64url alphabet: a UUID in hex without dashes is exactly that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic(String);

impl Topic {
    pub fn for_id(id: Uuid) -> Topic {
        Topic(id.simple().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the push message is and how the push service should treat it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOptions {
    pub ttl: Ttl,
    pub urgency: Urgency,
    pub topic: Option<Topic>,
}

/// A push message ready to `POST` to the subscription's endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRequest {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error(transparent)]
    Encrypt(#[from] EncryptError),
    #[error(transparent)]
    Vapid(#[from] VapidError),
}

/// Encrypts `payload` for `subscription` (fresh salt and key) and signs a VAPID token
/// for its push service, valid from `now`.
pub fn push_request(
    vapid: &Vapid,
    subscription: &PushSubscription,
    payload: &[u8],
    options: &PushOptions,
    now: Instant,
) -> Result<PushRequest, PushError> {
    let body = encrypt(payload, &subscription.keys)?;
    let authorization = vapid
        .key
        .authorization(&subscription.endpoint, &vapid.subject, now)?;
    let mut headers = vec![
        ("content-type", "application/octet-stream".to_owned()),
        ("content-encoding", "aes128gcm".to_owned()),
        ("ttl", options.ttl.seconds().to_string()),
        ("urgency", options.urgency.as_str().to_owned()),
        ("authorization", authorization),
    ];
    if let Some(topic) = &options.topic {
        headers.push(("topic", topic.as_str().to_owned()));
    }
    Ok(PushRequest {
        url: subscription.endpoint.as_str().to_owned(),
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000_000;

    fn at_seconds_from_now(seconds: i64) -> Option<Instant> {
        Some(Instant::from_micros(NOW + seconds * 1_000_000))
    }

    #[test]
    fn the_ttl_lasts_until_the_task_is_due_within_a_minute_and_four_weeks() {
        let now = Instant::from_micros(NOW);
        assert_eq!(Ttl::until(at_seconds_from_now(3600), now).seconds(), 3600);
        assert_eq!(Ttl::until(at_seconds_from_now(10), now).seconds(), 60);
        assert_eq!(Ttl::until(at_seconds_from_now(-86_400), now).seconds(), 60);
        assert_eq!(
            Ttl::until(at_seconds_from_now(365 * 86_400), now).seconds(),
            MAX_TTL_SECONDS
        );
        assert_eq!(Ttl::until(None, now).seconds(), MAX_TTL_SECONDS);
    }

    #[test]
    fn p1_is_high_urgency_and_the_rest_normal() {
        assert_eq!(Urgency::for_priority(Priority::P1).as_str(), "high");
        for p in [Priority::P2, Priority::P3, Priority::P4] {
            assert_eq!(Urgency::for_priority(p), Urgency::Normal);
        }
    }

    #[test]
    fn a_topic_is_32_base64url_characters() {
        let topic = Topic::for_id(Uuid::new_v4());
        assert_eq!(topic.as_str().len(), 32);
        assert!(topic
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
}

//! One attempt at one delivery, whatever the channel's kind: claim the row, check
//! the task and the channel, send, record the outcome, keep the channel's failure
//! count, disable it when it has to be.
//!
//! Each kind of channel brings a [`Sender`]; [`Senders`] picks it by kind. How a
//! result is judged (delivered, retried, failed, channel gone) is the same for all.

use spindle_domain::{format_instant, ChannelKind, Instant, WebhookUrl};
use spindle_ports::{Clock, Db, DbError, HttpClient, HttpError};
use spindle_storage::channels;
use spindle_storage::deliveries::{self, Claimed, Outcome};
use spindle_storage::notifications::{Kind, NewNotification};

use crate::push::PushSender;
use crate::settings::{micros, Settings};
use crate::{inbox, webhook};
use spindle_webpush::{PushOutcome, EXPIRED_REASON};

/// What a sender got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The receiver answered with this status.
    Status(u16),
    /// No answer.
    Failed(HttpError),
    /// The target may not be called (it does not pass the network rules).
    NotAllowed(String),
    /// A push service answered; `outcome` is what that means by the Web Push rules.
    Push { status: u16, outcome: PushOutcome },
}

/// Sends one claimed delivery to its channel.
pub trait Sender {
    fn send(&self, delivery: &Claimed, now: Instant) -> Sent;
}

/// Standard Webhooks `POST`s over the outbound HTTP port.
pub struct WebhookSender<'a, H: ?Sized> {
    pub http: &'a H,
    pub settings: &'a Settings,
}

impl<H: HttpClient + ?Sized> Sender for WebhookSender<'_, H> {
    fn send(&self, delivery: &Claimed, now: Instant) -> Sent {
        // Checked again before every send: the rules may have tightened since
        // the channel was registered.
        let url = match WebhookUrl::parse(&delivery.target, self.settings.network_policy) {
            Ok(url) => url,
            Err(reason) => return Sent::NotAllowed(reason),
        };
        let mut secrets: Vec<&str> = delivery.secret.as_deref().into_iter().collect();
        if let (Some(previous), Some(until)) =
            (&delivery.previous_secret, delivery.previous_expires_at)
        {
            if until > now {
                secrets.push(previous);
            }
        }
        let request = webhook::request(
            url.as_str(),
            &delivery.id.to_string(),
            now.micros().div_euclid(1_000_000),
            &delivery.payload,
            &secrets,
            self.settings.timeouts,
        );
        match self.http.send(&request) {
            Ok(response) => Sent::Status(response.status),
            Err(err) => Sent::Failed(err),
        }
    }
}

/// The sender of each kind of channel.
pub struct Senders<'a, H: ?Sized> {
    pub webhook: WebhookSender<'a, H>,
    pub web_push: PushSender<'a, H>,
}

impl<'a, H: HttpClient + ?Sized> Senders<'a, H> {
    pub fn new(http: &'a H, settings: &'a Settings) -> Self {
        Senders {
            webhook: WebhookSender { http, settings },
            web_push: PushSender { http, settings },
        }
    }

    fn for_kind(&self, kind: ChannelKind) -> &dyn Sender {
        match kind {
            ChannelKind::Webhook => &self.webhook,
            ChannelKind::WebPush => &self.web_push,
        }
    }
}

/// How an attempt ended, for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempted {
    /// Someone else holds the delivery, it is not due, or it is finished.
    NotClaimed,
    Done {
        outcome: Outcome,
        /// The channel was disabled by this attempt.
        disabled_channel: bool,
    },
}

/// Makes one attempt at delivery `id` if it is due.
pub fn attempt<D: Db, H: HttpClient + ?Sized>(
    db: &D,
    senders: &Senders<'_, H>,
    clock: &(impl Clock + ?Sized),
    settings: &Settings,
    id: uuid::Uuid,
) -> Result<Attempted, DbError> {
    let now = Instant::from_micros(clock.now_micros());
    let lease = micros(settings.timeouts.total) + micros(settings.announce_lease);
    let Some(claimed) = deliveries::claim(db, id, now, Instant::from_micros(now.micros() + lease))?
    else {
        return Ok(Attempted::NotClaimed);
    };
    let sent = (claimed.task_open && claimed.channel_enabled)
        .then(|| senders.for_kind(claimed.channel_kind).send(&claimed, now));
    // Judged at the time the answer came, for the retry schedule.
    let done = Instant::from_micros(clock.now_micros());
    let (outcome, verdict) = judge(&claimed, sent, settings, done);
    db.transaction(|tx| {
        deliveries::record(tx, claimed.id, &outcome, done)?;
        let disabled = account(tx, &claimed, verdict, settings, done)?;
        Ok(Attempted::Done {
            outcome,
            disabled_channel: disabled,
        })
    })
}

/// What an outcome means for the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Nothing,
    Success,
    /// A delivery failed for good.
    Failure(String),
    /// The receiver says the channel is gone.
    Gone(String),
}

fn judge(
    claimed: &Claimed,
    sent: Option<Sent>,
    settings: &Settings,
    now: Instant,
) -> (Outcome, Verdict) {
    let Some(sent) = sent else {
        let reason = if claimed.task_open {
            "not sent: the channel is disabled"
        } else {
            "not sent: the task was completed or deleted before delivery"
        };
        return (
            Outcome::Skipped {
                reason: reason.to_owned(),
            },
            Verdict::Nothing,
        );
    };
    // A test ping gets one attempt: its answer is awaited now.
    let last_attempt = claimed.reminder_id.is_none()
        || claimed.attempts >= i64::from(settings.max_delivery_attempts);
    // `not_before`: when the receiver said to come back (`Retry-After`), if later than
    // the backoff.
    let retry_or_fail = |status: Option<u16>, error: String, not_before: Option<Instant>| {
        if last_attempt {
            let reason = format!("{error}, {} attempts made", claimed.attempts);
            (
                Outcome::Failed {
                    status,
                    error: reason.clone(),
                },
                Verdict::Failure(reason),
            )
        } else {
            let backoff = now.micros() + micros(settings.retry_delay(claimed.attempts));
            let at = not_before.map_or(backoff, |t| t.micros().max(backoff));
            (
                Outcome::Retry {
                    status,
                    error,
                    at: Instant::from_micros(at),
                },
                Verdict::Nothing,
            )
        }
    };
    match sent {
        Sent::Status(status @ 200..=299) => (Outcome::Delivered { status }, Verdict::Success),
        Sent::Status(410) => {
            let reason = "the receiver answered 410 Gone".to_owned();
            (
                Outcome::Failed {
                    status: Some(410),
                    error: reason.clone(),
                },
                Verdict::Gone(reason),
            )
        }
        Sent::Status(status @ (408 | 429 | 500..=599)) => retry_or_fail(
            Some(status),
            format!("the receiver answered {status}"),
            None,
        ),
        Sent::Status(status) => {
            let reason = format!("the receiver answered {status}");
            (
                Outcome::Failed {
                    status: Some(status),
                    error: reason.clone(),
                },
                Verdict::Failure(reason),
            )
        }
        Sent::Failed(err) if err.is_transient() => retry_or_fail(None, err.to_string(), None),
        Sent::Failed(err) => {
            let reason = err.to_string();
            (
                Outcome::Failed {
                    status: None,
                    error: reason.clone(),
                },
                Verdict::Failure(reason),
            )
        }
        Sent::Push { status, outcome } => match outcome {
            PushOutcome::Delivered => (Outcome::Delivered { status }, Verdict::Success),
            PushOutcome::Expired => (
                Outcome::Failed {
                    status: Some(status),
                    error: format!("the push service answered {status}: {EXPIRED_REASON}"),
                },
                Verdict::Gone(EXPIRED_REASON.to_owned()),
            ),
            PushOutcome::Retry { not_before } => retry_or_fail(
                Some(status),
                format!("the push service answered {status}"),
                not_before,
            ),
            PushOutcome::Failed { reason } => (
                Outcome::Failed {
                    status: Some(status),
                    error: reason.clone(),
                },
                Verdict::Failure(reason),
            ),
        },
        Sent::NotAllowed(reason) => (
            Outcome::Failed {
                status: None,
                error: reason.clone(),
            },
            Verdict::Failure(reason),
        ),
    }
}

/// Keeps the channel's failure streak and disables it when due (a test ping
/// does not count). Returns whether it was disabled now.
fn account(
    db: &impl Db,
    claimed: &Claimed,
    verdict: Verdict,
    settings: &Settings,
    now: Instant,
) -> Result<bool, DbError> {
    if claimed.reminder_id.is_none() {
        return Ok(false);
    }
    let disabled = match verdict {
        Verdict::Nothing => return Ok(false),
        Verdict::Success => {
            channels::record_success(db, claimed.channel_id)?;
            return Ok(false);
        }
        Verdict::Gone(reason) => {
            let reason = format!("disabled: {reason}");
            channels::disable(db, claimed.channel_id, &reason, now)?
        }
        Verdict::Failure(last) => {
            let reason = format!(
                "disabled after {} failed deliveries in a row; the last: {last}",
                settings.channel_failure_limit
            );
            channels::record_failure(
                db,
                claimed.channel_id,
                settings.channel_failure_limit,
                &reason,
                now,
            )?
        }
    };
    if !disabled {
        return Ok(false);
    }
    let title = match channels_name(db, claimed)? {
        Some(name) => format!("Channel \"{name}\" was disabled"),
        None => "A channel was disabled".to_owned(),
    };
    inbox::add(
        db,
        &NewNotification {
            id: uuid::Uuid::new_v4(),
            user_id: &claimed.user_id,
            kind: Kind::ChannelDisabled,
            reminder_id: None,
            task_id: None,
            channel_id: Some(claimed.channel_id),
            title: &title,
            due_at: None,
            fire_at: None,
        },
        now,
    )?;
    Ok(true)
}

fn channels_name(db: &impl Db, claimed: &Claimed) -> Result<Option<String>, DbError> {
    Ok(channels::get(db, &claimed.user_id, claimed.channel_id)?.map(|c| c.name))
}

/// The body of a test ping.
pub fn ping_payload(channel_id: uuid::Uuid, now: Instant) -> serde_json::Value {
    serde_json::json!({
        "type": "ping",
        "timestamp": format_instant(now, None),
        "data": { "channel_id": channel_id },
    })
}

//! What the push service's answer means for the delivery (RFC 8030 §5, §6.2, §8).

use spindle_domain::Instant;

/// Why a channel is disabled when its push service says the subscription is gone; shown to
/// the user, who fixes it by allowing notifications again in the browser.
pub const EXPIRED_REASON: &str = "subscription expired — subscribe again";

/// The longest `Retry-After` honoured; a push service asking for more is asked again then.
pub const MAX_RETRY_AFTER_SECONDS: i64 = 24 * 60 * 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// 2xx: the push service took the message (201 Created, or 202 with a receipt).
    Delivered,
    /// 404 or 410: the subscription no longer exists; disable the channel
    /// ([`EXPIRED_REASON`]) and never send to it again.
    Expired,
    /// 429 or 5xx: try again, not before `not_before` when the service said when.
    Retry { not_before: Option<Instant> },
    /// Anything else (413 payload too large, other 4xx, a redirect): sending the same
    /// message again would fail the same way.
    Failed { reason: String },
}

/// Classifies the status and `Retry-After` header of the push service's answer.
pub fn classify(status: u16, retry_after: Option<&str>, now: Instant) -> PushOutcome {
    match status {
        200..=299 => PushOutcome::Delivered,
        404 | 410 => PushOutcome::Expired,
        // 408: the service gave up waiting for our request; nothing is wrong with it.
        408 | 429 | 500..=599 => PushOutcome::Retry {
            not_before: retry_after.and_then(|value| parse_retry_after(value, now)),
        },
        413 => PushOutcome::Failed {
            reason: "the push service refused the message as too large (413)".into(),
        },
        300..=399 => PushOutcome::Failed {
            reason: format!(
                "the push service answered with a redirect ({status}), which is not followed"
            ),
        },
        _ => PushOutcome::Failed {
            reason: format!("the push service refused the message ({status})"),
        },
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, capped at
/// [`MAX_RETRY_AFTER_SECONDS`]; unreadable values are ignored (the usual backoff applies).
pub fn parse_retry_after(value: &str, now: Instant) -> Option<Instant> {
    let value = value.trim();
    let seconds = if let Ok(seconds) = value.parse::<u64>() {
        i64::try_from(seconds).unwrap_or(i64::MAX)
    } else {
        let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
        (date.timestamp_micros() - now.micros()).div_euclid(1_000_000)
    };
    let seconds = seconds.clamp(0, MAX_RETRY_AFTER_SECONDS);
    Some(Instant::from_micros(now.micros() + seconds * 1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2023-11-14T22:13:20Z
    const NOW: i64 = 1_700_000_000_000_000;

    fn now() -> Instant {
        Instant::from_micros(NOW)
    }

    fn seconds_later(seconds: i64) -> Option<Instant> {
        Some(Instant::from_micros(NOW + seconds * 1_000_000))
    }

    #[test]
    fn created_and_accepted_are_delivered() {
        assert_eq!(classify(201, None, now()), PushOutcome::Delivered);
        assert_eq!(classify(202, None, now()), PushOutcome::Delivered);
    }

    #[test]
    fn not_found_and_gone_expire_the_subscription() {
        assert_eq!(classify(404, None, now()), PushOutcome::Expired);
        assert_eq!(classify(410, None, now()), PushOutcome::Expired);
    }

    #[test]
    fn too_large_and_other_client_errors_fail_without_retry() {
        for status in [400, 401, 403, 413, 301] {
            assert!(
                matches!(classify(status, None, now()), PushOutcome::Failed { .. }),
                "{status}"
            );
        }
    }

    #[test]
    fn throttling_and_server_errors_retry_honouring_retry_after() {
        assert_eq!(
            classify(429, Some("120"), now()),
            PushOutcome::Retry {
                not_before: seconds_later(120)
            }
        );
        assert_eq!(
            classify(503, Some("Tue, 14 Nov 2023 22:15:00 GMT"), now()),
            PushOutcome::Retry {
                not_before: seconds_later(100)
            }
        );
        assert_eq!(
            classify(500, None, now()),
            PushOutcome::Retry { not_before: None }
        );
    }

    #[test]
    fn retry_after_is_capped_and_garbage_is_ignored() {
        assert_eq!(
            parse_retry_after("99999999999", now()),
            seconds_later(MAX_RETRY_AFTER_SECONDS)
        );
        assert_eq!(
            parse_retry_after("Mon, 13 Nov 2023 00:00:00 GMT", now()),
            seconds_later(0)
        );
        assert_eq!(parse_retry_after("soon", now()), None);
        assert_eq!(parse_retry_after("-5", now()), None);
    }
}

//! What the tick and the notifier can be told through Spin variables.

use std::time::Duration;

use spindle_domain::event::REMINDERS_CHANNEL;
use spindle_domain::NetworkPolicy;
use spindle_ports::{Config, Timeouts};
use spindle_webpush::Vapid;

/// Variable: how late a reminder may be claimed and still go out (default 1 h).
pub const REMINDER_MAX_LATE: &str = "reminder_max_late";
/// Variable: failed deliveries in a row that disable a channel (default 10).
pub const CHANNEL_FAILURE_LIMIT: &str = "channel_failure_limit";
/// Variable: `true` lets webhooks reach private addresses and use `http` (dev, tests).
pub const ALLOW_PRIVATE_WEBHOOKS: &str = "allow_private_webhooks";
/// Variable: the Redis channel of reminder events (default `reminders`; the
/// notifier's trigger in `spin.toml` must subscribe to the same).
pub const REMINDERS_CHANNEL_VARIABLE: &str = "reminders_channel";
/// Variable (secret): the Web Push application server's P-256 private key, base64url.
pub const VAPID_PRIVATE_KEY: &str = "vapid_private_key";
/// Variable: how a push service reaches the operator (`mailto:` or `https:`).
pub const VAPID_SUBJECT: &str = "vapid_subject";

/// The tick's and the notifier's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The Redis channel of `reminder.due` and `delivery.due` (`reminders`; tests
    /// use their own).
    pub channel: String,
    /// A reminder claimed later than this after its `fire_at` is `missed`.
    pub max_late: Duration,
    /// Reminders claimed per transaction.
    pub batch_size: u32,
    /// The tick stops claiming after this long.
    pub time_budget: Duration,
    pub max_delivery_attempts: u32,
    pub channel_failure_limit: u32,
    pub network_policy: NetworkPolicy,
    /// For each webhook call.
    pub timeouts: Timeouts,
    /// Wait before the first retry; doubles with each attempt.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// How long the tick leaves a delivery it announced (or that the notifier is
    /// about to send) before announcing it again.
    pub announce_lease: Duration,
    /// Web Push's key pair and contact; `None` where `vapid_private_key` is not set, and
    /// then push deliveries fail saying so.
    pub vapid: Option<Vapid>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            channel: REMINDERS_CHANNEL.to_owned(),
            max_late: Duration::from_secs(3600),
            batch_size: 500,
            time_budget: Duration::from_secs(5),
            max_delivery_attempts: 8,
            channel_failure_limit: 10,
            network_policy: NetworkPolicy::PublicOnly,
            timeouts: Timeouts {
                connect: Duration::from_secs(5),
                total: Duration::from_secs(10),
            },
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(3600),
            announce_lease: Duration::from_secs(30),
            vapid: None,
        }
    }
}

/// A variable that is set to something unusable (the same error the relay's
/// settings give).
pub use spindle_events::relay::SettingsError;

impl Settings {
    pub fn from_config(config: &(impl Config + ?Sized)) -> Result<Settings, SettingsError> {
        let mut settings = Settings::default();
        if let Some(channel) = config.get(REMINDERS_CHANNEL_VARIABLE) {
            settings.channel = channel;
        }
        let bad = |name: &'static str, value: String, expected: &'static str| SettingsError {
            name,
            value,
            expected,
        };
        if let Some(value) = config.get(REMINDER_MAX_LATE) {
            settings.max_late = parse_duration(&value).ok_or_else(|| {
                bad(
                    REMINDER_MAX_LATE,
                    value,
                    "a duration such as 90s, 30m or 2h",
                )
            })?;
        }
        if let Some(n) = spindle_events::relay::max_delivery_attempts(config)? {
            settings.max_delivery_attempts = n;
        }
        if let Some(value) = config.get(CHANNEL_FAILURE_LIMIT) {
            settings.channel_failure_limit = match value.trim().parse::<u32>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => {
                    return Err(bad(
                        CHANNEL_FAILURE_LIMIT,
                        value,
                        "a whole number from 1 to 1000",
                    ))
                }
            };
        }
        if let Some(value) = config.get(ALLOW_PRIVATE_WEBHOOKS) {
            settings.network_policy = match value.trim() {
                "true" => NetworkPolicy::AllowPrivate,
                "false" => NetworkPolicy::PublicOnly,
                _ => return Err(bad(ALLOW_PRIVATE_WEBHOOKS, value, "true or false")),
            };
        }
        if let Some(key) = config.get(VAPID_PRIVATE_KEY) {
            let subject = config.get(VAPID_SUBJECT).unwrap_or_default();
            settings.vapid = Some(Vapid::from_config(&key, &subject).map_err(|e| {
                let (name, value) = match e {
                    // Never echo the private key.
                    spindle_webpush::VapidError::PrivateKey(_) => {
                        (VAPID_PRIVATE_KEY, "(hidden)".to_owned())
                    }
                    _ => (VAPID_SUBJECT, subject.clone()),
                };
                bad(
                    name,
                    value,
                    "a base64url P-256 private key (vapid_private_key) and a mailto: or https: contact (vapid_subject)",
                )
            })?);
        }
        Ok(settings)
    }

    /// The wait before the attempt after `attempts` attempts.
    pub fn retry_delay(&self, attempts: i64) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.retry_base
            .saturating_mul(1u32 << doublings)
            .min(self.retry_max)
    }
}

/// `90`, `90s`, `30m`, `2h`: seconds, minutes or hours.
fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (digits, unit) = match raw.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => raw.split_at(at),
        None => (raw, "s"),
    };
    let n: u64 = digits.parse().ok()?;
    let seconds = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

pub(crate) fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    use spindle_ports::MapConfig;

    #[test]
    fn defaults_are_one_hour_late_eight_attempts_ten_failures_public_only() {
        let s = Settings::from_config(&MapConfig::from_pairs(&[])).unwrap();
        assert_eq!(s.max_late, Duration::from_secs(3600));
        assert_eq!(s.max_delivery_attempts, 8);
        assert_eq!(s.channel_failure_limit, 10);
        assert_eq!(s.network_policy, NetworkPolicy::PublicOnly);
    }

    #[test]
    fn variables_are_read_and_bad_values_named() {
        let s = Settings::from_config(&MapConfig::from_pairs(&[
            ("reminder_max_late", "30m"),
            ("allow_private_webhooks", "true"),
        ]))
        .unwrap();
        assert_eq!(s.max_late, Duration::from_secs(1800));
        assert_eq!(s.network_policy, NetworkPolicy::AllowPrivate);
        let err = Settings::from_config(&MapConfig::from_pairs(&[("reminder_max_late", "soon")]))
            .unwrap_err();
        assert!(err.to_string().contains("reminder_max_late"));
    }

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let s = Settings::default();
        assert_eq!(s.retry_delay(1), Duration::from_secs(10));
        assert_eq!(s.retry_delay(2), Duration::from_secs(20));
        assert_eq!(s.retry_delay(3), Duration::from_secs(40));
        assert_eq!(s.retry_delay(40), Duration::from_secs(3600));
    }
}

//! The names of the Spin variables Spindle reads. Every component reads its
//! configuration through these constants, so the manifest test can check that
//! each one is declared in `spin.toml`.

pub const DB_URL: &str = "db_url";
pub const REDIS_URL: &str = "redis_url";
pub const JWT_SECRET: &str = "jwt_secret";
pub const JWT_JWKS_URL: &str = "jwt_jwks_url";
pub const JWT_ISSUER: &str = "jwt_issuer";
pub const JWT_AUDIENCE: &str = "jwt_audience";
pub const PUBLIC_BASE_URL: &str = "public_base_url";
pub const CORS_ALLOWED_ORIGINS: &str = "cors_allowed_origins";
pub const ADMIN_TOKEN: &str = "admin_token";
pub const INTERNAL_TOKEN: &str = "internal_token";
pub use spindle_events::relay::MAX_DELIVERY_ATTEMPTS;
pub use spindle_reminders::retention::{
    RETENTION_BATCH, RETENTION_DELIVERIES_DAYS, RETENTION_IDEMPOTENCY_HOURS, RETENTION_INBOX_DAYS,
    RETENTION_INTERVAL_SECONDS, RETENTION_OUTBOX_DAYS, RETENTION_PROCESSED_DAYS,
};
pub use spindle_reminders::runner::{TICK_INTERVAL_MS, TICK_LOOP_SECONDS, TICK_MODE};
pub use spindle_reminders::settings::{
    ALLOW_PRIVATE_WEBHOOKS, CHANNEL_FAILURE_LIMIT, REMINDERS_CHANNEL_VARIABLE as REMINDERS_CHANNEL,
    REMINDER_MAX_LATE, VAPID_PRIVATE_KEY, VAPID_SUBJECT,
};

/// Every variable name, for the manifest check.
pub const ALL: &[&str] = &[
    DB_URL,
    REDIS_URL,
    JWT_SECRET,
    JWT_JWKS_URL,
    JWT_ISSUER,
    JWT_AUDIENCE,
    PUBLIC_BASE_URL,
    CORS_ALLOWED_ORIGINS,
    ADMIN_TOKEN,
    INTERNAL_TOKEN,
    MAX_DELIVERY_ATTEMPTS,
    REMINDER_MAX_LATE,
    CHANNEL_FAILURE_LIMIT,
    ALLOW_PRIVATE_WEBHOOKS,
    REMINDERS_CHANNEL,
    VAPID_PRIVATE_KEY,
    VAPID_SUBJECT,
    RETENTION_INTERVAL_SECONDS,
    RETENTION_OUTBOX_DAYS,
    RETENTION_PROCESSED_DAYS,
    RETENTION_IDEMPOTENCY_HOURS,
    RETENTION_DELIVERIES_DAYS,
    RETENTION_INBOX_DAYS,
    RETENTION_BATCH,
    TICK_MODE,
    TICK_INTERVAL_MS,
    TICK_LOOP_SECONDS,
];

/// What every entry point of the tick reads besides the addresses (`ops` for
/// `/internal/tick`, `reminder-cron`, `tick`): each of these components must be
/// given all of them.
pub const TICK_VARIABLES: &[&str] = &[
    MAX_DELIVERY_ATTEMPTS,
    REMINDER_MAX_LATE,
    REMINDERS_CHANNEL,
    RETENTION_INTERVAL_SECONDS,
    RETENTION_OUTBOX_DAYS,
    RETENTION_PROCESSED_DAYS,
    RETENTION_IDEMPOTENCY_HOURS,
    RETENTION_DELIVERIES_DAYS,
    RETENTION_INBOX_DAYS,
    RETENTION_BATCH,
];

/// The variables that hold credentials: `secret = true` in `spin.toml`, never a
/// default (but see [`OPTIONAL_SECRETS`]), and on the cluster always from a
/// Kubernetes Secret.
pub const SECRETS: &[&str] = &[
    DB_URL,
    REDIS_URL,
    JWT_SECRET,
    ADMIN_TOKEN,
    INTERNAL_TOKEN,
    VAPID_PRIVATE_KEY,
];

/// Credentials a deployment may leave out: their default is the empty string, which
/// reads as unset. `jwt_secret` is not needed where an identity provider signs the
/// tokens (`jwt_jwks_url`).
pub const OPTIONAL_SECRETS: &[&str] = &[JWT_SECRET];

/// How bearer tokens are verified: the `jwt_*` variables, each read when a token
/// needs it.
pub fn auth(config: &dyn spindle_ports::Config) -> AuthVariables<'_> {
    AuthVariables(config)
}

/// The `jwt_*` variables as a [`spindle_auth::AuthSource`].
pub struct AuthVariables<'a>(&'a dyn spindle_ports::Config);

impl spindle_auth::AuthSource for AuthVariables<'_> {
    fn secret(&self) -> Option<String> {
        self.0.get(JWT_SECRET)
    }
    fn jwks_url(&self) -> Option<String> {
        self.0.get(JWT_JWKS_URL)
    }
    fn issuer(&self) -> Option<String> {
        self.0.get(JWT_ISSUER)
    }
    fn audiences(&self) -> Vec<String> {
        self.0
            .get(JWT_AUDIENCE)
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

//! The names of the Spin variables Spindle reads. Every component reads its
//! configuration through these constants, so the manifest test can check that
//! each one is declared in `spin.toml`.

pub const DB_URL: &str = "db_url";
pub const REDIS_URL: &str = "redis_url";
pub const JWT_SECRET: &str = "jwt_secret";
pub const CORS_ALLOWED_ORIGINS: &str = "cors_allowed_origins";
pub const ADMIN_TOKEN: &str = "admin_token";
pub const INTERNAL_TOKEN: &str = "internal_token";
pub const MAX_DELIVERY_ATTEMPTS: &str = "max_delivery_attempts";

/// Every variable name, for the manifest check.
pub const ALL: &[&str] = &[
    DB_URL,
    REDIS_URL,
    JWT_SECRET,
    CORS_ALLOWED_ORIGINS,
    ADMIN_TOKEN,
    INTERNAL_TOKEN,
    MAX_DELIVERY_ATTEMPTS,
];

/// The variables that hold credentials: `secret = true` in `spin.toml`, never a
/// default, and on the cluster always from a Kubernetes Secret.
pub const SECRETS: &[&str] = &[DB_URL, REDIS_URL, JWT_SECRET, ADMIN_TOKEN, INTERNAL_TOKEN];

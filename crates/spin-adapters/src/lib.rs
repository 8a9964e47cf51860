//! Spindle's ports implemented on Spin's host interfaces: Postgres through
//! `spin_sdk::pg4` (`spin:postgres/postgres@4.0.0`), Redis publishing and caching
//! through `spin_sdk::redis`, outbound HTTP through `wasi:http/outgoing-handler`, configuration through `spin_sdk::variables`.
//!
//! Components construct these in their `lib.rs` and hand them to the libraries.
//! Connections open lazily, on first use, so requests that never reach the database
//! (a CORS preflight, a 401) cost no pool checkout. The crate also compiles natively
//! (for `cargo clippy --all-targets`), but only runs inside Spin.

mod config;
mod db;
mod http;
mod kv;
mod publisher;
mod request;

pub use config::SpinConfig;
pub use db::SpinDb;
pub use http::SpinHttp;
pub use kv::SpinKv;
pub use publisher::SpinPublisher;
pub use request::read_request;

use spindle_ports::Config;

/// The database, publisher and configuration of a component, from the
/// variables that hold the Postgres and Redis addresses.
pub fn platform(db_variable: &str, redis_variable: &str) -> (SpinDb, SpinPublisher, SpinConfig) {
    let config = SpinConfig;
    let db = SpinDb::new(config.get(db_variable).unwrap_or_default());
    let publisher = SpinPublisher::new(config.get(redis_variable).unwrap_or_default());
    (db, publisher, config)
}

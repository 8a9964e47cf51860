//! Spindle's ports implemented on Spin's host interfaces: Postgres through
//! `spin_sdk::pg4` (`spin:postgres/postgres@4.0.0`), Redis publishing and caching
//! through `spin_sdk::redis`, outbound HTTP through `wasi:http/outgoing-handler`, configuration through `spin_sdk::variables`.
//!
//! Components construct these in their `lib.rs` and hand them to the libraries.
//! Addresses are read and connections opened lazily, on first use, so requests that never reach the database
//! (a CORS preflight, a 401) cost no variable read and no pool checkout. The crate also compiles natively
//! (for `cargo clippy --all-targets`), but only runs inside Spin.

mod address;
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

/// The database, publisher and configuration of a component, from the
/// variables that hold the Postgres and Redis addresses (read on first use).
pub fn platform(
    db_variable: &'static str,
    redis_variable: &'static str,
) -> (SpinDb, SpinPublisher, SpinConfig) {
    (
        SpinDb::from_variable(db_variable),
        SpinPublisher::from_variable(redis_variable),
        SpinConfig,
    )
}

//! Spindle's ports implemented natively, for tests and benchmarks.
//!
//! [`PgDb`] and [`RedisPublisher`] talk to the machine's real Postgres and Redis, and
//! [`PgDb`] copies Spin's host (which parameter types bind, which column types read,
//! how errors look, which addresses connect) so that SQL that fails in Spin fails in
//! native tests too; [`PgPool`] hands out sessions from a pool bounded like Spin's.
//! [`RedisKv`] keeps values across requests in Redis. [`UreqHttp`] sends HTTP like
//! Spin's outbound HTTP (no redirects, the same
//! timeouts and error kinds). [`FixedClock`] and [`MapConfig`] stand in for time and Spin
//! variables. The [`testing`] module gives each test a fresh database and private
//! Redis channels.

mod clock;
mod http;
mod kv;
mod pg;
mod publisher;
pub mod testing;

pub use clock::FixedClock;
pub use http::UreqHttp;
pub use kv::RedisKv;
pub use pg::{PgDb, PgPool, PooledDb, SPIN_POOL_SIZE};
pub use publisher::RedisPublisher;
pub use spindle_ports::MapConfig;

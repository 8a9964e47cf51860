//! All of Spindle's SQL, one module per table, written against the
//! [`spindle_ports::Db`] port so the same statements run in Spin and in tests.
//!
//! Spin's Postgres interface cannot read or bind `timestamptz`, so every instant
//! crosses as epoch microseconds: bound through `ts_from_us($n)` and read through
//! `us_from_ts(column)` (SQL functions defined by the first migration).

pub mod audit;
pub mod dead_letters;
pub mod idempotency;
pub mod metrics;
pub mod migrations;
pub mod outbox;
pub mod processed;
pub mod tags;
pub mod tasks;

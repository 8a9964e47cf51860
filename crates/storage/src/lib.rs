//! All of Spindle's SQL, one module per table, written against the
//! [`spindle_ports::Db`] port so the same statements run in Spin and in tests.
//!
//! Spin's Postgres interface cannot read or bind `timestamptz`, so every instant
//! is bound as epoch microseconds through `ts_from_us($n)` (a SQL function of
//! the first migration) and read as `column AT TIME ZONE 'UTC'` (a `timestamp`)
//! or as `us_from_ts(column)`.
//!
//! The hottest statements are also kept in the database as functions (a
//! [`migrations::Routine`]), which Postgres plans once per connection instead
//! of on every request; their text stays here, beside their table's other SQL.

pub mod audit;
pub mod channels;
pub mod dead_letters;
pub mod deliveries;
pub mod idempotency;
pub mod metrics;
pub mod migrations;
pub mod notifications;
pub mod outbox;
pub mod processed;
pub mod tags;
pub mod tasks;
pub mod tick_heartbeat;

/// A `uuid` column as a [`uuid::Uuid`].
pub(crate) fn uuid_column(
    row: &spindle_ports::Row<'_>,
    column: &str,
) -> Result<uuid::Uuid, spindle_ports::DbError> {
    let raw = row.str(column)?;
    uuid::Uuid::parse_str(&raw)
        .map_err(|e| spindle_ports::DbError::Decode(format!("column {column:?}: {e}")))
}

/// A nullable `uuid` column.
pub(crate) fn opt_uuid_column(
    row: &spindle_ports::Row<'_>,
    column: &str,
) -> Result<Option<uuid::Uuid>, spindle_ports::DbError> {
    if row.is_null(column)? {
        Ok(None)
    } else {
        uuid_column(row, column).map(Some)
    }
}

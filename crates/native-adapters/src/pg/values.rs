//! Reading columns exactly as Spin's host does (`convert_entry` in Spin 3.6
//! `crates/factor-outbound-pg/src/types.rs`).
//!
//! Each column is decoded through the same Rust type Spin uses, so a value Spin cannot
//! read fails here too. The important case is `timestamptz`: Spin decodes it as
//! `chrono::NaiveDateTime`, which the driver refuses, so any query that returns a
//! `timestamptz` column (even `SELECT now()`, even a NULL one) fails inside Spin.

use postgres::types::{FromSql, Type};
use postgres::Row;
use spindle_ports::{DbError, Value};

/// Converts one result row into [`Value`]s.
pub(crate) fn read_row(row: &Row) -> Result<Vec<Value>, DbError> {
    (0..row.len()).map(|index| read_value(row, index)).collect()
}

fn read_value(row: &Row, index: usize) -> Result<Value, DbError> {
    let ty = row.columns()[index].type_().clone();
    let read = match ty {
        Type::BOOL => get(row, index, Value::Bool),
        Type::INT2 => get(row, index, Value::Int16),
        Type::INT4 => get(row, index, Value::Int32),
        Type::INT8 => get(row, index, Value::Int64),
        Type::FLOAT4 => get(row, index, Value::Float32),
        Type::FLOAT8 => get(row, index, Value::Float64),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => get(row, index, Value::Str),
        Type::BYTEA => get(row, index, Value::Binary),
        Type::UUID => get(row, index, |v: uuid::Uuid| Value::Uuid(v.to_string())),
        Type::JSONB => get(row, index, |v: serde_json::Value| {
            // Serialising a `serde_json::Value` cannot fail: its keys are strings.
            Value::Jsonb(serde_json::to_vec(&v).unwrap_or_default())
        }),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => {
            get(row, index, Value::ArrayStr)
        }
        // Spin reads both through `NaiveDateTime`; the driver accepts that only for
        // `timestamp`, so a `timestamptz` fails here as it does in Spin.
        Type::TIMESTAMP | Type::TIMESTAMPTZ => get(row, index, |v: chrono::NaiveDateTime| {
            Value::Datetime(v.and_utc().timestamp_micros())
        }),
        // Types Spin can read but Spindle does not model: decoded through Spin's
        // own Rust type so that a value Spin fails on fails here too.
        Type::DATE => get(row, index, |_: chrono::NaiveDate| Value::Unsupported),
        Type::TIME => get(row, index, |_: chrono::NaiveTime| Value::Unsupported),
        Type::INT4_ARRAY => get(row, index, |_: Vec<Option<i32>>| Value::Unsupported),
        Type::INT8_ARRAY => get(row, index, |_: Vec<Option<i64>>| Value::Unsupported),
        // numeric, ranges, interval, tsvector, json, enums, …: opaque bytes in Spin.
        _ => get(row, index, |_: Opaque| Value::Unsupported),
    };
    read.map_err(|err| decode_error(row, index, &ty, &err))
}

/// Reads column `index` as `Option<T>` (NULL of any type is [`Value::Null`]).
fn get<'a, T: FromSql<'a>>(
    row: &'a Row,
    index: usize,
    to_value: impl FnOnce(T) -> Value,
) -> Result<Value, postgres::Error> {
    Ok(row
        .try_get::<_, Option<T>>(index)?
        .map_or(Value::Null, to_value))
}

fn decode_error(row: &Row, index: usize, ty: &Type, err: &postgres::Error) -> DbError {
    let column = row.columns()[index].name();
    if *ty == Type::TIMESTAMPTZ {
        return DbError::Conversion(timestamptz_guidance(column));
    }
    // Spin reports other decoding failures as a query failure without a SQLSTATE.
    DbError::Query {
        code: String::new(),
        message: format!(
            "cannot read column {column:?} of type {ty}: {}",
            super::errors::describe(err)
        ),
    }
}

/// What to do instead of selecting a `timestamptz` column.
fn timestamptz_guidance(column: &str) -> String {
    format!(
        "cannot read a timestamptz column in Spin (column {column:?}): Spin's host decodes \
         timestamps as chrono::NaiveDateTime, which the Postgres driver refuses for \
         timestamptz; select it as epoch microseconds \
         `col AT TIME ZONE 'UTC'` (a timestamp in UTC), as epoch microseconds \
         `(extract(epoch from col)*1000000)::int8` or as text `col::text`"
    )
}

/// Any value, kept as its raw bytes: Spin's `unsupported` catch-all.
struct Opaque;

impl<'a> FromSql<'a> for Opaque {
    fn from_sql(
        _ty: &Type,
        _raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Opaque)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

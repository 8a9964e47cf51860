//! [`SpinDb`]: the [`Db`] port over `spin_sdk::pg4`.

use std::cell::RefCell;

use spin_sdk::pg4;

use crate::address::Address;
use spindle_ports::{Db, DbError, Param, Rows, Value};

/// A Postgres session through Spin's host.
///
/// Holds the address and opens the `pg4::Connection` on first use, then reuses it for
/// the rest of the request or message, or until [`Db::release`] hands it back
/// (a long-poll does, before it waits). One `Connection` is one pooled client on the
/// host, so `BEGIN` … `COMMIT` across calls is one transaction; end every transaction
/// before dropping the `SpinDb`, since Spin's pool does not roll it back.
///
/// If opening fails, the next statement tries again.
pub struct SpinDb {
    address: Address,
    connection: RefCell<Option<pg4::Connection>>,
}

impl std::fmt::Debug for SpinDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The address may carry a password.
        f.debug_struct("SpinDb").finish_non_exhaustive()
    }
}

impl SpinDb {
    /// A session on the `postgres://` URL held by the Spin variable `variable`
    /// (local servers need `?sslmode=disable`, or Spin tries TLS). Nothing is read
    /// or opened until a statement runs.
    pub fn from_variable(variable: &'static str) -> SpinDb {
        SpinDb {
            address: Address::from_variable(variable),
            connection: RefCell::new(None),
        }
    }

    /// Runs `statement` on the connection, opening it first if needed. (`statement`
    /// maps the host's error itself: `pg4::PgError` is too large to pass around.)
    fn with_connection<T>(
        &self,
        statement: impl FnOnce(&pg4::Connection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut slot = self.connection.borrow_mut();
        let connection = match slot.as_ref() {
            Some(connection) => connection,
            None => &*slot.insert(pg4::Connection::open(self.address.get()).map_err(to_db_error)?),
        };
        statement(connection)
    }
}

impl Db for SpinDb {
    fn query(&self, sql: &str, params: &[Param]) -> Result<Rows, DbError> {
        let params: Vec<_> = params.iter().map(to_parameter).collect();
        let row_set = self.with_connection(|c| c.query(sql, &params).map_err(to_db_error))?;
        Ok(Rows {
            columns: row_set.columns.into_iter().map(|c| c.name).collect(),
            rows: row_set
                .rows
                .into_iter()
                .map(|row| row.into_iter().map(to_value).collect())
                .collect(),
        })
    }

    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
        let params: Vec<_> = params.iter().map(to_parameter).collect();
        self.with_connection(|c| c.execute(sql, &params).map_err(to_db_error))
    }

    /// Drops the `pg4::Connection`, which gives its client back to the host's pool.
    fn release(&self) {
        self.connection.borrow_mut().take();
    }
}

fn to_parameter(param: &Param) -> pg4::ParameterValue {
    use pg4::ParameterValue as P;
    match param {
        Param::Null => P::DbNull,
        Param::Bool(v) => P::Boolean(*v),
        Param::Int32(v) => P::Int32(*v),
        Param::Int64(v) => P::Int64(*v),
        Param::Float64(v) => P::Floating64(*v),
        Param::Str(v) => P::Str(v.clone()),
        Param::Uuid(v) => P::Uuid(v.clone()),
        Param::Jsonb(v) => P::Jsonb(v.clone()),
        Param::ArrayStr(v) => P::ArrayStr(v.clone()),
    }
}

fn to_value(value: pg4::DbValue) -> Value {
    use pg4::DbValue as V;
    match value {
        V::DbNull => Value::Null,
        V::Boolean(v) => Value::Bool(v),
        // The host never produces `int8` (a Postgres `"char"` reads as unsupported);
        // widen it rather than lose it.
        V::Int8(v) => Value::Int16(i16::from(v)),
        V::Int16(v) => Value::Int16(v),
        V::Int32(v) => Value::Int32(v),
        V::Int64(v) => Value::Int64(v),
        V::Floating32(v) => Value::Float32(v),
        V::Floating64(v) => Value::Float64(v),
        V::Str(v) => Value::Str(v),
        V::Binary(v) => Value::Binary(v),
        V::Uuid(v) => Value::Uuid(v),
        V::Jsonb(v) => Value::Jsonb(v),
        V::ArrayStr(v) => Value::ArrayStr(v),
        V::Datetime((year, month, day, hour, minute, second, nanos)) => {
            chrono::NaiveDate::from_ymd_opt(year, month.into(), day.into())
                .and_then(|date| {
                    date.and_hms_nano_opt(hour.into(), minute.into(), second.into(), nanos)
                })
                .map_or(Value::Unsupported, |at| {
                    Value::Datetime(at.and_utc().timestamp_micros())
                })
        }
        // Spindle models none of these.
        V::Date(_)
        | V::Time(_)
        | V::Timestamp(_)
        | V::Decimal(_)
        | V::RangeInt32(_)
        | V::RangeInt64(_)
        | V::RangeDecimal(_)
        | V::ArrayInt32(_)
        | V::ArrayInt64(_)
        | V::ArrayDecimal(_)
        | V::Interval(_)
        | V::Unsupported(_) => Value::Unsupported,
    }
}

fn to_db_error(err: pg4::PgError) -> DbError {
    use pg4::{PgError as E, QueryError as Q};
    match err {
        E::QueryFailed(Q::DbError(db)) => DbError::Query {
            code: db.code,
            message: db.message,
        },
        E::QueryFailed(Q::Text(text)) if is_timestamptz_read(&text) => {
            DbError::Conversion(TIMESTAMPTZ_GUIDANCE.to_owned())
        }
        E::QueryFailed(Q::Text(message)) | E::Other(message) => DbError::Query {
            code: String::new(),
            message,
        },
        E::ConnectionFailed(message) => DbError::Connection(message),
        E::BadParameter(message) => DbError::BadParameter(message),
        E::ValueConversionFailed(message) => DbError::Conversion(message),
    }
}

/// What to do instead of selecting a `timestamptz` column; the native adapter
/// reports the same failure the same way.
const TIMESTAMPTZ_GUIDANCE: &str = "cannot read a timestamptz column in Spin: Spin's host \
    decodes timestamps as chrono::NaiveDateTime, which the Postgres driver refuses for \
    timestamptz; select it as epoch microseconds `(extract(epoch from col)*1000000)::int8` \
    or as text `col::text`";

/// Whether the host failed decoding a `timestamptz` column. It reports that as untyped
/// query-failure text (the driver's `WrongType` error, "cannot convert between the Rust
/// type `chrono::naive::datetime::NaiveDateTime` and the Postgres type `timestamptz`");
/// recognising it gives the same [`DbError::Conversion`] as the native adapter.
fn is_timestamptz_read(text: &str) -> bool {
    text.contains("NaiveDateTime") && text.contains("timestamptz")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_statement_keeps_its_sqlstate() {
        let err = to_db_error(pg4::PgError::QueryFailed(pg4::QueryError::DbError(
            pg4::DbError {
                as_text: String::new(),
                severity: "ERROR".into(),
                code: "23505".into(),
                message: "duplicate key".into(),
                detail: None,
                extras: Vec::new(),
            },
        )));
        assert!(err.is_unique_violation(), "{err:?}");
    }

    #[test]
    fn reading_a_timestamptz_is_a_conversion_error_with_guidance() {
        let text = "error deserializing column 0\n\nCaused by:\n    cannot convert between \
                    the Rust type `chrono::naive::datetime::NaiveDateTime` and the Postgres \
                    type `timestamptz`";
        let err = to_db_error(pg4::PgError::QueryFailed(pg4::QueryError::Text(
            text.into(),
        )));
        assert!(
            matches!(&err, DbError::Conversion(m) if m.contains("epoch")),
            "{err:?}"
        );
    }

    #[test]
    fn an_unmodelled_column_type_reads_as_unsupported() {
        assert_eq!(
            to_value(pg4::DbValue::Decimal("1.5".into())),
            Value::Unsupported
        );
        assert_eq!(to_value(pg4::DbValue::Int8(-3)), Value::Int16(-3));
    }
}

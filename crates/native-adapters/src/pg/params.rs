//! Binding [`Param`]s exactly as Spin's host does (`to_sql_parameter` in Spin 3.6
//! `crates/factor-outbound-pg/src/types.rs`).
//!
//! Every parameter becomes the same Rust type Spin hands to the driver, so the driver's
//! type check applies unchanged: an `Int64` binds only to `int8`, a `Str` only to
//! text-like types, a `Uuid` only to `uuid`. There are deliberately no lenient
//! conversions here: SQL that Spin would refuse must be refused natively too.

use postgres::types::private::BytesMut;
use postgres::types::{IsNull, ToSql, Type};
use spindle_ports::Param;

/// A boxed parameter, as the driver takes it.
pub(crate) type SqlParam = Box<dyn ToSql + Sync>;

/// Converts every parameter, failing on the first one Spin's host would not convert
/// (a malformed UUID or JSON document). The message names the parameter's position.
pub(crate) fn to_sql_params(params: &[Param]) -> Result<Vec<SqlParam>, String> {
    params
        .iter()
        .enumerate()
        .map(|(index, param)| {
            to_sql_param(param).map_err(|reason| format!("parameter ${}: {reason}", index + 1))
        })
        .collect()
}

fn to_sql_param(param: &Param) -> Result<SqlParam, String> {
    Ok(match param {
        Param::Null => Box::new(PgNull),
        Param::Bool(v) => Box::new(*v),
        Param::Int32(v) => Box::new(*v),
        Param::Int64(v) => Box::new(*v),
        Param::Float64(v) => Box::new(*v),
        Param::Str(v) => Box::new(v.clone()),
        Param::Uuid(text) => Box::new(
            uuid::Uuid::parse_str(text).map_err(|e| format!("invalid UUID {text:?}: {e}"))?,
        ),
        Param::Jsonb(bytes) => Box::new(
            serde_json::from_slice::<serde_json::Value>(bytes)
                .map_err(|e| format!("invalid JSON {:?}: {e}", String::from_utf8_lossy(bytes)))?,
        ),
        Param::ArrayStr(items) => Box::new(items.clone()),
    })
}

/// A NULL that binds to a parameter of any type.
///
/// `Option::<T>::None` would still be type-checked against `T` (a `None::<i32>` refuses
/// a `text` parameter); Spin binds its `db-null` through this same neutral type, so a
/// NULL is accepted wherever Postgres accepts one.
#[derive(Debug)]
struct PgNull;

impl ToSql for PgNull {
    fn to_sql(
        &self,
        _ty: &Type,
        _out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn to_sql_checked(
        &self,
        _ty: &Type,
        _out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_uuid_is_refused_before_reaching_the_server() {
        let err = to_sql_params(&[Param::Int32(1), Param::Uuid("not-a-uuid".into())])
            .err()
            .unwrap_or_default();
        assert!(err.starts_with("parameter $2: invalid UUID"), "{err}");
    }

    #[test]
    fn malformed_json_is_refused_before_reaching_the_server() {
        let err = to_sql_params(&[Param::Jsonb(b"{nope".to_vec())])
            .err()
            .unwrap_or_default();
        assert!(err.starts_with("parameter $1: invalid JSON"), "{err}");
    }
}

/// A statement parameter. The variants are the subset of Spin's `parameter-value`
/// that Spindle uses, with the same Postgres binding rules: an `Int64` binds only to
/// `int8`, a `Str` only to text-like types, so SQL casts where the column differs.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Bool(bool),
    Int32(i32),
    Int64(i64),
    Float64(f64),
    Str(String),
    /// A UUID in its canonical text form, bound to a `uuid` parameter.
    Uuid(String),
    /// JSON text bound to a `jsonb` parameter.
    Jsonb(Vec<u8>),
    ArrayStr(Vec<Option<String>>),
}

impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Str(v.to_owned())
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Str(v)
    }
}
impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int64(v)
    }
}
impl From<i32> for Param {
    fn from(v: i32) -> Self {
        Param::Int32(v)
    }
}
impl From<bool> for Param {
    fn from(v: bool) -> Self {
        Param::Bool(v)
    }
}
impl<T: Into<Param>> From<Option<T>> for Param {
    fn from(v: Option<T>) -> Self {
        v.map_or(Param::Null, Into::into)
    }
}

/// A column value as Spin's host returns it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    Str(String),
    Binary(Vec<u8>),
    Uuid(String),
    Jsonb(Vec<u8>),
    ArrayStr(Vec<Option<String>>),
    /// A `timestamp` (without time zone) as microseconds since the Unix epoch. Spin
    /// reads `timestamp` but not `timestamptz`, so an instant is selected as
    /// `col AT TIME ZONE 'UTC'`: a cheaper conversion for Postgres than
    /// computing epoch microseconds in `numeric`.
    Datetime(i64),
    /// Any type Spin cannot represent (e.g. `tsvector`); select it `::text` instead.
    Unsupported,
}

/// The rows of a query, with column names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|values| Row {
            columns: &self.columns,
            values,
        })
    }

    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }
}

/// One row, read by column name with typed accessors that fail with a
/// [`DbError::Decode`] naming the column instead of panicking.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl<'a> Row<'a> {
    fn value(&self, column: &str) -> Result<&'a Value, DbError> {
        self.columns
            .iter()
            .position(|c| c == column)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| DbError::Decode(format!("no column {column:?} in the result")))
    }

    fn mismatch(column: &str, want: &str, got: &Value) -> DbError {
        DbError::Decode(format!("column {column:?}: expected {want}, got {got:?}"))
    }

    pub fn is_null(&self, column: &str) -> Result<bool, DbError> {
        Ok(matches!(self.value(column)?, Value::Null))
    }

    pub fn str(&self, column: &str) -> Result<String, DbError> {
        match self.value(column)? {
            Value::Str(s) | Value::Uuid(s) => Ok(s.clone()),
            other => Err(Self::mismatch(column, "text", other)),
        }
    }

    pub fn opt_str(&self, column: &str) -> Result<Option<String>, DbError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            _ => self.str(column).map(Some),
        }
    }

    pub fn i64(&self, column: &str) -> Result<i64, DbError> {
        match self.value(column)? {
            Value::Int64(n) => Ok(*n),
            Value::Int32(n) => Ok(i64::from(*n)),
            Value::Int16(n) => Ok(i64::from(*n)),
            other => Err(Self::mismatch(column, "an integer", other)),
        }
    }

    pub fn opt_i64(&self, column: &str) -> Result<Option<i64>, DbError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            _ => self.i64(column).map(Some),
        }
    }

    /// A `timestamp` column (see [`Value::Datetime`]) as epoch microseconds.
    pub fn micros(&self, column: &str) -> Result<i64, DbError> {
        match self.value(column)? {
            Value::Datetime(micros) => Ok(*micros),
            other => Err(Self::mismatch(column, "a timestamp", other)),
        }
    }

    pub fn opt_micros(&self, column: &str) -> Result<Option<i64>, DbError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            _ => self.micros(column).map(Some),
        }
    }

    pub fn f64(&self, column: &str) -> Result<f64, DbError> {
        match self.value(column)? {
            Value::Float64(n) => Ok(*n),
            Value::Float32(n) => Ok(f64::from(*n)),
            other => Err(Self::mismatch(column, "a float", other)),
        }
    }

    pub fn bool(&self, column: &str) -> Result<bool, DbError> {
        match self.value(column)? {
            Value::Bool(b) => Ok(*b),
            other => Err(Self::mismatch(column, "a boolean", other)),
        }
    }

    pub fn str_array(&self, column: &str) -> Result<Vec<String>, DbError> {
        match self.value(column)? {
            Value::ArrayStr(items) => Ok(items.iter().flatten().cloned().collect()),
            Value::Null => Ok(Vec::new()),
            other => Err(Self::mismatch(column, "text[]", other)),
        }
    }

    pub fn json(&self, column: &str) -> Result<Vec<u8>, DbError> {
        match self.value(column)? {
            Value::Jsonb(bytes) => Ok(bytes.clone()),
            other => Err(Self::mismatch(column, "jsonb", other)),
        }
    }

    pub fn opt_json(&self, column: &str) -> Result<Option<Vec<u8>>, DbError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            _ => self.json(column).map(Some),
        }
    }
}

/// What can go wrong talking to the database.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database: {0}")]
    Connection(String),
    /// The server refused the statement; `code` is the SQLSTATE (e.g. `23505`).
    #[error("query failed ({code}): {message}")]
    Query { code: String, message: String },
    #[error("a parameter could not be bound: {0}")]
    BadParameter(String),
    #[error("a value could not be converted: {0}")]
    Conversion(String),
    #[error("a result could not be read: {0}")]
    Decode(String),
}

impl DbError {
    /// The SQLSTATE of a refused statement.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            DbError::Query { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn is_unique_violation(&self) -> bool {
        self.sqlstate() == Some("23505")
    }
}

/// A database session: statements run on one connection, in order, so that
/// `BEGIN` … `COMMIT` across calls forms one transaction, as in Spin.
pub trait Db {
    fn query(&self, sql: &str, params: &[Param]) -> Result<Rows, DbError>;
    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError>;

    /// Hands the session's connection back to its pool until the next statement,
    /// which takes one again. Call it before waiting (a long-poll), never inside
    /// a transaction. A session that owns its connection outright (no pool)
    /// keeps it: that is the default.
    fn release(&self) {}

    /// Runs `work` inside `BEGIN` … `COMMIT`, rolling back when it fails, so a
    /// connection is never returned to Spin's pool with a transaction open.
    fn transaction<T, E>(&self, work: impl FnOnce(&Self) -> Result<T, E>) -> Result<T, E>
    where
        Self: Sized,
        E: From<DbError>,
    {
        self.execute("BEGIN", &[])?;
        match work(self) {
            Ok(value) => {
                self.execute("COMMIT", &[])?;
                Ok(value)
            }
            Err(err) => {
                // The original error is the one worth reporting; a failed rollback
                // leaves the connection aborted and the next statement will say so.
                let _ = self.execute("ROLLBACK", &[]);
                Err(err)
            }
        }
    }
}

//! One small SQL interface over the two storage engines, so every query of the store is written
//! once: SQLite (the default, one file, one writer thread) and PostgreSQL (several replicas on
//! one database).
//!
//! What it does: runs a statement with positional parameters (`?1`, `?2`, … in the text; the
//! PostgreSQL side rewrites them to `$1`, `$2`, …) and hands back rows as owned [`Value`]s that
//! convert to Rust types with [`Row::get`]. Integers, reals, text, blobs and NULL are the only
//! values, which is all the schema uses; booleans are integers 0 and 1 on both engines.
//!
//! What it never does: hide dialect differences in the SQL itself (the store writes the common
//! subset: `ON CONFLICT … DO`, `RETURNING`, `CASE` instead of two-argument `max`), manage
//! transactions (that is [`crate::db::Db`]'s job), or know about the domain.

pub mod postgres;
pub mod sqlite;

/// A value in a row or a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer (SQLite INTEGER, PostgreSQL BIGINT/INTEGER/SMALLINT/BOOLEAN).
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes (SQLite BLOB, PostgreSQL BYTEA).
    Blob(Vec<u8>),
}

/// A statement or a conversion failed.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL (or the connection to it) reported an error.
    #[error("postgres: {0}")]
    Postgres(#[from] ::postgres::Error),
    /// A column held a value the caller's type cannot take (a bug in a query).
    #[error("column {column}: {problem}")]
    Type {
        /// The column's index.
        column: usize,
        /// What did not fit.
        problem: String,
    },
    /// A query that must return a row returned none.
    #[error("the query returned no rows")]
    NoRows,
}

impl SqlError {
    /// Whether the statement broke a UNIQUE or PRIMARY KEY constraint.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Self::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            Self::Postgres(e) => e.code() == Some(&::postgres::error::SqlState::UNIQUE_VIOLATION),
            _ => false,
        }
    }
}

/// Something that can be bound as a parameter.
pub trait Param {
    /// The value to bind.
    fn value(&self) -> Value;
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn value(&self) -> Value {
                // Every integer the store binds fits: ids, seqs, counts and epoch milliseconds.
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_param!(i64, i32, u32, u64, usize, u8);

impl Param for bool {
    fn value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl Param for f64 {
    fn value(&self) -> Value {
        Value::Real(*self)
    }
}

impl Param for str {
    fn value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl Param for String {
    fn value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl Param for [u8] {
    fn value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl Param for Vec<u8> {
    fn value(&self) -> Value {
        Value::Blob(self.clone())
    }
}

impl<const N: usize> Param for [u8; N] {
    fn value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl Param for Value {
    fn value(&self) -> Value {
        self.clone()
    }
}

impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value {
        self.as_ref().map_or(Value::Null, Param::value)
    }
}

impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value {
        (**self).value()
    }
}

/// Positional parameters for [`Sql`] calls: `args![user, since, limit]` binds `?1`, `?2`, `?3`.
#[macro_export]
macro_rules! args {
    () => { &[] as &[&dyn $crate::sql::Param] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::sql::Param),+] as &[&dyn $crate::sql::Param] };
}

/// A type a column converts to.
pub trait FromValue: Sized {
    /// Converts, or says why not.
    ///
    /// # Errors
    /// A description of the mismatch.
    fn from_value(v: &Value) -> Result<Self, String>;
}

fn mismatch(v: &Value, wanted: &str) -> String {
    format!("{v:?} is not {wanted}")
}

macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: &Value) -> Result<Self, String> {
                match v {
                    Value::Int(i) => <$t>::try_from(*i).map_err(|e| e.to_string()),
                    other => Err(mismatch(other, stringify!($t))),
                }
            }
        }
    )*};
}
int_from_value!(i64, i32, u32, u64, usize);

impl FromValue for bool {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Int(i) => Ok(*i != 0),
            other => Err(mismatch(other, "a boolean")),
        }
    }
}

impl FromValue for f64 {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Real(f) => Ok(*f),
            // SQLite stores a REAL with no fraction as it was given; PostgreSQL never does this.
            #[allow(clippy::cast_precision_loss)]
            Value::Int(i) => Ok(*i as f64),
            other => Err(mismatch(other, "a number")),
        }
    }
}

impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            other => Err(mismatch(other, "text")),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Blob(b) => Ok(b.clone()),
            other => Err(mismatch(other, "bytes")),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    values: Vec<Value>,
}

impl Row {
    /// A row of these values.
    pub fn new(values: Vec<Value>) -> Self {
        Self { values }
    }

    /// Column `i` (from 0) as a `T`.
    ///
    /// # Errors
    /// [`SqlError::Type`] when the column is missing or does not convert.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T, SqlError> {
        let v = self.values.get(i).ok_or_else(|| SqlError::Type {
            column: i,
            problem: "no such column".into(),
        })?;
        T::from_value(v).map_err(|problem| SqlError::Type { column: i, problem })
    }
}

/// Which engine a connection talks to, for the few places that must differ (maintenance
/// statements, backups).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A connection inside a transaction [`crate::db::Db`] opened: runs statements, nothing else.
pub trait Sql {
    /// Runs a statement that returns no rows; the number of rows it changed.
    ///
    /// # Errors
    /// The engine's error.
    fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<usize, SqlError>;

    /// Runs a query and returns all its rows.
    ///
    /// # Errors
    /// The engine's error.
    fn rows(&self, sql: &str, params: &[&dyn Param]) -> Result<Vec<Row>, SqlError>;

    /// The engine behind this connection.
    fn engine(&self) -> Engine;
}

impl dyn Sql + '_ {
    /// The first row, mapped by `f`; [`SqlError::NoRows`] when there is none.
    ///
    /// # Errors
    /// The engine's error, [`SqlError::NoRows`], or `f`'s.
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row) -> Result<T, SqlError>,
    ) -> Result<T, SqlError> {
        self.query_opt(sql, params, f)?.ok_or(SqlError::NoRows)
    }

    /// The first row mapped by `f`, or `None`.
    ///
    /// # Errors
    /// The engine's error or `f`'s.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row) -> Result<T, SqlError>,
    ) -> Result<Option<T>, SqlError> {
        self.rows(sql, params)?.first().map(f).transpose()
    }

    /// Every row, mapped by `f`.
    ///
    /// # Errors
    /// The engine's error or `f`'s.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnMut(&Row) -> Result<T, SqlError>,
    ) -> Result<Vec<T>, SqlError> {
        self.rows(sql, params)?.iter().map(f).collect()
    }

    /// The first column of the first row.
    ///
    /// # Errors
    /// As [`Self::query_row`].
    pub fn one<T: FromValue>(&self, sql: &str, params: &[&dyn Param]) -> Result<T, SqlError> {
        self.query_row(sql, params, |r| r.get(0))
    }
}

/// `.optional()` on a single-row result, as rusqlite has it: no row is `Ok(None)`.
pub trait OptionalExt<T> {
    /// `Ok(None)` for [`SqlError::NoRows`], the row or the error otherwise.
    ///
    /// # Errors
    /// Any error but [`SqlError::NoRows`].
    fn optional(self) -> Result<Option<T>, SqlError>;
}

impl<T> OptionalExt<T> for Result<T, SqlError> {
    fn optional(self) -> Result<Option<T>, SqlError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(SqlError::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

//! [`Sql`] over a synchronous PostgreSQL connection (the `postgres` crate, run on tokio's
//! blocking pool like SQLite's readers).
//!
//! Parameters are written `?1`, `?2` as for SQLite and rewritten to `$1`, `$2` once per
//! statement text; statements are prepared once per connection. A value is converted to the
//! type PostgreSQL inferred for its parameter (an integer bound where text is expected is sent
//! as its decimal text), so the store need not care whether a column is INTEGER or BIGINT.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::error::Error;

use bytes::BytesMut;
use postgres::error::SqlState;
use postgres::types::{FromSql, IsNull, ToSql, Type};
use postgres::{Client, Statement};

use super::{Engine, Param, Row, Sql, SqlError, Value};

/// The most distinct statements kept prepared per connection; past it the cache starts over
/// (the store has far fewer, so this only bounds a bug that formats values into SQL text).
const MAX_PREPARED: usize = 512;

/// A PostgreSQL connection as [`Sql`], with its prepared statements and the SQLSTATE of the
/// last failed statement (so the caller can tell a deadlock or a lost race, worth retrying the
/// whole transaction, from a real failure).
pub struct PgConn {
    client: RefCell<Client>,
    prepared: RefCell<HashMap<String, Statement>>,
    failure: Cell<Option<Failure>>,
}

/// Why the last statement failed, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A deadlock or a serialization failure: the transaction was chosen to lose; running it
    /// again usually succeeds.
    Conflict,
    /// A UNIQUE constraint: another transaction committed the same key first. Running the job
    /// again lets it find that row (idempotency by `clientId`, one direct conversation per pair).
    Unique,
    /// Anything else.
    Other,
}

impl PgConn {
    /// Wraps a connected client.
    pub fn new(client: Client) -> Self {
        Self {
            client: RefCell::new(client),
            prepared: RefCell::new(HashMap::new()),
            failure: Cell::new(None),
        }
    }

    /// Runs statements without parameters or results (`BEGIN`, `COMMIT`, migrations).
    ///
    /// # Errors
    /// PostgreSQL's error.
    pub fn batch(&self, sql: &str) -> Result<(), SqlError> {
        self.client
            .borrow_mut()
            .batch_execute(sql)
            .map_err(|e| self.failed(e))
    }

    /// Takes (and clears) the reason the last failed statement gave.
    pub fn take_failure(&self) -> Option<Failure> {
        self.failure.take()
    }

    /// Whether the connection is gone (the server restarted, the network broke): such a
    /// connection is dropped instead of going back to the pool.
    pub fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }

    fn failed(&self, e: postgres::Error) -> SqlError {
        let kind = match e.code() {
            Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED => Failure::Conflict,
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE => Failure::Conflict,
            Some(c) if *c == SqlState::UNIQUE_VIOLATION => Failure::Unique,
            _ => Failure::Other,
        };
        self.failure.set(Some(kind));
        SqlError::Postgres(e)
    }

    fn statement(&self, sql: &str) -> Result<Statement, SqlError> {
        if let Some(s) = self.prepared.borrow().get(sql) {
            return Ok(s.clone());
        }
        let stmt = self
            .client
            .borrow_mut()
            .prepare(&dollar_params(sql))
            .map_err(|e| self.failed(e))?;
        let mut prepared = self.prepared.borrow_mut();
        if prepared.len() >= MAX_PREPARED {
            prepared.clear();
        }
        prepared.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }
}

/// `?N` placeholders as PostgreSQL's `$N`, leaving quoted text alone.
pub fn dollar_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\'' => {
                quoted = !quoted;
                out.push(ch);
            }
            '?' if !quoted && chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            _ => out.push(ch),
        }
    }
    out
}

/// A parameter, converted at bind time to the type PostgreSQL asks for.
#[derive(Debug)]
struct Bound(Value);

type BoxError = Box<dyn Error + Sync + Send>;

impl ToSql for Bound {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match &self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                #[allow(clippy::cast_precision_loss)]
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                _ => i.to_string().to_sql(ty, out),
            },
            Value::Real(f) => match *ty {
                #[allow(clippy::cast_possible_truncation)]
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => f.to_sql(ty, out),
            },
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// A column, whatever its type, as a [`Value`].
struct Column(Value);

impl<'a> FromSql<'a> for Column {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Self(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Int(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::BYTEA => Value::Blob(<&[u8]>::from_sql(ty, raw)?.to_vec()),
            _ => Value::Text(<&str>::from_sql(ty, raw)?.to_owned()),
        }))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Self(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn bind(params: &[&dyn Param]) -> Vec<Bound> {
    params.iter().map(|p| Bound(p.value())).collect()
}

impl Sql for PgConn {
    fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<usize, SqlError> {
        let stmt = self.statement(sql)?;
        let bound = bind(params);
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|b| b as _).collect();
        let n = self
            .client
            .borrow_mut()
            .execute(&stmt, &refs)
            .map_err(|e| self.failed(e))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn rows(&self, sql: &str, params: &[&dyn Param]) -> Result<Vec<Row>, SqlError> {
        let stmt = self.statement(sql)?;
        let bound = bind(params);
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|b| b as _).collect();
        let rows = self
            .client
            .borrow_mut()
            .query(&stmt, &refs)
            .map_err(|e| self.failed(e))?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        r.try_get::<_, Column>(i)
                            .map(|c| c.0)
                            .map_err(|e| self.failed(e))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Row::new)
            })
            .collect()
    }

    fn engine(&self) -> Engine {
        Engine::Postgres
    }
}

#[cfg(test)]
mod tests {
    use super::dollar_params;

    #[test]
    fn numbered_placeholders_become_dollars_except_inside_quotes() {
        assert_eq!(
            dollar_params("SELECT '?1', x FROM t WHERE a = ?1 AND b = ?12"),
            "SELECT '?1', x FROM t WHERE a = $1 AND b = $12"
        );
    }
}

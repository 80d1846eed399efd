//! [`Sql`] over a rusqlite connection: statements are prepared once and cached by the
//! connection, values cross as SQLite's own.

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::Connection;

use super::{Engine, Param, Row, Sql, SqlError, Value};

/// A borrowed SQLite connection as [`Sql`].
pub struct Lite<'a>(pub &'a Connection);

struct Bound(Value);

impl rusqlite::ToSql for Bound {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match &self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

fn bind(params: &[&dyn Param]) -> Vec<Bound> {
    params.iter().map(|p| Bound(p.value())).collect()
}

impl Sql for Lite<'_> {
    fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<usize, SqlError> {
        let bound = bind(params);
        let n = self
            .0
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(bound.iter()))?;
        Ok(n)
    }

    fn rows(&self, sql: &str, params: &[&dyn Param]) -> Result<Vec<Row>, SqlError> {
        let bound = bind(params);
        let mut stmt = self.0.prepare_cached(sql)?;
        let width = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(bound.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Int(n),
                    ValueRef::Real(f) => Value::Real(f),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            out.push(Row::new(values));
        }
        Ok(out)
    }

    fn engine(&self) -> Engine {
        Engine::Sqlite
    }
}

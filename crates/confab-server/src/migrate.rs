//! `confab-server migrate-to-postgres`: moves a team's SQLite database into an empty PostgreSQL
//! database with every id and sequence number kept, so the apps' sync cursors, tokens and
//! passwords stay valid and the team can run replicas on `CONFAB_DATABASE_URL` from then on.
//!
//! How: a consistent snapshot of the SQLite file is taken with `VACUUM INTO` (as `backup`
//! does; the server may keep serving meanwhile, and the snapshot holds what was committed
//! before it began), upgraded to this build's schema, and read in one transaction. PostgreSQL
//! is connected (which creates its schema) and, in ONE transaction: checked to be empty, filled
//! table by table in foreign-key order with multi-row INSERTs and explicit ids, its identities
//! moved past the largest copied id, the change counter and the sync horizon copied, and then
//! verified: every table's row count equals the snapshot's, and for every user the changes
//! `/api/sync` would serve them are identical on both engines. Only then does it commit.
//!
//! What it never does: write the SQLite database (it reads a private copy in a temporary
//! directory, removed afterwards), write into a PostgreSQL database that already holds data,
//! leave a partial copy behind (any failure or mismatch rolls everything back), or put the
//! URL's password or any row's content in a message.

use std::fmt;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use crate::args;
use crate::backup::{backup, BackupError};
use crate::db::{Db, DbError};
use crate::sql::sqlite::Lite;
use crate::sql::{Param, Sql, SqlError, Value};
use crate::store::sync::changes_since;
use crate::store::StoreError;

/// Rows per INSERT statement (at most 10 columns: well under PostgreSQL's 65,535 parameters).
const ROWS_PER_INSERT: usize = 500;
/// Changes per page when comparing what each user's sync serves.
const SYNC_PAGE: u32 = 1000;

/// What a column holds in the schema (any column may also be NULL where the schema allows).
#[derive(Debug, Clone, Copy)]
enum Kind {
    Int,
    Real,
    Text,
    Blob,
}

/// A table copied row by row.
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
    /// Its primary key, the order rows are copied in.
    key: &'static str,
}

use Kind::{Blob, Int, Real, Text};

/// Every table with rows of its own, in an order that inserts what a foreign key names first.
/// `counter` and `sync_horizon` (one row each, created by the schema) are copied as values.
const TABLES: &[Table] = &[
    Table {
        name: "users",
        columns: &[
            ("id", Int),
            ("email", Text),
            ("name", Text),
            ("password_hash", Text),
            ("disabled", Int),
            ("created_at", Text),
        ],
        key: "id",
    },
    Table {
        name: "tokens",
        columns: &[
            ("token_hash", Blob),
            ("user_id", Int),
            ("expires_ms", Int),
            ("created_ms", Int),
        ],
        key: "token_hash",
    },
    Table {
        name: "conversations",
        columns: &[
            ("id", Int),
            ("title", Text),
            ("creator_id", Int),
            ("created_at", Text),
            ("seq", Int),
            ("last_message_seq", Int),
            ("kind", Text),
            ("direct_key", Text),
        ],
        key: "id",
    },
    Table {
        name: "members",
        columns: &[
            ("conversation_id", Int),
            ("user_id", Int),
            ("last_read_seq", Int),
            ("muted", Int),
            ("joined_seq", Int),
        ],
        key: "conversation_id, user_id",
    },
    Table {
        name: "messages",
        columns: &[
            ("id", Int),
            ("conversation_id", Int),
            ("seq", Int),
            ("sender_id", Int),
            ("content", Text),
            ("client_id", Text),
            ("created_at", Text),
        ],
        key: "id",
    },
    Table {
        name: "knowledge_requests",
        columns: &[
            ("id", Int),
            ("requester_id", Int),
            ("owner_id", Int),
            ("question", Text),
            ("status", Text),
            ("response_content", Text),
            ("created_at", Text),
            ("seq", Int),
            ("answered_at", Text),
            ("answer_seen", Int),
        ],
        key: "id",
    },
    Table {
        name: "changes",
        columns: &[
            ("seq", Int),
            ("conversation_id", Int),
            ("user_a", Int),
            ("user_b", Int),
            ("payload", Text),
            ("at_ms", Int),
        ],
        key: "seq",
    },
    Table {
        name: "login_throttle_pairs",
        columns: &[
            ("email", Text),
            ("address", Text),
            ("failures", Int),
            ("last_at", Int),
        ],
        key: "email, address",
    },
    Table {
        name: "login_throttle_addresses",
        columns: &[("address", Text), ("failures", Int), ("window_start", Int)],
        key: "address",
    },
    Table {
        name: "write_buckets",
        columns: &[
            ("user_id", Int),
            ("kind", Text),
            ("level", Real),
            ("at_ms", Int),
        ],
        key: "user_id, kind",
    },
];

/// The tables whose `id` is an identity PostgreSQL hands out: moved past the copied ids.
const IDENTITIES: &[&str] = &["users", "conversations", "messages", "knowledge_requests"];

/// What was moved and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Rows copied per table, in copy order.
    pub tables: Vec<(&'static str, u64)>,
    /// The change counter: the newest sequence number handed out (the next change gets one
    /// more).
    pub counter: i64,
    /// The sync horizon (changes at or below it were compacted away).
    pub horizon: i64,
    /// Users whose sync was compared.
    pub users_compared: usize,
    /// Changes compared across those users' syncs (a change seen by three users counts three
    /// times).
    pub changes_compared: u64,
    /// How long the whole move took.
    pub elapsed: Duration,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "copied in {:.1} s:", self.elapsed.as_secs_f64())?;
        for (table, rows) in &self.tables {
            writeln!(f, "  {table:<26} {rows:>10} rows")?;
        }
        writeln!(
            f,
            "  {:<26} {:>10} (the next change gets {})",
            "counter",
            self.counter,
            self.counter + 1
        )?;
        writeln!(f, "  {:<26} {:>10}", "sync horizon", self.horizon)?;
        writeln!(
            f,
            "verified: every table's row count matches; the sync of {} user(s) is identical \
             ({} change(s) compared)",
            self.users_compared, self.changes_compared
        )
    }
}

/// Why nothing was moved. Whatever the variant, PostgreSQL holds none of the copy (the one
/// transaction was rolled back or never began); the SQLite database was never written.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// `--to` is not a PostgreSQL URL.
    #[error("the target must be a postgres:// or postgresql:// URL")]
    NotPostgres,
    /// The temporary directory for the snapshot could not be created (set `TMPDIR` to a
    /// directory with room for a copy of the database).
    #[error("creating a temporary directory for the snapshot: {0}")]
    Scratch(#[source] std::io::Error),
    /// The snapshot could not be taken (no such database, no room for the copy).
    #[error("taking a snapshot of the SQLite database: {0}")]
    Snapshot(#[from] BackupError),
    /// The snapshot could not be opened or upgraded (its schema is newer than this build).
    #[error("opening the SQLite snapshot: {0}")]
    OpenSource(#[source] DbError),
    /// PostgreSQL could not be reached or its schema created.
    #[error("connecting to PostgreSQL: {0}")]
    Connect(#[source] DbError),
    /// Reading the snapshot failed.
    #[error("reading the SQLite snapshot: {0}")]
    Source(#[source] SqlError),
    /// A statement on PostgreSQL failed (a constraint the SQLite data breaks, the connection).
    #[error("writing to PostgreSQL: {0}")]
    Target(#[source] SqlError),
    /// The transaction on PostgreSQL could not begin or commit.
    #[error("PostgreSQL transaction: {0}")]
    Transaction(#[from] DbError),
    /// The target already holds data: migrate into a new, empty database.
    #[error(
        "the PostgreSQL database is not empty ({0}); nothing was written: migrate into a new, \
         empty database"
    )]
    NotEmpty(String),
    /// A stored value does not fit its column's type (a damaged database).
    #[error("{table}.{column} in row {row} (in key order): {problem}; nothing was written")]
    BadValue {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The row's position, from 1, in primary-key order.
        row: u64,
        /// What does not fit.
        problem: String,
    },
    /// Reading a page of changes to compare failed (a payload that no longer parses).
    #[error("reading changes to compare: {0}")]
    Compare(#[source] StoreError),
    /// The copy differs from the snapshot; it was rolled back.
    #[error("verification failed, nothing was written: {0}")]
    Mismatch(String),
}

fn source(e: impl Into<SqlError>) -> MigrateError {
    MigrateError::Source(e.into())
}

fn target(e: SqlError) -> MigrateError {
    MigrateError::Target(e)
}

/// Copies the SQLite database at `from` into the empty PostgreSQL database at `to_url`, ids and
/// sequence numbers and all, and verifies the copy before committing it. Blocking: call it from
/// the command line or a blocking thread.
///
/// # Errors
/// See [`MigrateError`]; on any error PostgreSQL is left as it was.
pub fn migrate_to_postgres(from: &Path, to_url: &str) -> Result<Report, MigrateError> {
    let started = Instant::now();
    let url = to_url.trim();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(MigrateError::NotPostgres);
    }
    let scratch = tempfile::Builder::new()
        .prefix("confab-migrate-")
        .tempdir()
        .map_err(MigrateError::Scratch)?;
    let copy = scratch.path().join("snapshot.db");
    backup(from, &copy)?;
    // The snapshot at this build's schema: a file from an older server is upgraded here, in
    // the copy, exactly as a starting server would upgrade it.
    let upgraded = Db::open(&copy).map_err(MigrateError::OpenSource)?;
    upgraded.close();
    drop(upgraded);
    let src = Connection::open_with_flags(
        &copy,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(source)?;
    src.busy_timeout(Duration::from_secs(30)).map_err(source)?;
    src.execute_batch("BEGIN").map_err(source)?;

    let db = Db::connect_postgres(url).map_err(MigrateError::Connect)?;
    let result = db.write_blocking(|dst| copy_all(&src, dst));
    db.close();
    drop(db);
    let _ = src.execute_batch("COMMIT");
    drop(src);
    drop(scratch);
    let mut report = result?;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Everything inside the one PostgreSQL transaction: check, copy, move identities on, verify.
fn copy_all(src: &Connection, dst: &dyn Sql) -> Result<Report, MigrateError> {
    ensure_empty(dst)?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        tables.push((table.name, copy_table(src, dst, table)?));
    }
    let lite = Lite(src);
    let s: &dyn Sql = &lite;
    let counter: i64 = s
        .one("SELECT value FROM counter WHERE id = 1", args![])
        .map_err(source)?;
    let horizon: i64 = s
        .one("SELECT seq FROM sync_horizon WHERE id = 1", args![])
        .map_err(source)?;
    dst.execute("UPDATE counter SET value = ?1 WHERE id = 1", args![counter])
        .map_err(target)?;
    dst.execute(
        "UPDATE sync_horizon SET seq = ?1 WHERE id = 1",
        args![horizon],
    )
    .map_err(target)?;
    for table in IDENTITIES {
        // The next id handed out is one above the largest copied (1 for an empty table).
        dst.one::<i64>(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                    COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
            ),
            args![],
        )
        .map_err(target)?;
    }
    verify_counts(s, dst, &tables, counter, horizon)?;
    let (users_compared, changes_compared) = compare_sync(s, dst)?;
    Ok(Report {
        tables,
        counter,
        horizon,
        users_compared,
        changes_compared,
        elapsed: Duration::ZERO,
    })
}

fn count(c: &dyn Sql, table: &str) -> Result<u64, SqlError> {
    c.one(&format!("SELECT count(*) FROM {table}"), args![])
}

/// Refuses a target holding any row (beyond the counter and horizon rows its schema creates,
/// which must still be at zero).
fn ensure_empty(dst: &dyn Sql) -> Result<(), MigrateError> {
    let mut found = Vec::new();
    for table in TABLES {
        let n = count(dst, table.name).map_err(target)?;
        if n > 0 {
            found.push(format!("{n} row(s) in {}", table.name));
        }
    }
    let counter: i64 = dst
        .one("SELECT value FROM counter WHERE id = 1", args![])
        .map_err(target)?;
    if counter != 0 {
        found.push(format!("the change counter at {counter}"));
    }
    let horizon: i64 = dst
        .one("SELECT seq FROM sync_horizon WHERE id = 1", args![])
        .map_err(target)?;
    if horizon != 0 {
        found.push(format!("the sync horizon at {horizon}"));
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(MigrateError::NotEmpty(found.join(", ")))
    }
}

/// Streams `table` from the snapshot into PostgreSQL in multi-row INSERTs; the rows copied.
fn copy_table(src: &Connection, dst: &dyn Sql, table: &Table) -> Result<u64, MigrateError> {
    let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
    let columns = names.join(", ");
    let width = names.len();
    let mut stmt = src
        .prepare(&format!(
            "SELECT {columns} FROM {} ORDER BY {}",
            table.name, table.key
        ))
        .map_err(source)?;
    let mut rows = stmt.query([]).map_err(source)?;
    let mut batch: Vec<Value> = Vec::with_capacity(ROWS_PER_INSERT * width);
    let mut copied = 0u64;
    while let Some(row) = rows.next().map_err(source)? {
        copied += 1;
        for (i, (column, kind)) in table.columns.iter().enumerate() {
            let raw = row.get_ref(i).map_err(source)?;
            let value = convert(raw, *kind).map_err(|problem| MigrateError::BadValue {
                table: table.name,
                column,
                row: copied,
                problem,
            })?;
            batch.push(value);
        }
        if batch.len() == ROWS_PER_INSERT * width {
            insert(dst, table.name, &columns, width, &batch)?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        insert(dst, table.name, &columns, width, &batch)?;
    }
    Ok(copied)
}

/// A SQLite value as the [`Value`] for a column of `kind`, or why it does not fit.
fn convert(raw: ValueRef<'_>, kind: Kind) -> Result<Value, String> {
    match (raw, kind) {
        (ValueRef::Null, _) => Ok(Value::Null),
        // A REAL column may hold an integer (SQLite keeps whole numbers compactly).
        (ValueRef::Integer(i), Int | Real) => Ok(Value::Int(i)),
        (ValueRef::Real(f), Real) => Ok(Value::Real(f)),
        (ValueRef::Text(bytes), Text) => {
            let text =
                std::str::from_utf8(bytes).map_err(|_| "text that is not UTF-8".to_owned())?;
            if text.contains('\0') {
                return Err("text with a NUL character, which PostgreSQL cannot store".into());
            }
            Ok(Value::Text(text.to_owned()))
        }
        (ValueRef::Blob(b), Blob) => Ok(Value::Blob(b.to_vec())),
        (other, kind) => Err(format!(
            "{} where the schema has {}",
            match other {
                ValueRef::Null => "NULL",
                ValueRef::Integer(_) => "an integer",
                ValueRef::Real(_) => "a real number",
                ValueRef::Text(_) => "text",
                ValueRef::Blob(_) => "bytes",
            },
            match kind {
                Int => "an integer",
                Real => "a real number",
                Text => "text",
                Blob => "bytes",
            }
        )),
    }
}

/// One multi-row INSERT of `values` (rows of `width` values, in `columns` order).
fn insert(
    dst: &dyn Sql,
    table: &str,
    columns: &str,
    width: usize,
    values: &[Value],
) -> Result<(), MigrateError> {
    let rows = values.len() / width;
    let mut sql = format!("INSERT INTO {table} ({columns}) VALUES ");
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "?{}", r * width + c + 1);
        }
        sql.push(')');
    }
    let params: Vec<&dyn Param> = values.iter().map(|v| v as &dyn Param).collect();
    dst.execute(&sql, &params).map_err(target)?;
    Ok(())
}

/// Every table's rows as many in PostgreSQL as in the snapshot (and as were copied), and the
/// counter and horizon as copied.
fn verify_counts(
    s: &dyn Sql,
    dst: &dyn Sql,
    copied: &[(&'static str, u64)],
    counter: i64,
    horizon: i64,
) -> Result<(), MigrateError> {
    for (table, rows) in copied {
        let in_source = count(s, table).map_err(source)?;
        let in_target = count(dst, table).map_err(target)?;
        if in_source != in_target || in_source != *rows {
            return Err(MigrateError::Mismatch(format!(
                "{table} has {in_source} row(s) in SQLite and {in_target} in PostgreSQL \
                 ({rows} copied)"
            )));
        }
    }
    let (pg_counter, pg_horizon): (i64, i64) = dst
        .query_row(
            "SELECT (SELECT value FROM counter WHERE id = 1),
                    (SELECT seq FROM sync_horizon WHERE id = 1)",
            args![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(target)?;
    if (pg_counter, pg_horizon) != (counter, horizon) {
        return Err(MigrateError::Mismatch(format!(
            "counter {pg_counter} and horizon {pg_horizon} in PostgreSQL, {counter} and \
             {horizon} in SQLite"
        )));
    }
    Ok(())
}

/// For every user, the changes `/api/sync` serves them from the start, page by page on both
/// engines: identical. Returns the users compared and the changes compared.
fn compare_sync(s: &dyn Sql, dst: &dyn Sql) -> Result<(usize, u64), MigrateError> {
    let users: Vec<i64> = s
        .query_map("SELECT id FROM users ORDER BY id", args![], |r| r.get(0))
        .map_err(source)?;
    let mut compared = 0u64;
    for &user in &users {
        let mut since = 0;
        loop {
            let expected =
                changes_since(s, user, since, SYNC_PAGE).map_err(MigrateError::Compare)?;
            let got = changes_since(dst, user, since, SYNC_PAGE).map_err(MigrateError::Compare)?;
            if expected != got {
                return Err(MigrateError::Mismatch(format!(
                    "user {user}'s sync after seq {since} differs: {} change(s) up to seq {} \
                     in SQLite, {} up to seq {} in PostgreSQL",
                    expected.changes.len(),
                    expected.next_since,
                    got.changes.len(),
                    got.next_since
                )));
            }
            compared += expected.changes.len() as u64;
            if !expected.has_more {
                break;
            }
            since = expected.next_since;
        }
    }
    Ok((users.len(), compared))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_do_not_fit_their_column_are_named_not_guessed() {
        assert_eq!(convert(ValueRef::Integer(3), Real), Ok(Value::Int(3)));
        assert_eq!(convert(ValueRef::Null, Text), Ok(Value::Null));
        assert!(convert(ValueRef::Text(b"12"), Int)
            .is_err_and(|e| e.contains("text where the schema has an integer")));
        assert!(convert(ValueRef::Real(1.5), Int).is_err());
        assert!(convert(ValueRef::Text(b"\xff"), Text).is_err_and(|e| e.contains("UTF-8")));
        assert!(convert(ValueRef::Text(b"a\0b"), Text).is_err_and(|e| e.contains("NUL")));
    }

    /// A database with one user and the changes `muted` says, one per seq from 1.
    fn team(dir: &Path, name: &str, muted: &[bool]) -> anyhow::Result<Connection> {
        let path = dir.join(name);
        Db::open(&path)?.close();
        let conn = Connection::open(&path)?;
        conn.execute(
            "INSERT INTO users (id, email, name, password_hash, created_at)
             VALUES (1, 'a@x.test', 'A', 'h', 't')",
            [],
        )?;
        for (i, m) in muted.iter().enumerate() {
            let seq = i as i64 + 1;
            let payload = format!(
                r#"{{"type":"conversation-muted","seq":{seq},"conversationId":5,"muted":{m}}}"#
            );
            conn.execute(
                "INSERT INTO changes (seq, user_a, payload) VALUES (?1, 1, ?2)",
                rusqlite::params![seq, payload],
            )?;
        }
        Ok(conn)
    }

    #[test]
    fn a_copy_that_differs_is_named_by_table_or_by_user() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let a = team(dir.path(), "a.db", &[true, false])?;
        let same = team(dir.path(), "same.db", &[true, false])?;
        let other = team(dir.path(), "other.db", &[true, true])?;
        let longer = team(dir.path(), "longer.db", &[true, false, true])?;
        let (a, same, other, longer) = (Lite(&a), Lite(&same), Lite(&other), Lite(&longer));
        assert_eq!(compare_sync(&a, &same)?, (1, 2));
        let err = compare_sync(&a, &other).expect_err("a payload differs");
        assert!(
            err.to_string()
                .contains("user 1's sync after seq 0 differs"),
            "{err}"
        );
        let copied = [("users", 1), ("changes", 2)];
        verify_counts(&a, &same, &copied, 0, 0)?;
        let err = verify_counts(&a, &longer, &copied, 0, 0).expect_err("a row more");
        assert!(
            err.to_string()
                .contains("changes has 2 row(s) in SQLite and 3 in PostgreSQL"),
            "{err}"
        );
        let err = verify_counts(&a, &same, &copied, 7, 0).expect_err("another counter");
        assert!(err.to_string().contains("counter 0"), "{err}");
        Ok(())
    }

    #[test]
    fn the_copy_covers_every_table_of_the_schema() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let db = Db::open(dir.path().join("t.db"))?;
        db.close();
        let conn = Connection::open(dir.path().join("t.db"))?;
        let mut stmt = conn.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             ORDER BY name",
        )?;
        let mut schema: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        schema.sort();
        let mut covered: Vec<String> = TABLES
            .iter()
            .map(|t| t.name.to_owned())
            .chain(["counter".into(), "sync_horizon".into()])
            .collect();
        covered.sort();
        assert_eq!(schema, covered, "a new table needs copying too");
        for table in TABLES {
            let mut stmt = conn.prepare(&format!(
                "SELECT name FROM pragma_table_info('{}')",
                table.name
            ))?;
            let columns: Vec<String> = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let listed: Vec<String> = table.columns.iter().map(|(c, _)| (*c).to_owned()).collect();
            let (mut a, mut b) = (columns, listed);
            a.sort();
            b.sort();
            assert_eq!(a, b, "every column of {}", table.name);
        }
        Ok(())
    }
}

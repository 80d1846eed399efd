//! Schema migrations: numbered SQL files applied in order, recorded in `PRAGMA user_version`.
//!
//! To change the schema, add `migrations/NNNN_name.sql`, list it in [`MIGRATIONS`], and add a
//! fixture `fixtures/vNNNN.sql` with rows in the new shape (the test
//! `every_older_version_migrates_to_the_latest_keeping_its_rows` then checks that data written at
//! every older version survives). Never edit a migration that has shipped.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Result, StoreError};

/// One schema step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// The `user_version` after this step (1, 2, ...).
    pub(crate) version: i64,
    /// The file name, for the test that checks every file is listed.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the tests only"))]
    pub(crate) file: &'static str,
    /// The SQL, run as one batch inside the step's transaction.
    pub(crate) sql: &'static str,
}

/// Every migration, in order; the position plus one is the version.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        file: "0001_init.sql",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        file: "0002_search.sql",
        sql: include_str!("../migrations/0002_search.sql"),
    },
    Migration {
        version: 3,
        file: "0003_unsent_read_marks.sql",
        sql: include_str!("../migrations/0003_unsent_read_marks.sql"),
    },
    Migration {
        version: 4,
        file: "0004_library.sql",
        sql: include_str!("../migrations/0004_library.sql"),
    },
    Migration {
        version: 5,
        file: "0005_held_messages.sql",
        sql: include_str!("../migrations/0005_held_messages.sql"),
    },
    Migration {
        version: 6,
        file: "0006_search_by_recency.sql",
        sql: include_str!("../migrations/0006_search_by_recency.sql"),
    },
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The file's `user_version`.
pub(crate) fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

/// Brings the schema up to [`SCHEMA_VERSION`], then indexes any message left unindexed (rows
/// written by SQL outside the store, such as the migration fixtures).
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_to(conn, SCHEMA_VERSION)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    crate::search::index_pending(&tx)?;
    tx.commit()?;
    Ok(())
}

/// Applies every migration above the file's version up to `target`, each in its own immediate
/// transaction together with its `user_version` bump, so a crash or a full disk leaves the file
/// at the last complete version.
///
/// # Errors
/// [`StoreError::TooNew`] when the file is newer than this build; SQLite errors otherwise.
pub(crate) fn migrate_to(conn: &mut Connection, target: i64) -> Result<()> {
    let found = version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for step in MIGRATIONS.iter().filter(|m| m.version <= target) {
        // Immediate: take the write lock before reading the version, so two processes opening
        // the same fresh file cannot both run a step.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if version(&tx)? >= step.version {
            continue;
        }
        tx.execute_batch(step.sql)?;
        tx.pragma_update(None, "user_version", step.version)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Store, UnsentReadMark};
    use confab_model::ipc::DeliveryState;

    /// Rows in the shape of each version, written right after that version's migration.
    fn fixture(version: i64) -> Option<&'static str> {
        match version {
            1 => Some(include_str!("../fixtures/v0001.sql")),
            2 => Some(include_str!("../fixtures/v0002.sql")),
            3 => Some(include_str!("../fixtures/v0003.sql")),
            4 => Some(include_str!("../fixtures/v0004.sql")),
            5 => Some(include_str!("../fixtures/v0005.sql")),
            6 => Some(include_str!("../fixtures/v0006.sql")),
            _ => None,
        }
    }

    fn database_at(version: i64) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        migrate_to(&mut conn, version).unwrap();
        assert_eq!(super::version(&conn).unwrap(), version);
        if version > 0 {
            conn.execute_batch(fixture(version).unwrap()).unwrap();
        }
        conn
    }

    #[test]
    fn migrations_are_numbered_one_by_one_and_every_file_is_listed() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
            assert!(
                m.file.starts_with(&format!("{:04}_", m.version)),
                "{}",
                m.file
            );
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        on_disk.sort();
        let listed: Vec<&str> = MIGRATIONS.iter().map(|m| m.file).collect();
        assert_eq!(on_disk, listed);
    }

    #[test]
    fn every_version_has_a_fixture_so_the_next_migration_is_tested_from_it() {
        for v in 1..=SCHEMA_VERSION {
            assert!(fixture(v).is_some(), "add fixtures/v{v:04}.sql");
        }
    }

    #[test]
    fn every_older_version_migrates_to_the_latest_keeping_its_rows() {
        for start in 0..=SCHEMA_VERSION {
            // Given a database written at version `start` with that version's fixture rows,
            let mut conn = database_at(start);
            // when it is migrated to the latest version,
            migrate(&mut conn).unwrap();
            assert_eq!(super::version(&conn).unwrap(), SCHEMA_VERSION);
            // then every fixture row is still readable through today's queries.
            let store = Store::from_migrated_connection(conn).unwrap();
            match start {
                0 => assert!(store.conversation_list().unwrap().is_empty()),
                1 => check_version_1_rows(&store, start),
                2 => {
                    check_version_1_rows(&store, start);
                    check_version_2_rows(&store);
                }
                // Version 3's row, the unsent read mark, is checked with version 1's: from an
                // older file migration 3 derives the same row.
                3 => {
                    check_version_1_rows(&store, start);
                    check_version_2_rows(&store);
                }
                4 => {
                    check_version_1_rows(&store, start);
                    check_version_2_rows(&store);
                    check_version_4_rows(&store);
                }
                5 => {
                    check_version_1_rows(&store, start);
                    check_version_2_rows(&store);
                    check_version_4_rows(&store);
                    check_version_5_rows(&store);
                }
                6 => {
                    check_version_1_rows(&store, start);
                    check_version_2_rows(&store);
                    check_version_4_rows(&store);
                    check_version_5_rows(&store);
                    check_version_6_rows(&store);
                }
                _ => unreachable!("add the checks for fixtures/v{start:04}.sql"),
            }
        }
    }

    fn check_version_1_rows(store: &Store, start: i64) {
        let ctx = format!("migrated from version {start}");
        assert_eq!(store.account().unwrap().map(|u| u.id), Some(1), "{ctx}");
        assert_eq!(store.sync_cursor().unwrap(), 12, "{ctx}");
        assert_eq!(store.notified_cursor().unwrap(), 11, "{ctx}");
        assert_eq!(store.setting("theme").unwrap().as_deref(), Some("dark"));
        let list = store.conversation_list().unwrap();
        assert_eq!(list[0].id, 10, "{ctx}");
        assert_eq!(list[0].unread_count, 1, "{ctx}");
        assert_eq!(
            list[0].last_message_preview.as_deref(),
            Some("Me: on my way"),
            "{ctx}"
        );
        assert!(list[1].muted, "{ctx}");
        let page = store.messages_before(10, None, 50).unwrap();
        assert_eq!(page.len(), 3, "{ctx}");
        assert_eq!(page[2].seq, None, "{ctx}: the unsent message stays last");
        let due = store.outbox_due(i64::MAX).unwrap();
        assert_eq!(due.len(), 1, "{ctx}");
        assert_eq!(due[0].client_id, "c-unsent", "{ctx}");
        assert_eq!(due[0].attempts, 1, "{ctx}");
        assert_eq!(store.incoming_requests().unwrap().len(), 1, "{ctx}");
        assert_eq!(store.draft(10).unwrap().as_deref(), Some("half a thought"));
        assert_eq!(store.read_marks(10).unwrap().len(), 1, "{ctx}");
        // My mark in conversation 10 waits to be sent: written so by the version 3 fixture, and
        // counted as unsent by migration 3 when the file is older (it cannot know it was sent).
        assert_eq!(
            store.unsent_read_marks().unwrap(),
            [UnsentReadMark {
                conversation_id: 10,
                seq: 2
            }],
            "{ctx}"
        );
        // Messages written before search existed are indexed by the migration.
        let hits = store.search("migration", None, 10).unwrap();
        assert_eq!(hits.len(), 1, "{ctx}");
        assert_eq!(hits[0].client_id, "c-ada-2", "{ctx}");
        // Requests written before they were searchable are indexed by migration 4.
        let found = store.search_requests("keys", 10).unwrap();
        assert_eq!(found.len(), 1, "{ctx}");
        assert_eq!(found[0].request.id, 50, "{ctx}");
    }

    fn check_version_2_rows(store: &Store) {
        let hits = store.search("fixture two", None, 10).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].client_id, "c-v2");
    }

    fn check_version_4_rows(store: &Store) {
        let mine = store.outgoing_requests().unwrap();
        let answered = mine.iter().find(|r| r.id == 51).expect("request 51");
        assert!(!answered.answer_seen);
        assert_eq!(answered.owner_name, "Ada");
        let found = store.search_requests("8443", 10).unwrap();
        assert_eq!(found.len(), 1, "the answer is indexed");
        assert!(found[0].in_answer);
        let list = store.conversation_list().unwrap();
        assert_eq!(list[0].kind, confab_model::ConversationKind::Direct);
    }

    fn check_version_5_rows(store: &Store) {
        let page = store.messages_before(10, None, 50).unwrap();
        assert!(
            matches!(&page[2].delivery, DeliveryState::Held { until_ms: 5000, reason } if reason.contains("faster")),
            "{:?}",
            page[2].delivery
        );
        assert!(
            store
                .outbox_due_respecting_holds(i64::MAX, 4999)
                .unwrap()
                .is_empty(),
            "held until 5000 even when everything else is due"
        );
        assert_eq!(
            store
                .outbox_due_respecting_holds(i64::MAX, 5000)
                .unwrap()
                .len(),
            1
        );
    }

    fn check_version_6_rows(store: &Store) {
        // Two messages share seq 3: both found, the one cached later first, and the index is
        // whole.
        let hits = store.search("plan", None, 10).unwrap();
        let ids: Vec<&str> = hits.iter().map(|h| h.client_id.as_str()).collect();
        assert_eq!(ids, ["c-v6", "c-ada-2"]);
        store
            .conn
            .execute(
                "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)",
                [],
            )
            .unwrap();
    }

    /// The message search of version 5 (index keyed by local id, every match sorted).
    fn search_at_version_5(conn: &Connection, fts: &str) -> Vec<(String, Option<i64>)> {
        conn.prepare(
            "SELECT m.client_id, m.seq FROM messages_fts
             JOIN messages m ON m.local_id = messages_fts.rowid
             WHERE messages_fts MATCH ?1
             ORDER BY m.seq IS NULL DESC, m.seq DESC, m.local_id DESC",
        )
        .unwrap()
        .query_map([fts], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    #[test]
    fn a_version_5_cache_of_many_messages_answers_every_search_the_same_once_migrated() {
        // Given a version 5 cache whose history arrived after newer messages (local ids against
        // seq order), with unsent messages, indexed as version 5 indexed,
        let mut conn = database_at(5);
        let words = ["deploy", "deployed", "lunch", "release", "review"];
        for i in 0..400_i64 {
            let seq = if i < 200 { 1_000 + i } else { 999 - i };
            let text = format!(
                "{} {} {i}",
                words[(i % 5) as usize],
                words[(i * 7 % 5) as usize]
            );
            let (id, seq, state) = if i % 37 == 0 {
                (None, None, "pending")
            } else {
                (Some(10_000 + i), Some(seq), "sent")
            };
            conn.execute(
                "INSERT INTO messages (id, conversation_id, seq, sender_id, sender_name, content,
                     client_id, created_at, state)
                 VALUES (?1, 10, ?2, 1, 'Me', ?3, ?4, '2024-01-01T00:00:00Z', ?5)",
                rusqlite::params![id, seq, text, format!("m-{i}"), state],
            )
            .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO messages_fts (rowid, content)
                 SELECT m.local_id, m.content FROM messages_fts_pending p
                 JOIN messages m ON m.local_id = p.local_id;
             DELETE FROM messages_fts_pending;",
        )
        .unwrap();
        let queries = [
            "deploy",
            "depl",
            "de",
            "lunch rev",
            "release 1",
            "migration",
            "on",
        ];
        let before: Vec<_> = queries
            .iter()
            .map(|q| search_at_version_5(&conn, &crate::fts_query(q).unwrap()))
            .collect();
        // when it is migrated,
        migrate(&mut conn).unwrap();
        let store = Store::from_migrated_connection(conn).unwrap();
        // then every search finds the same messages in the same order, page after page.
        for (query, expected) in queries.iter().zip(before) {
            assert!(!expected.is_empty(), "{query}");
            let mut found = Vec::new();
            let mut cursor = None;
            loop {
                let page = store.search_page(query, None, cursor, 50).unwrap();
                found.extend(page.hits.into_iter().map(|h| (h.client_id, h.seq)));
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            assert_eq!(found, expected, "{query}");
        }
        store
            .conn
            .execute(
                "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)",
                [],
            )
            .unwrap();
    }

    #[test]
    fn a_database_from_a_newer_build_is_refused_untouched() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(matches!(err, StoreError::TooNew { found, .. } if found == SCHEMA_VERSION + 1));
        assert_eq!(super::version(&conn).unwrap(), SCHEMA_VERSION + 1);
    }

    #[test]
    fn migrating_twice_changes_nothing() {
        let mut conn = database_at(SCHEMA_VERSION);
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(super::version(&conn).unwrap(), SCHEMA_VERSION);
    }
}

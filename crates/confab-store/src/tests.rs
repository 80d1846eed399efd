//! Whole-store behaviour: files on disk, WAL, a full disk.

use confab_model::{Change, MessageChange};

use crate::testing::*;
use crate::{remove_database, Store, StoreError, SCHEMA_VERSION};

fn page(seqs: std::ops::Range<i64>, content_len: usize) -> Vec<Change> {
    seqs.map(|seq| {
        let mut m = message_from_ada(seq);
        m.content = format!("{seq} {}", "x".repeat(content_len));
        Change::Message(MessageChange { seq, message: m })
    })
    .collect()
}

fn page_count(store: &Store) -> i64 {
    store
        .conn
        .pragma_query_value(None, "page_count", |r| r.get(0))
        .unwrap()
}

#[test]
fn a_full_disk_is_reported_as_disk_full_and_nothing_of_the_page_is_kept() {
    // Given a cache file holding a first page, whose size is then capped where it stands,
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("account.db")).unwrap();
    store.set_account(&me()).unwrap();
    store
        .apply_conversation(&conversation(CONV, "Ada", &[ME, ADA]), Some(1))
        .unwrap();
    store.apply_changes(&page(2..12, 50), 11).unwrap();
    let cap = page_count(&store);
    store
        .conn
        .pragma_update(None, "max_page_count", cap)
        .unwrap();
    // when a big page arrives,
    let err = store.apply_changes(&page(12..400, 2000), 399).unwrap_err();
    // then the error says the disk is full, in words the UI can show,
    assert!(matches!(err, StoreError::DiskFull), "{err:?}");
    assert!(err.to_string().contains("disk is full"));
    // and the earlier data and the cursor are intact, with nothing of the failed page.
    assert_eq!(store.sync_cursor().unwrap(), 11);
    let stored = store.messages_before(CONV, None, 1000).unwrap();
    assert_eq!(stored.len(), 10);
    assert_eq!(stored.last().unwrap().seq, Some(11));
    assert_eq!(store.search("x", None, 1000).unwrap().len(), 10);
    // Small writes that fit still work, and once space is freed the page goes in.
    store
        .conn
        .pragma_update(None, "max_page_count", 1_000_000)
        .unwrap();
    store.apply_changes(&page(12..400, 2000), 399).unwrap();
    assert_eq!(store.sync_cursor().unwrap(), 399);
}

#[test]
fn writing_a_message_on_a_full_disk_keeps_nothing_half_written() {
    let mut store = store_with_conversation();
    let cap = page_count(&store);
    store
        .conn
        .pragma_update(None, "max_page_count", cap)
        .unwrap();
    let big = "y".repeat(64 * 1024);
    let err = store
        .enqueue_message(CONV, "c-1", &big, &time(1), 0)
        .unwrap_err();
    assert!(matches!(err, StoreError::DiskFull), "{err:?}");
    assert!(store.outbox().unwrap().is_empty());
    assert!(store.message_by_client_id(ME, "c-1").unwrap().is_none());
}

#[test]
fn a_cache_file_is_in_wal_mode_and_keeps_everything_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("account.db");
    {
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.journal_mode().unwrap(), "wal");
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        store.set_account(&me()).unwrap();
        store
            .apply_conversation(&conversation(CONV, "Ada", &[ME, ADA]), Some(1))
            .unwrap();
        store.apply_changes(&page(2..5, 3), 4).unwrap();
        store
            .enqueue_message(CONV, "c-1", "later", &time(5), 0)
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.account().unwrap(), Some(me()));
    assert_eq!(store.sync_cursor().unwrap(), 4);
    assert_eq!(store.messages_before(CONV, None, 10).unwrap().len(), 4);
    assert_eq!(store.outbox_due(0).unwrap().len(), 1);
}

#[test]
fn a_second_connection_reads_while_the_writer_holds_its_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("account.db");
    let mut writer = Store::open(&path).unwrap();
    writer.set_account(&me()).unwrap();
    writer
        .apply_conversation(&conversation(CONV, "Ada", &[ME, ADA]), Some(1))
        .unwrap();
    let reader = Store::open(&path).unwrap();
    let tx = writer.transaction().unwrap();
    tx.apply_message(&message_from_ada(2)).unwrap();
    // The reader sees the last committed state, not the open transaction, and is not blocked.
    assert_eq!(reader.conversation_list().unwrap().len(), 1);
    assert!(reader.messages_before(CONV, None, 10).unwrap().is_empty());
    tx.commit().unwrap();
    assert_eq!(reader.messages_before(CONV, None, 10).unwrap().len(), 1);
}

#[test]
fn a_file_that_is_not_a_database_is_reported_as_corrupt_and_can_be_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("account.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt), "{err:?}");
    remove_database(&path).unwrap();
    assert!(!path.exists());
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    drop(store);
    remove_database(&path).unwrap();
    assert!(!path.exists());
    assert!(!dir.path().join("account.db-wal").exists());
    remove_database(&path).unwrap();
}

#[test]
fn a_file_that_is_not_a_database_is_corrupt_and_a_fresh_cache_opens_once_it_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("account.db");
    std::fs::write(&path, vec![0x5a_u8; 8192]).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt), "{err:?}");
    assert!(err.needs_fresh_cache());

    let kept = crate::move_aside(&path, "20261206T040000Z").unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(std::fs::read(&kept).unwrap(), vec![0x5a_u8; 8192]);
}

#[test]
fn a_cache_from_a_newer_build_is_too_new_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("account.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found, .. } if found == SCHEMA_VERSION + 1),
        "{err:?}"
    );
    assert!(err.needs_fresh_cache());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(
        version,
        SCHEMA_VERSION + 1,
        "not migrated down or rewritten"
    );
}

#[cfg(unix)]
#[test]
fn the_cache_its_wal_and_shm_are_private_and_loose_ones_are_tightened_on_open() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let path = data.join("account.db");
    let wal = data.join("account.db-wal");
    let shm = data.join("account.db-shm");
    let store = Store::open(&path).unwrap();
    assert_eq!(mode(&data), 0o700);
    for f in [&path, &wal, &shm] {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }

    // An older build left them readable by everyone (the first store stays open, so its WAL
    // and SHM are there to be tightened by the next opening):
    for p in [&data, &path, &wal, &shm] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let _second = Store::open(&path).unwrap();
    drop(store);
    assert_eq!(mode(&data), 0o700);
    for f in [&path, &wal, &shm] {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
}

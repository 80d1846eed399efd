//! Retention and backup against the real backend (random loopback port, real Sockudo, real
//! SQLite files): compaction of the sync log with the 410 `cursor_expired` answer, the purge of
//! expired tokens, and the online backup.

mod support;

use anyhow::Result;
use confab_server::auth::TOKEN_TTL;
use confab_server::retention::{compact_changes, run_maintenance, RetentionPolicy};
use confab_server::time::now_ms;
use reqwest::StatusCode;
use serde_json::json;
use support::{page_seqs, post_text, TestServer, WAIT};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Waits (without sleeping) until the wall clock is past `t`, so what is recorded next is
/// strictly newer than `t`.
fn until_after(t: i64) {
    while now_ms() <= t {
        std::hint::spin_loop();
    }
}

#[tokio::test]
async fn compaction_keeps_serving_cursors_inside_the_window_and_answers_cursor_expired_to_older_ones(
) -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let linus = server.login(2).await?;
    let room = server.conversation(&ada, &[1]).await?;
    // Grace's device syncs once and then stays away.
    let (_, first) = grace.get("/api/sync?since=0").await?;
    let stale = first["nextSince"].as_i64().unwrap_or_default();
    for text in ["m0", "m1", "m2"] {
        post_text(&grace, room, text).await?;
    }
    let cutoff = now_ms();
    until_after(cutoff);
    // Ada and Linus sync after the cutoff: inside the window. Linus sees none of these changes,
    // yet his cursor is moved to the head, so compaction cannot strand it.
    let (_, ada_page) = ada.get("/api/sync?since=0").await?;
    let ada_cursor = ada_page["nextSince"].as_i64().unwrap_or_default();
    let (_, linus_page) = linus.get("/api/sync?since=0").await?;
    assert_eq!(page_seqs(&linus_page), Vec::<i64>::new());
    let linus_cursor = linus_page["nextSince"].as_i64().unwrap_or_default();
    assert_eq!(linus_cursor, ada_cursor, "both at the head of the log");
    let m3 = post_text(&grace, room, "m3").await?;
    let m4 = post_text(&grace, room, "m4").await?;

    // Ninety days after the cutoff, with a ninety-day window: what came before it goes.
    let policy = RetentionPolicy { changes_days: 90 };
    assert_eq!(policy.cutoff_ms(cutoff + 90 * DAY_MS), cutoff);
    let (compacted, horizon) = compact_changes(server.state.db(), cutoff).await?;
    assert_eq!(
        compacted, 4,
        "the conversation's creation and m0..m2 were older than the window"
    );
    assert!(horizon > stale && horizon <= ada_cursor);

    let (status, page) = ada.get(&format!("/api/sync?since={ada_cursor}")).await?;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        page_seqs(&page),
        vec![m3, m4],
        "nothing Ada needs was dropped"
    );
    let (status, page) = linus
        .get(&format!("/api/sync?since={linus_cursor}"))
        .await?;
    assert_eq!(status, StatusCode::OK, "{page}");

    let (status, body) = grace.get(&format!("/api/sync?since={stale}")).await?;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["error"]["code"], "cursor_expired");
    let (status, body) = ada.get("/api/sync?since=0").await?;
    assert_eq!(status, StatusCode::GONE, "a new device reloads too: {body}");

    // The way back: the head, the lists, then sync from the head.
    let (status, head) = grace.get("/api/sync/head").await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(head["seq"], json!(m4));
    let (_, history) = grace
        .get(&format!("/api/conversations/{room}/messages"))
        .await?;
    assert_eq!(
        history.as_array().map(Vec::len),
        Some(5),
        "messages themselves are never compacted: {history}"
    );
    let (status, page) = grace.get(&format!("/api/sync?since={m4}")).await?;
    assert_eq!((status, page_seqs(&page)), (StatusCode::OK, vec![]));

    // A cursor from a future this database never saw (restored from an older backup).
    let (status, body) = grace.get(&format!("/api/sync?since={}", m4 + 1000)).await?;
    assert_eq!(status, StatusCode::GONE, "{body}");

    // Compacting again changes nothing; the horizon never goes back.
    let again = compact_changes(server.state.db(), cutoff).await?;
    assert_eq!(again, (0, horizon));
    Ok(())
}

#[tokio::test]
async fn maintenance_purges_expired_tokens_and_keeps_live_ones() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let report = run_maintenance(server.state.db(), RetentionPolicy::default(), now_ms()).await?;
    assert_eq!(report.tokens_purged, 0);
    let (status, _) = ada.get("/api/me").await?;
    assert_eq!(status, StatusCode::OK, "a live token survives maintenance");

    let ttl = i64::try_from(TOKEN_TTL.as_millis())?;
    let later = now_ms() + ttl + 1;
    let report = run_maintenance(server.state.db(), RetentionPolicy::default(), later).await?;
    assert_eq!(report.tokens_purged, 1);
    let left: i64 = server
        .state
        .db()
        .read(|c| -> Result<i64, confab_server::store::StoreError> {
            Ok(c.one("SELECT count(*) FROM tokens", confab_server::args![])?)
        })
        .await?;
    assert_eq!(left, 0);
    let (status, _) = ada.get("/api/me").await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    Ok(())
}

#[tokio::test]
async fn a_backup_taken_while_messages_are_written_passes_integrity_check_and_holds_what_was_committed_before_it(
) -> Result<()> {
    // A busy writer, not a person: the per-user limit would stop it.
    let server =
        TestServer::start_on_sqlite(confab_server::write_limit::WriteLimits::UNLIMITED).await?;
    let ada = server.login(0).await?;
    let room = server.conversation(&ada, &[1]).await?;
    for i in 0..50 {
        post_text(&ada, room, &format!("before-{i}")).await?;
    }
    // A writer keeps posting through the API for the whole backup.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (ada, stop) = (ada.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                post_text(&ada, room, &format!("during-{n}")).await?;
                n += 1;
            }
            anyhow::Ok(n)
        })
    };
    // Wait until the writer has committed something, so the backup really overlaps writes.
    let live = server
        .state
        .db()
        .path()
        .ok_or_else(|| anyhow::anyhow!("a backup copies a SQLite file"))?
        .to_path_buf();
    let count = |path: std::path::PathBuf| {
        move || -> Result<i64> {
            let c = rusqlite::Connection::open(path)?;
            Ok(c.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?)
        }
    };
    tokio::time::timeout(WAIT, async {
        while tokio::task::spawn_blocking(count(live.clone())).await?? <= 50 {
            tokio::task::yield_now().await;
        }
        anyhow::Ok(())
    })
    .await??;
    let committed_before = tokio::task::spawn_blocking(count(live.clone())).await??;

    let dir = tempfile::tempdir()?;
    let target = dir.path().join("confab-backup.db");
    let (src, dst) = (live.clone(), target.clone());
    tokio::task::spawn_blocking(move || confab_server::backup::backup(&src, &dst)).await??;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let during = tokio::time::timeout(WAIT, writer).await???;
    assert!(during > 0, "messages were being written");

    let copy =
        rusqlite::Connection::open_with_flags(&target, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let integrity: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    assert_eq!(integrity, "ok");
    let held: i64 = copy.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?;
    assert!(
        held >= committed_before,
        "the copy holds {held} messages, {committed_before} were committed before it began"
    );
    let before: i64 = copy.query_row(
        "SELECT count(*) FROM messages WHERE content LIKE 'before-%'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(before, 50);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&target)?.permissions().mode() & 0o777,
            0o600
        );
    }

    // A second backup to the same path is refused and leaves the first intact.
    let (src, dst) = (live, target.clone());
    let refused = tokio::task::spawn_blocking(move || confab_server::backup::backup(&src, &dst))
        .await?
        .expect_err("an existing file is never overwritten");
    assert!(refused.to_string().contains("exists"), "{refused}");
    let still: String =
        rusqlite::Connection::open(&target)?
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    assert_eq!(still, "ok");
    Ok(())
}

#[tokio::test]
async fn the_openapi_document_describes_the_head_route_and_the_cursor_expired_answer() -> Result<()>
{
    let server = TestServer::start().await?;
    let (status, doc) = support::Api::anonymous(&server.base)?
        .get("/api/openapi.json")
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["paths"]["/api/sync/head"]["get"]["responses"]["200"].is_object());
    assert!(doc["paths"]["/api/sync"]["get"]["responses"]["410"].is_object());
    let codes = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(codes.contains(&json!("cursor_expired")), "{codes:?}");
    assert!(doc["components"]["schemas"]["SyncHead"]["properties"]["seq"].is_object());
    Ok(())
}

#[test]
fn the_backup_command_copies_the_database_and_refuses_to_overwrite_the_copy() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let live = dir.path().join("live").join("confab.db");
    let db = confab_server::Db::open(&live)?;
    db.close();
    let target = dir.path().join("copy.db");
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_confab-server"))
            .args(["backup", "--db"])
            .arg(&live)
            .arg(&target)
            .env_remove("CONFAB_DB")
            .output()
    };
    let first = run()?;
    assert!(first.status.success(), "{first:?}");
    let tables: i64 = rusqlite::Connection::open(&target)?.query_row(
        "SELECT count(*) FROM sqlite_master WHERE name IN ('changes', 'sync_horizon')",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(tables, 2, "the copy has the schema");
    let second = run()?;
    assert!(!second.status.success());
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(said.contains("exists"), "{said}");
    Ok(())
}

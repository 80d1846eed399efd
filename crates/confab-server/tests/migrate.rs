//! `confab-server migrate-to-postgres` of the built binary: a team's SQLite database, taken
//! while its server serves, moves into an empty PostgreSQL database with its ids and sequence
//! numbers, and a server on PostgreSQL then serves every user the same sync, the same
//! sessions and passwords, and numbers the next change above the old head. A target holding
//! data, a target that is not PostgreSQL and a missing source are refused with nothing written.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{anyhow, bail, ensure, Context, Result};
use confab_server::config::Storage;
use confab_server::store::StoreError;
use confab_server::write_limit::WriteLimits;
use confab_server::{auth, store, Db};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{open_db, Api, TestServer};

/// Every table with rows of its own.
const TABLES: [&str; 10] = [
    "users",
    "tokens",
    "conversations",
    "members",
    "messages",
    "knowledge_requests",
    "changes",
    "login_throttle_pairs",
    "login_throttle_addresses",
    "write_buckets",
];

/// Runs the built `confab-server migrate-to-postgres --from FROM --to TO` off the async
/// threads (the SQLite server keeps serving meanwhile).
async fn migrate_command(from: &Path, to: &str) -> Result<Output> {
    let (from, to) = (from.to_path_buf(), to.to_owned());
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_confab-server"))
            .arg("migrate-to-postgres")
            .arg("--from")
            .arg(&from)
            .arg("--to")
            .arg(&to)
            .env_remove("CONFAB_DATABASE_URL")
            .env("RUST_LOG", "warn")
            .output()
            .context("running confab-server migrate-to-postgres")
    })
    .await?
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn sqlite_path(server: &TestServer) -> Result<PathBuf> {
    match &server.storage {
        Storage::Sqlite(path) => Ok(path.clone()),
        Storage::Postgres(_) => bail!("the server is not on SQLite"),
    }
}

/// A new, empty database on the shared PostgreSQL server.
fn fresh_postgres() -> Result<String> {
    confab_testkit::Postgres::shared()?.fresh_database()
}

/// Rows per table, then the counter and the horizon.
async fn counts(db: &Db) -> Result<Vec<(String, i64)>> {
    Ok(db
        .read(|c| -> Result<_, StoreError> {
            let mut out = Vec::new();
            for t in TABLES {
                out.push((
                    t.to_owned(),
                    c.one(&format!("SELECT count(*) FROM {t}"), confab_server::args![])?,
                ));
            }
            out.push((
                "counter".into(),
                c.one("SELECT value FROM counter", confab_server::args![])?,
            ));
            out.push((
                "sync_horizon".into(),
                c.one("SELECT seq FROM sync_horizon", confab_server::args![])?,
            ));
            Ok(out)
        })
        .await?)
}

/// The largest id of `table`.
async fn max_id(db: &Db, table: &'static str) -> Result<i64> {
    Ok(db
        .read(move |c| -> Result<i64, StoreError> {
            Ok(c.one(
                &format!("SELECT COALESCE(max(id), 0) FROM {table}"),
                confab_server::args![],
            )?)
        })
        .await?)
}

/// Every page `/api/sync?since=0` serves the caller, as served.
async fn sync_pages(api: &Api) -> Result<Vec<Value>> {
    let mut since = 0;
    let mut pages = Vec::new();
    loop {
        let (status, page) = api.get(&format!("/api/sync?since={since}")).await?;
        ensure!(status == StatusCode::OK, "sync failed: {status} {page}");
        let more = page["hasMore"] == true;
        since = page["nextSince"]
            .as_i64()
            .ok_or_else(|| anyhow!("no nextSince in {page}"))?;
        pages.push(page);
        if !more {
            return Ok(pages);
        }
    }
}

async fn login(base: &str, email: &str, password: &str) -> Result<(StatusCode, Value)> {
    Api::anonymous(base)?
        .post(
            "/api/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
}

/// Every kind of change through the API (and a disabled account through the store): direct
/// and group conversations, a rename, members added, one who left, messages with a retried
/// client id, a read mark, a mute, answered, declined and pending requests, an answer seen, a
/// failed login. Returns the group's id and the first message.
async fn every_kind_of_change(server: &TestServer) -> Result<(i64, Value)> {
    let (ada, grace, linus) = (
        server.login(0).await?,
        server.login(1).await?,
        server.login(2).await?,
    );
    let direct = server.conversation(&ada, &[1]).await?;
    let group = server.group(&ada, "Launch", &[1]).await?;
    let (status, body) = ada
        .patch(
            &format!("/api/conversations/{group}"),
            &json!({"title": "Launch plans"}),
        )
        .await?;
    ensure!(status == StatusCode::OK, "rename: {status} {body}");
    let (status, body) = ada
        .post(
            &format!("/api/conversations/{group}/members"),
            &json!({"memberIds": [server.id(2)]}),
        )
        .await?;
    ensure!(status == StatusCode::OK, "add members: {status} {body}");

    let messages = format!("/api/conversations/{group}/messages");
    let hello = json!({"content": "Kick-off at ten", "clientId": "ada-1"});
    let (status, first) = ada.post(&messages, &hello).await?;
    ensure!(status == StatusCode::CREATED, "message: {status} {first}");
    let (status, again) = ada.post(&messages, &hello).await?;
    ensure!(
        status == StatusCode::OK && again["id"] == first["id"],
        "a retried client id is the same message: {status} {again}"
    );
    linus
        .post(
            &messages,
            &json!({"content": "I'll bring slides", "clientId": "linus-1"}),
        )
        .await?;
    let (status, body) = linus
        .post(&format!("/api/conversations/{group}/leave"), &json!({}))
        .await?;
    ensure!(status == StatusCode::NO_CONTENT, "leave: {status} {body}");
    grace
        .post(
            &format!("/api/conversations/{direct}/messages"),
            &json!({"content": "Coffee?", "clientId": "grace-1"}),
        )
        .await?;
    let (status, body) = grace
        .post(
            &format!("/api/conversations/{group}/read"),
            &json!({"seq": first["seq"]}),
        )
        .await?;
    ensure!(status == StatusCode::NO_CONTENT, "read: {status} {body}");
    let (status, body) = ada
        .put(
            &format!("/api/conversations/{direct}/mute"),
            &json!({"muted": true}),
        )
        .await?;
    ensure!(status == StatusCode::NO_CONTENT, "mute: {status} {body}");

    let ask =
        |owner: usize, question: &str| json!({"ownerId": server.id(owner), "question": question});
    let (_, answered) = grace
        .post("/api/knowledge/request", &ask(0, "How do we deploy?"))
        .await?;
    let (_, declined) = linus
        .post(
            "/api/knowledge/request",
            &ask(0, "Share the payroll sheet?"),
        )
        .await?;
    let (_, pending) = grace
        .post("/api/knowledge/request", &ask(2, "Where are the slides?"))
        .await?;
    ensure!(pending["status"] == "pending", "{pending}");
    let (status, body) = ada
        .post(
            "/api/knowledge/respond",
            &json!({"requestId": answered["id"], "status": "approved",
                    "responseContent": "Runbook p.3"}),
        )
        .await?;
    ensure!(status == StatusCode::OK, "approve: {status} {body}");
    let (status, body) = ada
        .post(
            "/api/knowledge/respond",
            &json!({"requestId": declined["id"], "status": "denied",
                    "responseContent": "It holds salaries; ask HR."}),
        )
        .await?;
    ensure!(status == StatusCode::OK, "decline: {status} {body}");
    let (status, body) = grace
        .post(
            &format!("/api/knowledge/requests/{}/seen", answered["id"]),
            &json!({}),
        )
        .await?;
    ensure!(status == StatusCode::NO_CONTENT, "seen: {status} {body}");

    let hash = auth::hash_password("pw-Dora-secret")?;
    server
        .state
        .db()
        .write(move |c| store::users::create_user(c, "dora@example.test", "Dora", &hash))
        .await?;
    server
        .state
        .db()
        .write(|c| store::users::disable(c, "dora@example.test"))
        .await?;
    // Nobody signs in as Dora later, so her failure stays in the throttle's tables.
    let (status, _) = login(&server.base, "dora@example.test", "not her password").await?;
    ensure!(
        status == StatusCode::UNAUTHORIZED,
        "a failed login: {status}"
    );
    Ok((group, first))
}

#[tokio::test]
async fn a_team_database_with_every_kind_of_change_moves_to_postgres_with_its_sequence_numbers_and_serves_the_same_sync(
) -> Result<()> {
    let server = TestServer::start_on_sqlite(WriteLimits::default()).await?;
    let (group, first) = every_kind_of_change(&server).await?;
    let sessions = [
        server.login(0).await?,
        server.login(1).await?,
        server.login(2).await?,
    ];
    let lite = server.state.db();
    let before = counts(lite).await?;
    for (table, rows) in &before[..TABLES.len()] {
        assert!(*rows > 0, "the team's database has {table} rows to move");
    }
    let mut pages = Vec::new();
    for api in &sessions {
        pages.push(sync_pages(api).await?);
    }
    let head = pages[0]
        .last()
        .and_then(|p| p["nextSince"].as_i64())
        .ok_or_else(|| anyhow!("no head"))?;
    assert_eq!(
        head,
        before[TABLES.len()].1,
        "the last page's cursor is the head"
    );
    let (max_message, max_conversation, max_request, max_user) = (
        max_id(lite, "messages").await?,
        max_id(lite, "conversations").await?,
        max_id(lite, "knowledge_requests").await?,
        max_id(lite, "users").await?,
    );

    // Moved while the SQLite server is still serving, with a password in the URL that must
    // appear nowhere in what the command prints (the test server trusts loopback).
    let url = fresh_postgres()?.replacen("://confab@", "://confab:s3cret-pw@", 1);
    let out = migrate_command(&sqlite_path(&server)?, &url).await?;
    let printed = text(&out);
    assert!(out.status.success(), "{printed}");
    assert!(!printed.contains("s3cret-pw"), "no password: {printed}");
    assert!(printed.contains("verified"), "{printed}");
    for (table, rows) in &before[..TABLES.len()] {
        assert!(
            printed
                .lines()
                .any(|l| l.trim_start().starts_with(table.as_str())
                    && l.contains(&format!(" {rows} rows"))),
            "{table}: {rows} rows reported in {printed}"
        );
    }

    let storage = Storage::Postgres(url);
    let pg = server.replica_on(&storage).await?;
    assert_eq!(
        counts(pg.state.db()).await?,
        before,
        "every row, the counter, the horizon"
    );
    for (i, api) in sessions.iter().enumerate() {
        // A token issued before the move still signs the user in.
        assert_eq!(
            sync_pages(&pg.client(api)).await?,
            pages[i],
            "user {i}'s sync from the start"
        );
    }
    let (status, me) = pg.client(&sessions[1]).get("/api/me").await?;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["email"], "grace@example.test");

    for seeded in &server.users {
        let (status, body) = login(&pg.base, &seeded.user.email, &seeded.password).await?;
        assert_eq!(status, StatusCode::OK, "{}: {body}", seeded.user.email);
    }
    let (status, _) = login(&pg.base, "dora@example.test", "pw-Dora-secret").await?;
    assert_ne!(status, StatusCode::OK, "a disabled account stays disabled");

    let ada = pg.client(&sessions[0]);
    let messages = format!("/api/conversations/{group}/messages");
    let (status, retried) = ada
        .post(
            &messages,
            &json!({"content": "Kick-off at ten", "clientId": "ada-1"}),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::OK,
        "a retry from before the move: {retried}"
    );
    assert_eq!(retried, first);
    let (status, next) = ada
        .post(
            &messages,
            &json!({"content": "Now on PostgreSQL", "clientId": "ada-2"}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{next}");
    assert_eq!(
        next["seq"].as_i64(),
        Some(head + 1),
        "numbered above the old head"
    );
    assert!(
        next["id"].as_i64() > Some(max_message),
        "a fresh message id: {next}"
    );
    let (status, direct) = ada
        .post("/api/conversations", &json!({"memberIds": [server.id(2)]}))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{direct}");
    assert!(direct["id"].as_i64() > Some(max_conversation), "{direct}");
    let (status, request) = ada
        .post(
            "/api/knowledge/request",
            &json!({"ownerId": server.id(1), "question": "Still there?"}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    assert!(request["id"].as_i64() > Some(max_request), "{request}");
    let hash = auth::hash_password("pw-Eve-secret")?;
    let eve = pg
        .state
        .db()
        .write(move |c| store::users::create_user(c, "eve@example.test", "Eve", &hash))
        .await?;
    assert!(eve.id > max_user, "a fresh user id: {}", eve.id);
    Ok(())
}

#[tokio::test]
async fn migrating_into_a_database_that_already_has_data_is_refused_and_changes_nothing(
) -> Result<()> {
    let server = TestServer::start_on_sqlite(WriteLimits::UNLIMITED).await?;
    let ada = server.login(0).await?;
    let group = server.group(&ada, "Launch", &[1]).await?;
    ada.post(
        &format!("/api/conversations/{group}/messages"),
        &json!({"content": "hello", "clientId": "c"}),
    )
    .await?;
    let from = sqlite_path(&server)?;
    let url = fresh_postgres()?;
    let out = migrate_command(&from, &url).await?;
    assert!(out.status.success(), "{}", text(&out));
    let target = open_db(&Storage::Postgres(url.clone())).await?;
    let moved = counts(&target).await?;

    // More happened on SQLite; moving again into the same database is refused outright.
    ada.post(
        &format!("/api/conversations/{group}/messages"),
        &json!({"content": "and again", "clientId": "d"}),
    )
    .await?;
    let out = migrate_command(&from, &url).await?;
    let printed = text(&out);
    assert!(!out.status.success(), "{printed}");
    assert!(printed.contains("not empty"), "{printed}");
    assert!(
        printed.contains("row(s) in messages"),
        "says what is there: {printed}"
    );
    assert_eq!(counts(&target).await?, moved, "nothing was written");

    // A database a PostgreSQL server already created users in is refused as well.
    let other = TestServer::start_on_postgres().await?;
    let Storage::Postgres(other_url) = other.storage.clone() else {
        bail!("not on PostgreSQL");
    };
    let seeded = counts(other.state.db()).await?;
    let out = migrate_command(&from, &other_url).await?;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("3 row(s) in users"), "{}", text(&out));
    assert_eq!(
        counts(other.state.db()).await?,
        seeded,
        "nothing was written"
    );
    Ok(())
}

#[tokio::test]
async fn a_target_that_is_not_postgres_or_a_missing_source_is_named_clearly() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let from = dir.path().join("confab.db");
    Db::open(&from)?.close();
    for to in ["sqlite:///tmp/confab.db", "mysql://root@localhost/confab"] {
        let out = migrate_command(&from, to).await?;
        assert!(!out.status.success());
        assert!(
            text(&out).contains("the target must be a postgres:// or postgresql:// URL"),
            "{to}: {}",
            text(&out)
        );
    }
    let url = fresh_postgres()?;
    let missing = dir.path().join("nowhere.db");
    let out = migrate_command(&missing, &url).await?;
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!("no database at {}", missing.display())),
        "{}",
        text(&out)
    );
    let target = open_db(&Storage::Postgres(url)).await?;
    assert_eq!(
        counts(&target).await?.iter().map(|(_, n)| n).sum::<i64>(),
        0,
        "nothing was written"
    );
    Ok(())
}

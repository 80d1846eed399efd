//! The account's files on disk, against the real backend, Sockudo and SQLite files: a cache that
//! cannot be read (garbage, or written by a newer Confab) is kept aside under a timestamped name
//! and rebuilt from the server, the user hears it once; a sign-in that cannot open its cache
//! leaves no live token on the server and nothing saved; the data directory, the cache, its WAL
//! and SHM and the session file are private to the user.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use confab_core::session::{account, cache_path, TokenStore};
use confab_core::Api;
use confab_model::ipc::{SessionInfo, SignInRequest, UiEvent};
use support::*;

/// Alice's session as the core records it for `backend`.
fn alice_session(backend: &Backend) -> SessionInfo {
    let alice = &backend.users[0].user;
    SessionInfo {
        server_url: Api::new(&backend.base).base().to_owned(),
        user_id: alice.id,
        name: alice.name.clone(),
        email: alice.email.clone(),
        persisted: true,
    }
}

fn sign_in_request(backend: &Backend) -> SignInRequest {
    SignInRequest {
        server_url: backend.base.clone(),
        email: backend.users[0].user.email.clone(),
        password: backend.users[0].password.clone(),
        session_only: false,
    }
}

/// The files in `dir` whose names start with `prefix`.
fn files_starting(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(prefix))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// How many tokens the server holds for `user`, expired or not.
async fn server_tokens(backend: &Backend, user: i64) -> i64 {
    backend
        .state
        .db()
        .read(move |c| {
            Ok::<i64, confab_server::db::DbError>(c.one(
                "SELECT COUNT(*) FROM tokens WHERE user_id = ?1",
                confab_server::args![user],
            )?)
        })
        .await
        .expect("the server's tokens table reads")
}

/// Waits until Alice's cache holds Bob's message in `conv`, counting the notices that arrive
/// meanwhile (and after, until the list has come: every event of the first sync is seen).
async fn filled_counting_notices(alice: &mut Client, conv: i64) -> usize {
    let mut notices = 0;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let has = alice
            .core
            .messages(conv, None, 50)
            .await
            .is_ok_and(|m| m.iter().any(|x| x.content == "kept on the server"));
        if has {
            while let Ok(e) = alice.events.try_recv() {
                notices += usize::from(matches!(e, UiEvent::Notice { .. }));
            }
            return notices;
        }
        match tokio::time::timeout_at(deadline, alice.events.recv()).await {
            Ok(Ok(UiEvent::Notice { .. })) => notices += 1,
            Ok(_) => {}
            Err(_) => panic!("timed out waiting for the cache to fill from the server"),
        }
    }
}

#[tokio::test]
async fn a_garbage_cache_is_kept_aside_at_restart_and_rebuilt_from_the_server_with_one_notice(
) -> anyhow::Result<()> {
    init_tracing();
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    backend
        .api(1)
        .await?
        .send_message(conv, "kept on the server", "b-1", None)
        .await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    filled_counting_notices(&mut alice, conv).await;
    let session = alice.core.session().await.expect("signed in");
    let (data_dir, tokens) = alice.close().await;

    // Given the cache file overwritten with garbage while the app was closed,
    let cache = cache_path(&data_dir, &session);
    let garbage = vec![0xA5_u8; 16 * 1024];
    std::fs::write(&cache, &garbage)?;
    // (A WAL left beside it is garbled too, so no page of the old cache survives anywhere.)
    let wal = PathBuf::from(format!("{}-wal", cache.display()));
    if wal.exists() {
        std::fs::write(&wal, &garbage)?;
    }
    // when the app starts again,
    let mut alice = Client::open(data_dir.clone(), tokens).await?;

    // then the session is back, the window hears why once,
    assert_eq!(alice.core.session().await, Some(session.clone()));
    let first = alice.core.startup().await.notice.unwrap_or_default();
    assert!(first.contains("damaged"), "the notice: {first:?}");
    assert_eq!(alice.core.startup().await.notice, None, "told once");
    // the cache is filled again by the first sync,
    let later_notices = filled_counting_notices(&mut alice, conv).await;
    assert_eq!(later_notices, 0, "no second notice on the event stream");
    assert_eq!(alice.core.conversations().await?.len(), 1);
    // and the garbage is kept aside under a timestamped name.
    let name = cache
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let kept = files_starting(&data_dir, &format!("{name}.corrupt-"));
    assert_eq!(kept.len(), 1, "kept: {kept:?}");
    assert_eq!(std::fs::read(&kept[0])?, garbage);
    let stamp = kept[0]
        .to_string_lossy()
        .rsplit(".corrupt-")
        .next()
        .map(str::to_owned);
    let stamp = stamp.unwrap_or_default();
    assert!(
        stamp.len() == 16 && stamp.ends_with('Z') && stamp.as_bytes()[8] == b'T',
        "named with the UTC time: {stamp}"
    );
    Ok(())
}

#[tokio::test]
async fn a_cache_from_a_newer_confab_is_kept_aside_at_sign_in_and_rebuilt_with_one_notice(
) -> anyhow::Result<()> {
    init_tracing();
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    backend
        .api(1)
        .await?
        .send_message(conv, "kept on the server", "b-1", None)
        .await?;
    let dirs = tempfile::tempdir()?;
    let data_dir = dirs.path().join("alice");
    let session = alice_session(&backend);
    let cache = cache_path(&data_dir, &session);

    // Given a cache whose schema version is above this build's (a newer Confab wrote it): a
    // real cache, closed, with `user_version` (bytes 60..64 of the header) raised.
    drop(confab_store::Store::open(&cache)?);
    let mut bytes = std::fs::read(&cache)?;
    let future = i32::try_from(confab_store::SCHEMA_VERSION + 1)?;
    bytes[60..64].copy_from_slice(&future.to_be_bytes());
    std::fs::write(&cache, &bytes)?;
    assert!(matches!(
        confab_store::Store::open(&cache),
        Err(confab_store::StoreError::TooNew { .. })
    ));

    // when Alice signs in,
    let mut alice = Client::open(data_dir.clone(), Arc::default()).await?;
    alice.core.sign_in(sign_in_request(&backend)).await?;

    // then she is signed in, told once (on the event stream, not again at the next start),
    let notices = filled_counting_notices(&mut alice, conv).await;
    assert_eq!(notices, 1, "one notice at sign-in");
    assert_eq!(alice.core.startup().await.notice, None, "and not again");
    assert_eq!(alice.core.session().await, Some(session.clone()));
    // her token kept, the fresh cache of the current version,
    assert!(alice.tokens.load(&account(&session))?.is_some());
    let (data_dir, _) = alice.close().await;
    let store = confab_store::Store::open(&cache)?;
    assert_eq!(store.schema_version()?, confab_store::SCHEMA_VERSION);
    drop(store);
    // and the newer build's file kept aside, untouched.
    let name = cache
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let kept = files_starting(&data_dir, &format!("{name}.corrupt-"));
    assert_eq!(kept.len(), 1, "kept: {kept:?}");
    assert_eq!(std::fs::read(&kept[0])?, bytes);
    Ok(())
}

#[tokio::test]
async fn a_sign_in_that_cannot_open_its_cache_leaves_no_live_token_and_nothing_saved(
) -> anyhow::Result<()> {
    init_tracing();
    let backend = Backend::start().await?;
    let alice_id = backend.users[0].user.id;
    let dirs = tempfile::tempdir()?;
    let data_dir = dirs.path().join("alice");
    let session = alice_session(&backend);
    // Given a cache path that cannot be a database (a directory stands there: no permission
    // trick, which root would ignore),
    std::fs::create_dir_all(cache_path(&data_dir, &session))?;
    let alice = Client::open(data_dir.clone(), Arc::default()).await?;
    let before = server_tokens(&backend, alice_id).await;

    // when Alice signs in, twice,
    for _ in 0..2 {
        let err = alice.core.sign_in(sign_in_request(&backend)).await;
        assert!(err.is_err(), "the cache cannot open, so the sign-in fails");
    }

    // then the server holds no more tokens for her than before (each was revoked),
    assert_eq!(server_tokens(&backend, alice_id).await, before);
    // and nothing was stored: no token, no session file, no session.
    assert_eq!(alice.tokens.load(&account(&session))?, None);
    assert!(!data_dir.join("session.json").exists());
    assert_eq!(alice.core.session().await, None);

    // Once the obstacle is gone, the same sign-in works.
    std::fs::remove_dir(cache_path(&data_dir, &session))?;
    alice.core.sign_in(sign_in_request(&backend)).await?;
    assert_eq!(server_tokens(&backend, alice_id).await, before + 1);
    assert!(alice.tokens.load(&account(&session))?.is_some());
    Ok(())
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_cache_wal_shm_and_session_file_are_private_and_tightened_at_start(
) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    init_tracing();
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    alice.lists(conv).await;
    let session = alice.core.session().await.expect("signed in");
    let data_dir = alice.data_dir.clone();
    let cache = cache_path(&data_dir, &session);
    let wal = PathBuf::from(format!("{}-wal", cache.display()));
    let shm = PathBuf::from(format!("{}-shm", cache.display()));
    let session_file = data_dir.join("session.json");
    let private = [
        (&data_dir, 0o700),
        (&cache, 0o600),
        (&wal, 0o600),
        (&shm, 0o600),
        (&session_file, 0o600),
    ];
    for (path, want) in private {
        assert_eq!(mode(path), want, "{}", path.display());
    }
    let (data_dir, tokens) = alice.close().await;

    // Files an older build left open to everyone are tightened at the next start.
    for (path, _) in private {
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    let alice = Client::open(data_dir, tokens).await?;
    assert!(alice.core.session().await.is_some());
    for (path, want) in private {
        assert_eq!(mode(path), want, "{} after restart", path.display());
    }
    Ok(())
}

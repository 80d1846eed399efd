//! The token in a real OS keyring: a Secret Service (gnome-keyring, unlocked with a test
//! password) on a private D-Bus session stores, restores and deletes it; a locked keyring
//! leaves the saved conversations readable and connects once unlocked; with no Secret Service
//! the error is clear. Each case re-runs this test binary inside the environment it needs.

mod support;

use std::process::Command;
use std::sync::Arc;

use confab_core::session::{account, KeyringError, OsKeyring, SessionFile, TokenStore};
use confab_core::{Core, CoreConfig};
use confab_model::ipc::{ConnectionStatus, DeliveryState, SessionInfo, SignInRequest, UiEvent};
use confab_testkit::keyring;
use support::{conversation, Backend, Client};

const INNER: &str = "CONFAB_KEYRING_INNER";
/// The password `run_inside` unlocks gnome-keyring's login collection with.
const KEYRING_PASSWORD: &str = "test-password";

/// Re-runs `test` of this binary with `INNER=mode`, inside a D-Bus session with an unlocked
/// gnome-keyring (`with_keyring`) or with no session bus at all.
fn run_inside(test: &str, mode: &str, with_keyring: bool) {
    let exe = std::env::current_exe().expect("test binary");
    let home = tempfile::tempdir().expect("home");
    let mut cmd = if with_keyring {
        let mut c = Command::new("dbus-run-session");
        c.args([
            "--",
            "sh",
            "-c",
            // The daemon prints its environment; we only need it running and unlocked.
            "echo -n \"$2\" | gnome-keyring-daemon --unlock --components=secrets >/dev/null \
             && exec \"$0\" --exact \"$1\" --nocapture --test-threads=1",
        ]);
        c.arg(&exe).arg(test).arg(KEYRING_PASSWORD);
        c
    } else {
        let mut c = Command::new(&exe);
        c.args(["--exact", test, "--nocapture"]);
        c.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
        c
    };
    let out = cmd
        .env(INNER, mode)
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", home.path())
        .env_remove("GNOME_KEYRING_CONTROL")
        // No display: an unlock prompt cannot be shown, so gnome-keyring dismisses it at once,
        // as a user who cancels it does.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("dbus-run-session and gnome-keyring are installed by scripts/bootstrap.sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "inner run failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "the inner test did not run:\n{text}"
    );
}

fn session() -> SessionInfo {
    SessionInfo {
        server_url: "http://127.0.0.1:9".into(),
        user_id: 7,
        name: "Alice".into(),
        email: "alice@example.test".into(),
        persisted: true,
    }
}

#[test]
fn the_token_is_stored_restored_and_deleted_in_a_real_secret_service() {
    match std::env::var(INNER).as_deref() {
        Err(_) => run_inside(
            "the_token_is_stored_restored_and_deleted_in_a_real_secret_service",
            "secret-service",
            true,
        ),
        Ok("secret-service") => {
            let keyring = OsKeyring::new("confab-test");
            assert_eq!(keyring.load("nobody").expect("keyring reachable"), None);
            let acct = account(&session());
            keyring.save(&acct, "tok-123").expect("stored");
            keyring.save(&acct, "tok-456").expect("replaced");
            assert_eq!(
                keyring.load(&acct).expect("read").as_deref(),
                Some("tok-456")
            );

            // A core started on this data dir restores the session from the keyring, offline.
            let dir = tempfile::tempdir().expect("dir");
            SessionFile::new(dir.path())
                .save(&session())
                .expect("session file");
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            rt.block_on(async {
                let core = Core::start_with(
                    CoreConfig {
                        data_dir: dir.path().to_owned(),
                        keyring_service: "confab-test".into(),
                        connect_after_paint: false,
                    },
                    Arc::new(OsKeyring::new("confab-test")),
                )
                .await
                .expect("core");
                assert_eq!(core.session().await.map(|s| s.user_id), Some(7));
                // Signing out (server unreachable here) still forgets the token.
                core.sign_out().await.expect("signed out");
                assert!(core.session().await.is_none());
            });
            assert_eq!(keyring.load(&acct).expect("read"), None, "deleted");
            let file = std::fs::read_to_string(dir.path().join("session.json"));
            assert!(file.is_err(), "session file removed");
        }
        Ok(_) => {}
    }
}

#[test]
fn without_a_secret_service_the_error_is_clear_and_nothing_falls_back_to_a_file() {
    match std::env::var(INNER).as_deref() {
        Err(_) => run_inside(
            "without_a_secret_service_the_error_is_clear_and_nothing_falls_back_to_a_file",
            "no-service",
            false,
        ),
        Ok("no-service") => {
            let keyring = OsKeyring::new("confab-test");
            let err = keyring.save("acct", "tok").expect_err("no keyring here");
            let KeyringError::Unavailable(why) = &err;
            assert!(!why.is_empty());
            let ipc: confab_model::ipc::IpcError = confab_core::CoreError::from(err).into();
            assert_eq!(
                ipc.code,
                confab_model::ipc::IpcErrorCode::KeyringUnavailable
            );
            assert!(ipc.message.contains("keyring"), "{}", ipc.message);
        }
        Ok(_) => {}
    }
}

#[test]
fn a_locked_keyring_leaves_saved_messages_readable_and_confab_connects_once_it_is_unlocked() {
    match std::env::var(INNER).as_deref() {
        Err(_) => run_inside(
            "a_locked_keyring_leaves_saved_messages_readable_and_confab_connects_once_it_is_unlocked",
            "locked",
            true,
        ),
        Ok("locked") => {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            rt.block_on(locked_keyring()).expect("the locked-keyring run");
        }
        Ok(_) => {}
    }
}

async fn locked_keyring() -> anyhow::Result<()> {
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dir = tempfile::tempdir()?;
    let config = || CoreConfig {
        data_dir: dir.path().to_owned(),
        keyring_service: "confab-test".into(),
        connect_after_paint: false,
    };
    let open = |core: Core| Client {
        events: core.subscribe_events(),
        core,
        data_dir: dir.path().to_owned(),
        tokens: Arc::default(),
    };
    // Alice signs in; her token goes to the (unlocked) keyring.
    let os_keyring = || Arc::new(OsKeyring::new("confab-test")) as Arc<dyn TokenStore>;
    let mut alice = open(Core::start_with(config(), os_keyring()).await?);
    alice
        .core
        .sign_in(SignInRequest {
            server_url: backend.base.clone(),
            email: backend.users[0].user.email.clone(),
            password: backend.users[0].password.clone(),
            session_only: false,
        })
        .await?;
    alice.lists(conv).await;
    alice.core.close().await;

    // The keyring is locked when she starts Confab again, and she cancels its unlock prompt.
    let bus = zbus::Connection::session().await?;
    keyring::lock(&bus).await?;
    let mut alice = open(Core::start_with(config(), os_keyring()).await?);
    assert!(
        alice.core.session().await.is_some(),
        "she is not sent to the sign-in screen"
    );
    let listed = alice.core.conversations().await?;
    assert!(
        listed.iter().any(|c| c.id == conv),
        "her conversations come from the cache"
    );
    alice
        .until("the banner says the keyring is locked", |c| async move {
            c.connection_status() == ConnectionStatus::Locked
        })
        .await;
    let written = alice
        .core
        .send_message(conv, "written while locked".into())
        .await?;
    assert_eq!(
        written.delivery,
        DeliveryState::Pending,
        "kept to send later"
    );

    // She unlocks the keyring and presses "Retry now": Confab connects and sends it once.
    keyring::unlock(&bus, KEYRING_PASSWORD).await?;
    alice.core.check_now();
    alice
        .expect("connected", |e| {
            matches!(e, UiEvent::Connection(ConnectionStatus::Connected))
        })
        .await;
    alice
        .until("the message is sent", |c| async move {
            c.messages(conv, None, 50).await.is_ok_and(|m| {
                m.iter().any(|x| {
                    x.content == "written while locked" && x.delivery == DeliveryState::Sent
                })
            })
        })
        .await;
    let on_server = backend.api(1).await?.messages(conv, None, 50).await?;
    assert_eq!(
        on_server
            .iter()
            .filter(|m| m.content == "written while locked")
            .count(),
        1
    );
    alice.core.close().await;
    Ok(())
}

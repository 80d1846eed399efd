//! Revocation that reaches the socket, and accounts an admin can run: sockets signed in as
//! their user (`/api/pusher/user-auth`) are closed by logout, `users disable`, a password
//! change and the other revocations; the password and sign-out-everywhere routes; the `users`
//! commands of the built binary against the same database and a real Sockudo.

mod support;

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use confab_model::ChannelName;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{Api, Listener, TestServer};

/// How soon after a revocation the user's socket must be closed.
const CLOSED_WITHIN: Duration = Duration::from_secs(1);

/// The close code Sockudo (like hosted Pusher) uses for sockets the app terminated.
const TERMINATED: u16 = 4009;

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// Ada's socket: subscribed to her private channel and signed in as her.
async fn signed_in_socket(server: &TestServer, api: &Api) -> Result<Listener> {
    let mut ws = server.listen(api).await?;
    ws.subscribe(&ChannelName::private_user(server.id(0)))
        .await?;
    ws.signin().await?;
    Ok(ws)
}

/// Proves the socket still receives Ada's events: Grace starts a conversation with her and
/// the socket gets `conversation-created`.
async fn still_receives(server: &TestServer, grace: &Api, ws: &mut Listener) -> Result<()> {
    server.group(grace, "Still here?", &[0]).await?;
    let got = ws.next("conversation-created").await?;
    assert_eq!(got.channel, ChannelName::private_user(server.id(0)));
    Ok(())
}

/// Runs the built `confab-server users …` against the test server's database, with the
/// `PUSHER_*` settings of its Sockudo, feeding `stdin` when given; returns stdout.
fn users_command(server: &TestServer, args: &[&str], stdin: Option<&str>) -> Result<String> {
    let s = &server.sockudo;
    let mut child = Command::new(env!("CARGO_BIN_EXE_confab-server"))
        .arg("users")
        .args(args)
        .args(support::storage_args(&server.storage))
        .env("PUSHER_APP_ID", s.app_id())
        .env("PUSHER_KEY", s.key())
        .env("PUSHER_SECRET", s.secret())
        .env("PUSHER_HOST", "127.0.0.1")
        .env("PUSHER_PORT", s.port().to_string())
        .env("PUSHER_USE_TLS", "false")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting confab-server")?;
    if let Some(mut input) = child.stdin.take() {
        if let Some(text) = stdin {
            input.write_all(text.as_bytes())?;
        }
    }
    let out = child.wait_with_output()?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "confab-server users {args:?} failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(stdout)
}

/// After a revocation: the socket is closed within [`CLOSED_WITHIN`] and `revoked` is refused
/// a new channel authorization.
async fn cut_and_refused(ws: &mut Listener, revoked: &Api, channel: &str) -> Result<()> {
    let code = ws.closed_within(CLOSED_WITHIN).await?;
    assert_eq!(code, Some(TERMINATED), "closed by the server for the app");
    let (status, body) = revoked.pusher_auth("123.456", channel).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    Ok(())
}

#[tokio::test]
async fn logging_out_closes_the_signed_in_socket_within_a_second_and_its_token_is_refused(
) -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let mut ws = signed_in_socket(&server, &ada).await?;
    still_receives(&server, &grace, &mut ws).await?;

    let (status, _) = ada.post("/api/auth/logout", &json!({})).await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    cut_and_refused(&mut ws, &ada, &ChannelName::private_user(server.id(0))).await
}

#[tokio::test]
async fn disabling_a_user_from_the_command_line_closes_their_socket_within_a_second() -> Result<()>
{
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let mut ws = signed_in_socket(&server, &ada).await?;
    still_receives(&server, &grace, &mut ws).await?;

    let out = users_command(&server, &["disable", "--email", "ada@example.test"], None)?;
    assert!(out.contains("live connections closed"), "{out}");
    cut_and_refused(&mut ws, &ada, &ChannelName::private_user(server.id(0))).await
}

#[tokio::test]
async fn changing_the_password_closes_the_other_sessions_socket_and_refuses_its_token() -> Result<()>
{
    let server = TestServer::start().await?;
    let laptop = server.login(0).await?;
    let phone = server.login(0).await?;
    let grace = server.login(1).await?;
    let mut ws = signed_in_socket(&server, &phone).await?;
    still_receives(&server, &grace, &mut ws).await?;

    let (status, body) = laptop
        .post(
            "/api/account/password",
            &json!({"currentPassword": "pw-Ada-secret", "newPassword": "a much better one"}),
        )
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    cut_and_refused(&mut ws, &phone, &ChannelName::private_user(server.id(0))).await?;
    let (status, _) = laptop.get("/api/me").await?;
    assert_eq!(
        status,
        StatusCode::OK,
        "the device that changed it stays signed in"
    );
    Ok(())
}

#[tokio::test]
async fn a_changed_password_is_the_only_one_that_signs_in_afterwards() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let (status, _) = ada
        .post(
            "/api/account/password",
            &json!({"currentPassword": "pw-Ada-secret", "newPassword": "correct horse battery"}),
        )
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let anon = Api::anonymous(&server.base)?;
    let login = |password: &str| json!({"email": "ada@example.test", "password": password});
    let (old, _) = anon
        .post("/api/auth/login", &login("pw-Ada-secret"))
        .await?;
    assert_eq!(old, StatusCode::UNAUTHORIZED);
    let (new, _) = anon
        .post("/api/auth/login", &login("correct horse battery"))
        .await?;
    assert_eq!(new, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn a_wrong_current_password_is_forbidden_changes_nothing_and_counts_as_a_failed_login(
) -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let other = server.login(0).await?;
    let wrong = json!({"currentPassword": "not it at all", "newPassword": "whatever else"});
    let (status, body) = ada.post("/api/account/password", &wrong).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "forbidden");
    assert!(!body.to_string().contains("not it at all"), "never echoed");
    let (status, _) = other.get("/api/me").await?;
    assert_eq!(status, StatusCode::OK, "no session was revoked");

    // Four more make five failures for Ada's email: guessing through here is limited as at
    // login, on both doors.
    for _ in 0..4 {
        ada.post("/api/account/password", &wrong).await?;
    }
    let (status, body) = ada.post("/api/account/password", &wrong).await?;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let (status, _) = Api::anonymous(&server.base)?
        .post(
            "/api/auth/login",
            &json!({"email": "ada@example.test", "password": "pw-Ada-secret"}),
        )
        .await?;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    Ok(())
}

#[tokio::test]
async fn a_new_password_too_short_or_too_long_is_refused_and_the_old_one_still_works() -> Result<()>
{
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    for new in ["short".to_owned(), "x".repeat(1025)] {
        let (status, body) = ada
            .post(
                "/api/account/password",
                &json!({"currentPassword": "pw-Ada-secret", "newPassword": new}),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(code(&body), "validation_failed");
    }
    server.login(0).await?;
    Ok(())
}

#[tokio::test]
async fn the_account_routes_and_user_auth_refuse_a_missing_or_revoked_token() -> Result<()> {
    let server = TestServer::start().await?;
    let anon = Api::anonymous(&server.base)?;
    let body = json!({"currentPassword": "pw-Ada-secret", "newPassword": "long enough now"});
    let (status, _) = anon.post("/api/account/password", &body).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = anon
        .post("/api/account/sessions/revoke", &json!({}))
        .await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, b) = anon
        .post_raw(
            "/api/pusher/user-auth",
            "application/x-www-form-urlencoded",
            "socket_id=123.456".into(),
        )
        .await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{b}");
    Ok(())
}

#[tokio::test]
async fn signing_out_everywhere_revokes_every_token_of_the_caller_and_no_one_elses() -> Result<()> {
    let server = TestServer::start().await?;
    let laptop = server.login(0).await?;
    let phone = server.login(0).await?;
    let grace = server.login(1).await?;
    let mut ws = signed_in_socket(&server, &phone).await?;

    let (status, _) = laptop
        .post("/api/account/sessions/revoke", &json!({}))
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    cut_and_refused(&mut ws, &phone, &ChannelName::private_user(server.id(0))).await?;
    for ada in [&laptop, &phone] {
        let (status, _) = ada.get("/api/me").await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = grace.get("/api/me").await?;
    assert_eq!(status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn user_auth_signs_the_socket_as_the_caller_with_their_name() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let (status, body) = ada
        .post_raw(
            "/api/pusher/user-auth",
            "application/x-www-form-urlencoded",
            "socket_id=123.456".into(),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user_data: Value = serde_json::from_str(body["user_data"].as_str().unwrap_or("{}"))?;
    assert_eq!(user_data["id"], server.id(0).to_string());
    assert_eq!(user_data["user_info"]["name"], "Ada");
    let creds = pusher_channels::sign::AppCredentials::new(
        server.sockudo.app_id(),
        server.sockudo.key(),
        server.sockudo.secret(),
    );
    let expected = pusher_channels::sign::authenticate_user(&creds, "123.456", &user_data)?;
    assert_eq!(body["auth"], expected.auth, "signed with the app's secret");
    assert!(!body.to_string().contains(server.sockudo.secret()));

    let (status, body) = ada
        .post_raw(
            "/api/pusher/user-auth",
            "application/x-www-form-urlencoded",
            "socket_id=nope".into(),
        )
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    Ok(())
}

#[tokio::test]
async fn reset_password_from_the_command_line_sets_the_piped_password_and_cuts_every_session(
) -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let mut ws = signed_in_socket(&server, &ada).await?;
    let out = users_command(
        &server,
        &["reset-password", "--email", "ada@example.test"],
        Some("a brand new secret\n"),
    )?;
    assert!(out.contains("1 session(s) revoked"), "{out}");
    assert!(out.contains("live connections closed"), "{out}");
    assert!(
        !out.contains("a brand new secret"),
        "a piped password is not printed"
    );
    cut_and_refused(&mut ws, &ada, &ChannelName::private_user(server.id(0))).await?;
    let (status, _) = Api::anonymous(&server.base)?
        .post(
            "/api/auth/login",
            &json!({"email": "ada@example.test", "password": "a brand new secret"}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn reset_password_without_piped_input_prints_a_generated_one_that_signs_in() -> Result<()> {
    let server = TestServer::start().await?;
    let out = users_command(
        &server,
        &["reset-password", "--email", "grace@example.test"],
        None,
    )?;
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .with_context(|| format!("no generated password in {out}"))?;
    let (status, _) = Api::anonymous(&server.base)?
        .post(
            "/api/auth/login",
            &json!({"email": "grace@example.test", "password": password}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn revoke_sessions_from_the_command_line_signs_the_user_out_everywhere() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let phone = server.login(0).await?;
    let mut ws = signed_in_socket(&server, &ada).await?;
    let out = users_command(
        &server,
        &["revoke-sessions", "--email", "ada@example.test"],
        None,
    )?;
    assert!(
        out.contains("2 session(s) of ada@example.test revoked"),
        "{out}"
    );
    cut_and_refused(&mut ws, &ada, &ChannelName::private_user(server.id(0))).await?;
    let (status, _) = phone.get("/api/me").await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.login(0).await?;
    Ok(())
}

#[tokio::test]
async fn a_disabled_user_enabled_again_signs_in_with_their_password() -> Result<()> {
    let server = TestServer::start().await?;
    users_command(&server, &["disable", "--email", "linus@example.test"], None)?;
    assert!(server.login(2).await.is_err(), "disabled");
    let out = users_command(&server, &["enable", "--email", "linus@example.test"], None)?;
    assert!(out.contains("enabled linus@example.test"), "{out}");
    server.login(2).await?;
    Ok(())
}

#[tokio::test]
async fn the_account_commands_name_an_unknown_email_and_fail() -> Result<()> {
    let server = TestServer::start().await?;
    for action in ["enable", "revoke-sessions", "reset-password", "disable"] {
        let err = users_command(&server, &[action, "--email", "nobody@example.test"], None)
            .err()
            .with_context(|| format!("{action} succeeded for an unknown email"))?;
        assert!(
            err.to_string()
                .contains("no user with email nobody@example.test"),
            "{action}: {err}"
        );
    }
    Ok(())
}

//! The `demo` command as an operator runs it beside a Pusher server of their own: no Sockudo
//! child, every trigger into that server (what lets demo replicas share one cluster).

mod support;

use std::process::Stdio;

use anyhow::{anyhow, ensure, Context, Result};
use confab_model::ChannelName;
use confab_testkit::Sockudo;
use serde_json::json;
use support::{Api, Listener, WAIT};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// A demo user as the demo printed them.
struct Printed {
    email: String,
    password: String,
}

#[tokio::test]
async fn a_demo_given_a_pusher_server_starts_no_sockudo_of_its_own_and_triggers_into_that_one(
) -> Result<()> {
    let sockudo = Sockudo::start().await?;
    let mut demo = Command::new(env!("CARGO_BIN_EXE_confab-server"))
        .args(["demo", "--bind", "127.0.0.1:0"])
        .env("PUSHER_APP_ID", sockudo.app_id())
        .env("PUSHER_KEY", sockudo.key())
        .env("PUSHER_SECRET", sockudo.secret())
        .env("PUSHER_HOST", "127.0.0.1")
        .env("PUSHER_PORT", sockudo.port().to_string())
        .env("PUSHER_USE_TLS", "false")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting confab-server demo")?;
    let stdout = demo.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let (mut base, mut pusher, mut users) = (None, None, Vec::new());
    while let Some(line) = tokio::time::timeout(WAIT, lines.next_line()).await?? {
        if let Some(rest) = line.strip_prefix("Confab demo server on ") {
            base = Some(rest.trim().to_owned());
        } else if let Some(rest) = line.trim_start().strip_prefix("pusher :") {
            pusher = Some(rest.trim().to_owned());
        } else if line.contains(" password ") {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let [email, "password", password, ..] = words[..] {
                users.push(Printed {
                    email: email.to_owned(),
                    password: password.to_owned(),
                });
            }
        } else if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    let base = base.ok_or_else(|| anyhow!("the demo printed no address"))?;
    let pusher = pusher.ok_or_else(|| anyhow!("the demo printed no Pusher server"))?;
    ensure!(
        pusher.starts_with(&format!("127.0.0.1:{} ", sockudo.port())),
        "the demo names the given server: {pusher}"
    );
    let pid = demo.id().ok_or_else(|| anyhow!("the demo exited"))?;
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))?;
    ensure!(children.trim().is_empty(), "no Sockudo child: {children:?}");

    let login = |i: usize| {
        let base = base.clone();
        let (email, password) = (users[i].email.clone(), users[i].password.clone());
        async move {
            let anon = Api::anonymous(&base)?;
            let (status, body) = anon
                .post(
                    "/api/auth/login",
                    &json!({"email": email, "password": password}),
                )
                .await?;
            ensure!(status == reqwest::StatusCode::OK, "{status} {body}");
            let token = body["token"].as_str().unwrap_or_default().to_owned();
            let id = body["user"]["id"].as_i64().unwrap_or_default();
            anyhow::Ok((anon.with_token(&token), id))
        }
    };
    ensure!(users.len() >= 2, "the demo printed its users");
    let (ada, ada_id) = login(0).await?;
    let (grace, _) = login(1).await?;
    let mut ws = Listener::connect(&sockudo.ws_url(), ada.clone()).await?;
    ws.subscribe(&ChannelName::private_user(ada_id)).await?;
    grace
        .post(
            "/api/conversations",
            &json!({"title": "Through your Sockudo", "memberIds": [ada_id]}),
        )
        .await?;
    let got = ws.next("conversation-created").await?;
    assert_eq!(got.channel, ChannelName::private_user(ada_id));
    demo.kill().await?;
    Ok(())
}

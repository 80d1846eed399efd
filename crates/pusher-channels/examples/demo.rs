//! Live demo: starts a local Sockudo, connects this client to it, subscribes to a public, a
//! private and a presence channel, and prints every event as it arrives while a "server" task
//! triggers an event every two seconds through the HTTP API. Ctrl-C stops it (and Sockudo).
//!
//! `cargo run -p pusher-channels --example demo`
//!
//! The authorizer here signs locally because this process also plays the backend; a real
//! client uses `HttpAuthorizer` against the app's auth endpoint and never sees the secret.

use std::time::Duration;

use confab_testkit::Sockudo;
use pusher_channels::auth::{AuthFuture, Authorizer};
use pusher_channels::client::Client;
use pusher_channels::proto::{AuthError, Config, Endpoint, Event};
use pusher_channels::sign::{
    self, AppCredentials, ChannelAuthorization, PresenceMember, UserAuthentication,
};
use pusher_channels::trigger::{ApiEndpoint, TriggerClient};
use serde_json::json;

struct DemoBackend(AppCredentials);

impl Authorizer for DemoBackend {
    fn authorize_channel<'a>(
        &'a self,
        socket_id: &'a str,
        channel: &'a str,
    ) -> AuthFuture<'a, ChannelAuthorization> {
        Box::pin(async move {
            let me = PresenceMember {
                user_id: "1".into(),
                user_info: json!({"name": "demo"}),
            };
            sign::authorize_channel(
                &self.0,
                socket_id,
                channel,
                channel.starts_with("presence-").then_some(&me),
                None,
            )
            .map_err(|e| AuthError {
                status: Some(403),
                message: e.to_string(),
            })
        })
    }

    fn authenticate_user<'a>(&'a self, socket_id: &'a str) -> AuthFuture<'a, UserAuthentication> {
        Box::pin(async move {
            sign::authenticate_user(&self.0, socket_id, &json!({"id": "1"})).map_err(|e| {
                AuthError {
                    status: Some(403),
                    message: e.to_string(),
                }
            })
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sockudo = Sockudo::start().await?;
    println!(
        "Sockudo on 127.0.0.1:{} (app key {})",
        sockudo.port(),
        sockudo.key()
    );
    let creds = AppCredentials {
        app_id: sockudo.app_id().to_owned(),
        key: sockudo.key().to_owned(),
        secret: sockudo.secret().to_owned(),
    };
    let endpoint = Endpoint::Host {
        host: "127.0.0.1".into(),
        port: sockudo.port(),
        tls: false,
    };
    let (client, mut events) = Client::start(
        Config::new(sockudo.key().to_owned(), endpoint),
        DemoBackend(creds.clone()),
    );
    for channel in ["news", "private-user-1", "presence-chat-room-1"] {
        client.subscribe(channel)?;
    }

    let trigger = TriggerClient::new(
        ApiEndpoint::SelfHosted {
            scheme: "http".into(),
            host: "127.0.0.1".into(),
            port: sockudo.port(),
        },
        creds,
        None,
    )?;
    tokio::spawn(async move {
        let mut n = 0u64;
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            n += 1;
            let (channel, event) = if n.is_multiple_of(2) {
                ("news", "headline")
            } else {
                ("private-user-1", "knowledge-request")
            };
            let data = json!({"n": n, "question": "How do we deploy?"}).to_string();
            if let Err(e) = trigger
                .trigger(&[channel.to_owned()], event, &data, None)
                .await
            {
                eprintln!("trigger failed: {e}");
            }
        }
    });

    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Some(Event::Message { channel, event, data, .. }) => println!("{channel:<24} {event:<20} {}", data.to_value()),
                Some(other) => println!("{other:?}"),
                None => break,
            },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    drop(sockudo);
    Ok(())
}

//! The real backend for the app under test: `confab-server`'s router on a random loopback
//! port, seeded like demo mode (Ada, Grace, Linus; two conversations with history; two pending
//! requests to Ada), with a real Sockudo. Both can be stopped and brought back on the same
//! ports, so the app sees a real outage.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use confab_core::Api;
use confab_server::demo::{self, DemoData};
use confab_server::write_limit::WriteLimits;
use confab_server::{app, AppState, Db, PusherSettings};
use confab_testkit::Sockudo;
use tokio::sync::oneshot;

/// The demo users, in seed order.
pub const ADA: usize = 0;
/// Grace Hopper: has a direct conversation with Ada.
pub const GRACE: usize = 1;
/// Linus Torvalds.
pub const LINUS: usize = 2;

/// The backend and its Sockudo.
pub struct Backend {
    sockudo: Sockudo,
    state: AppState,
    port: u16,
    stop: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
    /// Who was seeded, with their passwords.
    pub demo: DemoData,
    _dir: tempfile::TempDir,
}

impl Backend {
    /// Seeds a fresh database and serves it.
    ///
    /// # Errors
    /// Sockudo or the database did not start.
    pub async fn start() -> Result<Self> {
        // Tests seed long histories and bursts through the API as teammates; the window's own
        // handling of a 429 is tested with [`Backend::start_limited`].
        Self::start_limited(WriteLimits::UNLIMITED).await
    }

    /// Like [`Backend::start`], with the server's per-user write limits set to `limits`.
    ///
    /// # Errors
    /// Sockudo or the database did not start.
    pub async fn start_limited(limits: WriteLimits) -> Result<Self> {
        let sockudo = Sockudo::start().await?;
        let settings = PusherSettings::of_local(&sockudo);
        let dir = tempfile::tempdir()?;
        let db = Db::open(dir.path().join("server.db"))?;
        let demo = demo::seed(&db)?;
        let state = AppState::new(db, &settings)?.with_write_limits(limits);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let mut b = Backend {
            sockudo,
            state,
            port,
            stop: None,
            demo,
            _dir: dir,
        };
        b.serve(listener);
        Ok(b)
    }

    /// The URL the app signs in to.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Email and password of demo user `i`.
    pub fn credentials(&self, i: usize) -> (String, String) {
        let u = &self.demo.users[i];
        (u.user.email.clone(), u.password.clone())
    }

    /// The user id of demo user `i`.
    pub fn user_id(&self, i: usize) -> i64 {
        self.demo.users[i].user.id
    }

    /// A REST client signed in as demo user `i` (the same client library the app uses).
    ///
    /// # Errors
    /// The login failed.
    pub async fn api(&self, i: usize) -> Result<Api> {
        let (email, password) = self.credentials(i);
        let api = Api::new(&self.url());
        let login = api.login(&email, &password).await?;
        Ok(api.with_token(login.token))
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let (tx, rx) = oneshot::channel::<()>();
        let router = app(self.state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        });
        self.stop = Some((tx, task));
    }

    /// The whole backend goes away: HTTP stops answering (its listener is closed when this
    /// returns) and Sockudo is killed.
    ///
    /// # Errors
    /// Open connections kept the server from finishing within 20 s.
    pub async fn stop(&mut self) -> Result<()> {
        if let Some((tx, task)) = self.stop.take() {
            let _ = tx.send(());
            tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .context("the backend did not shut down")??;
        }
        self.sockudo.kill();
        Ok(())
    }

    /// Brings HTTP and Sockudo back on the same ports, with the same data.
    ///
    /// # Errors
    /// A port was taken meanwhile, or Sockudo did not come up.
    pub async fn restart(&mut self) -> Result<()> {
        self.sockudo.restart().await?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .with_context(|| format!("port {} was taken while the backend was down", self.port))?;
        self.serve(listener);
        Ok(())
    }

    /// Sockudo's log, for failure messages.
    pub fn sockudo_log(&self) -> String {
        self.sockudo.log_tail(40)
    }

    /// Provisions one more user the way `confab-server users add` does (no conversations, no
    /// requests): a teammate starting from nothing. Returns their id and REST client.
    ///
    /// # Errors
    /// The database refused, or the login failed.
    pub async fn add_user(&self, name: &str, email: &str, password: &str) -> Result<(i64, Api)> {
        let hash = confab_server::auth::hash_password(password)
            .map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
        let (email_owned, name_owned) = (email.to_owned(), name.to_owned());
        let user = self
            .state
            .db()
            .write(move |c| {
                confab_server::store::users::create_user(c, &email_owned, &name_owned, &hash)
            })
            .await
            .map_err(|e: confab_server::store::StoreError| {
                anyhow::anyhow!("adding {email}: {e}")
            })?;
        let api = Api::new(&self.url());
        let login = api.login(email, password).await?;
        Ok((user.id, api.with_token(login.token)))
    }

    /// Seeds a big team straight into the database, in one transaction (through the REST API
    /// 2,000 conversations take minutes): `people` more teammates ("Firstname Lastname", all
    /// different) and `conversations` groups of Ada with two of them, titled
    /// `"{Word} {word} NNNN"` (`NNNN` its number from 0, all different), each with one message,
    /// posted in order: conversation 0 is the least recent, at the bottom of Ada's list. The
    /// teammates cannot sign in. Returns the titles in that order.
    ///
    /// # Errors
    /// The database refused.
    pub async fn seed_team(&self, people: usize, conversations: usize) -> Result<Vec<String>> {
        const FIRST: [&str; 25] = [
            "Alice", "Bruno", "Chiara", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines",
            "Jonas", "Kofi", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven",
            "Tamar", "Umar", "Vera", "Wen", "Yusuf", "Zofia",
        ];
        const LAST: [&str; 20] = [
            "Abbott", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Horvat",
            "Ivanova", "Jensen", "Kowalski", "Laurent", "Moreau", "Novak", "Okafor", "Petrov",
            "Rossi", "Sato", "Tanaka", "Weber",
        ];
        const WORDS: [&str; 8] = [
            "atlas", "beacon", "comet", "delta", "ember", "falcon", "glacier", "harbor",
        ];
        let (ada, grace, linus) = (
            self.demo.users[ADA].user.clone(),
            self.user_id(GRACE),
            self.user_id(LINUS),
        );
        let titles: Vec<String> = (0..conversations)
            .map(|i| {
                let (a, b) = (WORDS[i % 8], WORDS[(i / 8) % 8]);
                let mut head = a.to_owned();
                head[..1].make_ascii_uppercase();
                format!("{head} {b} {i:04}")
            })
            .collect();
        let names: Vec<String> = (0..people)
            .map(|i| {
                let last = LAST[(i / FIRST.len()) % LAST.len()];
                let round = i / (FIRST.len() * LAST.len());
                let suffix = if round == 0 {
                    String::new()
                } else {
                    format!(" {}", round + 1)
                };
                format!("{} {last}{suffix}", FIRST[i % FIRST.len()])
            })
            .collect();
        let seeded = titles.clone();
        self.state
            .db()
            .write(move |c| -> Result<(), confab_server::store::StoreError> {
                // Nobody signs in as them: a hash no password matches.
                let mut ids = Vec::with_capacity(people);
                for (i, name) in names.iter().enumerate() {
                    let email = format!("teammate{i}@team.example");
                    ids.push(confab_server::store::users::create_user(c, &email, name, "-")?.id);
                }
                let pool: Vec<i64> = if ids.len() >= 2 {
                    ids
                } else {
                    vec![grace, linus]
                };
                for (i, title) in seeded.iter().enumerate() {
                    let others = [pool[i % pool.len()], pool[(i + 1) % pool.len()]];
                    let created = confab_server::store::conversations::create(
                        c,
                        &ada,
                        Some(title),
                        &others,
                        None,
                    )?
                    .into_conversation();
                    let text = format!("Status of {title}");
                    confab_server::store::chat::post_message(
                        c,
                        created.id,
                        &ada,
                        &text,
                        &format!("team-seed-{i}"),
                    )?;
                }
                Ok(())
            })
            .await
            .map_err(|e| anyhow::anyhow!("seeding the team: {e}"))?;
        Ok(titles)
    }

    /// Moves a stored message to another time (`created_at`, in the table and in the change the
    /// sync hands out): history from another season, for the clock and calendar tests.
    ///
    /// # Errors
    /// The database refused, or no such message.
    pub async fn backdate_message(&self, message_id: i64, rfc3339: &str) -> Result<()> {
        let at = rfc3339.to_owned();
        let changed = self
            .state
            .db()
            .write(move |c| {
                let rows = c.execute(
                    "UPDATE messages SET created_at = ?2 WHERE id = ?1",
                    confab_server::args![message_id, at.as_str()],
                )?;
                c.execute(
                    "UPDATE changes SET payload = json_set(payload, '$.message.createdAt', ?2)
                     WHERE seq = (SELECT seq FROM messages WHERE id = ?1)",
                    confab_server::args![message_id, at.as_str()],
                )?;
                Ok::<_, confab_server::store::StoreError>(rows)
            })
            .await
            .map_err(|e| anyhow::anyhow!("backdating message {message_id}: {e}"))?;
        if changed != 1 {
            bail!("no message {message_id}");
        }
        Ok(())
    }

    /// Posts `count` messages from user `sender` into `conversation` straight into the
    /// database, a few thousand per transaction, as the API would store them (seq, change log),
    /// but without a realtime event each: a long history for the window to sync and scroll.
    /// Message `n` reads `text(n)` and has client id `seed-<conversation>-<n>`.
    ///
    /// # Errors
    /// The database refused.
    pub async fn seed_history(
        &self,
        conversation: i64,
        sender: usize,
        count: usize,
        text: impl Fn(usize) -> String + Send + Sync + Clone + 'static,
    ) -> Result<()> {
        let user = self.demo.users[sender].user.clone();
        for start in (0..count).step_by(5_000) {
            let (user, text) = (user.clone(), text.clone());
            let end = (start + 5_000).min(count);
            self.state
                .db()
                .write(move |c| {
                    for n in start..end {
                        confab_server::store::chat::post_message(
                            c,
                            conversation,
                            &user,
                            &text(n),
                            &format!("seed-{conversation}-{n}"),
                        )?;
                    }
                    Ok::<_, confab_server::store::StoreError>(())
                })
                .await
                .map_err(|e| anyhow::anyhow!("seeding history: {e}"))?;
        }
        Ok(())
    }

    /// The conversation of user `i` whose members are exactly `members`.
    ///
    /// # Errors
    /// Not found, or the API failed.
    pub async fn conversation_id(&self, i: usize, members: &[usize]) -> Result<i64> {
        let api = self.api(i).await?;
        let mut want: Vec<i64> = members.iter().map(|m| self.user_id(*m)).collect();
        want.sort_unstable();
        for c in api.conversations().await? {
            let mut ids = c.member_ids;
            ids.sort_unstable();
            if ids == want {
                return Ok(c.id);
            }
        }
        bail!("no conversation with members {want:?}")
    }
}

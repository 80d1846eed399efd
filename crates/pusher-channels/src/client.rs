//! The tokio driver: one task owns the socket and the [`Connection`]; a cheap `Clone` handle
//! sends it commands; events come out of one stream.
//!
//! ```no_run
//! use pusher_channels::client::Client;
//! use pusher_channels::auth::HttpAuthorizer;
//! use pusher_channels::proto::{Config, Endpoint, Event};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::new("app-key", Endpoint::Cluster("eu".into()));
//! let auth = HttpAuthorizer::new("https://example.com/api/pusher/auth");
//! let (client, mut events) = Client::start(config, auth);
//! client.subscribe("private-user-1")?;
//! while let Some(event) = events.recv().await {
//!     if let Event::Message { channel, event, data, .. } = event {
//!         println!("{channel} {event} {data:?}");
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! The driver never blocks on the application: events go into an unbounded queue, so a slow
//! consumer costs memory, not a dead connection.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::auth::Authorizer;
use crate::proto::{
    AuthError, AuthRequest, ChannelNameError, Config, Connection, Event, Members, State, Transmit,
    TriggerError,
};
use crate::sign::{ChannelAuthorization, UserAuthentication};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Connecting = Pin<Box<dyn Future<Output = Result<Ws, String>> + Send>>;

/// Frames handled per wake-up at most, before other work gets a turn.
const BATCH: usize = 256;

/// How long one outbound write may block before the socket is considered dead.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

enum Command {
    Subscribe(String),
    Unsubscribe(String),
    Trigger {
        channel: String,
        event: String,
        data: Value,
        reply: oneshot::Sender<Result<(), TriggerError>>,
    },
    Signin,
    CheckNow,
    Connect,
    Disconnect,
    Members {
        channel: String,
        reply: oneshot::Sender<Option<Members>>,
    },
}

enum AuthAnswer {
    Channel {
        channel: String,
        socket_id: String,
        result: Result<ChannelAuthorization, AuthError>,
    },
    User {
        socket_id: String,
        result: Result<UserAuthentication, AuthError>,
    },
}

/// Why a command could not be handed to the driver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The driver task has stopped (every handle and the event stream were dropped, or the
    /// runtime shut down). Start a new client.
    #[error("the connection task has stopped")]
    Stopped,
    /// Invalid channel name.
    #[error(transparent)]
    Channel(#[from] ChannelNameError),
    /// A client event was refused.
    #[error(transparent)]
    Trigger(#[from] TriggerError),
}

/// A handle to the connection; clone freely. Dropping the last handle stops the connection.
#[derive(Clone)]
pub struct Client {
    commands: mpsc::UnboundedSender<Command>,
    state: watch::Receiver<State>,
    socket_id: watch::Receiver<Option<String>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("state", &*self.state.borrow())
            .finish_non_exhaustive()
    }
}

/// The stream of everything the application sees, in order.
#[derive(Debug)]
pub struct Events {
    rx: mpsc::UnboundedReceiver<Event>,
}

impl Events {
    /// The next event; `None` once the connection task has stopped.
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }

    /// An event if one is queued.
    pub fn try_recv(&mut self) -> Option<Event> {
        self.rx.try_recv().ok()
    }
}

impl Client {
    /// Spawns the connection task on the current tokio runtime and starts connecting.
    pub fn start(config: Config, authorizer: impl Authorizer) -> (Client, Events) {
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let (state_tx, state_rx) = watch::channel(State::Initialized);
        let (sid_tx, sid_rx) = watch::channel(None);
        let driver = Driver {
            conn: Connection::new(config),
            authorizer: Arc::new(authorizer),
            events: ev_tx,
            state: state_tx,
            socket_id: sid_tx,
            ws: None,
            connecting: None,
        };
        tokio::spawn(driver.run(cmd_rx));
        let client = Client {
            commands: cmd_tx,
            state: state_rx,
            socket_id: sid_rx,
        };
        (client, Events { rx: ev_rx })
    }

    fn send(&self, cmd: Command) -> Result<(), ClientError> {
        self.commands.send(cmd).map_err(|_| ClientError::Stopped)
    }

    /// The current connection state.
    pub fn state(&self) -> State {
        *self.state.borrow()
    }

    /// A receiver that changes with the state (for waiting on `Connected`).
    pub fn state_watch(&self) -> watch::Receiver<State> {
        self.state.clone()
    }

    /// The socket id while connected.
    pub fn socket_id(&self) -> Option<String> {
        self.socket_id.borrow().clone()
    }

    /// Subscribe (queued while offline; renewed after every reconnect).
    ///
    /// # Errors
    /// An invalid channel name, or a stopped client.
    pub fn subscribe(&self, channel: &str) -> Result<(), ClientError> {
        if !crate::sign::is_valid_channel_name(channel) {
            return Err(ChannelNameError::Invalid(channel.to_owned()).into());
        }
        self.send(Command::Subscribe(channel.to_owned()))
    }

    /// Unsubscribe, in whatever phase the subscription is.
    ///
    /// # Errors
    /// A stopped client.
    pub fn unsubscribe(&self, channel: &str) -> Result<(), ClientError> {
        self.send(Command::Unsubscribe(channel.to_owned()))
    }

    /// Send a client event; the sender gets no echo.
    ///
    /// # Errors
    /// [`TriggerError`] (nothing sent), or a stopped client.
    pub async fn trigger(
        &self,
        channel: &str,
        event: &str,
        data: Value,
    ) -> Result<(), ClientError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Trigger {
            channel: channel.to_owned(),
            event: event.to_owned(),
            data,
            reply,
        })?;
        Ok(rx.await.map_err(|_| ClientError::Stopped)??)
    }

    /// Sign the user in now and after every reconnect (needs a user endpoint).
    ///
    /// # Errors
    /// A stopped client.
    pub fn signin(&self) -> Result<(), ClientError> {
        self.send(Command::Signin)
    }

    /// Check liveness now (on wake from sleep, or when the network changed).
    ///
    /// # Errors
    /// A stopped client.
    pub fn check_now(&self) -> Result<(), ClientError> {
        self.send(Command::CheckNow)
    }

    /// Connect again after [`Client::disconnect`] or a refusal.
    ///
    /// # Errors
    /// A stopped client.
    pub fn connect(&self) -> Result<(), ClientError> {
        self.send(Command::Connect)
    }

    /// Close the socket and stop retrying.
    ///
    /// # Errors
    /// A stopped client.
    pub fn disconnect(&self) -> Result<(), ClientError> {
        self.send(Command::Disconnect)
    }

    /// The members of a subscribed presence channel.
    ///
    /// # Errors
    /// A stopped client.
    pub async fn members(&self, channel: &str) -> Result<Option<Members>, ClientError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Members {
            channel: channel.to_owned(),
            reply,
        })?;
        rx.await.map_err(|_| ClientError::Stopped)
    }

    /// Wait until the state is `want`, up to `timeout`. Returns whether it got there.
    pub async fn wait_for(&self, want: State, timeout: Duration) -> bool {
        let mut rx = self.state.clone();
        tokio::time::timeout(timeout, rx.wait_for(|s| *s == want))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

struct Driver {
    conn: Connection,
    authorizer: Arc<dyn Authorizer>,
    events: mpsc::UnboundedSender<Event>,
    state: watch::Sender<State>,
    socket_id: watch::Sender<Option<String>>,
    ws: Option<Ws>,
    connecting: Option<Connecting>,
}

fn now() -> std::time::Instant {
    Instant::now().into_std()
}

impl Driver {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let (auth_tx, mut auth_rx) = mpsc::unbounded_channel::<AuthAnswer>();
        self.conn.connect(now());
        // One timer for the task's life, re-armed only when the deadline moves: building a new
        // one per frame was a measurable share of the CPU under load.
        let timer = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(timer);
        let mut armed: Option<Instant> = None;
        loop {
            self.flush(&auth_tx).await;
            let deadline = self.conn.poll_timeout().map(Instant::from_std);
            if deadline != armed {
                if let Some(d) = deadline {
                    timer.as_mut().reset(d);
                }
                armed = deadline;
            }
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.command(cmd),
                    None => {
                        self.conn.disconnect(now());
                        self.flush(&auth_tx).await;
                        return;
                    }
                },
                msg = next_message(&mut self.ws) => {
                    self.inbound(msg).await;
                    // Frames already buffered are handled in one go (bounded, for fairness):
                    // one trip through the select and one flush per burst, not per frame.
                    for _ in 0..BATCH {
                        let Some(ws) = self.ws.as_mut() else { break };
                        match ws.next().now_or_never() {
                            Some(msg) => {
                                self.inbound(msg.map(|r| r.map_err(|e| e.to_string()))).await;
                            }
                            None => break,
                        }
                    }
                }
                res = poll_connecting(&mut self.connecting) => {
                    self.connecting = None;
                    match res {
                        Ok(ws) => {
                            self.ws = Some(ws);
                            self.conn.handle_open(now());
                        }
                        Err(e) => {
                            log_debug(&format!("connect failed: {e}"));
                            self.conn.handle_close(now(), None, &e);
                        }
                    }
                }
                Some(answer) = auth_rx.recv() => match answer {
                    AuthAnswer::Channel { channel, socket_id, result } => {
                        self.conn.handle_channel_auth(now(), &channel, &socket_id, result);
                    }
                    AuthAnswer::User { socket_id, result } => {
                        self.conn.handle_user_auth(now(), &socket_id, result);
                    }
                },
                () = &mut timer, if armed.is_some() => {
                    armed = None;
                    self.conn.handle_timeout(now());
                }
            }
        }
    }

    fn command(&mut self, cmd: Command) {
        let t = now();
        match cmd {
            Command::Subscribe(c) => {
                if let Err(e) = self.conn.subscribe(t, &c) {
                    log_debug(&e.to_string());
                }
            }
            Command::Unsubscribe(c) => self.conn.unsubscribe(t, &c),
            Command::Trigger {
                channel,
                event,
                data,
                reply,
            } => {
                let _ = reply.send(self.conn.trigger(t, &channel, &event, &data));
            }
            Command::Signin => self.conn.signin(t),
            Command::CheckNow => self.conn.check_now(t),
            Command::Connect => self.conn.connect(t),
            Command::Disconnect => self.conn.disconnect(t),
            Command::Members { channel, reply } => {
                let _ = reply.send(self.conn.members(&channel).cloned());
            }
        }
    }

    async fn inbound(&mut self, msg: Option<Result<Message, String>>) {
        let t = now();
        match msg {
            Some(Ok(Message::Text(text))) => self.conn.handle_frame(t, text.as_str()),
            Some(Ok(Message::Binary(bytes))) => match std::str::from_utf8(&bytes) {
                Ok(text) => self.conn.handle_frame(t, text),
                Err(_) => self.conn.handle_frame(t, "<binary>"),
            },
            Some(Ok(Message::Ping(_))) => {
                // tungstenite queued the pong; push it out now.
                if let Some(ws) = self.ws.as_mut() {
                    let _ = tokio::time::timeout(SEND_TIMEOUT, ws.flush()).await;
                }
            }
            Some(Ok(Message::Pong(_) | Message::Frame(_))) => {}
            Some(Ok(Message::Close(frame))) => {
                self.ws = None;
                let (code, reason) = frame
                    .map(|f| (Some(u16::from(f.code)), f.reason.to_string()))
                    .unwrap_or((None, String::new()));
                self.conn.handle_close(t, code, &reason);
            }
            Some(Err(e)) => {
                self.ws = None;
                self.conn.handle_close(t, None, &e);
            }
            None => {
                self.ws = None;
                self.conn.handle_close(t, None, "socket ended");
            }
        }
    }

    /// Drain the protocol's outputs: socket actions, auth fetches, events.
    async fn flush(&mut self, auth_tx: &mpsc::UnboundedSender<AuthAnswer>) {
        loop {
            let mut progressed = false;
            while let Some(t) = self.conn.poll_transmit() {
                progressed = true;
                match t {
                    Transmit::Open { url } => {
                        self.ws = None;
                        self.connecting = Some(Box::pin(open(url)));
                    }
                    Transmit::Send(text) => {
                        let Some(ws) = self.ws.as_mut() else { continue };
                        let sent =
                            tokio::time::timeout(SEND_TIMEOUT, ws.send(Message::text(text))).await;
                        if !matches!(sent, Ok(Ok(()))) {
                            self.ws = None;
                            self.conn.handle_close(now(), None, "send failed");
                        }
                    }
                    Transmit::Close => {
                        self.connecting = None;
                        if let Some(mut ws) = self.ws.take() {
                            // Best effort and bounded: the path may be dead.
                            tokio::spawn(async move {
                                let _ =
                                    tokio::time::timeout(Duration::from_secs(2), ws.close(None))
                                        .await;
                            });
                        }
                    }
                }
            }
            while let Some(req) = self.conn.poll_auth() {
                progressed = true;
                let authorizer = Arc::clone(&self.authorizer);
                let tx = auth_tx.clone();
                tokio::spawn(async move {
                    let answer = match req {
                        AuthRequest::Channel { channel, socket_id } => {
                            let result = authorizer.authorize_channel(&socket_id, &channel).await;
                            AuthAnswer::Channel {
                                channel,
                                socket_id,
                                result,
                            }
                        }
                        AuthRequest::User { socket_id } => {
                            let result = authorizer.authenticate_user(&socket_id).await;
                            AuthAnswer::User { socket_id, result }
                        }
                    };
                    let _ = tx.send(answer);
                });
            }
            while let Some(ev) = self.conn.poll_event() {
                progressed = true;
                if let Event::StateChanged { current, .. } = &ev {
                    self.state.send_replace(*current);
                    self.socket_id
                        .send_replace(self.conn.socket_id().map(str::to_owned));
                }
                if let Event::Connected { socket_id, .. } = &ev {
                    self.socket_id.send_replace(Some(socket_id.clone()));
                }
                let _ = self.events.send(ev);
            }
            if !progressed {
                return;
            }
        }
    }
}

async fn open(url: String) -> Result<Ws, String> {
    let config = WebSocketConfig::default()
        // Let the protocol see oversized frames and drop them itself with a clear error,
        // instead of tungstenite killing the connection.
        .max_message_size(Some(16 << 20))
        .max_frame_size(Some(16 << 20));
    let (ws, _resp) =
        tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true)
            .await
            .map_err(|e| e.to_string())?;
    Ok(ws)
}

async fn next_message(ws: &mut Option<Ws>) -> Option<Result<Message, String>> {
    match ws {
        Some(ws) => ws.next().await.map(|r| r.map_err(|e| e.to_string())),
        None => std::future::pending().await,
    }
}

async fn poll_connecting(c: &mut Option<Connecting>) -> Result<Ws, String> {
    match c {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

fn log_debug(msg: &str) {
    tracing::debug!(target: "pusher_channels", "{msg}");
}

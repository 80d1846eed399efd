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
//! The driver hands events over in batches (one lock and at most one wake-up per batch of
//! frames). It never waits for the application while the queue has room: it holds thousands of
//! events, so a consumer that pauses costs memory, not a dead connection. Only a consumer that
//! falls that far behind makes the driver stop reading the socket until it catches up (the
//! server then sees a slow reader; a stall of minutes ends in the liveness check's reconnect).

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{SinkExt, Stream};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::auth::Authorizer;
use crate::proto::{
    AuthError, AuthRequest, ChannelNameError, Config, Connection, Event, Members, State, Transmit,
    TriggerError,
};
use crate::sign::{ChannelAuthorization, UserAuthentication};

mod queue;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Connecting = Pin<Box<dyn Future<Output = Result<Ws, String>> + Send>>;

/// Frames handled per wake-up at most, before other work (the application, on a
/// `current_thread` runtime) gets a turn: a backlog is parsed and consumed in cache-sized slices.
const BATCH: usize = 256;

/// What tungstenite reads from the socket at once. It zeroes the free part of its buffer before
/// every read, so its 128 KiB default cost more in `memset` than in the copy when frames arrive a
/// few at a time; 32 KiB still takes a backlog in few reads.
const READ_BUFFER: usize = 32 << 10;

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
    RetryNow,
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
    rx: queue::Receiver,
}

impl Events {
    /// The next event; `None` once the connection task has stopped. Cancel-safe (fine in
    /// `select!`).
    pub async fn recv(&mut self) -> Option<Event> {
        poll_fn(|cx| self.rx.poll_recv(cx)).await
    }

    /// An event if one is queued.
    pub fn try_recv(&mut self) -> Option<Event> {
        self.rx.try_recv()
    }
}

impl Client {
    /// Spawns the connection task on the current tokio runtime and starts connecting. `wss`
    /// certificates are checked against the bundled web roots; see [`Client::start_with_tls`].
    pub fn start(config: Config, authorizer: impl Authorizer) -> (Client, Events) {
        Client::start_with_tls(config, authorizer, None)
    }

    /// [`Client::start`] with the application's own TLS configuration for `wss` (e.g. one
    /// verified by the operating system's trust store, so a company CA counts). `None` keeps
    /// the bundled web roots.
    pub fn start_with_tls(
        config: Config,
        authorizer: impl Authorizer,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> (Client, Events) {
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = queue::channel();
        let (state_tx, state_rx) = watch::channel(State::Initialized);
        let (sid_tx, sid_rx) = watch::channel(None);
        let driver = Driver {
            conn: Connection::new(config),
            authorizer: Arc::new(authorizer),
            events: ev_tx,
            staged: Vec::new(),
            inbox: Vec::with_capacity(BATCH),
            state: state_tx,
            socket_id: sid_tx,
            ws: None,
            connecting: None,
            tls,
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

    /// The server is reachable again as far as the application can tell (another request to
    /// the same backend just succeeded): when waiting out the backoff, attempt now (at most one
    /// attempt in flight and one a second however often this is called; the backoff is kept,
    /// so an attempt that fails again waits longer than the last). When connected, a liveness
    /// check as [`Client::check_now`]. After a refusal or [`Client::disconnect`], nothing.
    /// See [`Connection::retry_now`].
    ///
    /// # Errors
    /// A stopped client.
    pub fn retry_now(&self) -> Result<(), ClientError> {
        self.send(Command::RetryNow)
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
    events: queue::Sender,
    /// Events of the current batch, on their way to `events` (kept for its capacity).
    staged: Vec<Event>,
    /// Frames read in one wake-up, handled together (kept for its capacity).
    inbox: Vec<Inbound>,
    state: watch::Sender<State>,
    socket_id: watch::Sender<Option<String>>,
    ws: Option<Ws>,
    connecting: Option<Connecting>,
    /// The TLS configuration for `wss` (`None`: tokio-tungstenite's bundled roots).
    tls: Option<Arc<rustls::ClientConfig>>,
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
        let mut more_buffered = false;
        loop {
            self.flush(&auth_tx).await;
            if std::mem::take(&mut more_buffered) {
                // A full batch went to the application; on a `current_thread` runtime it runs
                // only if this task yields. A backlog is then consumed slice by slice while it
                // is still in cache, instead of being parsed whole before the first event is seen.
                tokio::task::yield_now().await;
            }
            let deadline = self.conn.poll_timeout().map(Instant::from_std);
            if deadline != armed {
                if let Some(d) = deadline {
                    timer.as_mut().reset(d);
                }
                armed = deadline;
            }
            let room = self.events.has_room();
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.command(cmd),
                    None => {
                        self.conn.disconnect(now());
                        self.flush(&auth_tx).await;
                        return;
                    }
                },
                // Everything already buffered is read in one go (up to a batch): one trip
                // through the select, one clock read and one hand-over per burst, not per frame.
                () = poll_fn(|cx| poll_batch(&mut self.ws, &mut self.inbox, cx)), if room => {
                    more_buffered = self.handle_inbox().await;
                }
                // The application is far behind: read nothing until it takes the queue.
                () = poll_fn(|cx| self.events.poll_room(cx)), if !room => {}
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
            Command::RetryNow => self.conn.retry_now(t),
            Command::Connect => self.conn.connect(t),
            Command::Disconnect => self.conn.disconnect(t),
            Command::Members { channel, reply } => {
                let _ = reply.send(self.conn.members(&channel).cloned());
            }
        }
    }

    /// Handles the frames [`poll_batch`] read; true when the batch was full (more may wait).
    async fn handle_inbox(&mut self) -> bool {
        let mut inbox = std::mem::take(&mut self.inbox);
        let full = inbox.len() >= BATCH;
        // One clock read for the batch: these frames were all read just now.
        let t = now();
        for msg in inbox.drain(..) {
            self.inbound(t, msg).await;
        }
        self.inbox = inbox;
        full
    }

    async fn inbound(&mut self, t: std::time::Instant, msg: Inbound) {
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
                self.conn.handle_close(t, None, &e.to_string());
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
                        self.connecting = Some(Box::pin(open(url, self.tls.clone())));
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
                self.staged.push(ev);
            }
            if !progressed {
                self.events.send_batch(&mut self.staged);
                return;
            }
        }
    }
}

async fn open(url: String, tls: Option<Arc<rustls::ClientConfig>>) -> Result<Ws, String> {
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        // Let the protocol see oversized frames and drop them itself with a clear error,
        // instead of tungstenite killing the connection.
        .max_message_size(Some(16 << 20))
        .max_frame_size(Some(16 << 20));
    let connector = tls.map(tokio_tungstenite::Connector::Rustls);
    let (ws, _resp) = tokio_tungstenite::connect_async_tls_with_config(
        url.as_str(),
        Some(config),
        true,
        connector,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(ws)
}

/// One item of the WebSocket stream: a message, an error, or its end.
type Inbound = Option<Result<Message, WsError>>;

/// Reads what the stream has ready into `inbox`, up to [`BATCH`] items, stopping after the last
/// one a socket can give (a close, an error, the end). Pending while nothing was read (and
/// forever without a socket).
fn poll_batch(ws: &mut Option<Ws>, inbox: &mut Vec<Inbound>, cx: &mut Context<'_>) -> Poll<()> {
    let Some(ws) = ws.as_mut() else {
        return Poll::Pending;
    };
    while inbox.len() < BATCH {
        match Pin::new(&mut *ws).poll_next(cx) {
            Poll::Ready(Some(Ok(msg))) => {
                let last = matches!(msg, Message::Close(_));
                inbox.push(Some(Ok(msg)));
                if last {
                    break;
                }
            }
            Poll::Ready(end) => {
                inbox.push(end);
                break;
            }
            Poll::Pending => break,
        }
    }
    if inbox.is_empty() {
        Poll::Pending
    } else {
        Poll::Ready(())
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

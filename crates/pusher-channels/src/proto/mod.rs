//! The sans-IO Pusher Channels connection: a plain state machine fed with inputs and an
//! explicit `now`, drained of outputs. It never touches a socket, a clock, HTTP or global
//! randomness, so every rule below is tested with a simulated clock.
//!
//! Call pattern (what [`crate::client`] does):
//! 1. feed inputs: [`Connection::connect`], [`Connection::handle_open`],
//!    [`Connection::handle_frame`], [`Connection::handle_close`],
//!    [`Connection::handle_channel_auth`], [`Connection::handle_user_auth`],
//!    [`Connection::handle_timeout`] (when [`Connection::poll_timeout`] has passed), and the
//!    application's [`Connection::subscribe`] / [`Connection::trigger`] / ...
//! 2. after each input drain [`Connection::poll_transmit`] (socket actions),
//!    [`Connection::poll_auth`] (signatures to fetch) and [`Connection::poll_event`]
//!    (what the application sees), then sleep until [`Connection::poll_timeout`].
//!
//! Reconnecting (close codes, jittered exponential backoff, and the application's ways to cut a
//! wait short: [`Connection::check_now`] and [`Connection::retry_now`]) is in `retry.rs`.

mod channels;
mod retry;
#[cfg(test)]
mod tests;
mod types;

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::frame::{self, Data, Frame};
use crate::sign::{ChannelAuthorization, UserAuthentication};
use channels::{is_encrypted, is_presence, needs_auth, Entry, Held, Phase, USER_CHANNEL_PREFIX};
pub use types::*;

/// Socket lifecycle as far as the protocol is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Socket {
    /// No socket.
    None,
    /// `Transmit::Open` issued; waiting for `handle_open` / `connection_established`.
    Opening,
    /// Open, `connection_established` may or may not have arrived.
    Open,
}

/// The protocol state machine. See the module docs for the call pattern.
#[derive(Debug)]
pub struct Connection {
    config: Config,
    state: State,
    socket: Socket,
    socket_id: Option<String>,
    ever_connected: bool,
    /// Failed attempts since the last stable connection (drives the backoff ceiling).
    attempts: u32,
    /// When the current or the last socket attempt started (rate-limits brought-forward retries).
    last_attempt_at: Option<Instant>,
    /// The retry waits out a 4004 (over quota): nothing brings it forward.
    quota_wait: bool,
    rng: u64,
    last_retry_in: Option<Duration>,
    activity_timeout: Duration,

    retry_at: Option<Instant>,
    attempt_deadline: Option<Instant>,
    unavailable_at: Option<Instant>,
    ping_at: Option<Instant>,
    pong_deadline: Option<Instant>,
    stable_at: Option<Instant>,

    channels: BTreeMap<String, Entry>,
    want_signin: bool,
    signin_socket: Option<String>,
    user_channel: Option<String>,
    client_event_times: VecDeque<Instant>,

    transmits: VecDeque<Transmit>,
    auths: VecDeque<AuthRequest>,
    events: VecDeque<Event>,
    /// Reused by [`Frame::decode_with`] for string `data`: one allocation for the connection,
    /// not one per frame.
    scratch: String,
}

impl Connection {
    /// A connection in state `Initialized`; nothing happens until [`Connection::connect`].
    pub fn new(config: Config) -> Self {
        let rng = config.jitter_seed | 1;
        Connection {
            activity_timeout: config.activity_timeout_cap,
            config,
            state: State::Initialized,
            socket: Socket::None,
            socket_id: None,
            ever_connected: false,
            attempts: 0,
            last_attempt_at: None,
            quota_wait: false,
            rng,
            last_retry_in: None,
            retry_at: None,
            attempt_deadline: None,
            unavailable_at: None,
            ping_at: None,
            pong_deadline: None,
            stable_at: None,
            channels: BTreeMap::new(),
            want_signin: false,
            signin_socket: None,
            user_channel: None,
            client_event_times: VecDeque::new(),
            transmits: VecDeque::new(),
            auths: VecDeque::new(),
            events: VecDeque::new(),
            scratch: String::new(),
        }
    }

    // ---- observation -------------------------------------------------------------------

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The socket id while connected.
    pub fn socket_id(&self) -> Option<&str> {
        self.socket_id.as_deref()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether a channel is currently subscribed on this socket.
    pub fn is_subscribed(&self, channel: &str) -> bool {
        self.channels
            .get(channel)
            .is_some_and(|e| e.phase == Phase::Subscribed)
    }

    /// The channels the application wants, subscribed or not.
    pub fn channels(&self) -> impl Iterator<Item = &str> {
        self.channels.keys().map(String::as_str)
    }

    /// Presence members of a subscribed presence channel.
    pub fn members(&self, channel: &str) -> Option<&Members> {
        self.channels.get(channel)?.members.as_ref()
    }

    /// Next socket action.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Next signature to fetch.
    pub fn poll_auth(&mut self) -> Option<AuthRequest> {
        self.auths.pop_front()
    }

    /// Next application event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The earliest instant at which [`Connection::handle_timeout`] has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let channel_deadlines = self.channels.values().filter_map(|e| e.deadline);
        [
            self.retry_at,
            self.attempt_deadline,
            self.unavailable_at,
            self.ping_at,
            self.pong_deadline,
            self.stable_at,
        ]
        .into_iter()
        .flatten()
        .chain(channel_deadlines)
        .min()
    }

    // ---- application inputs ------------------------------------------------------------

    /// Start connecting (from `Initialized` or `Disconnected`); no-op otherwise.
    pub fn connect(&mut self, now: Instant) {
        if matches!(self.state, State::Initialized | State::Disconnected) {
            self.attempts = 0;
            self.set_state(State::Connecting, None);
            self.unavailable_at = Some(now + self.config.unavailable_after);
            self.open_socket(now);
        }
    }

    /// Stop: close the socket and do not retry until [`Connection::connect`].
    pub fn disconnect(&mut self, _now: Instant) {
        if self.socket != Socket::None {
            self.transmits.push_back(Transmit::Close);
        }
        self.drop_socket();
        self.clear_timers();
        self.set_state(State::Disconnected, None);
    }

    /// Ask for a channel; queued while offline, (re)subscribed on every connection.
    ///
    /// # Errors
    /// [`ChannelNameError`] for a name Pusher would refuse.
    pub fn subscribe(&mut self, now: Instant, channel: &str) -> Result<(), ChannelNameError> {
        if !crate::sign::is_valid_channel_name(channel) {
            return Err(ChannelNameError::Invalid(channel.to_owned()));
        }
        let entry = self
            .channels
            .entry(channel.to_owned())
            .or_insert_with(Entry::new);
        // Subscribing again to a failed channel retries it now.
        if matches!(entry.phase, Phase::Idle | Phase::Failed) && self.state == State::Connected {
            self.start_subscription(now, channel);
        }
        Ok(())
    }

    /// Drop a channel. Honoured in every phase: a pending authorization is discarded when it
    /// arrives, a pending subscription is unsubscribed.
    pub fn unsubscribe(&mut self, _now: Instant, channel: &str) {
        if let Some(entry) = self.channels.remove(channel) {
            if matches!(entry.phase, Phase::Pending | Phase::Subscribed) {
                self.send(frame::encode(
                    "pusher:unsubscribe",
                    None,
                    &json!({ "channel": channel }),
                ));
            }
        }
    }

    /// Send a client event (`client-*`) on a subscribed private or presence channel.
    ///
    /// # Errors
    /// [`TriggerError`]: nothing was sent.
    pub fn trigger(
        &mut self,
        now: Instant,
        channel: &str,
        event: &str,
        data: &Value,
    ) -> Result<(), TriggerError> {
        if !event.starts_with("client-") {
            return Err(TriggerError::NotClientEvent);
        }
        if !needs_auth(channel) || is_encrypted(channel) {
            return Err(TriggerError::ChannelNotAllowed);
        }
        if self.state != State::Connected || !self.is_subscribed(channel) {
            return Err(TriggerError::NotSubscribed(channel.to_owned()));
        }
        let window_start = now.checked_sub(Duration::from_secs(1));
        while let (Some(first), Some(start)) = (self.client_event_times.front(), window_start) {
            if *first <= start {
                self.client_event_times.pop_front();
            } else {
                break;
            }
        }
        if self.client_event_times.len() >= self.config.client_events_per_second {
            return Err(TriggerError::RateLimited);
        }
        self.client_event_times.push_back(now);
        self.send(frame::encode(event, Some(channel), data));
        Ok(())
    }

    /// Sign the user in (`pusher:signin`) now if connected, and again after every reconnect.
    pub fn signin(&mut self, _now: Instant) {
        self.want_signin = true;
        if self.state == State::Connected && self.signin_socket.is_none() {
            self.request_signin();
        }
    }

    // ---- driver inputs -----------------------------------------------------------------

    /// The WebSocket opened; `connection_established` is expected next.
    pub fn handle_open(&mut self, _now: Instant) {
        if self.socket == Socket::Opening {
            self.socket = Socket::Open;
        }
    }

    /// The socket closed or could not be opened. `code` is the WebSocket close code, if any.
    pub fn handle_close(&mut self, now: Instant, code: Option<u16>, reason: &str) {
        if self.socket == Socket::None {
            return;
        }
        self.drop_socket();
        self.after_socket_lost(now, code, reason);
    }

    /// A text frame arrived.
    pub fn handle_frame(&mut self, now: Instant, text: &str) {
        if self.socket != Socket::Open {
            return;
        }
        if self.state == State::Connected {
            // Any inbound frame proves the path is alive.
            self.ping_at = Some(now + self.activity_timeout);
            self.pong_deadline = None;
        }
        let frame = match Frame::decode_with(text, self.config.max_frame_bytes, &mut self.scratch) {
            Ok(f) => f,
            Err(e) => {
                self.events.push_back(Event::Error(ProtocolError::Frame(e)));
                return;
            }
        };
        self.handle_decoded(now, frame);
    }

    /// The app's auth endpoint answered for a channel. Ignored when it is for an old socket or
    /// the channel is no longer waiting for it.
    pub fn handle_channel_auth(
        &mut self,
        now: Instant,
        channel: &str,
        socket_id: &str,
        result: Result<ChannelAuthorization, AuthError>,
    ) {
        if self.socket_id.as_deref() != Some(socket_id) {
            return; // fetched for an old socket: useless now
        }
        let Some(entry) = self.channels.get_mut(channel) else {
            return;
        };
        // A re-authorization of a subscribed encrypted channel only renews its secret.
        if entry.phase == Phase::Subscribed && entry.reauth.is_some() {
            let held = entry.reauth.take().unwrap_or_default();
            if let Ok(auth) = &result {
                entry.secret = auth
                    .shared_secret
                    .as_deref()
                    .and_then(|s| crate::crypto::decode_shared_secret(s).ok());
            }
            for h in held {
                self.deliver(now, channel.to_owned(), h.event, h.data, None, false);
            }
            return;
        }
        if entry.phase
            != (Phase::Authorizing {
                socket_id: socket_id.to_owned(),
            })
        {
            return;
        }
        match result {
            Err(e) => {
                entry.phase = Phase::Failed;
                entry.deadline = None;
                self.events.push_back(Event::SubscriptionFailed {
                    channel: channel.to_owned(),
                    error: SubscriptionError::Auth(e),
                });
            }
            Ok(auth) => {
                if is_encrypted(channel) {
                    match auth
                        .shared_secret
                        .as_deref()
                        .map(crate::crypto::decode_shared_secret)
                    {
                        Some(Ok(secret)) => entry.secret = Some(secret),
                        _ => {
                            entry.phase = Phase::Failed;
                            entry.deadline = None;
                            self.events.push_back(Event::SubscriptionFailed {
                                channel: channel.to_owned(),
                                error: SubscriptionError::Auth(AuthError {
                                    status: None,
                                    message: "no valid shared_secret for an encrypted channel"
                                        .into(),
                                }),
                            });
                            return;
                        }
                    }
                }
                if is_presence(channel) {
                    entry.me = auth
                        .channel_data
                        .as_deref()
                        .and_then(|d| serde_json::from_str::<Value>(d).ok())
                        .and_then(|v| id_string(v.get("user_id")?));
                }
                entry.phase = Phase::Pending;
                let mut data = json!({ "channel": channel, "auth": auth.auth });
                if let Some(cd) = auth.channel_data {
                    data["channel_data"] = Value::String(cd);
                }
                self.send(frame::encode("pusher:subscribe", None, &data));
            }
        }
    }

    /// The app's user-authentication endpoint answered. Ignored for an old socket.
    pub fn handle_user_auth(
        &mut self,
        _now: Instant,
        socket_id: &str,
        result: Result<UserAuthentication, AuthError>,
    ) {
        if self.socket_id.as_deref() != Some(socket_id)
            || self.signin_socket.as_deref() != Some(socket_id)
        {
            return;
        }
        match result {
            Ok(auth) => self.send(frame::encode(
                "pusher:signin",
                None,
                &json!({ "auth": auth.auth, "user_data": auth.user_data }),
            )),
            Err(e) => self
                .events
                .push_back(Event::Error(ProtocolError::SignIn(e.to_string()))),
        }
    }

    /// Time has passed; act on every deadline at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.unavailable_at.is_some_and(|t| t <= now) {
            self.unavailable_at = None;
            if self.state == State::Connecting {
                let retry_in = self.retry_at.map(|t| t.saturating_duration_since(now));
                self.set_state(State::Unavailable, retry_in);
            }
        }
        if self.stable_at.is_some_and(|t| t <= now) {
            self.stable_at = None;
            self.attempts = 0;
        }
        if self.attempt_deadline.is_some_and(|t| t <= now) {
            self.attempt_deadline = None;
            self.transmits.push_back(Transmit::Close);
            self.drop_socket();
            self.after_socket_lost(now, None, "connection attempt timed out");
        }
        if self.pong_deadline.is_some_and(|t| t <= now) {
            // Silence after a ping: the path is dead even if TCP does not know yet.
            self.pong_deadline = None;
            self.transmits.push_back(Transmit::Close);
            self.drop_socket();
            self.after_socket_lost(now, Some(4200), "no pong from server");
        }
        if self.ping_at.is_some_and(|t| t <= now) {
            self.ping_at = None;
            self.send(frame::encode("pusher:ping", None, &json!({})));
            self.pong_deadline = Some(now + self.config.pong_timeout);
        }
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
            self.open_socket(now);
        }
        let expired: Vec<String> = self
            .channels
            .iter()
            .filter(|(_, e)| e.deadline.is_some_and(|t| t <= now))
            .map(|(c, _)| c.clone())
            .collect();
        for channel in expired {
            if let Some(e) = self.channels.get_mut(&channel) {
                e.phase = Phase::Failed;
                e.deadline = None;
            }
            self.events.push_back(Event::SubscriptionFailed {
                channel,
                error: SubscriptionError::Timeout,
            });
        }
    }

    // ---- internals ---------------------------------------------------------------------

    fn set_state(&mut self, state: State, retry_in: Option<Duration>) {
        if state != self.state || retry_in != self.last_retry_in {
            let previous = self.state;
            self.state = state;
            self.last_retry_in = retry_in;
            self.events.push_back(Event::StateChanged {
                previous,
                current: state,
                retry_in,
            });
        }
    }

    fn send(&mut self, text: String) {
        if self.socket == Socket::Open {
            self.transmits.push_back(Transmit::Send(text));
        }
    }

    fn clear_timers(&mut self) {
        self.retry_at = None;
        self.attempt_deadline = None;
        self.unavailable_at = None;
        self.ping_at = None;
        self.pong_deadline = None;
        self.stable_at = None;
    }

    fn open_socket(&mut self, now: Instant) {
        self.socket = Socket::Opening;
        self.last_attempt_at = Some(now);
        self.quota_wait = false;
        self.attempt_deadline = Some(now + self.config.attempt_timeout);
        self.transmits.push_back(Transmit::Open {
            url: self.config.url(),
        });
        let state = self.state;
        self.set_state(state, None);
    }

    /// Everything tied to the socket is gone; channels keep being wanted.
    fn drop_socket(&mut self) {
        self.socket = Socket::None;
        self.socket_id = None;
        self.signin_socket = None;
        self.user_channel = None;
        self.ping_at = None;
        self.pong_deadline = None;
        self.attempt_deadline = None;
        self.stable_at = None;
        for e in self.channels.values_mut() {
            e.reset_for_new_socket();
        }
    }

    fn handle_decoded(&mut self, now: Instant, f: Frame) {
        match f.event.as_str() {
            "pusher:connection_established" => self.on_established(now, &f.data),
            "pusher:error" => self.on_error(now, &f.data),
            "pusher:ping" => self.send(frame::encode("pusher:pong", None, &json!({}))),
            "pusher:pong" => {}
            "pusher_internal:subscription_succeeded" => self.on_succeeded(f),
            "pusher:subscription_error" => {
                if let Some(channel) = f.channel {
                    let status = f
                        .data
                        .as_object()
                        .and_then(|o| o.get("status"))
                        .and_then(Value::as_u64)
                        .and_then(|s| u16::try_from(s).ok());
                    let message = error_message(&f.data);
                    self.fail_channel(&channel, SubscriptionError::Server { status, message });
                }
            }
            "pusher_internal:member_added" => self.on_member(f, true),
            "pusher_internal:member_removed" => self.on_member(f, false),
            "pusher_internal:subscription_count" => {
                let count = f
                    .data
                    .as_object()
                    .and_then(|o| o.get("subscription_count"))
                    .and_then(Value::as_u64);
                if let (Some(channel), Some(count)) = (f.channel, count) {
                    if self.channels.contains_key(&channel) {
                        self.events
                            .push_back(Event::SubscriptionCount { channel, count });
                    }
                }
            }
            "pusher:cache_miss" => {
                if let Some(channel) = f.channel.filter(|c| self.channels.contains_key(c)) {
                    self.events.push_back(Event::CacheMiss { channel });
                }
            }
            "pusher:signin_success" => self.on_signin_success(&f.data),
            _ if f.event.starts_with("pusher_internal:") => {}
            _ => {
                let Some(channel) = f.channel else { return };
                if self.user_channel.as_deref() == Some(channel.as_str()) {
                    self.events.push_back(Event::UserMessage {
                        event: f.event,
                        data: f.data,
                    });
                } else if self.channels.contains_key(&channel) {
                    self.deliver(now, channel, f.event, f.data, f.user_id, true);
                }
            }
        }
    }

    fn on_established(&mut self, now: Instant, data: &Data) {
        let Some(socket_id) = data.str_field("socket_id").map(str::to_owned) else {
            self.events.push_back(Event::Error(ProtocolError::Server {
                code: None,
                message: "connection_established without socket_id".into(),
            }));
            return;
        };
        let server_timeout = data
            .as_object()
            .and_then(|o| o.get("activity_timeout"))
            .and_then(Value::as_u64)
            .map(Duration::from_secs);
        self.activity_timeout = server_timeout
            .filter(|t| !t.is_zero())
            .map_or(self.config.activity_timeout_cap, |t| {
                t.min(self.config.activity_timeout_cap)
            });
        self.socket_id = Some(socket_id.clone());
        self.attempt_deadline = None;
        self.unavailable_at = None;
        self.retry_at = None;
        self.stable_at = Some(now + self.config.stable_after);
        self.ping_at = Some(now + self.activity_timeout);
        self.pong_deadline = None;
        self.set_state(State::Connected, None);
        self.events.push_back(Event::Connected {
            socket_id,
            reconnect: self.ever_connected,
        });
        self.ever_connected = true;
        if self.want_signin {
            self.request_signin();
        }
        let wanted: Vec<String> = self.channels.keys().cloned().collect();
        for channel in wanted {
            self.start_subscription(now, &channel);
        }
    }

    fn on_error(&mut self, now: Instant, data: &Data) {
        let code = data
            .as_object()
            .and_then(|o| o.get("code"))
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok());
        let message = error_message(data);
        if self.state != State::Connected {
            // The first frame refusing us: act on its code as on a close code.
            if code.is_some_and(|c| (4000..4300).contains(&c)) {
                self.transmits.push_back(Transmit::Close);
                self.drop_socket();
                self.after_socket_lost(now, code, &message);
                return;
            }
        }
        // Sockudo reports a bad channel signature this way (4009) instead of a
        // subscription_error: fail the pending channel the message names, if any.
        let named: Vec<String> = self
            .channels
            .iter()
            .filter(|(c, e)| e.phase == Phase::Pending && message.contains(c.as_str()))
            .map(|(c, _)| c.clone())
            .collect();
        for channel in named {
            self.fail_channel(
                &channel,
                SubscriptionError::Server {
                    status: code,
                    message: message.clone(),
                },
            );
        }
        self.events
            .push_back(Event::Error(ProtocolError::Server { code, message }));
    }

    fn fail_channel(&mut self, channel: &str, error: SubscriptionError) {
        if let Some(e) = self.channels.get_mut(channel) {
            if matches!(e.phase, Phase::Pending | Phase::Authorizing { .. }) {
                e.phase = Phase::Failed;
                e.deadline = None;
                self.events.push_back(Event::SubscriptionFailed {
                    channel: channel.to_owned(),
                    error,
                });
            }
        }
    }

    fn start_subscription(&mut self, now: Instant, channel: &str) {
        let Some(socket_id) = self.socket_id.clone() else {
            return;
        };
        let Some(entry) = self.channels.get_mut(channel) else {
            return;
        };
        entry.deadline = Some(now + self.config.subscription_timeout);
        if needs_auth(channel) {
            entry.phase = Phase::Authorizing {
                socket_id: socket_id.clone(),
            };
            self.auths.push_back(AuthRequest::Channel {
                channel: channel.to_owned(),
                socket_id,
            });
        } else {
            entry.phase = Phase::Pending;
            self.send(frame::encode(
                "pusher:subscribe",
                None,
                &json!({ "channel": channel }),
            ));
        }
    }

    fn on_succeeded(&mut self, f: Frame) {
        let Some(channel) = f.channel else { return };
        let Some(entry) = self.channels.get_mut(&channel) else {
            return;
        };
        if entry.phase != Phase::Pending {
            return;
        }
        entry.phase = Phase::Subscribed;
        entry.deadline = None;
        if is_presence(&channel) {
            let mut members = Members {
                me: entry.me.clone(),
                ..Members::default()
            };
            if let Some(hash) = f
                .data
                .as_object()
                .and_then(|o| o.get("presence"))
                .and_then(|p| p.get("hash"))
                .and_then(Value::as_object)
            {
                for (id, info) in hash {
                    members.members.insert(id.clone(), info.clone());
                }
            }
            entry.members = Some(members);
        }
        self.events.push_back(Event::Subscribed {
            channel,
            resubscribed: entry.ever_subscribed,
            members: entry.members.clone(),
        });
    }

    fn on_member(&mut self, f: Frame, added: bool) {
        let Some(channel) = f.channel else { return };
        let Some(members) = self
            .channels
            .get_mut(&channel)
            .and_then(|e| e.members.as_mut())
        else {
            return;
        };
        let Some(id) = f
            .data
            .as_object()
            .and_then(|o| id_string(o.get("user_id")?))
        else {
            return;
        };
        if added {
            let info = f
                .data
                .as_object()
                .and_then(|o| o.get("user_info"))
                .cloned()
                .unwrap_or(Value::Null);
            // A second connection of the same user is not a new member.
            if members.members.insert(id.clone(), info.clone()).is_none() {
                self.events.push_back(Event::MemberAdded {
                    channel,
                    member: Member { id, info },
                });
            }
        } else if let Some(info) = members.members.remove(&id) {
            self.events.push_back(Event::MemberRemoved {
                channel,
                member: Member { id, info },
            });
        }
    }

    fn request_signin(&mut self) {
        if let Some(socket_id) = self.socket_id.clone() {
            self.signin_socket = Some(socket_id.clone());
            self.auths.push_back(AuthRequest::User { socket_id });
        }
    }

    fn on_signin_success(&mut self, data: &Data) {
        // `user_data` is a JSON document inside a string.
        let user_data = data
            .str_field("user_data")
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
            .or_else(|| data.as_object()?.get("user_data").cloned())
            .unwrap_or(Value::Null);
        if let Some(id) = user_data.get("id").and_then(id_string) {
            let channel = format!("{USER_CHANNEL_PREFIX}{id}");
            self.send(frame::encode(
                "pusher:subscribe",
                None,
                &json!({ "channel": channel }),
            ));
            self.user_channel = Some(channel);
        }
        self.events.push_back(Event::SignedIn { user_data });
    }

    /// Delivers a channel event, decrypting it first on encrypted channels. `may_reauth`:
    /// a decrypt failure triggers one re-authorization (the key may have rotated).
    fn deliver(
        &mut self,
        _now: Instant,
        channel: String,
        event: String,
        data: Data,
        user_id: Option<String>,
        may_reauth: bool,
    ) {
        if !is_encrypted(&channel) || event.starts_with("pusher") {
            self.events.push_back(Event::Message {
                channel,
                event,
                data,
                user_id,
            });
            return;
        }
        let Some(entry) = self.channels.get_mut(&channel) else {
            return;
        };
        if let Some(held) = entry.reauth.as_mut() {
            held.push(Held { event, data });
            return;
        }
        let plain = entry.secret.as_ref().and_then(|secret| {
            let payload: crate::crypto::EncryptedPayload =
                serde_json::from_value(data.to_value()).ok()?;
            crate::crypto::decrypt(secret, &payload).ok()
        });
        match plain {
            Some(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                self.events.push_back(Event::Message {
                    channel,
                    event,
                    data: Data::from_value(Some(Value::String(text))),
                    user_id,
                });
            }
            None if may_reauth => {
                if let Some(socket_id) = self.socket_id.clone() {
                    entry.reauth = Some(vec![Held { event, data }]);
                    self.auths
                        .push_back(AuthRequest::Channel { channel, socket_id });
                }
            }
            None => self
                .events
                .push_back(Event::Error(ProtocolError::Decrypt { channel })),
        }
    }
}

/// `message` (or `error`) of an error payload, or the payload itself as text.
fn error_message(data: &Data) -> String {
    data.str_field("message")
        .or_else(|| data.str_field("error"))
        .map(str::to_owned)
        .unwrap_or_else(|| match data {
            Data::Text(t) => t.clone(),
            other => other.to_value().to_string(),
        })
}

/// Pusher user ids are strings, but some servers send numbers.
fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

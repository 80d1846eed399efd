//! The realtime engine of one session: one task that owns the Pusher connection, applies
//! realtime events to the cache, runs catch-up syncs (planned by [`SyncPlanner`]), tracks
//! presence and typing, announces what it changed on the UI feed, and asks the notification
//! policy (`notify`) what to raise.
//!
//! Recovery: the first REST answer after failures or a lost realtime connection (see
//! [`Shared::rest_outcome`]) makes the Pusher client attempt at once instead of waiting out its
//! backoff, and both that and a (re)connect send the outbox's backed-off messages and unsent
//! read marks at once: whichever path sees the network return first tells the other.
//!
//! Ordering: sync pages and realtime events are applied by this one task, one at a time, so a
//! message arriving by both paths is stored once (the cache applies idempotently) and the
//! cursor only moves forward.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use confab_model::api::PusherClientConfig;
use confab_model::events::{
    ConversationCreated, ReadReceipt, Typing, CLIENT_TYPING, CONVERSATION_CREATED,
    CONVERSATION_LEFT, CONVERSATION_MUTED, CONVERSATION_UPDATED, KNOWLEDGE_REQUEST,
    KNOWLEDGE_RESPONSE, NEW_MESSAGE, READ_RECEIPT,
};
use confab_model::ipc::UiEvent;
use confab_model::{
    Change, ChannelName, ConversationId, KnowledgeRequest, LeftChange, Message, SYNC_PAGE_MAX,
};
use confab_store::Applied;
use pusher_channels::auth::{HeaderProvider, HttpAuthorizer};
use pusher_channels::client::Client;
use pusher_channels::proto::{AuthError, Config, Event, ProtocolError, State, SubscriptionError};
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

use crate::batch_auth::BatchAuthorizer;
use crate::clock::ZoneWatch;
use crate::db::Db;
use crate::feed::{Changes, Feed};
use crate::history::Backfill;
use crate::notify;
use crate::rest::{Api, ApiError};
use crate::search_upkeep::SearchUpkeep;
use crate::shared::Shared;
use crate::sync_plan::SyncPlanner;
use crate::tls::{self, PolicyError};
use crate::typing::{typing_sender, TypingIn, TypingOut};
use crate::views::chat_message;
use crate::wake::WakeDetector;

/// The cached realtime settings, so the connection can start offline.
const REALTIME_SETTING: &str = "core.realtime_config";

/// The close code the Pusher server uses when the app closed this user's sockets
/// (`terminate_connections`; Sockudo and hosted Pusher alike). It is in the "do not retry"
/// range, so the client stops; the engine decides.
const TERMINATED: u16 = 4009;
/// The least time between two reconnects after [`TERMINATED`], so a server that keeps closing
/// the socket is not hammered.
const TERMINATED_RECONNECT_GAP: Duration = Duration::from_secs(10);

/// What the core asks the engine to do.
#[derive(Debug)]
pub(crate) enum Command {
    /// A key was pressed in a conversation's composer.
    Keystroke(i64),
    /// A message was sent: typing stops.
    Sent(i64),
    /// Wake from sleep / network change.
    CheckNow,
    /// I am in a conversation now (created or joined here): subscribe to its room.
    Join(ConversationId),
    /// I left a conversation here: leave its room.
    Leave(ConversationId),
}

/// What an engine works with.
pub(crate) struct Parts {
    /// My user id.
    pub me: i64,
    /// My name (in the typing event).
    pub my_name: String,
    /// The backend.
    pub api: Api,
    /// The cache.
    pub db: Db,
    /// Where changes to what the window shows are announced.
    pub feed: Feed,
    /// State shared with the core's handle and the sender.
    pub shared: Arc<Shared>,
    /// Wakes the outbox sender.
    pub kick: Arc<Notify>,
}

pub(crate) struct Engine {
    me: i64,
    my_name: String,
    api: Api,
    db: Db,
    feed: Feed,
    shared: Arc<Shared>,
    commands: mpsc::UnboundedReceiver<Command>,
    /// Wakes the outbox sender.
    kick: Arc<Notify>,
    planner: SyncPlanner,
    /// A first sync's history, loaded in the background below the snapshot's head.
    backfill: Backfill,
    /// The backend predates first syncs by snapshot (its head carries no count): a fresh cache
    /// pages the whole log from 0, oldest first, as before.
    old_first_sync: bool,
    /// A snapshot was stored this session: a cursor still at 0 means the log was empty at its
    /// head, and sync pages on from there (snapshotting again would loop).
    snapshot_taken: bool,
    typing_out: TypingOut,
    typing_in: TypingIn,
    /// Who is in each room right now, with the name the backend signed in their channel data.
    presence: BTreeMap<i64, BTreeMap<i64, String>>,
    rooms: BTreeSet<i64>,
    wake: WakeDetector,
    next_wake_tick: std::time::Instant,
    /// Paging through the first catch-up of a fresh cache from 0 (an older backend).
    first_sync: bool,
    /// When the last reconnect after [`TERMINATED`] started.
    last_terminated_reconnect: Option<std::time::Instant>,
    /// A reconnect after [`TERMINATED`] held back by [`TERMINATED_RECONNECT_GAP`].
    reconnect_at: Option<std::time::Instant>,
    /// When to merge the search index, from the messages written.
    search_upkeep: SearchUpkeep,
    /// Whether the machine's time zone changed under the window.
    zone_watch: ZoneWatch,
}

impl Engine {
    pub fn new(parts: Parts, commands: mpsc::UnboundedReceiver<Command>) -> Self {
        let Parts {
            me,
            my_name,
            api,
            db,
            feed,
            shared,
            kick,
        } = parts;
        let backfill = Backfill::new(api.clone(), db.clone(), feed.clone(), Arc::clone(&shared));
        Engine {
            me,
            my_name,
            api,
            db,
            feed,
            shared,
            commands,
            kick,
            planner: SyncPlanner::new(),
            backfill,
            old_first_sync: false,
            snapshot_taken: false,
            typing_out: TypingOut::default(),
            typing_in: TypingIn::default(),
            presence: BTreeMap::new(),
            rooms: BTreeSet::new(),
            wake: WakeDetector::new(),
            next_wake_tick: std::time::Instant::now(),
            first_sync: false,
            last_terminated_reconnect: None,
            reconnect_at: None,
            search_upkeep: SearchUpkeep::default(),
            zone_watch: ZoneWatch::default(),
        }
    }

    /// Runs until the command channel closes (sign-out) or the session ends.
    pub async fn run(mut self) {
        // A window starting from the cache paints first: joining 2,000 rooms at once (an
        // authorisation each) held the page's own code back by ~220 ms (`bench_team`).
        self.shared.until_painted(crate::PAINT_WAIT).await;
        let Some(config) = self.realtime_config().await else {
            return;
        };
        let token = self.api.token().unwrap_or_default().to_owned();
        let headers: HeaderProvider =
            Arc::new(move || vec![("Authorization".into(), format!("Bearer {token}"))]);
        let single = HttpAuthorizer::new(self.api.pusher_auth_url())
            .user_endpoint(self.api.pusher_user_auth_url())
            .with_http_client(self.api.http_client())
            .headers(Arc::clone(&headers));
        // Every room joined at connect is signed in a few requests, not one each.
        let authorizer = BatchAuthorizer::new(
            single,
            self.api.http_client(),
            self.api.pusher_batch_auth_url(),
            headers,
        );
        // The socket verifies certificates as REST does: the operating system's trust store.
        let (pusher, mut events) =
            Client::start_with_tls(config, authorizer, self.api.tls_config());
        // Signed in (`pusher:signin`, again after every reconnect), the socket is this user's
        // to the Pusher server: revoking the user's sessions closes it at once.
        let _ = pusher.signin();
        let _ = pusher.subscribe(&ChannelName::private_user(self.me));
        if let Ok(ids) = self.db.run(|s| s.conversation_ids()).await {
            for id in ids {
                self.join_room(&pusher, id);
            }
        }
        self.planner.request_now(Instant::now().into_std());
        self.backfill.resume(Instant::now().into_std()).await;
        let shared = Arc::clone(&self.shared);
        loop {
            while self.planner.poll_start() {
                self.sync_page(&pusher).await;
            }
            if self.shared.is_ended() {
                return;
            }
            // One history page at a time, between live pages and events: the select below
            // returns at once while the next one is due, after whatever else is ready.
            let brought = self.backfill.run_due(self.planner.is_busy()).await;
            if brought > 0 {
                // History pages are writes too: the index is merged once they have settled.
                self.search_upkeep
                    .written(Instant::now().into_std(), brought);
            }
            if self.shared.is_ended() {
                return;
            }
            let deadline = [
                self.planner.poll_timeout(),
                self.backfill.poll_timeout(Instant::now().into_std()),
                self.typing_out.poll_timeout(),
                self.typing_in.poll_timeout(),
                self.reconnect_at,
                Some(self.next_wake_tick),
            ]
            .into_iter()
            .flatten()
            .min();
            tokio::select! {
                ev = events.recv() => match ev {
                    Some(ev) => self.on_pusher(&pusher, ev).await,
                    None => return,
                },
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.on_command(&pusher, cmd).await,
                    None => {
                        let _ = pusher.disconnect();
                        return;
                    }
                },
                () = shared.backend_back() => self.on_backend_back(&pusher),
                () = sleep_until(deadline) => self.on_timeout(&pusher).await,
            }
            // Drain what is already queued before syncing again: bursts apply back to back.
            while let Some(ev) = events.try_recv() {
                self.on_pusher(&pusher, ev).await;
            }
        }
    }

    /// The realtime settings, or `None` after ending the session with the TLS policy's sentence
    /// (a host on another computer without TLS: the socket would carry the token in clear).
    fn unless_insecure(&self, config: Result<Config, PolicyError>) -> Option<Config> {
        match config {
            Ok(c) => Some(c),
            Err(e) => {
                self.shared.end_session_because(&e.to_string());
                None
            }
        }
    }

    /// The realtime settings: fresh from the backend when it answers, else the cached ones,
    /// else retried with backoff (a first start while offline).
    async fn realtime_config(&mut self) -> Option<Config> {
        let mut delay = Duration::from_millis(500);
        loop {
            match self.api.config().await {
                Ok(cfg) => {
                    let json = serde_json::to_string(&cfg.pusher).unwrap_or_default();
                    let _ = self
                        .db
                        .run(move |s| s.set_setting(REALTIME_SETTING, &json))
                        .await;
                    return self.unless_insecure(pusher_config(&cfg.pusher));
                }
                Err(ApiError::Unauthorized) => {
                    self.shared.end_session();
                    return None;
                }
                Err(ApiError::Insecure(reason)) => {
                    self.shared.end_session_because(&reason);
                    return None;
                }
                Err(e) => {
                    tracing::info!(error = %e, "realtime settings unavailable");
                    if let Ok(Some(json)) = self.db.run(|s| s.setting(REALTIME_SETTING)).await {
                        if let Ok(cfg) = serde_json::from_str::<PusherClientConfig>(&json) {
                            return self.unless_insecure(pusher_config(&cfg));
                        }
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                // Another call (the outbox's) got through: so will this one.
                () = self.shared.backend_back() => {}
                cmd = self.commands.recv() => { cmd.as_ref()?; }
            }
            delay = (delay * 2).min(Duration::from_secs(30));
        }
    }

    fn join_room(&mut self, pusher: &Client, conversation: i64) {
        if self.rooms.insert(conversation) {
            let _ = pusher.subscribe(&ChannelName::chat_room(conversation));
        }
    }

    /// Leaves a room: no more of its events, presence or typing (the backend refuses the
    /// subscription from now on anyway).
    fn leave_room(&mut self, pusher: &Client, conversation: i64) {
        if self.rooms.remove(&conversation) {
            let _ = pusher.unsubscribe(&ChannelName::chat_room(conversation));
        }
        if self.presence.remove(&conversation).is_some() {
            self.emit_presence(conversation);
        }
    }

    /// I left a conversation (told by the event, here or from another device): it goes from
    /// the cache and the window, and its room is left.
    async fn on_left(&mut self, pusher: &Client, left: LeftChange) {
        if left.user_id != self.me {
            return;
        }
        let conversation = left.conversation_id;
        if self
            .db
            .run(move |s| s.write(|tx| tx.apply_left(&left)))
            .await
            .is_ok_and(Applied::changed)
        {
            self.feed.send(Changes::conversation(conversation));
        }
        self.leave_room(pusher, conversation);
    }

    async fn on_command(&mut self, pusher: &Client, cmd: Command) {
        let now = Instant::now().into_std();
        match cmd {
            Command::Keystroke(c) => {
                if self.typing_out.keystroke(now, c) {
                    self.send_typing(pusher, c, true).await;
                }
            }
            Command::Sent(c) => {
                if self.typing_out.sent(c) {
                    self.send_typing(pusher, c, false).await;
                }
            }
            Command::CheckNow => {
                let _ = pusher.check_now();
                self.planner.request_now(now);
            }
            Command::Join(c) => self.join_room(pusher, c),
            Command::Leave(c) => self.leave_room(pusher, c),
        }
    }

    /// The backend answers again after failures or a lost realtime connection: the network is
    /// back, so neither the realtime connection nor the outbox (messages and read marks) waits
    /// out its backoff.
    fn on_backend_back(&self, pusher: &Client) {
        if pusher.state() != State::Connected {
            tracing::info!("the backend answers again: connecting the realtime channel now");
            let _ = pusher.retry_now();
        }
        self.send_outbox_now();
    }

    /// Queued messages and unsent read marks go out now, even those waiting out a backoff.
    fn send_outbox_now(&self) {
        self.shared.send_outbox_now();
        self.kick.notify_one();
    }

    async fn send_typing(&self, pusher: &Client, conversation: i64, typing: bool) {
        let data = serde_json::to_value(Typing {
            user_id: self.me,
            name: self.my_name.clone(),
            typing,
        })
        .unwrap_or_default();
        // Best effort: not subscribed yet, or rate-limited, means no indicator this time.
        let _ = pusher
            .trigger(&ChannelName::chat_room(conversation), CLIENT_TYPING, data)
            .await;
    }

    async fn on_timeout(&mut self, pusher: &Client) {
        let now = Instant::now().into_std();
        if self.reconnect_at.is_some_and(|at| at <= now) {
            self.reconnect_at = None;
            self.last_terminated_reconnect = Some(now);
            let _ = pusher.connect();
        }
        if now >= self.next_wake_tick {
            self.next_wake_tick = now + crate::wake::TICK;
            let woke = self.wake.tick(now, std::time::SystemTime::now());
            if woke {
                tracing::info!("woke from sleep: checking the connection and catching up");
                let _ = pusher.check_now();
                self.planner.request_now(now);
            }
            let held = self.shared.zone();
            let (now_ms, offset_at) = (crate::views::now_ms(), crate::clock::local_offset_min);
            if let Some(zone) = self.zone_watch.poll(&held, now_ms, woke, offset_at) {
                tracing::info!("the time zone changed: the window's times follow");
                self.shared.change_zone(zone);
            }
            // Idle upkeep, looked at every tick: never while a catch-up is running.
            if !self.planner.is_busy() && self.search_upkeep.poll_merge(now) {
                self.merge_search_index().await;
            }
        }
        self.planner.handle_timeout(now);
        self.backfill.handle_timeout(now);
        for c in self.typing_out.handle_timeout(now) {
            self.send_typing(pusher, c, false).await;
        }
        for c in self.typing_in.handle_timeout(now) {
            self.emit_typing(c);
        }
    }

    /// Merges the search index's segments on the cache's blocking thread. The engine waits for
    /// it (about a second on a million messages): whatever it would do next needs the cache,
    /// which the merge holds anyway.
    async fn merge_search_index(&self) {
        let started = std::time::Instant::now();
        match self.db.run(|s| s.optimize_search()).await {
            Ok(()) => tracing::info!(
                ms = started.elapsed().as_millis(),
                "merged the search index"
            ),
            // The index stays as it was, correct; the upkeep tries again later.
            Err(e) => tracing::warn!(error = %e, "cannot merge the search index"),
        }
    }

    fn emit_typing(&self, conversation: i64) {
        self.shared.emit(UiEvent::Typing {
            conversation_id: conversation,
            names: self.typing_in.names(conversation),
        });
    }

    fn emit_presence(&self, conversation: i64) {
        let online: Vec<i64> = self
            .presence
            .get(&conversation)
            .map(|s| s.keys().copied().collect())
            .unwrap_or_default();
        self.shared.set_online(conversation, online.clone());
        self.shared.emit(UiEvent::Presence {
            conversation_id: conversation,
            online,
        });
    }

    async fn on_pusher(&mut self, pusher: &Client, ev: Event) {
        let now = Instant::now().into_std();
        match ev {
            Event::StateChanged {
                previous,
                current,
                retry_in,
            } => {
                if previous == State::Connected && current != State::Connected {
                    self.shared.realtime_lost();
                }
                self.shared.set_connection(current, retry_in);
            }
            Event::Connected { socket_id, .. } => {
                self.shared.set_socket_id(Some(socket_id));
                self.planner.request_now(now);
                // The network is back: messages and read marks waiting out a backoff need not.
                self.send_outbox_now();
            }
            Event::Subscribed {
                channel, members, ..
            } => {
                // Anything posted before this subscription took effect is only in the backend.
                self.planner.request_now(now);
                if let (Some(ChannelName::ChatRoom(c)), Some(m)) =
                    (ChannelName::parse(&channel), members)
                {
                    let present = m
                        .members
                        .iter()
                        .filter_map(|(id, info)| Some((id.parse().ok()?, presence_name(info))))
                        .collect();
                    self.presence.insert(c, present);
                    self.emit_presence(c);
                }
            }
            Event::SubscriptionFailed { channel, error } => {
                tracing::warn!(%channel, %error, "subscription failed");
                if matches!(
                    error,
                    SubscriptionError::Auth(AuthError {
                        status: Some(401),
                        ..
                    })
                ) {
                    self.shared.end_session();
                }
            }
            Event::MemberAdded { channel, member } => {
                self.on_member(&channel, &member.id, Some(presence_name(&member.info)));
            }
            Event::MemberRemoved { channel, member } => {
                self.on_member(&channel, &member.id, None);
            }
            Event::Message {
                channel,
                event,
                data,
                user_id,
            } => {
                let value = data.to_value();
                match ChannelName::parse(&channel) {
                    Some(ChannelName::PrivateUser(_)) => match event.as_str() {
                        // The event pokes; the full row comes from the backend.
                        KNOWLEDGE_REQUEST | KNOWLEDGE_RESPONSE => self.planner.request_now(now),
                        CONVERSATION_CREATED | CONVERSATION_UPDATED => {
                            if let Ok(cc) = serde_json::from_value::<ConversationCreated>(value) {
                                let conv = cc.conversation.clone();
                                let seq = cc.seq;
                                let created = event == CONVERSATION_CREATED;
                                if self
                                    .db
                                    .run(move |s| {
                                        if created {
                                            s.apply_conversation(&conv, Some(seq))
                                        } else {
                                            s.write(|tx| tx.apply_conversation_update(&conv, seq))
                                        }
                                    })
                                    .await
                                    .is_ok()
                                {
                                    self.feed.send(Changes::conversation(cc.conversation.id));
                                }
                                if cc.conversation.member_ids.contains(&self.me) {
                                    self.join_room(pusher, cc.conversation.id);
                                }
                            }
                            self.planner.request_now(now);
                        }
                        CONVERSATION_LEFT => {
                            if let Ok(left) = serde_json::from_value::<LeftChange>(value) {
                                self.on_left(pusher, left).await;
                            }
                            self.planner.request_now(now);
                        }
                        // The change carries it whole, in order with the rest.
                        CONVERSATION_MUTED => self.planner.request_now(now),
                        _ => {}
                    },
                    Some(ChannelName::ChatRoom(c)) => match event.as_str() {
                        NEW_MESSAGE => {
                            if let Ok(m) = serde_json::from_value::<Message>(value) {
                                self.on_message(m).await;
                            }
                            self.planner.request_soon(now);
                        }
                        READ_RECEIPT => {
                            if let Ok(r) = serde_json::from_value::<ReadReceipt>(value) {
                                let receipt = r.clone();
                                if self
                                    .db
                                    .run(move |s| s.apply_read_mark(&receipt))
                                    .await
                                    .is_ok_and(Applied::changed)
                                {
                                    self.emit_receipt(&r);
                                }
                            }
                        }
                        CLIENT_TYPING => {
                            let sender =
                                serde_json::from_value::<Typing>(value).ok().and_then(|t| {
                                    let present = self.presence.get(&c)?;
                                    typing_sender(user_id.as_deref(), t.user_id, present)
                                        .map(|who| (who, t.typing))
                                });
                            if let Some(((id, name), typing)) = sender {
                                if id != self.me
                                    && self.typing_in.on_event(now, c, id, &name, typing)
                                {
                                    self.emit_typing(c);
                                }
                            }
                        }
                        _ => {}
                    },
                    None => {}
                }
            }
            Event::SignedIn { .. } => self.shared.set_signed_in(true),
            Event::Error(ProtocolError::Refused {
                code: TERMINATED, ..
            }) => {
                tracing::info!("the realtime server closed this user's sockets");
                self.on_terminated(pusher).await;
            }
            Event::Error(ProtocolError::SignIn(e)) => {
                tracing::warn!(error = %e, "realtime sign-in failed");
                // A refused token ends the session here; anything else leaves the socket
                // working unsigned (channel auth still guards every subscription).
                if matches!(self.api.me().await, Err(ApiError::Unauthorized)) {
                    self.shared.end_session();
                }
            }
            Event::Error(e) => tracing::warn!(error = %e, "realtime error"),
            _ => {}
        }
    }

    /// The Pusher server closed this user's sockets: their sessions were revoked (signed out
    /// everywhere, a password changed or reset, an administrator), or another of their devices
    /// signed out, which closes every device's socket. The backend decides which: a refused
    /// token ends the session (unsent work is kept); a valid one reconnects and signs in again.
    async fn on_terminated(&mut self, pusher: &Client) {
        match self.api.me().await {
            Err(ApiError::Unauthorized) => self.shared.end_session(),
            // Valid, or unknown for now (offline): reconnect; channel auth decides then.
            _ => {
                let now = Instant::now().into_std();
                let earliest = self
                    .last_terminated_reconnect
                    .map_or(now, |t| t + TERMINATED_RECONNECT_GAP);
                if earliest <= now {
                    self.last_terminated_reconnect = Some(now);
                    let _ = pusher.connect();
                } else {
                    self.reconnect_at = Some(earliest);
                }
            }
        }
    }

    /// A member joined (`Some(name)`) or left a room.
    fn on_member(&mut self, channel: &str, id: &str, joined: Option<String>) {
        if let (Some(ChannelName::ChatRoom(c)), Ok(id)) =
            (ChannelName::parse(channel), id.parse::<i64>())
        {
            let room = self.presence.entry(c).or_default();
            match joined {
                Some(name) => {
                    room.insert(id, name);
                }
                None => {
                    room.remove(&id);
                }
            }
            self.emit_presence(c);
        }
    }

    /// Someone's read mark moved: the others' are "seen" marks; mine (read on another device)
    /// changes my unread count.
    fn emit_receipt(&self, r: &ReadReceipt) {
        if r.user_id != self.me {
            self.shared.emit(UiEvent::ReadReceipt {
                conversation_id: r.conversation_id,
                user_id: r.user_id,
                seq: r.seq,
            });
        } else {
            self.feed.send(Changes::conversation(r.conversation_id));
        }
    }

    async fn on_message(&mut self, m: Message) {
        let msg = m.clone();
        let Ok(applied) = self.db.run(move |s| s.apply_message(&msg)).await else {
            return;
        };
        if !applied.changed() {
            return;
        }
        self.search_upkeep.written(Instant::now().into_std(), 1);
        if self.typing_in.on_message(m.conversation_id, m.sender_id) {
            self.emit_typing(m.conversation_id);
        }
        self.feed.send(
            Changes::rows(m.conversation_id, vec![chat_message(&m)])
                .and_conversation(m.conversation_id),
        );
        if applied == Applied::Inserted {
            self.notify(vec![m], vec![]).await;
        }
    }

    async fn sync_page(&mut self, pusher: &Client) {
        let now = Instant::now().into_std();
        let cursor = match self.db.run(|s| s.sync_cursor()).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the sync cursor");
                self.planner.page_failed(now, false);
                return;
            }
        };
        if cursor == 0 && !self.old_first_sync && !self.snapshot_taken {
            // A fresh cache: the newest screen first (a snapshot at the head), then the
            // history below it in the background, while sync goes on from the head.
            match self.api.sync_head().await {
                Ok(head) if head.total.is_some() => return self.reload(pusher, Some(head)).await,
                Ok(_) => self.old_first_sync = true,
                Err(e) => return self.sync_failed(pusher, e).await,
            }
        }
        let page = match self.api.sync(cursor, SYNC_PAGE_MAX).await {
            Ok(p) => p,
            Err(e) => return self.sync_failed(pusher, e).await,
        };
        if let Some(problem) = crate::sync_plan::page_problem(cursor, &page) {
            tracing::warn!(cursor, problem, "refused a sync page");
            self.planner.page_failed(now, true);
            return;
        }
        if cursor == 0 && self.old_first_sync {
            self.first_sync = true;
        }
        let changes = page.changes.clone();
        let next = page.next_since;
        let applied = match self.db.run(move |s| s.apply_changes(&changes, next)).await {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, "cannot apply a sync page");
                self.planner.page_failed(now, false);
                return;
            }
        };
        self.planner.page_done(now, page.has_more);
        let written = page
            .changes
            .iter()
            .zip(&applied)
            .filter(|(c, a)| matches!(c, Change::Message(_)) && a.changed())
            .count();
        self.search_upkeep.written(now, written);
        self.after_page(pusher, &page.changes, &applied).await;
        if (cursor == 0 && self.old_first_sync) || self.first_sync {
            // The first catch-up of a fresh cache is history, not news: mark it notified.
            self.first_sync = page.has_more;
            let _ = self.db.run(move |s| s.advance_notified_cursor(next)).await;
        }
    }

    /// A sync page (or the head before a first sync) failed.
    async fn sync_failed(&mut self, pusher: &Client, e: ApiError) {
        let now = Instant::now().into_std();
        match e {
            ApiError::Unauthorized => {
                self.planner.page_failed(now, false);
                self.shared.end_session();
            }
            e if e.is_cursor_expired() => self.reload(pusher, None).await,
            e => {
                tracing::info!(error = %e, "catch-up failed");
                self.planner.page_failed(now, e.is_transient());
            }
        }
    }

    /// Replaces the cache's synced state with the backend's current one (see
    /// [`crate::reload`]), keeping the outbox, then syncs from the head at once. What the reload
    /// brings is history: nothing is notified. Two cases: the backend can no longer serve the
    /// cursor (`first: None`), or a fresh cache's first sync (`first`: the head, read already,
    /// with the count of the changes below it), which then loads that history in the
    /// background.
    async fn reload(&mut self, pusher: &Client, first: Option<confab_model::SyncHead>) {
        let fetched = match first {
            Some(head) => crate::reload::fetch_at(&self.api, head.seq).await,
            None => {
                tracing::info!(
                    "the backend can no longer serve the sync cursor: reloading from scratch"
                );
                crate::reload::fetch(&self.api).await
            }
        };
        let snapshot = match fetched {
            Ok(s) => s,
            Err(ApiError::Unauthorized) => {
                self.planner.page_failed(Instant::now().into_std(), false);
                self.shared.end_session();
                return;
            }
            Err(e) => {
                tracing::info!(error = %e, "reload failed");
                self.planner
                    .page_failed(Instant::now().into_std(), e.is_transient());
                return;
            }
        };
        let listed: Vec<i64> = snapshot.conversations.iter().map(|c| c.id).collect();
        let total = first.and_then(|h| h.total);
        let reloaded = snapshot.as_reload().messages.len();
        let stored = self
            .db
            .run(move |s| {
                s.write(|tx| {
                    tx.replace_synced(snapshot.as_reload())?;
                    // In the same transaction: a snapshot stored means its history is pending.
                    if let Some(total) = total {
                        tx.begin_history(snapshot.head, total)?;
                    }
                    tx.history()
                })
            })
            .await;
        let now = Instant::now().into_std();
        let history = match stored {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "cannot store the reload");
                self.planner.page_failed(now, false);
                return;
            }
        };
        if first.is_some() {
            self.snapshot_taken = true;
            self.backfill.begun(now, history);
        }
        self.first_sync = false;
        self.search_upkeep.written(now, reloaded);
        let kept = self
            .db
            .run(|s| s.conversation_ids())
            .await
            .unwrap_or_else(|_| listed.clone());
        let gone: Vec<i64> = self
            .rooms
            .iter()
            .copied()
            .filter(|r| !kept.contains(r))
            .collect();
        for room in gone {
            self.leave_room(pusher, room);
        }
        // Only the rooms the backend lists: one kept for its unsent messages would be refused.
        for room in listed {
            self.join_room(pusher, room);
        }
        self.feed.send(Changes::everything());
        // Sync from the head now (what changed while the lists were read), and let the outbox
        // deliver what waited.
        self.planner.page_done(now, true);
        self.send_outbox_now();
    }

    /// Tell the UI what a page changed, join new rooms, and decide notifications.
    async fn after_page(&mut self, pusher: &Client, changes: &[Change], applied: &[Applied]) {
        let mut announce = Changes::default();
        let mut new_messages = vec![];
        let mut new_requests = vec![];
        for (change, a) in changes.iter().zip(applied) {
            if !a.changed() {
                continue;
            }
            match change {
                Change::Message(mc) => {
                    let c = mc.message.conversation_id;
                    announce.merge(
                        Changes::rows(c, vec![chat_message(&mc.message)]).and_conversation(c),
                    );
                    if *a == Applied::Inserted {
                        new_messages.push(mc.message.clone());
                    }
                }
                Change::ReadReceipt(rc) => self.emit_receipt(&rc.receipt),
                Change::KnowledgeRequest(kc) | Change::KnowledgeResponse(kc) => {
                    announce.requests = true;
                    new_requests.push(kc.request.clone());
                }
                Change::ConversationCreated(cc) | Change::ConversationUpdated(cc) => {
                    announce.conversations.insert(cc.conversation.id);
                    if cc.conversation.member_ids.contains(&self.me) {
                        self.join_room(pusher, cc.conversation.id);
                    }
                }
                Change::ConversationLeft(lc) => {
                    // Applied already: the feed finds it gone and tells the window.
                    announce.conversations.insert(lc.conversation_id);
                    if lc.user_id == self.me {
                        self.leave_room(pusher, lc.conversation_id);
                    }
                }
                Change::ConversationMuted(mc) => {
                    announce.conversations.insert(mc.conversation_id);
                }
                Change::KnowledgeAnswerSeen(_) => announce.requests = true,
            }
        }
        self.feed.send(announce);
        let history = self.first_sync;
        if !history && (!new_messages.is_empty() || !new_requests.is_empty()) {
            self.notify(new_messages, new_requests).await;
        }
    }

    /// Asks the policy about new items and raises what it decides (the cursor is persisted
    /// first, so a crash can drop a notification but never repeat one).
    async fn notify(&self, messages: Vec<Message>, requests: Vec<KnowledgeRequest>) {
        let ctx = notify::Context {
            me: self.me,
            focus: self.shared.focus(),
            muted: self.shared.is_muted(),
            notified_cursor: 0,
        };
        let decided = self
            .db
            .run(move |s| notify::decide_and_record(s, ctx, &messages, &requests))
            .await;
        match decided {
            Ok(list) => {
                for n in list {
                    self.shared.notify(n);
                }
            }
            Err(e) => tracing::warn!(error = %e, "notification decision failed"),
        }
    }
}

/// The name in a presence member's `user_info` (signed by the backend), or a neutral one.
fn presence_name(info: &serde_json::Value) -> String {
    info.get("name")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("Someone")
        .to_owned()
}

/// The client's settings from the backend's, once the TLS policy accepts the host
/// ([`tls::realtime_endpoint`]).
fn pusher_config(p: &PusherClientConfig) -> Result<Config, PolicyError> {
    let mut c = Config::new(p.key.clone(), tls::realtime_endpoint(p)?);
    c.jitter_seed = rand::random();
    Ok(c)
}

async fn sleep_until(deadline: Option<std::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(Instant::from_std(d)).await,
        None => std::future::pending().await,
    }
}

//! The whole UI state and every way it changes: `AppState` + `Action` + `impl Reducible`.
//!
//! Pure (no web APIs, no IPC): components dispatch actions, effects dispatch what the core
//! answered, and the core's [`UiEvent`] stream arrives as [`Action::Event`]. The lists (the
//! conversations with their unread counts, the requests, the directory) come only from those
//! events, computed once in the core: nothing here asks for them again.
//! Tested natively (`cargo test -p confab-ui`).

use std::collections::HashMap;
use std::rc::Rc;

use confab_model::ipc::{
    ChatMessage, ConnectionStatus, ConversationSummary, ConversationsUpdate, HistoryProgress,
    NavigateTarget, RequestLists, SessionInfo, Startup, Teammate, UiEvent,
};
use confab_model::{ConversationId, KnowledgeStatus, RequestId, Seq, UserId};
use yew::Reducible;

use crate::logic::keys::Shortcut;
use crate::logic::timeline::Timeline;

/// The sidebar divider's default position: the conversations' share of the sidebar height.
pub const DEFAULT_SPLIT: f64 = 0.62;
/// The setting key under which the divider position is saved.
pub const SPLIT_SETTING: &str = "ui.sidebar.split";

/// Which screen is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Screen {
    /// Asking the core whether a session exists.
    #[default]
    Starting,
    /// The sign-in form.
    SignIn,
    /// The main window.
    Main,
}

/// The open dialog (at most one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    /// Answer an incoming request.
    Respond(RequestId),
    /// Ask a teammate, maybe preselected.
    Ask(Option<UserId>),
    /// The knowledge library: every request asked or answered, with answers; one highlighted.
    Requests(Option<RequestId>),
    /// Search over everything cached.
    Search,
    /// The quick conversation switcher.
    Switcher,
    /// Start a direct or group conversation.
    NewConversation,
    /// A group's settings: rename, add people, leave.
    Group(ConversationId),
    /// The account: change the password, sign out everywhere.
    Account,
}

/// Everything the UI shows.
#[derive(Debug, Clone, PartialEq)]
pub struct AppState {
    /// Which screen.
    pub screen: Screen,
    /// The signed-in account.
    pub session: Option<SessionInfo>,
    /// The sign-in form's server URL (remembered).
    pub server_url: String,
    /// Why the user is on the sign-in screen again ("Your session has ended").
    pub sign_in_notice: Option<String>,
    /// The conversation list, as the core orders it.
    /// Shared (`Rc`): every action copies the state, and 2,000 summaries are not copied with it.
    pub conversations: Rc<Vec<ConversationSummary>>,
    /// The conversations have been loaded at least once.
    pub conversations_loaded: bool,
    /// The open conversation.
    pub selected: Option<ConversationId>,
    /// Loaded messages per conversation.
    pub timelines: HashMap<ConversationId, Timeline>,
    /// Incoming and outgoing requests.
    pub requests: RequestLists,
    /// The team directory.
    /// Shared (`Rc`), as `conversations`.
    pub teammates: Rc<Vec<Teammate>>,
    /// The realtime connection.
    pub connection: ConnectionStatus,
    /// When the connection status last changed (epoch ms), for the retry countdown.
    pub connection_since_ms: i64,
    /// Online members per conversation room. Shared (`Rc`) so that an action which is not a
    /// presence change does not copy one list per room (2,000 of them in a big team).
    pub presence: Rc<HashMap<ConversationId, Vec<UserId>>>,
    /// In how many rooms each user is online, kept with `presence`: [`AppState::is_online`]
    /// is then one lookup, not a scan of every room (the mention list sorts the whole team
    /// by it).
    pub online_rooms: Rc<HashMap<UserId, u32>>,
    /// Who is typing per conversation.
    pub typing: HashMap<ConversationId, Vec<String>>,
    /// Read positions of the others per conversation.
    /// Shared (`Rc`) like `presence`: copied only by a receipt.
    pub receipts: Rc<HashMap<ConversationId, HashMap<UserId, Seq>>>,
    /// The open dialog.
    pub dialog: Option<Dialog>,
    /// The divider position (the conversations' share, 0.2–0.85).
    pub split: f64,
    /// A transient message at the bottom ("That was already answered").
    pub toast: Option<String>,
    /// Bumped to move keyboard focus to the composer.
    pub composer_focus: u32,
    /// Wall clock (epoch ms), refreshed by a ticker.
    pub now_ms: i64,
    /// The local UTC offset in minutes.
    pub offset_min: i32,
    /// A message to show and highlight (a search hit): the message list loads older pages until
    /// it holds it, then scrolls to it. Cleared when another conversation opens.
    pub highlight: Option<(ConversationId, Seq)>,
    /// A first sync's history loading in the background (the sidebar's progress bar).
    pub history: Option<HistoryProgress>,
}

impl Default for AppState {
    fn default() -> Self {
        AppState {
            screen: Screen::Starting,
            session: None,
            server_url: String::new(),
            sign_in_notice: None,
            conversations: Rc::default(),
            conversations_loaded: false,
            selected: None,
            timelines: HashMap::new(),
            requests: RequestLists::default(),
            teammates: Rc::default(),
            connection: ConnectionStatus::Connecting {
                retry_in_secs: None,
            },
            connection_since_ms: 0,
            presence: Rc::default(),
            online_rooms: Rc::default(),
            typing: HashMap::new(),
            receipts: Rc::default(),
            dialog: None,
            split: DEFAULT_SPLIT,
            toast: None,
            composer_focus: 0,
            now_ms: 0,
            offset_min: 0,
            highlight: None,
            history: None,
        }
    }
}

/// Every change to [`AppState`].
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The core answered at start: a restored session (or none), the server URL to pre-fill,
    /// why the last session ended, the connection.
    Started(Startup),
    /// Signed in.
    SignedIn(SessionInfo),
    /// Open a conversation.
    Select(ConversationId),
    /// The newest page of a conversation was read.
    MessagesLoaded {
        /// The conversation.
        conversation_id: ConversationId,
        /// The page, ascending.
        messages: Vec<ChatMessage>,
        /// The page size asked for.
        limit: u32,
    },
    /// Fetching an older page started.
    LoadingOlder(ConversationId),
    /// An older page was read.
    OlderLoaded {
        /// The conversation.
        conversation_id: ConversationId,
        /// The oldest row's seq it was read before.
        before: Seq,
        /// The page, ascending.
        messages: Vec<ChatMessage>,
        /// The page size asked for.
        limit: u32,
    },
    /// Fetching a newer page started (a window in the past, scrolled down).
    LoadingNewer(ConversationId),
    /// A newer page was read.
    NewerLoaded {
        /// The conversation.
        conversation_id: ConversationId,
        /// The newest row's seq it was read after.
        after: Seq,
        /// The page, ascending.
        messages: Vec<ChatMessage>,
        /// The page size asked for.
        limit: u32,
    },
    /// A window around one message was read (a search hit): it replaces the timeline.
    AroundLoaded {
        /// The conversation.
        conversation_id: ConversationId,
        /// The message it was opened around.
        seq: Seq,
        /// The page ending with it, ascending.
        older: Vec<ChatMessage>,
        /// The page after it, ascending.
        newer: Vec<ChatMessage>,
        /// The page size asked for.
        limit: u32,
    },
    /// Go to the newest messages: a window in the past is read again from the newest page.
    ToNewest(ConversationId),
    /// The core accepted a message (the answer to sending it; see
    /// `Timeline::insert_accepted`).
    MessageUpserted(ChatMessage),
    /// A request was answered here: it leaves the list at once.
    Answered(RequestId),
    /// An event from the core.
    Event(UiEvent),
    /// Events from the core, in order, applied with one render (a burst of presence changes:
    /// one per room when the connection comes up).
    Events(Vec<UiEvent>),
    /// Open a dialog.
    Open(Dialog),
    /// Close the dialog.
    CloseDialog,
    /// Move the divider (clamped).
    SetSplit(f64),
    /// Show a transient message.
    Toast(String),
    /// Hide it.
    ClearToast,
    /// Focus the composer.
    FocusComposer,
    /// A window-wide keyboard shortcut.
    Shortcut(Shortcut),
    /// Open a conversation at one message, highlighted (a search hit).
    JumpTo {
        /// The conversation.
        conversation_id: ConversationId,
        /// The message's sequence.
        seq: Seq,
    },
    /// Clock tick.
    Tick {
        /// Epoch ms.
        now_ms: i64,
        /// Local offset in minutes.
        offset_min: i32,
    },
}

impl AppState {
    /// The open conversation's summary.
    pub fn selected_conversation(&self) -> Option<&ConversationSummary> {
        let id = self.selected?;
        self.conversations.iter().find(|c| c.id == id)
    }

    /// Whether a user is online: in any room's presence, or per the directory.
    pub fn is_online(&self, user: UserId) -> bool {
        self.online_rooms.contains_key(&user)
            || self.teammates.iter().any(|t| t.id == user && t.online)
    }

    /// One room's online members, replacing what it said before, with the per-user counts.
    fn set_presence(&mut self, room: ConversationId, online: Vec<UserId>) {
        let counts = Rc::make_mut(&mut self.online_rooms);
        for user in &online {
            *counts.entry(*user).or_default() += 1;
        }
        let before = Rc::make_mut(&mut self.presence).insert(room, online);
        for user in before.into_iter().flatten() {
            if let Some(n) = counts.get_mut(&user) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(&user);
                }
            }
        }
    }

    /// One teammate's name, from the directory: a lookup, for where a few names are shown
    /// (building [`AppState::names`] is a map of the whole team).
    pub fn name_of(&self, user: UserId) -> Option<&str> {
        self.teammates
            .iter()
            .find(|t| t.id == user)
            .map(|t| t.name.as_str())
    }

    /// Names by user id, from the directory.
    pub fn names(&self) -> HashMap<UserId, String> {
        self.teammates
            .iter()
            .map(|t| (t.id, t.name.clone()))
            .collect()
    }

    /// Pending requests addressed to me.
    pub fn pending_incoming(&self) -> impl Iterator<Item = &confab_model::ipc::ShareRequestView> {
        self.requests
            .incoming
            .iter()
            .filter(|r| r.status == KnowledgeStatus::Pending)
    }

    /// Unread messages over all conversations.
    pub fn unread_total(&self) -> i64 {
        self.conversations.iter().map(|c| c.unread_count).sum()
    }

    /// Unread mentions of me over all conversations.
    pub fn mention_total(&self) -> i64 {
        self.conversations.iter().map(|c| c.mention_count).sum()
    }

    /// Answers to my questions I have not opened yet.
    pub fn unread_answers(&self) -> usize {
        self.requests.unread_answers()
    }

    /// The teammates' names and mine, for `@` mentions (completion and highlighting).
    pub fn mention_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.teammates.iter().map(|t| t.name.clone()).collect();
        if let Some(me) = &self.session {
            names.push(me.name.clone());
        }
        names
    }

    fn clear_account(&mut self) {
        let keep = AppState {
            server_url: std::mem::take(&mut self.server_url),
            split: self.split,
            now_ms: self.now_ms,
            offset_min: self.offset_min,
            screen: Screen::SignIn,
            ..AppState::default()
        };
        *self = keep;
    }

    fn apply_event(&mut self, ev: UiEvent) {
        match ev {
            UiEvent::Conversations(update) => self.conversations_changed(update),
            UiEvent::Requests(lists) => self.requests = lists,
            UiEvent::Teammates { teammates } => self.teammates = Rc::new(teammates),
            UiEvent::SignedOut => self.clear_account(),
            UiEvent::MessagesChanged {
                conversation_id,
                messages,
            } => {
                match self.timelines.get_mut(&conversation_id) {
                    Some(t) => t.upsert_live(messages),
                    // The open conversation's page is being read: what arrives meanwhile is kept
                    // (the page, when it comes, merges with it), else it would be in neither.
                    None if self.selected == Some(conversation_id) => {
                        self.timelines
                            .entry(conversation_id)
                            .or_default()
                            .upsert_live(messages);
                    }
                    None => {}
                }
            }
            UiEvent::MessageRemoved {
                conversation_id,
                client_id,
            } => {
                if let Some(t) = self.timelines.get_mut(&conversation_id) {
                    t.remove(&client_id);
                }
            }
            UiEvent::Connection(status) => {
                if status != self.connection {
                    self.connection = status;
                    self.connection_since_ms = self.now_ms;
                }
            }
            UiEvent::Presence {
                conversation_id,
                online,
            } => {
                self.set_presence(conversation_id, online);
            }
            UiEvent::Typing {
                conversation_id,
                names,
            } => {
                self.typing.insert(conversation_id, names);
            }
            UiEvent::ReadReceipt {
                conversation_id,
                user_id,
                seq,
            } => {
                let read = Rc::make_mut(&mut self.receipts)
                    .entry(conversation_id)
                    .or_default();
                let at = read.entry(user_id).or_insert(seq);
                *at = (*at).max(seq);
            }
            UiEvent::SessionEnded { reason } => {
                self.clear_account();
                self.sign_in_notice = Some(reason);
            }
            UiEvent::Notice { message } => self.toast = Some(message),
            // The zone's rules live in `crate::zone` (the effects hand them over and tick).
            UiEvent::Clock { .. } => {}
            UiEvent::History { progress } => {
                self.history = progress;
                self.history_arrived();
            }
            UiEvent::Navigate(target) => match target {
                NavigateTarget::Conversation(id) => {
                    self.dialog = None;
                    self.select(id);
                }
                NavigateTarget::Request(id) => self.dialog = Some(Dialog::Respond(id)),
                NavigateTarget::Answer(id) => self.dialog = Some(Dialog::Requests(Some(id))),
            },
        }
    }

    /// Folds a conversation-list change in (the core's order kept); the open conversation
    /// is being read, so it shows no unread messages; the first one opens once the whole list
    /// is known.
    fn conversations_changed(&mut self, update: ConversationsUpdate) {
        let complete = update.complete;
        let gone = update.removed.clone();
        update.apply_to(Rc::make_mut(&mut self.conversations));
        self.conversations_loaded |= complete;
        if let Some(open) = self.selected {
            match Rc::make_mut(&mut self.conversations)
                .iter_mut()
                .find(|c| c.id == open)
            {
                Some(c) => {
                    c.unread_count = 0;
                    c.mention_count = 0;
                }
                None if complete || gone.contains(&open) => self.selected = None,
                None => {}
            }
        }
        if self.selected.is_none() && self.conversations_loaded {
            if let Some(first) = self.conversations.first().map(|c| c.id) {
                self.select(first);
            }
        }
    }

    fn shortcut(&mut self, k: Shortcut) {
        if self.screen != Screen::Main {
            return;
        }
        let toggle = |open: &Option<Dialog>, d: Dialog| (open.as_ref() != Some(&d)).then_some(d);
        match k {
            Shortcut::Switcher => self.dialog = toggle(&self.dialog, Dialog::Switcher),
            Shortcut::Requests => self.dialog = toggle(&self.dialog, Dialog::Requests(None)),
            Shortcut::Search => self.dialog = toggle(&self.dialog, Dialog::Search),
            Shortcut::Ask => self.dialog = Some(Dialog::Ask(None)),
            Shortcut::NewConversation => self.dialog = Some(Dialog::NewConversation),
            Shortcut::Close => self.dialog = None,
            Shortcut::FocusComposer => {
                self.dialog = None;
                self.composer_focus = self.composer_focus.wrapping_add(1);
            }
            Shortcut::Conversation(n) => {
                if let Some(id) = self.conversations.get(n).map(|c| c.id) {
                    self.dialog = None;
                    self.select(id);
                }
            }
        }
    }

    /// A window in the past is marked unread, so the chat pane reads the newest page; its rows
    /// stay on screen until that page replaces them.
    /// Older messages reached the cache (a first sync's history loading): an open conversation
    /// whose newest page was all it had (a short page, so it never asks for an older one) reads
    /// it again, and so finds them. A longer timeline asks for older pages as it scrolls.
    fn history_arrived(&mut self) {
        let Some(t) = self.selected.and_then(|id| self.timelines.get_mut(&id)) else {
            return;
        };
        let short = t.messages.len() < crate::logic::timeline::PAGE as usize;
        if t.page_loaded && short && !t.has_more && !t.has_newer && !t.loading_older {
            t.page_loaded = false;
        }
    }

    fn read_newest_again(&mut self, id: ConversationId) {
        if let Some(t) = self.timelines.get_mut(&id) {
            if t.has_newer {
                t.page_loaded = false;
            }
        }
    }

    fn select(&mut self, id: ConversationId) {
        // Only the open conversation's timeline is kept: the others are read again from the
        // cache when they open (a page of 50, a few milliseconds), so the UI's memory does not
        // grow with every conversation visited.
        self.timelines.retain(|c, _| *c == id);
        self.selected = Some(id);
        if self.highlight.is_some_and(|(c, _)| c != id) {
            self.highlight = None;
        }
        if let Some(c) = Rc::make_mut(&mut self.conversations)
            .iter_mut()
            .find(|c| c.id == id)
        {
            c.unread_count = 0;
            c.mention_count = 0;
        }
    }
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        if let Action::Tick { now_ms, offset_min } = action {
            // Re-render every second only while a countdown runs; ages refresh every 30 s.
            // Handing back the same Rc is what skips the render (use_reducer compares pointers).
            let counting = self.connection != ConnectionStatus::Connected;
            if !counting && now_ms - self.now_ms < 30_000 && offset_min == self.offset_min {
                return self;
            }
        }
        let mut s = (*self).clone();
        match action {
            Action::Started(Startup {
                session,
                server_url,
                notice,
                connection,
                history,
                clock: _, // the time rules live in `crate::zone`, set before this action
            }) => {
                s.server_url = server_url.unwrap_or_default();
                s.history = history;
                s.apply_event(UiEvent::Connection(connection));
                match session {
                    Some(session) => {
                        s.server_url = session.server_url.clone();
                        s.session = Some(session);
                        s.screen = Screen::Main;
                        // With a session the notice is news in passing (a rebuilt cache).
                        if notice.is_some() {
                            s.toast = notice;
                        }
                    }
                    None => {
                        s.screen = Screen::SignIn;
                        if notice.is_some() {
                            s.sign_in_notice = notice;
                        }
                    }
                }
            }
            Action::SignedIn(session) => {
                s.server_url = session.server_url.clone();
                s.session = Some(session);
                s.sign_in_notice = None;
                s.screen = Screen::Main;
            }
            Action::Select(id) => {
                s.select(id);
                if s.dialog == Some(Dialog::Switcher) || s.dialog == Some(Dialog::Search) {
                    s.dialog = None;
                }
            }
            Action::MessagesLoaded {
                conversation_id,
                messages,
                limit,
            } => {
                let mut fresh = Timeline::from_page(messages, limit);
                // Keep what arrived live or was written while the page was being read.
                if let Some(old) = s.timelines.remove(&conversation_id) {
                    old.merge_into(&mut fresh);
                }
                s.timelines.insert(conversation_id, fresh);
            }
            Action::LoadingOlder(id) => {
                if let Some(t) = s.timelines.get_mut(&id) {
                    t.loading_older = true;
                }
            }
            Action::OlderLoaded {
                conversation_id,
                before,
                messages,
                limit,
            } => {
                if let Some(t) = s.timelines.get_mut(&conversation_id) {
                    t.older_landed(before, messages, limit);
                }
            }
            Action::LoadingNewer(id) => {
                if let Some(t) = s.timelines.get_mut(&id) {
                    t.loading_newer = true;
                }
            }
            Action::NewerLoaded {
                conversation_id,
                after,
                messages,
                limit,
            } => {
                if let Some(t) = s.timelines.get_mut(&conversation_id) {
                    t.newer_landed(after, messages, limit);
                }
            }
            Action::AroundLoaded {
                conversation_id,
                seq,
                older,
                newer,
                limit,
            } => {
                // Only while it is still the one shown: a later page would not know the window.
                if s.selected == Some(conversation_id) {
                    s.timelines
                        .insert(conversation_id, Timeline::around(seq, older, newer, limit));
                }
            }
            Action::ToNewest(id) => s.read_newest_again(id),
            Action::MessageUpserted(m) => {
                let id = m.conversation_id;
                let t = s.timelines.entry(id).or_default();
                if t.has_newer {
                    // Written while reading the past: the list goes to the newest, where it is.
                    s.read_newest_again(id);
                } else {
                    t.insert_accepted(m);
                }
            }
            Action::Answered(id) => {
                s.requests.incoming.retain(|r| r.id != id);
                if s.dialog == Some(Dialog::Respond(id)) {
                    s.dialog = None;
                }
            }
            Action::Event(ev) => s.apply_event(ev),
            Action::Events(evs) => evs.into_iter().for_each(|ev| s.apply_event(ev)),
            Action::Open(d) => {
                s.dialog = Some(d);
                // A new dialog supersedes what the last action said (and the toast would sit on
                // the dialog's lower buttons).
                s.toast = None;
            }
            Action::CloseDialog => s.dialog = None,
            Action::SetSplit(f) => s.split = clamp_split(f),
            Action::Toast(t) => s.toast = Some(t),
            Action::ClearToast => s.toast = None,
            Action::FocusComposer => {
                s.dialog = None;
                s.composer_focus = s.composer_focus.wrapping_add(1);
            }
            Action::Shortcut(k) => s.shortcut(k),
            Action::JumpTo {
                conversation_id,
                seq,
            } => {
                s.dialog = None;
                s.select(conversation_id);
                s.highlight = Some((conversation_id, seq));
            }
            Action::Tick { now_ms, offset_min } => {
                s.now_ms = now_ms;
                s.offset_min = offset_min;
            }
        }
        Rc::new(s)
    }
}

/// Keeps the divider where both halves stay usable.
pub fn clamp_split(f: f64) -> f64 {
    if f.is_finite() {
        f.clamp(0.2, 0.85)
    } else {
        DEFAULT_SPLIT
    }
}

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod list_tests;

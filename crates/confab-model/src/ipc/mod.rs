//! The desktop app's IPC contract: what the UI asks the core for ([`commands`], declared once)
//! and what the core tells the UI (one ordered stream of [`UiEvent`]s on the Tauri event
//! [`EVENT`]). Shared by `confab-core`, the Tauri shell and the Yew UI, so a renamed field breaks
//! the build instead of the screen.
//!
//! Events carry the state that changed, computed once in the core: the UI (and the tray) fold
//! them into what they show and never call back to re-read. Views are flattened for display
//! (sender name next to the message, state of an optimistic message): the UI joins nothing.

mod clock;
pub mod commands;

pub use clock::{HourCycle, LocalClock, ZoneSpan, HOUR_CYCLE_SETTING};

use serde::{Deserialize, Serialize};

use crate::{ConversationId, ConversationKind, KnowledgeStatus, RequestId, Seq, UserId};

/// The one Tauri event that carries the core's [`UiEvent`] stream to the window.
pub const EVENT: &str = "confab://event";

/// The signed-in account, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// Backend base URL, e.g. `https://chat.example.com`.
    pub server_url: String,
    /// My user id.
    pub user_id: UserId,
    /// My display name.
    pub name: String,
    /// My email.
    pub email: String,
    /// False when the token is kept for this run only (no keyring available).
    pub persisted: bool,
}

/// Sign-in form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInRequest {
    /// Backend base URL.
    pub server_url: String,
    /// Email.
    pub email: String,
    /// Password (never stored).
    pub password: String,
    /// Keep the session for this run only when no keyring is available.
    #[serde(default)]
    pub session_only: bool,
}

/// One row of the conversation list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSummary {
    /// Conversation id.
    pub id: ConversationId,
    /// Title (for a direct chat, the other person's name).
    pub title: String,
    /// Direct (one per pair) or group: only a group can be renamed, grown or left.
    pub kind: ConversationKind,
    /// How many members it has (me included). Their ids are read for the conversation that
    /// is open (the `members` command): in a big team, every summary carrying every member
    /// made the start's list grow with members × conversations.
    pub member_count: u32,
    /// Preview of the last message ("Alice: see you").
    pub last_message_preview: Option<String>,
    /// RFC 3339 time of the last activity.
    pub last_activity_at: Option<String>,
    /// Unread messages from others.
    pub unread_count: i64,
    /// Unread messages from others that mention me (they notify even when muted).
    pub mention_count: i64,
    /// Whether notifications are muted for it.
    pub muted: bool,
    /// A direct chat (two members): the UI shows the other person's online dot.
    pub direct_peer_id: Option<UserId>,
    /// The list's order, larger first (then the larger id): twice the sequence of the last
    /// activity (plus one while a message of mine waits in the outbox, which puts it above
    /// everything received), then a local tie-breaker among those.
    pub sort_key: (i64, i64),
}

/// A change of the conversation list: the summaries that changed, or the whole list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationsUpdate {
    /// `conversations` is the whole list (replace what is held), not only what changed.
    pub complete: bool,
    /// The summaries as they are now.
    pub conversations: Vec<ConversationSummary>,
    /// Conversations that are gone from this account (left, or removed by the server).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<ConversationId>,
}

impl ConversationsUpdate {
    /// Folds this update into a list held in the core's order: the whole list replaces it;
    /// changed summaries replace theirs (or join) and the list is sorted again.
    pub fn apply_to(self, list: &mut Vec<ConversationSummary>) {
        if self.complete {
            *list = self.conversations;
            return;
        }
        if !self.removed.is_empty() {
            let removed: std::collections::HashSet<ConversationId> =
                self.removed.into_iter().collect();
            list.retain(|held| !removed.contains(&held.id));
        }
        // Found through an index: the first sync can change thousands of a list of thousands.
        let mut at: std::collections::HashMap<ConversationId, usize> =
            list.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        for c in self.conversations {
            match at.get(&c.id) {
                Some(&i) => list[i] = c,
                None => {
                    at.insert(c.id, list.len());
                    list.push(c);
                }
            }
        }
        list.sort_by(|a, b| b.sort_key.cmp(&a.sort_key).then(b.id.cmp(&a.id)));
    }
}

/// Delivery state of a message as the sender sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum DeliveryState {
    /// Stored by the server.
    Sent,
    /// Written here, not yet acknowledged (offline, or sending).
    Pending,
    /// Written here and waiting because the server asked to (too many messages too fast); it
    /// goes out by itself at `until_ms`.
    Held {
        /// Why, as the server's sentence.
        reason: String,
        /// When it is sent again, epoch milliseconds.
        until_ms: i64,
    },
    /// Refused by the server; the user can retry or discard.
    Failed {
        /// Why, as a sentence.
        reason: String,
    },
}

/// A message ready for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// Client id (stable from the moment it is written; the key for the UI list).
    pub client_id: String,
    /// Server id once sent.
    pub id: Option<i64>,
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Server sequence once sent.
    pub seq: Option<Seq>,
    /// Sender.
    pub sender_id: UserId,
    /// Sender's name.
    pub sender_name: String,
    /// Text (always rendered as text).
    pub content: String,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// Delivery state.
    pub delivery: DeliveryState,
}

/// A knowledge-share request as the sidebar and dialogs show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareRequestView {
    /// Request id.
    pub id: RequestId,
    /// Who asks.
    pub requester_id: UserId,
    /// Their name.
    pub requester_name: String,
    /// Who is asked.
    pub owner_id: UserId,
    /// The owner's name, when known.
    pub owner_name: Option<String>,
    /// The question.
    pub question: String,
    /// Status.
    pub status: KnowledgeStatus,
    /// The shared content once approved, or the reason given when declined.
    pub response_content: Option<String>,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 time of the answer; `None` while pending.
    pub answered_at: Option<String>,
    /// An answer to my question that I have not opened yet.
    pub unread: bool,
}

/// Every request I asked or was asked: the sidebar shows `incoming`, the knowledge library all.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestLists {
    /// Pending requests addressed to me, oldest first.
    pub incoming: Vec<ShareRequestView>,
    /// Requests I asked, newest first, answered or not.
    pub outgoing: Vec<ShareRequestView>,
    /// Requests addressed to me that I answered (approved or declined), newest first.
    #[serde(default)]
    pub answered: Vec<ShareRequestView>,
}

impl RequestLists {
    /// Answers to my questions I have not opened yet (the library's badge).
    pub fn unread_answers(&self) -> usize {
        self.outgoing.iter().filter(|r| r.unread).count()
    }
}

/// A teammate in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Teammate {
    /// User id.
    pub id: UserId,
    /// Name.
    pub name: String,
    /// Online in any shared room right now.
    pub online: bool,
}

/// A search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Conversation title.
    pub conversation_title: String,
    /// The message.
    pub client_id: String,
    /// Sequence, to scroll to.
    pub seq: Option<Seq>,
    /// Sender's name.
    pub sender_name: String,
    /// A plain-text excerpt around the match (no markup: the UI highlights itself).
    pub excerpt: String,
    /// RFC 3339 time.
    pub created_at: String,
}

/// A question or answer that matched a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestHit {
    /// The request, as the library shows it.
    pub request: ShareRequestView,
    /// A plain-text excerpt around the match.
    pub excerpt: String,
    /// The match is in the answer (else in the question).
    pub in_answer: bool,
}

/// Everything a search found in the cache, grouped by kind, newest first in each.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResults {
    /// Messages.
    pub messages: Vec<SearchHit>,
    /// Knowledge requests (questions and answers).
    pub requests: Vec<RequestHit>,
}

/// The realtime connection as the banner shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum ConnectionStatus {
    /// Live.
    Connected,
    /// Trying to connect; `retryInSecs` when waiting for the next attempt.
    Connecting {
        /// Seconds until the next attempt.
        retry_in_secs: Option<u64>,
    },
    /// No connection for a while; still retrying.
    Unavailable {
        /// Seconds until the next attempt.
        retry_in_secs: Option<u64>,
    },
    /// Not connecting (signed out, or refused by the server).
    Offline,
    /// Not connecting: the keyring that holds the sign-in is locked (its unlock prompt was
    /// dismissed) or unavailable. Saved messages are readable; "retry" asks the keyring again.
    Locked,
}

/// What the window looks like to the notification policy.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FocusState {
    /// Window shown.
    pub visible: bool,
    /// Window has keyboard focus.
    pub focused: bool,
    /// Conversation open in the chat pane.
    pub conversation_id: Option<ConversationId>,
}

/// When the page reached each step of its first start-up, in ms since it began loading
/// (reported once, for the start-up log the cold-start benchmark reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageMarks {
    /// The wasm module started running (loaded, compiled, instantiated).
    pub wasm_ms: u64,
    /// The first screen with content was in the DOM.
    pub content_ms: u64,
    /// The shell had shown the window.
    pub shown_ms: u64,
    /// The first frame of the shown window was painted.
    pub page_ms: u64,
}

/// Everything that changes what the UI shows, in one ordered stream. Bursts are coalesced in
/// the core: at most one conversation-list event and one messages event per conversation per
/// frame (~16 ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum UiEvent {
    /// The conversation list changed (order, previews, unread counts): the summaries that
    /// changed, or the whole list (at start, after sign-in, or for a listener that fell behind).
    Conversations(ConversationsUpdate),
    /// Messages were added or changed in a conversation.
    MessagesChanged {
        /// The conversation.
        conversation_id: ConversationId,
        /// The messages as they are now (by client id; ascending).
        messages: Vec<ChatMessage>,
    },
    /// A message was discarded from the outbox.
    MessageRemoved {
        /// The conversation.
        conversation_id: ConversationId,
        /// Its client id.
        client_id: String,
    },
    /// The share requests as they are now (added, answered).
    Requests(RequestLists),
    /// The team directory as it is now.
    Teammates {
        /// Everyone but me, by name. (A struct variant: serde cannot tag a bare list.)
        teammates: Vec<Teammate>,
    },
    /// Connection state.
    Connection(ConnectionStatus),
    /// Who is online in a conversation's room.
    Presence {
        /// The conversation.
        conversation_id: ConversationId,
        /// Online members.
        online: Vec<UserId>,
    },
    /// Who is typing in a conversation.
    Typing {
        /// The conversation.
        conversation_id: ConversationId,
        /// Names of those typing (never me).
        names: Vec<String>,
    },
    /// Read positions of the others changed ("seen").
    ReadReceipt {
        /// The conversation.
        conversation_id: ConversationId,
        /// Who.
        user_id: UserId,
        /// Up to which sequence.
        seq: Seq,
    },
    /// The session ended (token expired or revoked): unsent messages are kept; sign in again.
    SessionEnded {
        /// A sentence for the user.
        reason: String,
    },
    /// The user signed out: this account's cache is gone.
    SignedOut,
    /// Open this conversation or request (a notification was activated).
    Navigate(NavigateTarget),
    /// Something the user should hear once that needs no answer (a damaged cache was set aside
    /// and is being refilled from the server): shown as a passing notice.
    Notice {
        /// A sentence for the user.
        message: String,
    },
    /// The machine's time zone changed while the app ran (the user changed it, or travelled and
    /// the system followed): the window's times take these spans from now on; the hour cycle
    /// stays as it was.
    Clock {
        /// The zone's UTC offsets, as in [`LocalClock::zone`].
        zone: Vec<ZoneSpan>,
    },
    /// How far loading the history of a first sync has come (throttled: a few a second);
    /// `None` once it is all loaded (or there is none to load).
    History {
        /// Changes walked through of the total, or `None` when done.
        progress: Option<HistoryProgress>,
    },
}

/// A first sync's history loading in the background: `done` of `total` changes (the server's
/// count of the account's changes below the head the sync started from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryProgress {
    /// Changes walked through so far (never above `total`).
    pub done: u64,
    /// Changes to walk through in all.
    pub total: u64,
}

/// What the window needs to show its first screen (the `start` command); the lists follow on
/// the event stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Startup {
    /// The restored (or current) session.
    pub session: Option<SessionInfo>,
    /// The server URL to pre-fill on the sign-in form.
    pub server_url: Option<String>,
    /// Without a session: why the last session ended, when it did before the window listened.
    /// With one: a sentence to show once in passing (the cache was damaged and is being
    /// refilled from the server); the next `start` no longer carries it.
    pub notice: Option<String>,
    /// The realtime connection right now (events report later changes).
    pub connection: ConnectionStatus,
    /// History still loading in the background ([`UiEvent::History`] reports later changes).
    #[serde(default)]
    pub history: Option<HistoryProgress>,
    /// The machine's time zone and the remembered hour cycle, for formatting times.
    #[serde(default)]
    pub clock: LocalClock,
}

/// Where a notification leads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "id")]
pub enum NavigateTarget {
    /// A conversation.
    Conversation(ConversationId),
    /// An incoming share request (open the respond dialog).
    Request(RequestId),
    /// An answer to one of my requests.
    Answer(RequestId),
}

/// A notification the core decided to raise (the shell displays it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Title line.
    pub title: String,
    /// Body text (plain).
    pub body: String,
    /// What activating it opens.
    pub target: NavigateTarget,
    /// How many new messages it stands for (0 for requests, answers and mentions): while it is
    /// on screen, the shell folds the next ones of the same conversation into it ("12 new
    /// messages in Ops") instead of stacking more.
    #[serde(default)]
    pub messages: u32,
    /// The conversation's title, for that folded summary.
    #[serde(default)]
    pub place: Option<String>,
    /// Who wrote the newest message it shows, for the folded body ("Ada: …").
    #[serde(default)]
    pub from: Option<String>,
}

/// Stable codes the UI matches on to pick its sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpcErrorCode {
    /// The server could not be reached.
    Unreachable,
    /// Wrong email or password.
    BadCredentials,
    /// Signed out or session expired: sign in again.
    SessionExpired,
    /// No keyring (Secret Service) available, or it is locked.
    KeyringUnavailable,
    /// Input refused (empty message, too long, ...).
    InvalidInput,
    /// Not allowed (not a member, not the owner).
    Forbidden,
    /// Already answered / conflicting change.
    Conflict,
    /// Not found.
    NotFound,
    /// The local disk is full: nothing was lost, free space and retry.
    DiskFull,
    /// The server failed; try again later.
    ServerError,
    /// Too much too fast (a write limit, sign-in throttling): the sentence says when to retry.
    TooFast,
    /// Anything else (details are in the log, not here).
    Internal,
}

/// The one error type that crosses the IPC boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpcError {
    /// Stable code.
    pub code: IpcErrorCode,
    /// A human sentence (never a raw internal error).
    pub message: String,
}

impl IpcErrorCode {
    /// The sentence the user sees for this code: the one table of them. A more precise
    /// sentence replaces it only where the core wrote one for people (input it refused).
    pub fn sentence(self) -> &'static str {
        match self {
            Self::Unreachable => {
                "Can't reach the server. Check the address and your connection, then try again."
            }
            Self::BadCredentials => "That email and password don't match. Please try again.",
            Self::SessionExpired => "Your session has ended. Please sign in again.",
            Self::KeyringUnavailable => {
                "Your system keyring isn't available, so Confab can't remember your sign-in."
            }
            Self::InvalidInput => "That can't be sent as it is: check what you typed.",
            Self::Forbidden => "You're not allowed to do that.",
            Self::Conflict => "That was already answered or changed elsewhere.",
            Self::NotFound => "That no longer exists.",
            Self::DiskFull => "Your disk is full. Nothing was lost: free some space and retry.",
            Self::ServerError => "The server had a problem. Please try again in a moment.",
            Self::TooFast => "That was too much too fast for the server. Try again in a minute.",
            Self::Internal => "Something went wrong. Please try again.",
        }
    }
}

impl IpcError {
    /// An error with a code and a sentence written for people.
    pub fn new(code: IpcErrorCode, message: impl Into<String>) -> Self {
        IpcError {
            code,
            message: message.into(),
        }
    }

    /// An error with its code's sentence ([`IpcErrorCode::sentence`]).
    pub fn of(code: IpcErrorCode) -> Self {
        Self::new(code, code.sentence())
    }
}

impl std::fmt::Display for IpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for IpcError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of every event, with lists and nested enums filled in.
    fn every_event() -> Vec<UiEvent> {
        vec![
            UiEvent::Conversations(ConversationsUpdate {
                complete: false,
                conversations: vec![],
                removed: vec![4],
            }),
            UiEvent::MessagesChanged {
                conversation_id: 1,
                messages: vec![],
            },
            UiEvent::MessageRemoved {
                conversation_id: 1,
                client_id: "c".into(),
            },
            UiEvent::Requests(RequestLists::default()),
            UiEvent::Teammates {
                teammates: vec![Teammate {
                    id: 2,
                    name: "Ada".into(),
                    online: true,
                }],
            },
            UiEvent::Connection(ConnectionStatus::Connecting {
                retry_in_secs: Some(3),
            }),
            UiEvent::Presence {
                conversation_id: 1,
                online: vec![2],
            },
            UiEvent::Typing {
                conversation_id: 1,
                names: vec!["Ada".into()],
            },
            UiEvent::ReadReceipt {
                conversation_id: 1,
                user_id: 2,
                seq: 3,
            },
            UiEvent::SessionEnded {
                reason: "expired".into(),
            },
            UiEvent::SignedOut,
            UiEvent::Navigate(NavigateTarget::Answer(5)),
            UiEvent::Notice {
                message: "Confab rebuilt its local copy.".into(),
            },
            UiEvent::Clock {
                zone: vec![ZoneSpan {
                    from_ms: 1_774_746_000_000,
                    offset_min: 120,
                }],
            },
        ]
    }

    #[test]
    fn every_event_crosses_to_the_window_as_json_and_comes_back_the_same() {
        // The shell serializes each event for the window: one that does not serialize never
        // arrives (a tagged enum cannot carry a bare list; the directory was lost that way).
        for event in every_event() {
            let json = serde_json::to_string(&event)
                .unwrap_or_else(|e| panic!("{event:?} does not serialize: {e}"));
            let back: UiEvent = serde_json::from_str(&json).expect("deserializes");
            assert_eq!(back, event, "{json}");
        }
    }

    fn summary(id: ConversationId, activity: i64) -> ConversationSummary {
        ConversationSummary {
            id,
            title: format!("c{id}"),
            kind: ConversationKind::Group,
            mention_count: 0,
            member_count: 0,
            last_message_preview: None,
            last_activity_at: None,
            unread_count: 0,
            muted: false,
            direct_peer_id: None,
            sort_key: (activity, 0),
        }
    }

    #[test]
    fn a_partial_update_of_a_long_list_replaces_joins_and_removes_by_id_in_the_cores_order() {
        // 2,000 held (activity = id), then one changed, one new, one gone.
        let mut list: Vec<_> = (1..=2_000).rev().map(|id| summary(id, id)).collect();
        ConversationsUpdate {
            complete: false,
            conversations: vec![summary(7, 5_000), summary(2_001, 0)],
            removed: vec![1_999],
        }
        .apply_to(&mut list);
        assert_eq!(list.len(), 2_000);
        assert_eq!(list[0].id, 7, "the changed one moves to the top");
        assert_eq!(list[0].sort_key.0, 5_000, "and is the new summary");
        assert_eq!(list.iter().filter(|c| c.id == 7).count(), 1, "once");
        assert!(
            list.iter().all(|c| c.id != 1_999),
            "the removed one is gone"
        );
        assert_eq!(
            list.last().map(|c| c.id),
            Some(2_001),
            "the new one joins in order"
        );
    }
}

//! Confab's shared vocabulary: the JSON shapes exchanged between the companion backend
//! (`confab-server`), the desktop core and the UI.
//!
//! What it does: defines domain objects ([`User`], [`Conversation`], [`Message`],
//! [`KnowledgeRequest`]), the REST request/response bodies ([`api`]), the realtime event payloads
//! and names ([`events`]), the `/api/sync` page ([`SyncPage`], [`Change`]), the error body
//! ([`ErrorBody`], [`ErrorCode`]) and the channel-name scheme ([`ChannelName`]).
//!
//! What it never does: I/O, clocks or async. It depends on `serde` only (plus `utoipa` behind the
//! optional `utoipa` feature) and builds for `wasm32-unknown-unknown`. Timestamps are RFC 3339
//! strings produced by the server; ids and sequence numbers are `i64`.
//!
//! Every struct serializes with camelCase field names, matching the REST contract exactly, except
//! where the Pusher protocol dictates snake_case ([`api::PusherAuthForm`],
//! [`api::PusherAuthResponse`]).

pub mod api;
mod channels;
mod domain;
mod error;
pub mod events;
pub mod ipc;
mod sync;

pub use channels::ChannelName;
pub use domain::{
    Conversation, ConversationKind, KnowledgeDecision, KnowledgeRequest, KnowledgeStatus, Message,
    User, UserSummary,
};
pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use sync::{
    Change, ConversationChange, KnowledgeChange, LeftChange, MessageChange, MuteChange, ReadChange,
    SyncHead, SyncPage,
};

/// A user's id (server-assigned, positive).
pub type UserId = i64;
/// A conversation's id (server-assigned, positive).
pub type ConversationId = i64;
/// A message's id (server-assigned, positive).
pub type MessageId = i64;
/// A knowledge-share request's id (server-assigned, positive).
pub type RequestId = i64;
/// A position in the server's single, monotonically increasing change counter.
///
/// Every stored change (message, read mark, request, answer, new conversation) takes the next
/// value; `0` means "before everything".
pub type Seq = i64;

/// The shortest password the server accepts, in Unicode scalar values (`char`s).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password the server accepts, in `char`s (argon2 hashes anything; this bounds
/// the work one request can ask for).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// The longest message content the server accepts, in Unicode scalar values (`char`s).
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// The most changes one `GET /api/sync` page holds: the server caps `limit` here, and the
/// client asks for exactly this many (bigger pages make a long catch-up fast).
pub const SYNC_PAGE_MAX: u32 = 500;
/// The changes a sync page holds when the request names no `limit`.
pub const SYNC_PAGE_DEFAULT: u32 = 100;
/// The most messages one page of a conversation holds, on the server
/// (`GET /api/conversations/{id}/messages`) and in the client's cache alike.
pub const MESSAGES_PAGE_MAX: u32 = 200;
/// The messages a page holds when the request names no `limit`.
pub const MESSAGES_PAGE_DEFAULT: u32 = 50;

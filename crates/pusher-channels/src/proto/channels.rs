//! The channel table: what the application wants subscribed, and where each channel stands on
//! the current socket.

use std::time::Instant;

use super::types::Members;

/// Where a wanted channel stands on the current socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Not on this socket (offline, or failed and waiting for the next reconnect).
    Idle,
    /// Waiting for a signature for this socket id.
    Authorizing { socket_id: String },
    /// `pusher:subscribe` sent, waiting for the answer.
    Pending,
    /// Subscribed on this socket.
    Subscribed,
    /// Refused on this socket; retried after the next reconnect or an explicit subscribe.
    Failed,
}

/// An event held back while an encrypted channel re-authorizes after a decrypt failure.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub event: String,
    pub data: crate::frame::Data,
}

/// One wanted channel.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub phase: Phase,
    /// When the current subscription attempt times out.
    pub deadline: Option<Instant>,
    /// Subscribed at least once on an earlier socket: the next success is a resubscription.
    pub ever_subscribed: bool,
    /// Presence members (presence channels only, while subscribed).
    pub members: Option<Members>,
    /// My user id from my channel data (presence).
    pub me: Option<String>,
    /// Shared secret of an encrypted channel.
    pub secret: Option<[u8; 32]>,
    /// Re-authorizing after a decrypt failure: events held until the new secret arrives.
    pub reauth: Option<Vec<Held>>,
}

impl Entry {
    pub fn new() -> Self {
        Entry {
            phase: Phase::Idle,
            deadline: None,
            ever_subscribed: false,
            members: None,
            me: None,
            secret: None,
            reauth: None,
        }
    }

    /// Forget everything tied to the socket that just went away.
    pub fn reset_for_new_socket(&mut self) {
        if self.phase == Phase::Subscribed {
            self.ever_subscribed = true;
        }
        self.phase = Phase::Idle;
        self.deadline = None;
        self.members = None;
        self.reauth = None;
    }
}

/// Private and presence channels need a signature from the app's auth endpoint.
pub(crate) fn needs_auth(channel: &str) -> bool {
    channel.starts_with("private-") || channel.starts_with("presence-")
}

/// Presence channels keep a member list.
pub(crate) fn is_presence(channel: &str) -> bool {
    channel.starts_with("presence-")
}

/// End-to-end encrypted channels.
pub(crate) fn is_encrypted(channel: &str) -> bool {
    channel.starts_with("private-encrypted-")
}

/// The internal channel of a signed-in user.
pub(crate) const USER_CHANNEL_PREFIX: &str = "#server-to-user-";

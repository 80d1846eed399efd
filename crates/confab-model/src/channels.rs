//! The channel-name scheme: `private-user-{userId}` and `presence-chat-room-{conversationId}`.

use std::fmt;

use crate::{ConversationId, UserId};

const PRIVATE_USER: &str = "private-user-";
const CHAT_ROOM: &str = "presence-chat-room-";

/// A channel Confab uses. Any other channel name is not Confab's and is refused by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelName {
    /// `private-user-{id}`: notifications for one user (requests, answers, new conversations).
    PrivateUser(UserId),
    /// `presence-chat-room-{id}`: a conversation's messages, read receipts and typing.
    ChatRoom(ConversationId),
}

impl ChannelName {
    /// Parses a channel name. Ids must be canonical positive decimals (no sign, no leading zero),
    /// so every id has exactly one channel name.
    pub fn parse(name: &str) -> Option<Self> {
        if let Some(rest) = name.strip_prefix(PRIVATE_USER) {
            parse_id(rest).map(Self::PrivateUser)
        } else if let Some(rest) = name.strip_prefix(CHAT_ROOM) {
            parse_id(rest).map(Self::ChatRoom)
        } else {
            None
        }
    }

    /// `private-user-{id}`.
    pub fn private_user(id: UserId) -> String {
        Self::PrivateUser(id).to_string()
    }

    /// `presence-chat-room-{id}`.
    pub fn chat_room(id: ConversationId) -> String {
        Self::ChatRoom(id).to_string()
    }

    /// Whether subscribing needs presence data (`channel_data`) in the authorization.
    pub fn is_presence(self) -> bool {
        matches!(self, Self::ChatRoom(_))
    }
}

impl fmt::Display for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PrivateUser(id) => write!(f, "{PRIVATE_USER}{id}"),
            Self::ChatRoom(id) => write!(f, "{CHAT_ROOM}{id}"),
        }
    }
}

fn parse_id(s: &str) -> Option<i64> {
    let canonical = !s.is_empty()
        && s.len() <= 18
        && s.bytes().all(|b| b.is_ascii_digit())
        && !s.starts_with('0');
    if canonical {
        s.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_round_trip_through_display_and_parse() {
        for ch in [ChannelName::PrivateUser(7), ChannelName::ChatRoom(123456)] {
            assert_eq!(ChannelName::parse(&ch.to_string()), Some(ch));
        }
        assert_eq!(ChannelName::private_user(3), "private-user-3");
        assert_eq!(ChannelName::chat_room(9), "presence-chat-room-9");
    }

    #[test]
    fn non_canonical_or_foreign_names_do_not_parse() {
        for bad in [
            "private-user-",
            "private-user-07",
            "private-user-0",
            "private-user--1",
            "private-user-+1",
            "private-user-1a",
            "private-chat-room-1",
            "presence-chat-room-99999999999999999999",
            "user-1",
            "",
        ] {
            assert_eq!(ChannelName::parse(bad), None, "{bad}");
        }
    }
}

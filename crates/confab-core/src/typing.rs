//! Typing indicators, sans-IO. Outgoing: `client-typing` at most once every 3 s while typing,
//! "stopped" after 5 s idle. Incoming: who is typing, forgotten when they stop or go quiet, and
//! taken from who the server says sent the event ([`typing_sender`]), never from the payload's
//! word alone: any room member could otherwise make anyone appear to type.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Minimum interval between two "typing" events for one conversation.
pub const SEND_INTERVAL: Duration = Duration::from_secs(3);
/// Idle time after which "stopped typing" is sent.
pub const IDLE_STOP: Duration = Duration::from_secs(5);
/// A remote "typing" expires after this long without a refresh (lost "stopped" events).
pub const REMOTE_EXPIRY: Duration = Duration::from_secs(6);

#[derive(Debug)]
struct Local {
    last_sent: Instant,
    last_key: Instant,
}

/// My own typing, per conversation.
#[derive(Debug, Default)]
pub struct TypingOut {
    active: BTreeMap<i64, Local>,
}

impl TypingOut {
    /// A key was pressed in the composer. Returns true when a "typing" event is due.
    pub fn keystroke(&mut self, now: Instant, conversation: i64) -> bool {
        match self.active.get_mut(&conversation) {
            Some(l) => {
                l.last_key = now;
                if now.duration_since(l.last_sent) >= SEND_INTERVAL {
                    l.last_sent = now;
                    true
                } else {
                    false
                }
            }
            None => {
                self.active.insert(
                    conversation,
                    Local {
                        last_sent: now,
                        last_key: now,
                    },
                );
                true
            }
        }
    }

    /// The message was sent: typing stops now. Returns true when "stopped" is due.
    pub fn sent(&mut self, conversation: i64) -> bool {
        self.active.remove(&conversation).is_some()
    }

    /// When the next idle stop is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.active.values().map(|l| l.last_key + IDLE_STOP).min()
    }

    /// Conversations whose "stopped" is due now.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<i64> {
        let due: Vec<i64> = self
            .active
            .iter()
            .filter(|(_, l)| l.last_key + IDLE_STOP <= now)
            .map(|(c, _)| *c)
            .collect();
        for c in &due {
            self.active.remove(c);
        }
        due
    }
}

/// Others' typing, per conversation.
#[derive(Debug, Default)]
pub struct TypingIn {
    rooms: BTreeMap<i64, BTreeMap<i64, (String, Instant)>>,
}

impl TypingIn {
    /// A `client-typing` arrived. Returns true when the list of names changed.
    pub fn on_event(
        &mut self,
        now: Instant,
        conversation: i64,
        user: i64,
        name: &str,
        typing: bool,
    ) -> bool {
        let room = self.rooms.entry(conversation).or_default();
        if typing {
            room.insert(user, (name.to_owned(), now + REMOTE_EXPIRY))
                .is_none()
        } else {
            room.remove(&user).is_some()
        }
    }

    /// Someone's message arrived: they stopped typing. Returns true when it changed.
    pub fn on_message(&mut self, conversation: i64, user: i64) -> bool {
        self.rooms
            .get_mut(&conversation)
            .is_some_and(|r| r.remove(&user).is_some())
    }

    /// Names typing in a conversation, in user-id order.
    pub fn names(&self, conversation: i64) -> Vec<String> {
        self.rooms
            .get(&conversation)
            .map(|r| r.values().map(|(n, _)| n.clone()).collect())
            .unwrap_or_default()
    }

    /// When the next expiry is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.rooms
            .values()
            .flat_map(|r| r.values().map(|(_, t)| *t))
            .min()
    }

    /// Expire stale entries; returns the conversations whose list changed.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<i64> {
        let mut changed = vec![];
        for (c, room) in &mut self.rooms {
            let before = room.len();
            room.retain(|_, (_, t)| *t > now);
            if room.len() != before {
                changed.push(*c);
            }
        }
        changed
    }
}

/// Who a `client-typing` event is from, with the name to show: the user id the Pusher server
/// attests on a presence channel's client event when it sends one (hosted Pusher does; the
/// payload's claim is then ignored), else the payload's claimed id, accepted only for a member
/// present in that room. The name is always that member's presence name (from the channel data
/// the backend signed), never the payload's. `None`: not a present member; ignore the event.
pub fn typing_sender(
    attested: Option<&str>,
    claimed: i64,
    present: &BTreeMap<i64, String>,
) -> Option<(i64, String)> {
    let id = match attested {
        Some(a) => a.parse().ok()?,
        None => claimed,
    };
    present.get(&id).map(|name| (id, name.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_is_sent_at_most_once_every_three_seconds() {
        let t0 = Instant::now();
        let mut out = TypingOut::default();
        assert!(out.keystroke(t0, 1));
        let sent = (1..30)
            .filter(|i| out.keystroke(t0 + Duration::from_millis(100 * i), 1))
            .count();
        assert_eq!(sent, 0, "nothing more within 3 s");
        assert!(out.keystroke(t0 + Duration::from_secs(3), 1));
    }

    #[test]
    fn stopped_is_due_after_five_idle_seconds() {
        let t0 = Instant::now();
        let mut out = TypingOut::default();
        out.keystroke(t0, 1);
        out.keystroke(t0 + Duration::from_secs(2), 1);
        assert_eq!(out.poll_timeout(), Some(t0 + Duration::from_secs(7)));
        assert!(out.handle_timeout(t0 + Duration::from_secs(6)).is_empty());
        assert_eq!(out.handle_timeout(t0 + Duration::from_secs(7)), vec![1]);
        assert_eq!(out.poll_timeout(), None);
    }

    #[test]
    fn sending_the_message_stops_typing_at_once() {
        let t0 = Instant::now();
        let mut out = TypingOut::default();
        out.keystroke(t0, 4);
        assert!(out.sent(4));
        assert!(!out.sent(4));
        assert!(
            out.keystroke(t0 + Duration::from_millis(10), 4),
            "a new burst starts fresh"
        );
    }

    #[test]
    fn remote_typing_shows_names_and_expires_without_a_refresh() {
        let t0 = Instant::now();
        let mut inn = TypingIn::default();
        assert!(inn.on_event(t0, 1, 2, "Bob", true));
        assert!(
            !inn.on_event(t0, 1, 2, "Bob", true),
            "a refresh changes nothing"
        );
        assert!(inn.on_event(t0, 1, 3, "Cy", true));
        assert_eq!(inn.names(1), vec!["Bob", "Cy"]);
        assert!(inn.on_message(1, 3));
        assert_eq!(inn.names(1), vec!["Bob"]);
        assert_eq!(inn.handle_timeout(t0 + REMOTE_EXPIRY), vec![1]);
        assert!(inn.names(1).is_empty());
    }

    #[test]
    fn a_typing_event_is_from_whom_the_server_says_with_their_presence_name() {
        let room: BTreeMap<i64, String> =
            [(2, "Grace Hopper".to_owned()), (3, "Linus".to_owned())].into();
        // Hosted Pusher attests the sender: the payload's claim and name do not count.
        assert_eq!(
            typing_sender(Some("3"), 2, &room),
            Some((3, "Linus".to_owned()))
        );
        // Sockudo does not: a claim is taken only for a present member, named by presence.
        assert_eq!(
            typing_sender(None, 2, &room),
            Some((2, "Grace Hopper".to_owned()))
        );
        assert_eq!(typing_sender(None, 9, &room), None, "not in the room");
        assert_eq!(
            typing_sender(Some("x"), 2, &room),
            None,
            "a garbled attestation"
        );
    }
}

//! The sentences the UI shows: the connection banner and small labels (typing, counts). Error
//! sentences come with the errors (`IpcError::message`, written once in confab-model).

use confab_model::ipc::ConnectionStatus;

/// How the connection banner looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    /// CSS modifier: `connecting`, `unavailable` or `offline`.
    pub kind: &'static str,
    /// The sentence.
    pub text: String,
    /// Offer a "Retry now" button.
    pub can_retry: bool,
}

/// The banner for a connection status, `elapsed_secs` after the status arrived (the retry
/// countdown runs down locally); `None` when connected.
pub fn banner(status: &ConnectionStatus, elapsed_secs: u64) -> Option<Banner> {
    let countdown = |retry: &Option<u64>| {
        retry.map(|s| match s.saturating_sub(elapsed_secs) {
            0 => " Retrying now…".to_string(),
            n => format!(" Retrying in {n}s."),
        })
    };
    match status {
        ConnectionStatus::Connected => None,
        ConnectionStatus::Connecting { retry_in_secs } => Some(Banner {
            kind: "connecting",
            text: format!(
                "Connecting…{}",
                countdown(retry_in_secs).unwrap_or_default()
            ),
            can_retry: retry_in_secs.is_some(),
        }),
        ConnectionStatus::Unavailable { retry_in_secs } => Some(Banner {
            kind: "unavailable",
            text: format!(
                "Offline — showing saved messages.{}",
                countdown(retry_in_secs).unwrap_or_default()
            ),
            can_retry: true,
        }),
        ConnectionStatus::Offline => Some(Banner {
            kind: "offline",
            text: "Offline — showing saved messages.".into(),
            can_retry: true,
        }),
        ConnectionStatus::Locked => Some(Banner {
            kind: "offline",
            text: "Your keyring is locked — showing saved messages. Unlock it to connect.".into(),
            can_retry: true,
        }),
    }
}

/// What a message of mine still in the outbox says, and its tooltip. While the connection is
/// up (or its first attempt is under way) it is on its way; when Confab is waiting out a retry or
/// offline, "Sending…" would be a promise nothing is keeping, so it says what will happen.
pub fn pending_label(status: &ConnectionStatus) -> (&'static str, &'static str) {
    match status {
        ConnectionStatus::Connected
        | ConnectionStatus::Connecting {
            retry_in_secs: None,
        } => ("Sending…", "Sending…"),
        _ => (
            "Waiting for connection",
            "Saved on this computer; it is sent as soon as Confab is back online.",
        ),
    }
}

/// What a message the server asked to wait for says (the tooltip is the server's own
/// sentence): the limit is the reason, and it goes out by itself at `at` (a local clock time).
pub fn held_label(at: &str) -> String {
    format!("Too many messages at once — goes out at {at}")
}

/// Under a conversation's title: who is there. Presence is only known while connected, so
/// offline it claims nothing about others (and not that I am online).
/// `peer_online`: for a direct chat, whether the other person is online.
pub fn room_subtitle(
    members: usize,
    others_online: usize,
    peer_online: Option<bool>,
    connected: bool,
) -> String {
    match (peer_online, connected) {
        (Some(_), false) => String::new(),
        (Some(true), true) => "Online".into(),
        (Some(false), true) => "Offline".into(),
        (None, false) => format!("{members} members"),
        (None, true) => format!("{members} members · {} online", others_online + 1),
    }
}

/// "Bob is typing…", "Bob and Cleo are typing…", "3 people are typing…"; `None` for nobody.
pub fn typing_line(names: &[String]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("{one} is typing…")),
        [a, b] => Some(format!("{a} and {b} are typing…")),
        many => Some(format!("{} people are typing…", many.len())),
    }
}

/// The window title: "Confab", or with what waits, "Confab (2 requests · 5 unread)".
pub fn window_title(w: Waiting) -> String {
    let plural = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = Vec::new();
    if w.requests > 0 {
        parts.push(plural(w.requests, "request", "requests"));
    }
    if w.answers > 0 {
        parts.push(plural(w.answers, "new answer", "new answers"));
    }
    if w.mentions > 0 {
        parts.push(plural(w.mentions, "mention", "mentions"));
    }
    if w.unread > 0 {
        parts.push(format!("{} unread", w.unread));
    }
    if parts.is_empty() {
        "Confab".into()
    } else {
        format!("Confab ({})", parts.join(" · "))
    }
}

/// What waits for the user, as the window title counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Waiting {
    /// Requests addressed to me, pending.
    pub requests: i64,
    /// Answers to my questions not opened yet.
    pub answers: i64,
    /// Unread mentions of me.
    pub mentions: i64,
    /// Unread messages.
    pub unread: i64,
}

/// A badge count, capped for display ("99+").
pub fn badge(count: i64) -> String {
    if count > 99 {
        "99+".into()
    } else {
        count.to_string()
    }
}

/// The initials shown in an avatar: first letters of the first two words, upper case.
pub fn initials(name: &str) -> String {
    let s: String = name
        .split_whitespace()
        .take(2)
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .collect();
    if s.is_empty() {
        "?".into()
    } else {
        s
    }
}

/// A stable hue (0–359) for a name's avatar.
pub fn hue(name: &str) -> u32 {
    name.bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 360
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_pending_message_says_it_waits_for_the_connection_only_when_offline_or_backing_off() {
        assert_eq!(pending_label(&ConnectionStatus::Connected).0, "Sending…");
        let first_attempt = ConnectionStatus::Connecting {
            retry_in_secs: None,
        };
        assert_eq!(pending_label(&first_attempt).0, "Sending…");
        for status in [
            ConnectionStatus::Connecting {
                retry_in_secs: Some(4),
            },
            ConnectionStatus::Unavailable {
                retry_in_secs: Some(30),
            },
            ConnectionStatus::Offline,
        ] {
            assert_eq!(
                pending_label(&status).0,
                "Waiting for connection",
                "{status:?}"
            );
        }
    }
    #[test]
    fn a_held_message_says_why_it_waits_and_when_it_goes() {
        let label = super::held_label("10:42");
        assert!(label.contains("Too many messages"), "{label}");
        assert!(label.ends_with("at 10:42"), "{label}");
    }

    #[test]
    fn offline_the_subtitle_claims_no_presence() {
        use super::room_subtitle;
        assert_eq!(room_subtitle(3, 1, None, true), "3 members · 2 online");
        assert_eq!(room_subtitle(3, 1, None, false), "3 members");
        assert_eq!(room_subtitle(2, 1, Some(true), true), "Online");
        assert_eq!(room_subtitle(2, 0, Some(false), true), "Offline");
        assert_eq!(room_subtitle(2, 1, Some(true), false), "");
    }

    use super::*;

    #[test]
    fn no_banner_while_connected() {
        assert_eq!(banner(&ConnectionStatus::Connected, 0), None);
    }

    #[test]
    fn the_unavailable_banner_counts_down_to_the_next_attempt() {
        let s = ConnectionStatus::Unavailable {
            retry_in_secs: Some(10),
        };
        let b = banner(&s, 3).unwrap();
        assert_eq!(b.kind, "unavailable");
        assert_eq!(b.text, "Offline — showing saved messages. Retrying in 7s.");
        assert!(b.can_retry);
        assert!(banner(&s, 12).unwrap().text.ends_with("Retrying now…"));
    }

    #[test]
    fn a_locked_keyring_is_named_with_what_to_do_and_a_retry() {
        let b = banner(&ConnectionStatus::Locked, 0).unwrap();
        assert!(b.text.contains("keyring is locked"), "{}", b.text);
        assert!(b.text.contains("Unlock it"), "{}", b.text);
        assert!(b.can_retry, "Retry asks the keyring again");
    }

    #[test]
    fn offline_says_saved_messages_are_shown() {
        let b = banner(&ConnectionStatus::Offline, 0).unwrap();
        assert_eq!(b.text, "Offline — showing saved messages.");
        let c = banner(
            &ConnectionStatus::Connecting {
                retry_in_secs: None,
            },
            0,
        )
        .unwrap();
        assert_eq!(c.text, "Connecting…");
    }

    #[test]
    fn typing_lines_read_naturally() {
        assert_eq!(typing_line(&[]), None);
        assert_eq!(typing_line(&["Bob".into()]).unwrap(), "Bob is typing…");
        assert_eq!(
            typing_line(&["Bob".into(), "Cleo".into()]).unwrap(),
            "Bob and Cleo are typing…"
        );
        assert_eq!(
            typing_line(&["a".into(), "b".into(), "c".into()]).unwrap(),
            "3 people are typing…"
        );
    }

    #[test]
    fn the_window_title_counts_what_waits() {
        let w = |requests, answers, mentions, unread| Waiting {
            requests,
            answers,
            mentions,
            unread,
        };
        assert_eq!(window_title(w(0, 0, 0, 0)), "Confab");
        assert_eq!(window_title(w(1, 0, 0, 0)), "Confab (1 request)");
        assert_eq!(
            window_title(w(2, 0, 0, 5)),
            "Confab (2 requests · 5 unread)"
        );
        assert_eq!(
            window_title(w(0, 1, 2, 4)),
            "Confab (1 new answer · 2 mentions · 4 unread)"
        );
    }

    #[test]
    fn badges_cap_and_initials_take_two_words() {
        assert_eq!(badge(5), "5");
        assert_eq!(badge(150), "99+");
        assert_eq!(initials("ada lovelace king"), "AL");
        assert_eq!(initials("  "), "?");
        assert_eq!(hue("Bob"), hue("Bob"));
    }
}

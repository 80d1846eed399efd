//! Keyboard: the window's shortcuts and the composer's Enter / Shift+Enter rule, as pure
//! functions of the key and its modifiers.

/// A key press, reduced to what the shortcuts look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyPress<'a> {
    /// `KeyboardEvent.key` ("k", "Enter", "1").
    pub key: &'a str,
    /// Ctrl (or Cmd on macOS).
    pub ctrl: bool,
    /// Shift.
    pub shift: bool,
    /// Alt.
    pub alt: bool,
    /// An input method is composing (never act on Enter then).
    pub composing: bool,
}

/// What a window-wide shortcut does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    /// Ctrl+K: the quick conversation switcher.
    Switcher,
    /// Ctrl+1..9: the n-th conversation (0-based).
    Conversation(usize),
    /// Ctrl+L: focus the composer.
    FocusComposer,
    /// Ctrl+R: the request list (instead of reloading the page).
    Requests,
    /// Ctrl+F / Ctrl+Shift+F: search messages.
    Search,
    /// Ctrl+N: ask a teammate for knowledge.
    Ask,
    /// Ctrl+Shift+N: start a conversation.
    NewConversation,
    /// Escape: close the open dialog.
    Close,
}

/// The shortcut a key press triggers, if any.
pub fn shortcut(k: KeyPress<'_>) -> Option<Shortcut> {
    if k.composing || k.alt {
        return None;
    }
    if k.key == "Escape" && !k.ctrl {
        return Some(Shortcut::Close);
    }
    if !k.ctrl {
        return None;
    }
    match k.key.to_ascii_lowercase().as_str() {
        "k" => Some(Shortcut::Switcher),
        "l" => Some(Shortcut::FocusComposer),
        "r" => Some(Shortcut::Requests),
        "f" => Some(Shortcut::Search),
        "n" if k.shift => Some(Shortcut::NewConversation),
        "n" => Some(Shortcut::Ask),
        d if d.len() == 1 => match d.as_bytes()[0] {
            b @ b'1'..=b'9' => Some(Shortcut::Conversation(usize::from(b - b'1'))),
            _ => None,
        },
        _ => None,
    }
}

/// The arrows in a list of `len` items with `current` chosen: one down or up, stopping at the
/// ends; `None` for any other key (the pickers' text fields keep Home, End and the rest).
pub fn arrow_step(key: &str, current: usize, len: usize) -> Option<usize> {
    match key {
        "ArrowDown" => Some((current + 1).min(len.saturating_sub(1))),
        "ArrowUp" => Some(current.saturating_sub(1)),
        _ => None,
    }
}

/// Enter sends; Shift+Enter (or Enter while composing with an input method) inserts a newline.
pub fn composer_sends(k: KeyPress<'_>) -> bool {
    k.key == "Enter" && !k.shift && !k.composing && !k.alt
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctrl(key: &str) -> KeyPress<'_> {
        KeyPress {
            key,
            ctrl: true,
            ..KeyPress::default()
        }
    }

    #[test]
    fn ctrl_shortcuts_map_to_their_actions() {
        assert_eq!(shortcut(ctrl("k")), Some(Shortcut::Switcher));
        assert_eq!(shortcut(ctrl("K")), Some(Shortcut::Switcher));
        assert_eq!(shortcut(ctrl("l")), Some(Shortcut::FocusComposer));
        assert_eq!(shortcut(ctrl("r")), Some(Shortcut::Requests));
        assert_eq!(shortcut(ctrl("f")), Some(Shortcut::Search));
        assert_eq!(shortcut(ctrl("1")), Some(Shortcut::Conversation(0)));
        assert_eq!(shortcut(ctrl("9")), Some(Shortcut::Conversation(8)));
        assert_eq!(shortcut(ctrl("0")), None);
    }

    #[test]
    fn plain_keys_are_not_shortcuts_except_escape() {
        let k = KeyPress {
            key: "k",
            ..KeyPress::default()
        };
        assert_eq!(shortcut(k), None);
        let esc = KeyPress {
            key: "Escape",
            ..KeyPress::default()
        };
        assert_eq!(shortcut(esc), Some(Shortcut::Close));
    }

    #[test]
    fn enter_sends_and_shift_enter_does_not() {
        let enter = KeyPress {
            key: "Enter",
            ..KeyPress::default()
        };
        assert!(composer_sends(enter));
        assert!(!composer_sends(KeyPress {
            shift: true,
            ..enter
        }));
        assert!(!composer_sends(KeyPress {
            composing: true,
            ..enter
        }));
        assert!(!composer_sends(KeyPress { key: "a", ..enter }));
    }

    #[test]
    fn the_arrows_move_through_a_list_and_stop_at_its_ends() {
        assert_eq!(arrow_step("ArrowDown", 0, 3), Some(1));
        assert_eq!(arrow_step("ArrowDown", 2, 3), Some(2));
        assert_eq!(arrow_step("ArrowUp", 0, 3), Some(0));
        assert_eq!(arrow_step("ArrowUp", 2, 3), Some(1));
        assert_eq!(arrow_step("ArrowDown", 0, 0), Some(0));
        assert_eq!(arrow_step("Home", 2, 3), None);
    }
}

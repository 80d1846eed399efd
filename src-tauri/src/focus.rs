//! What the window looks like to the core's notification policy: shown, focused, and which
//! conversation is open. The shell knows the first two, the UI the third; this merges them.

use std::sync::Mutex;

use confab_model::ipc::FocusState;
use confab_model::ConversationId;

/// The merged focus state (managed by Tauri; every change returns the state to report).
#[derive(Debug, Default)]
pub struct FocusTracker {
    state: Mutex<FocusState>,
}

impl FocusTracker {
    /// A tracker for a window that starts shown but not yet focused.
    pub fn new() -> Self {
        FocusTracker {
            state: Mutex::new(FocusState {
                visible: true,
                focused: false,
                conversation_id: None,
            }),
        }
    }

    fn update(&self, f: impl FnOnce(&mut FocusState)) -> FocusState {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut s);
        s.clone()
    }

    /// The window was shown, hidden, focused or blurred.
    pub fn window(&self, visible: bool, focused: bool) -> FocusState {
        self.update(|s| {
            s.visible = visible;
            s.focused = visible && focused;
        })
    }

    /// The UI opened a conversation (or none).
    pub fn open_conversation(&self, id: Option<ConversationId>) -> FocusState {
        self.update(|s| s.conversation_id = id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_window_is_never_focused() {
        let t = FocusTracker::new();
        let s = t.window(false, true);
        assert!(!s.visible);
        assert!(!s.focused);
    }

    #[test]
    fn the_open_conversation_survives_focus_changes() {
        let t = FocusTracker::new();
        t.open_conversation(Some(4));
        let s = t.window(true, true);
        assert_eq!(s.conversation_id, Some(4));
        assert!(s.focused);
    }
}

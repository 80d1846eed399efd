//! State shared by the core's handle, its engine and its sender: the UI event stream, the
//! notification queue, focus and mute, connection status, socket id, presence.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use confab_model::ipc::{ConnectionStatus, FocusState, Notification, UiEvent};
use pusher_channels::proto::State;
use tokio::sync::{broadcast, mpsc};

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Shared {
    events: broadcast::Sender<UiEvent>,
    notifications: mpsc::UnboundedSender<Notification>,
    focus: Mutex<FocusState>,
    muted: AtomicBool,
    status: Mutex<ConnectionStatus>,
    socket_id: Mutex<Option<String>>,
    online: Mutex<BTreeMap<i64, Vec<i64>>>,
    ended: AtomicBool,
}

impl Shared {
    pub fn new(
        events: broadcast::Sender<UiEvent>,
        notifications: mpsc::UnboundedSender<Notification>,
    ) -> Self {
        Shared {
            events,
            notifications,
            focus: Mutex::new(FocusState::default()),
            muted: AtomicBool::new(false),
            status: Mutex::new(ConnectionStatus::Offline),
            socket_id: Mutex::new(None),
            online: Mutex::new(BTreeMap::new()),
            ended: AtomicBool::new(false),
        }
    }

    pub fn emit(&self, e: UiEvent) {
        // No receiver (no window yet) is fine: the UI reads the state when it subscribes.
        let _ = self.events.send(e);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<UiEvent> {
        self.events.subscribe()
    }

    pub fn notify(&self, n: Notification) {
        let _ = self.notifications.send(n);
    }

    pub fn focus(&self) -> FocusState {
        self.focus.lock().map(|f| f.clone()).unwrap_or_default()
    }

    pub fn set_focus(&self, f: FocusState) {
        if let Ok(mut g) = self.focus.lock() {
            *g = f;
        }
    }

    pub fn is_muted(&self) -> bool {
        self.muted.load(Ordering::Relaxed)
    }

    pub fn set_muted(&self, m: bool) {
        self.muted.store(m, Ordering::Relaxed);
    }

    pub fn status(&self) -> ConnectionStatus {
        self.status
            .lock()
            .map(|s| s.clone())
            .unwrap_or(ConnectionStatus::Offline)
    }

    pub fn set_connection(&self, state: State, retry_in: Option<Duration>) {
        let secs = retry_in.map(|d| d.as_secs_f64().ceil() as u64);
        let status = match state {
            State::Connected => ConnectionStatus::Connected,
            State::Connecting | State::Initialized => ConnectionStatus::Connecting {
                retry_in_secs: secs,
            },
            State::Unavailable => ConnectionStatus::Unavailable {
                retry_in_secs: secs,
            },
            State::Disconnected => ConnectionStatus::Offline,
        };
        if state != State::Connected {
            self.set_socket_id(None);
        }
        self.set_status(status);
    }

    pub fn set_status(&self, status: ConnectionStatus) {
        if let Ok(mut g) = self.status.lock() {
            if *g == status {
                return;
            }
            *g = status.clone();
        }
        self.emit(UiEvent::Connection(status));
    }

    pub fn socket_id(&self) -> Option<String> {
        self.socket_id.lock().ok().and_then(|s| s.clone())
    }

    pub fn set_socket_id(&self, id: Option<String>) {
        if let Ok(mut g) = self.socket_id.lock() {
            *g = id;
        }
    }

    pub fn set_online(&self, conversation: i64, online: Vec<i64>) {
        if let Ok(mut g) = self.online.lock() {
            g.insert(conversation, online);
        }
    }

    pub fn online(&self) -> BTreeMap<i64, Vec<i64>> {
        self.online.lock().map(|g| g.clone()).unwrap_or_default()
    }

    pub fn clear_online(&self) {
        if let Ok(mut g) = self.online.lock() {
            g.clear();
        }
    }

    pub fn is_ended(&self) -> bool {
        self.ended.load(Ordering::Relaxed)
    }

    pub fn set_ended(&self, ended: bool) {
        self.ended.store(ended, Ordering::Relaxed);
    }

    /// The backend refused the token: stop, keep everything, ask the user to sign in again.
    pub fn end_session(&self) {
        if !self.ended.swap(true, Ordering::Relaxed) {
            self.set_status(ConnectionStatus::Offline);
            self.emit(UiEvent::SessionEnded {
                reason: "Your session has expired. Sign in again; unsent messages are kept.".into(),
            });
        }
    }
}

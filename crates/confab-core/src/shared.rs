//! State shared by the core's handle, its engine and its sender: the UI event stream, the
//! notification queue, focus and mute, connection status, socket id, presence, and the news
//! that the backend answers again after an outage (see [`Shared::rest_outcome`]), and the time
//! zone the window was last given.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use confab_model::ipc::{
    ConnectionStatus, FocusState, HistoryProgress, Notification, UiEvent, ZoneSpan,
};
use pusher_channels::proto::State;
use tokio::sync::{broadcast, mpsc, watch, Notify};

/// What the user is told when the backend refuses the session's token.
pub const SESSION_ENDED: &str = "Your session has ended: it expired, or you were signed out \
    everywhere (from another device or by an administrator). Sign in again; unsent messages \
    are kept.";

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
    /// Why the session ended (`None` while it goes on): kept for a window that was not
    /// listening yet when it did.
    ended: Mutex<Option<String>>,
    /// A sentence for the first window to start (the restored cache was rebuilt), given once.
    notice: Mutex<Option<String>>,
    /// Set by a failed REST call or a lost realtime connection: the next REST answer is news.
    rest_news: AtomicBool,
    /// Raised (once per piece of news) for the engine: the backend answers again.
    backend_back: Notify,
    /// Set when queued messages and unsent read marks should be tried now rather than at their
    /// backoff's time.
    outbox_now: AtomicBool,
    /// Set when a new read mark waits to be sent (it goes now, even during a backoff).
    read_marks_now: AtomicBool,
    /// Whether the realtime socket is signed in as the user now (`pusher:signin` succeeded on
    /// it): only such a socket is closed by a revocation.
    signed_in: watch::Sender<bool>,
    /// A first sync's history loading in the background, as last reported to the window (for
    /// a window that starts meanwhile).
    history: Mutex<Option<HistoryProgress>>,
    /// Whether the network may start: `false` while a window starting from the cache has not
    /// painted its first screen yet ([`Shared::window_painted`]).
    painted: watch::Sender<bool>,
    /// The time zone's spans the window was last given (`start`, or [`UiEvent::Clock`]): the
    /// engine compares the machine's zone with it.
    zone: Mutex<Vec<ZoneSpan>>,
}

impl Shared {
    /// `window_starting`: a window is about to load, and the network waits for its first
    /// paint (see [`Shared::until_painted`]).
    pub fn new(
        events: broadcast::Sender<UiEvent>,
        notifications: mpsc::UnboundedSender<Notification>,
        window_starting: bool,
    ) -> Self {
        Shared {
            events,
            notifications,
            focus: Mutex::new(FocusState::default()),
            muted: AtomicBool::new(false),
            status: Mutex::new(ConnectionStatus::Offline),
            socket_id: Mutex::new(None),
            online: Mutex::new(BTreeMap::new()),
            ended: Mutex::new(None),
            notice: Mutex::new(None),
            // Nothing answered yet: the first answer is news too.
            rest_news: AtomicBool::new(true),
            backend_back: Notify::new(),
            outbox_now: AtomicBool::new(false),
            read_marks_now: AtomicBool::new(false),
            signed_in: watch::Sender::new(false),
            history: Mutex::new(None),
            painted: watch::Sender::new(!window_starting),
            zone: Mutex::new(Vec::new()),
        }
    }

    /// The window painted its first screen: the network may start.
    pub fn window_painted(&self) {
        self.painted.send_replace(true);
    }

    /// Returns once the window has painted its first screen, or after `wait` at most (a window
    /// that never reports, a page that failed to load). At once when no window was starting.
    pub async fn until_painted(&self, wait: Duration) {
        let mut painted = self.painted.subscribe();
        let _ = tokio::time::timeout(wait, painted.wait_for(|p| *p)).await;
    }

    /// The realtime socket signed in as the user (`true`), or lost its socket (`false`).
    pub fn set_signed_in(&self, signed_in: bool) {
        self.signed_in
            .send_if_modified(|now| std::mem::replace(now, signed_in) != signed_in);
    }

    /// Watches whether the realtime socket is signed in as the user.
    pub fn watch_signed_in(&self) -> watch::Receiver<bool> {
        self.signed_in.subscribe()
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
            self.set_signed_in(false);
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

    /// Where the history load stands now, for a window that starts meanwhile.
    pub fn history(&self) -> Option<HistoryProgress> {
        self.history.lock().ok().and_then(|h| *h)
    }

    /// Reports where the history load stands (`None`: complete, or none), keeping it for
    /// [`Shared::history`]. An unchanged report is not repeated.
    pub fn set_history(&self, progress: Option<HistoryProgress>) {
        if let Ok(mut g) = self.history.lock() {
            if *g == progress {
                return;
            }
            *g = progress;
        }
        self.emit(UiEvent::History { progress });
    }

    /// The zone's spans the window holds (empty before its first `start`).
    pub fn zone(&self) -> Vec<ZoneSpan> {
        self.zone.lock().map(|z| z.clone()).unwrap_or_default()
    }

    /// The window was given these spans (with `start`); see [`Shared::change_zone`].
    pub fn set_zone(&self, zone: Vec<ZoneSpan>) {
        if let Ok(mut g) = self.zone.lock() {
            *g = zone;
        }
    }

    /// The machine's zone changed while the app ran: the window takes the new spans.
    pub fn change_zone(&self, zone: Vec<ZoneSpan>) {
        self.set_zone(zone.clone());
        self.emit(UiEvent::Clock { zone });
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
        self.ended.lock().is_ok_and(|e| e.is_some())
    }

    /// A new session starts.
    pub fn clear_ended(&self) {
        if let Ok(mut ended) = self.ended.lock() {
            *ended = None;
        }
    }

    /// Keeps `sentence` for the next window that starts ([`Shared::take_notice`]).
    pub fn set_notice(&self, sentence: String) {
        if let Ok(mut notice) = self.notice.lock() {
            *notice = Some(sentence);
        }
    }

    /// The kept notice, handed out once.
    pub fn take_notice(&self) -> Option<String> {
        self.notice.lock().ok()?.take()
    }

    /// The sentence the session ended with (until a new session starts).
    pub fn ended_reason(&self) -> Option<String> {
        self.ended.lock().ok()?.clone()
    }

    /// The outcome of a REST call (the [`crate::Api`] observer): `answered` is any HTTP answer
    /// but a 5xx. The first answer after a failed call, or after the realtime connection was
    /// lost, wakes [`Shared::backend_back`] once: the network is back, so the realtime
    /// connection and the outbox need not wait out their backoff. Further answers are no news
    /// (a realtime server down while the backend is up gets one early attempt, not one per
    /// REST call).
    pub fn rest_outcome(&self, answered: bool) {
        if !answered {
            self.rest_news.store(true, Ordering::Relaxed);
        } else if self.rest_news.swap(false, Ordering::Relaxed) {
            self.backend_back.notify_one();
        }
    }

    /// The realtime connection went from connected to not: the next REST answer is news.
    pub fn realtime_lost(&self) {
        self.rest_news.store(true, Ordering::Relaxed);
    }

    /// Resolves when the backend answered again after failures or a realtime loss (a wake-up
    /// that came while nobody waited is kept for the next wait).
    pub async fn backend_back(&self) {
        self.backend_back.notified().await;
    }

    /// Queued messages and unsent read marks should be tried now, whatever their backoff says
    /// (the network is back). The sender sees it at its next round; kick it to make that now.
    pub fn send_outbox_now(&self) {
        self.outbox_now.store(true, Ordering::Relaxed);
    }

    /// Whether [`Shared::send_outbox_now`] was asked since the last call.
    pub fn take_outbox_now(&self) -> bool {
        self.outbox_now.swap(false, Ordering::Relaxed)
    }

    /// A read mark was just recorded as unsent: the sender tries the unsent marks at its next
    /// round even while they back off (a new mark is worth one attempt, as a new message is).
    /// Kick the sender to make that now.
    pub fn send_read_marks_now(&self) {
        self.read_marks_now.store(true, Ordering::Relaxed);
    }

    /// Whether [`Shared::send_read_marks_now`] was asked since the last call.
    pub fn take_read_marks_now(&self) -> bool {
        self.read_marks_now.swap(false, Ordering::Relaxed)
    }

    /// The backend refused the token: stop, keep everything, ask the user to sign in again.
    /// A refused token looks the same whether it expired or was revoked (signed out everywhere,
    /// a password changed elsewhere, an administrator), so the sentence names both.
    pub fn end_session(&self) {
        self.end_session_because(SESSION_ENDED);
    }

    /// The session cannot go on (`reason` says why, to the user): stop, keep everything, ask
    /// the user to sign in again.
    pub fn end_session_because(&self, reason: &str) {
        let first = match self.ended.lock() {
            Ok(mut ended) if ended.is_none() => {
                *ended = Some(reason.to_owned());
                true
            }
            _ => false,
        };
        if first {
            self.set_status(ConnectionStatus::Offline);
            self.emit(UiEvent::SessionEnded {
                reason: reason.into(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> Shared {
        starting(false)
    }

    /// A `Shared` for a core whose window is (`true`) or is not starting.
    fn starting(window_starting: bool) -> Shared {
        let (events, _) = broadcast::channel(4);
        let (notifications, _) = mpsc::unbounded_channel();
        Shared::new(events, notifications, window_starting)
    }

    #[tokio::test(start_paused = true)]
    async fn the_network_waits_for_a_starting_windows_first_paint_and_no_longer_than_the_wait() {
        use std::sync::Arc;
        use tokio::time::Instant;
        let s = Arc::new(starting(true));
        // Painted 300 ms in: the wait ends then.
        let waiting = {
            let s = Arc::clone(&s);
            tokio::spawn(async move {
                let t0 = Instant::now();
                s.until_painted(Duration::from_secs(2)).await;
                t0.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        s.window_painted();
        assert_eq!(waiting.await.ok(), Some(Duration::from_millis(300)));
        // Painted already (a sign-in later in the session): no wait at all.
        let t0 = Instant::now();
        s.until_painted(Duration::from_secs(2)).await;
        assert_eq!(t0.elapsed(), Duration::ZERO);
        // A window that never reports: the network starts after the wait.
        let silent = starting(true);
        let t0 = Instant::now();
        silent.until_painted(Duration::from_secs(2)).await;
        assert_eq!(t0.elapsed(), Duration::from_secs(2));
        // No window starting (headless, or started hidden): no wait.
        let t0 = Instant::now();
        shared().until_painted(Duration::from_secs(2)).await;
        assert_eq!(t0.elapsed(), Duration::ZERO);
    }

    /// Whether [`Shared::backend_back`] has a wake-up waiting (without waiting for one).
    async fn poked(s: &Shared) -> bool {
        // `timeout` polls the future before its timer: a stored wake-up resolves it at once.
        tokio::time::timeout(Duration::ZERO, s.backend_back())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn an_answer_after_failures_is_news_once() {
        let s = shared();
        s.rest_outcome(true);
        assert!(poked(&s).await, "the first answer is news");
        s.rest_outcome(true);
        assert!(!poked(&s).await, "answers while all is well are not");

        s.rest_outcome(false);
        s.rest_outcome(false);
        assert!(!poked(&s).await, "failures are not");
        s.rest_outcome(true);
        s.rest_outcome(true);
        assert!(poked(&s).await, "the answer after them is");
        assert!(!poked(&s).await, "once");
    }

    #[tokio::test]
    async fn the_first_answer_after_the_realtime_connection_was_lost_is_news() {
        let s = shared();
        s.rest_outcome(true);
        assert!(poked(&s).await);
        s.realtime_lost();
        s.rest_outcome(true);
        assert!(poked(&s).await);
        s.rest_outcome(true);
        assert!(!poked(&s).await);
    }

    #[test]
    fn sending_the_outbox_now_is_asked_once_per_request() {
        let s = shared();
        assert!(!s.take_outbox_now());
        s.send_outbox_now();
        s.send_outbox_now();
        assert!(s.take_outbox_now());
        assert!(!s.take_outbox_now());
    }

    #[test]
    fn sending_read_marks_now_is_asked_once_per_request_apart_from_the_outbox() {
        let s = shared();
        s.send_read_marks_now();
        assert!(!s.take_outbox_now());
        assert!(s.take_read_marks_now());
        assert!(!s.take_read_marks_now());
    }
}

//! Side effects: ask the core (through [`crate::api`]) and dispatch what it answered.
//!
//! Every function spawns its work and returns at once; failures become a toast with a human
//! sentence ([`crate::logic::text::error_sentence`]).

use confab_model::ipc::{IpcError, PageMarks, UiEvent};
use confab_model::{ConversationId, Seq};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use yew::UseReducerDispatcher;

use crate::api;
use crate::logic::text::error_sentence;
use crate::logic::timeline::PAGE;
use crate::state::{refetch_for, Action, AppState, Refetch, SPLIT_SETTING};

/// The state's dispatcher, cheap to clone into closures.
pub type Dispatch = UseReducerDispatcher<AppState>;

/// Shows an error as a sentence.
pub fn report(d: &Dispatch, err: &IpcError) {
    d.dispatch(Action::Toast(error_sentence(err)));
}

/// At start: listen to the core's events first (so nothing is missed), then ask for the
/// restored session and the server URL to pre-fill.
pub fn start(d: Dispatch) {
    spawn_local(async move {
        let events = d.clone();
        crate::ipc::listen(move |ev| on_event(&events, ev)).await;
        // The status may have changed before the listener existed.
        if let Ok(status) = api::connection_status().await {
            d.dispatch(Action::Event(UiEvent::Connection(status)));
        }
        let session = api::session().await.unwrap_or(None);
        let server_url = api::last_server_url().await.unwrap_or(None);
        // Likewise a session that ended (e.g. an expired token found at start) before then.
        let notice = match session {
            None => api::session_notice().await.unwrap_or(None),
            Some(_) => None,
        };
        d.dispatch(Action::Started {
            session,
            server_url,
            notice,
        });
    });
}

fn on_event(d: &Dispatch, ev: UiEvent) {
    match refetch_for(&ev) {
        Some(Refetch::Conversations) => conversations(d.clone()),
        Some(Refetch::Requests) => requests(d.clone()),
        None => {}
    }
    d.dispatch(Action::Event(ev));
}

/// Loads everything the main window shows (after sign-in or a restored session).
pub fn load_account(d: Dispatch) {
    conversations(d.clone());
    requests(d.clone());
    teammates(d.clone());
    spawn_local(async move {
        if let Ok(Some(v)) = api::setting(SPLIT_SETTING).await {
            if let Ok(f) = v.parse::<f64>() {
                d.dispatch(Action::SetSplit(f));
            }
        }
    });
}

/// Re-reads the conversation list.
pub fn conversations(d: Dispatch) {
    spawn_local(async move {
        match api::conversations().await {
            Ok(list) => d.dispatch(Action::ConversationsLoaded(list)),
            Err(e) => report(&d, &e),
        }
    });
}

/// Re-reads the request lists.
pub fn requests(d: Dispatch) {
    spawn_local(async move {
        match api::requests().await {
            Ok(lists) => d.dispatch(Action::RequestsLoaded(lists)),
            Err(e) => report(&d, &e),
        }
    });
}

/// Re-reads the directory.
pub fn teammates(d: Dispatch) {
    spawn_local(async move {
        if let Ok(list) = api::teammates().await {
            d.dispatch(Action::TeammatesLoaded(list));
        }
    });
}

/// Loads the newest page of a conversation.
pub fn messages(d: Dispatch, id: ConversationId) {
    spawn_local(async move {
        match api::messages(id, None, PAGE).await {
            Ok(messages) => d.dispatch(Action::MessagesLoaded {
                conversation_id: id,
                messages,
                limit: PAGE,
            }),
            Err(e) => report(&d, &e),
        }
    });
}

/// Loads the page before `before`.
pub fn older(d: Dispatch, id: ConversationId, before: Seq) {
    d.dispatch(Action::LoadingOlder(id));
    spawn_local(async move {
        let messages = api::messages(id, Some(before), PAGE)
            .await
            .unwrap_or_default();
        d.dispatch(Action::OlderLoaded {
            conversation_id: id,
            messages,
            limit: PAGE,
        });
    });
}

/// Runs a command whose only interesting outcome is an error.
pub fn fire(d: &Dispatch, fut: impl std::future::Future<Output = api::Res<()>> + 'static) {
    let d = d.clone();
    spawn_local(async move {
        if let Err(e) = fut.await {
            report(&d, &e);
        }
    });
}

/// Runs a command and ignores its outcome (typing pokes, focus reports).
pub fn quiet(fut: impl std::future::Future<Output = api::Res<()>> + 'static) {
    spawn_local(async move {
        let _ = fut.await;
    });
}

thread_local! {
    static FIRST_PAINT_SENT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// When the wasm module started running (ms since the page began loading): the start-up
    /// log splits the page's time into loading the module and rendering the first screen.
    static WASM_STARTED_MS: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

fn page_now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Called first thing in `run`: the module is compiled and instantiated.
pub fn wasm_started() {
    WASM_STARTED_MS.with(|s| s.set(page_now_ms()));
}

/// Once per run, when the first screen with content is in the DOM: has the shell show the
/// window (it starts hidden, so its first draw finds a page ready to paint), then, after the
/// first frame of the shown window, reports the paint (startup timing). Called from an effect,
/// so the DOM is updated; the animation frame runs before the paint and the zero timeout after.
pub fn first_paint(screen: &'static str, conversations: usize) {
    if FIRST_PAINT_SENT.with(|s| s.replace(true)) {
        return;
    }
    let content_ms = page_now_ms();
    spawn_local(async move {
        // Shown before the frame is requested: the reported paint is one a person could see.
        let _ = api::screen_ready().await;
        let marks = PageMarks {
            wasm_ms: WASM_STARTED_MS.with(std::cell::Cell::get) as u64,
            content_ms: content_ms as u64,
            shown_ms: page_now_ms() as u64,
            page_ms: 0,
        };
        let Some(window) = web_sys::window() else {
            return;
        };
        let after_frame = wasm_bindgen::closure::Closure::once_into_js(move || {
            gloo_timers::callback::Timeout::new(0, move || {
                let marks = PageMarks {
                    page_ms: page_now_ms() as u64,
                    ..marks
                };
                quiet(api::first_paint(screen, conversations, marks));
            })
            .forget();
        });
        let _ = window.request_animation_frame(after_frame.unchecked_ref());
    });
}

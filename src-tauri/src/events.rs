//! Forwards the core's one stream of `UiEvent`s to the window as one Tauri event, and keeps
//! the tray's counts in step with it.

use confab_core::Core;
use confab_model::ipc::UiEvent;
use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast::error::RecvError;

use crate::tray;

/// The Tauri event carrying every `UiEvent`.
pub const EVENT: &str = "confab://event";

/// Whether an event can change the tray's counts.
pub fn changes_counts(ev: &UiEvent) -> bool {
    matches!(
        ev,
        UiEvent::ConversationsChanged | UiEvent::RequestsChanged | UiEvent::SessionEnded { .. }
    )
}

/// Runs until the core's stream closes.
pub fn forward(app: AppHandle, core: Core) {
    let mut events = core.subscribe_events();
    tauri::async_runtime::spawn(async move {
        tray::refresh(&app, &core).await;
        loop {
            match events.recv().await {
                Ok(ev) => {
                    if changes_counts(&ev) {
                        tray::refresh(&app, &core).await;
                    }
                    let _ = app.emit(EVENT, ev);
                }
                Err(RecvError::Lagged(missed)) => {
                    // The UI fell behind: have it re-read the lists instead of guessing.
                    tracing::warn!(missed, "UI event stream lagged");
                    let _ = app.emit(EVENT, UiEvent::ConversationsChanged);
                    let _ = app.emit(EVENT, UiEvent::RequestsChanged);
                    tray::refresh(&app, &core).await;
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

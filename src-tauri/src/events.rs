//! Forwards the core's one stream of `UiEvent`s to the window as one Tauri event
//! (`confab_model::ipc::EVENT`), and folds the same events into the tray's counts: the unread
//! counts the core computed for the window are the ones the tray shows, never read again.

use confab_core::{Badge, Core};
use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast::error::RecvError;

use crate::tray;

/// Runs until the core's stream closes.
pub fn forward(app: AppHandle, core: Core) {
    let mut events = core.subscribe_events();
    tauri::async_runtime::spawn(async move {
        let mut badge = Badge::default();
        loop {
            match events.recv().await {
                Ok(ev) => {
                    if badge.apply(&ev) {
                        tray::show(&app, badge.counts());
                    }
                    let _ = app.emit(confab_model::ipc::EVENT, ev);
                }
                Err(RecvError::Lagged(missed)) => {
                    // Fell behind: ask the core for every list again, whole (the window and
                    // the badge replace theirs), rather than guess what was missed.
                    tracing::warn!(missed, "UI event stream lagged");
                    core.republish();
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

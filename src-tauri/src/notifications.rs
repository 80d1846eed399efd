//! Native notifications: the core decides what deserves one; this shows it with `notify-rust`
//! and, when the user activates it, reveals the window and tells the UI where to go.
//!
//! One worker shows them, in order. A conversation's messages fold into the notification of it
//! still on screen ("12 new messages in Ops" replaces "Ada in Ops" through the daemon's
//! `replaces_id`) instead of stacking one per message; requests, answers and mentions stay one
//! each. Waiting for a click blocks, so one thread waits per notification on screen (not per
//! message), and at most [`MAX_WAITING`] of them: past that, a notification is shown without
//! waiting for its click. Summary and body are escaped: daemons may read markup in both.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use confab_core::Core;
use confab_model::ipc::{NavigateTarget, Notification};
use tauri::AppHandle;

/// The most notifications whose click is waited for at once (one thread each).
#[cfg(all(unix, not(target_os = "macos")))]
const MAX_WAITING: usize = 16;
/// The most queued notifications taken (and merged) in one round.
const MAX_BATCH: usize = 256;

/// Escapes the few characters notification daemons read as markup, so text stays text.
pub fn plain(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A conversation's notification on screen: the daemon's id for it and the messages it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shown {
    id: u32,
    messages: u32,
}

/// What to put on screen for `n`, given the conversation's notification already shown (if
/// any): the summary and body, and the messages the notification now counts.
fn folded(n: &Notification, shown: Option<Shown>) -> (String, String, u32) {
    let Some(before) = shown.filter(|_| n.messages > 0) else {
        return (n.title.clone(), n.body.clone(), n.messages);
    };
    let total = before.messages.saturating_add(n.messages);
    let place = n.place.as_deref().unwrap_or("a conversation");
    let body = match &n.from {
        // A single message's body is its text; a summary's already names its sender.
        Some(from) if n.messages == 1 => format!("{from}: {}", n.body),
        _ => n.body.clone(),
    };
    (format!("{total} new messages in {place}"), body, total)
}

/// Merges the message notifications of one conversation in a batch into one (the newest text,
/// the count of all); others keep their place and order.
fn merged(batch: Vec<Notification>) -> Vec<Notification> {
    let mut out: Vec<Notification> = Vec::with_capacity(batch.len());
    for n in batch {
        let same = (n.messages > 0)
            .then(|| {
                out.iter_mut()
                    .find(|o| o.messages > 0 && o.target == n.target)
            })
            .flatten();
        match same {
            Some(o) => {
                let total = o.messages.saturating_add(n.messages);
                let place = n.place.clone().unwrap_or_default();
                let body = match &n.from {
                    Some(from) if n.messages == 1 => format!("{from}: {}", n.body),
                    _ => n.body.clone(),
                };
                *o = Notification {
                    title: format!("{total} new messages in {place}"),
                    body,
                    messages: total,
                    ..n
                };
            }
            None => out.push(n),
        }
    }
    out
}

/// The notifications on screen, by what they are about, shared with the threads waiting for
/// their clicks (which remove them when they close).
type OnScreen = Arc<Mutex<HashMap<NavigateTarget, Shown>>>;

/// Shows every notification the core decides on, until the core stops.
pub fn spawn(app: AppHandle, core: &Core, icon: Option<PathBuf>) {
    let Some(mut decided) = core.take_notifications() else {
        return;
    };
    let on_screen: OnScreen = Arc::default();
    // One worker, in order: a blocking D-Bus call per notification, never one thread each.
    std::thread::Builder::new()
        .name("confab-notifications".into())
        .spawn(move || {
            while let Some(first) = decided.blocking_recv() {
                // What queued up meanwhile is shown merged: a burst costs one call per
                // conversation, and the queue never outgrows what one round takes.
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match decided.try_recv() {
                        Ok(n) => batch.push(n),
                        Err(_) => break,
                    }
                }
                for n in merged(batch) {
                    show(&app, &n, icon.as_deref(), &on_screen);
                }
            }
        })
        .map_err(|e| tracing::warn!(error = %e, "no notification worker"))
        .ok();
}

fn show(app: &AppHandle, n: &Notification, icon: Option<&std::path::Path>, on: &OnScreen) {
    let foldable = n.messages > 0;
    let shown = foldable
        .then(|| on.lock().ok()?.get(&n.target).copied())
        .flatten();
    let (summary, body, messages) = folded(n, shown);
    let mut native = notify_rust::Notification::new();
    native
        .appname("Confab")
        .summary(&plain(&summary))
        .body(&plain(&body))
        .action("default", "Open");
    // Hints are the freedesktop daemons' (Windows and macOS have none).
    #[cfg(all(unix, not(target_os = "macos")))]
    native.hint(notify_rust::Hint::Category("im.received".into()));
    if let Some(before) = shown {
        native.id(before.id);
    }
    if let Some(icon) = icon.and_then(|p| p.to_str()) {
        native.icon(icon);
    }
    let handle = match native.show() {
        Ok(handle) => handle,
        Err(e) => {
            tracing::warn!(error = %e, "could not show a notification");
            return;
        }
    };
    if let Some(before) = shown {
        // Replaced in place: the thread waiting on that id still waits for its click.
        if let Ok(mut map) = on.lock() {
            map.insert(n.target.clone(), Shown { messages, ..before });
        }
        return;
    }
    wait_for_click(app, n.target.clone(), handle, messages, on);
}

#[cfg(all(unix, not(target_os = "macos")))]
fn wait_for_click(
    app: &AppHandle,
    target: NavigateTarget,
    handle: notify_rust::NotificationHandle,
    messages: u32,
    on: &OnScreen,
) {
    {
        let Ok(mut map) = on.lock() else { return };
        if map.len() >= MAX_WAITING {
            return;
        }
        if messages > 0 {
            map.insert(
                target.clone(),
                Shown {
                    id: handle.id(),
                    messages,
                },
            );
        }
    }
    let (app, on) = (app.clone(), Arc::clone(on));
    let spawned = std::thread::Builder::new()
        .name("confab-notification".into())
        .spawn(move || {
            handle.wait_for_action(|action| {
                if action == "default" || action == "Open" {
                    use confab_model::ipc::{UiEvent, EVENT};
                    use tauri::Emitter;
                    crate::window::reveal(&app);
                    let _ = app.emit(EVENT, UiEvent::Navigate(target.clone()));
                }
            });
            // Clicked or closed: the next message of it is a new notification.
            if let Ok(mut map) = on.lock() {
                map.remove(&target);
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot wait for a notification's click");
    }
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn wait_for_click(
    _app: &AppHandle,
    _target: NavigateTarget,
    _handle: notify_rust::NotificationHandle,
    _messages: u32,
    _on: &OnScreen,
) {
    // Elsewhere the platform delivers clicks to the app itself; nothing to wait for here.
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(title: &str, body: &str, count: u32) -> Notification {
        Notification {
            title: title.into(),
            body: body.into(),
            target: NavigateTarget::Conversation(7),
            messages: count,
            place: Some("Ops".into()),
            from: Some("Ada".into()),
        }
    }

    #[test]
    fn markup_in_a_message_is_shown_as_text() {
        assert_eq!(
            plain("<img src=x onerror=alert(1)> & co"),
            "&lt;img src=x onerror=alert(1)&gt; &amp; co"
        );
    }

    #[test]
    fn messages_of_a_conversation_on_screen_fold_into_one_count() {
        let first = message("Ada in Ops", "deploy done", 1);
        assert_eq!(
            folded(&first, None),
            ("Ada in Ops".into(), "deploy done".into(), 1)
        );
        let on_screen = Shown { id: 4, messages: 1 };
        let next = message("Ada in Ops", "and the docs", 1);
        assert_eq!(
            folded(&next, Some(on_screen)),
            (
                "2 new messages in Ops".into(),
                "Ada: and the docs".into(),
                2
            )
        );
        let burst = message("10 new messages in Ops", "Ada: all green", 10);
        let (summary, body, total) = folded(&burst, Some(Shown { id: 4, messages: 2 }));
        assert_eq!(
            (summary.as_str(), body.as_str(), total),
            ("12 new messages in Ops", "Ada: all green", 12)
        );
    }

    #[test]
    fn a_queued_burst_is_merged_per_conversation_and_requests_stay_one_each() {
        let request = Notification {
            title: "Linus asks you to share knowledge".into(),
            body: "where?".into(),
            target: NavigateTarget::Request(3),
            messages: 0,
            place: None,
            from: None,
        };
        let mut batch: Vec<Notification> = (0..50)
            .map(|i| message("Ada in Ops", &format!("m{i}"), 1))
            .collect();
        batch.insert(10, request.clone());
        batch.insert(20, request.clone());
        let out = merged(batch);
        assert_eq!(out.len(), 3, "{out:?}");
        assert_eq!(out[0].title, "50 new messages in Ops");
        assert_eq!(out[0].body, "Ada: m49");
        assert_eq!(out[0].messages, 50);
        assert_eq!(out[1], request);
        assert_eq!(out[2], request);
    }

    #[test]
    fn a_mention_or_a_request_is_never_folded() {
        let mut mention = message("Ada mentioned you in Ops", "@you look", 0);
        mention.place = None;
        let on_screen = Some(Shown { id: 4, messages: 3 });
        assert_eq!(folded(&mention, on_screen).0, "Ada mentioned you in Ops");
    }
}

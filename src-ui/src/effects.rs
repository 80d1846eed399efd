//! Side effects: call the core (through [`crate::commands`]) and dispatch what it answered.
//!
//! The lists the window shows (conversations, requests, directory) are never asked for: the
//! core's events carry them ([`start`] listens before anything else). What is called here is
//! what the user asked for: pages of messages, and writes. Every function spawns its work and
//! returns at once; a failure becomes a toast with the error's sentence.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use confab_model::ipc::commands::{Command, Messages, MessagesAfter, Setting, Start};
use confab_model::ipc::{IpcError, UiEvent};
use confab_model::{ConversationId, Seq};
use wasm_bindgen_futures::spawn_local;

use crate::commands::call;
use crate::logic::timeline::PAGE;
use crate::state::{Action, SPLIT_SETTING};
use crate::store::Dispatch;

/// Shows an error's sentence.
pub fn report(d: &Dispatch, err: &IpcError) {
    d.dispatch(Action::Toast(err.message.clone()));
}

/// At start: listen to the core's events first (the lists arrive on them, and nothing is
/// missed), then ask what the first screen needs.
pub fn start(d: Dispatch) {
    spawn_local(async move {
        let events = d.clone();
        let listed = Cell::new(false);
        let presence = Rc::new(RefCell::new(Vec::new()));
        crate::ipc::listen(move |ev| {
            // The start's steps on the page's timeline: the whole list arrived.
            if !listed.get() && matches!(&ev, UiEvent::Conversations(u) if u.complete) {
                listed.set(true);
                crate::startup::mark("confab-listed");
            }
            // The time zone changed: the zone module holds the rules, and a tick with the new
            // offset re-renders the times.
            if let UiEvent::Clock { zone } = ev {
                crate::zone::change(zone);
                tick(&events);
                return;
            }
            // Presence changes come in bursts (one per room as the connection comes up: 2,000
            // for a big team): consecutive ones are applied together, in the task after the
            // burst, with one render instead of one each. Any other event first applies those
            // waiting, so the order of events is kept.
            if matches!(ev, UiEvent::Presence { .. }) {
                let first = presence.borrow().is_empty();
                presence.borrow_mut().push(ev);
                if first {
                    let (presence, events) = (Rc::clone(&presence), events.clone());
                    gloo_timers::callback::Timeout::new(0, move || {
                        flush(&presence, &events);
                    })
                    .forget();
                }
                return;
            }
            flush(&presence, &events);
            events.dispatch(Action::Event(ev));
        })
        .await;
        crate::startup::mark("confab-start-asked");
        match call(Start {}).await {
            Ok(startup) => {
                crate::startup::mark("confab-started");
                // The time rules first, so the first screen's times and "today" are local.
                crate::zone::remember(startup.clock.clone());
                tick(&d);
                d.dispatch(Action::Started(startup));
            }
            Err(e) => report(&d, &e),
        }
    });
}

/// Tells the state the time now and the local offset in force (the clock's every second, and
/// at once when the time rules arrive or change).
pub fn tick(d: &Dispatch) {
    let (now_ms, offset_min) = crate::zone::now();
    d.dispatch(Action::Tick { now_ms, offset_min });
}

/// Applies the presence changes waiting (if any) as one action.
fn flush(waiting: &RefCell<Vec<UiEvent>>, d: &Dispatch) {
    let batch = std::mem::take(&mut *waiting.borrow_mut());
    if !batch.is_empty() {
        d.dispatch(Action::Events(batch));
    }
}

/// Restores the account's remembered layout (the sidebar divider).
pub fn load_layout(d: Dispatch) {
    spawn_local(async move {
        let key = SPLIT_SETTING.to_string();
        if let Ok(Some(v)) = call(Setting { key }).await {
            if let Ok(f) = v.parse::<f64>() {
                d.dispatch(Action::SetSplit(f));
            }
        }
    });
}

/// Loads the newest page of a conversation.
pub fn messages(d: Dispatch, id: ConversationId) {
    spawn_local(async move {
        let page = Messages {
            conversation_id: id,
            before_seq: None,
            limit: PAGE,
        };
        match call(page).await {
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
        let page = Messages {
            conversation_id: id,
            before_seq: Some(before),
            limit: PAGE,
        };
        let messages = call(page).await.unwrap_or_default();
        d.dispatch(Action::OlderLoaded {
            conversation_id: id,
            before,
            messages,
            limit: PAGE,
        });
    });
}

/// Loads the page after `after` (scrolling down through a window in the past).
pub fn newer(d: Dispatch, id: ConversationId, after: Seq) {
    d.dispatch(Action::LoadingNewer(id));
    spawn_local(async move {
        let page = MessagesAfter {
            conversation_id: id,
            after_seq: after,
            limit: PAGE,
        };
        // A failure reads as the newest page reached (an empty one): the list stops asking.
        let messages = call(page).await.unwrap_or_default();
        d.dispatch(Action::NewerLoaded {
            conversation_id: id,
            after,
            messages,
            limit: PAGE,
        });
    });
}

/// Opens a window around message `seq` (a search hit, however far back): the page ending with
/// it and the page after it, both from the cache.
pub fn around(d: Dispatch, id: ConversationId, seq: Seq) {
    d.dispatch(Action::LoadingOlder(id));
    spawn_local(async move {
        let older = Messages {
            conversation_id: id,
            before_seq: Some(seq.saturating_add(1)),
            limit: PAGE,
        };
        let newer = MessagesAfter {
            conversation_id: id,
            after_seq: seq,
            limit: PAGE,
        };
        let older = call(older).await.unwrap_or_default();
        let newer = call(newer).await.unwrap_or_default();
        d.dispatch(Action::AroundLoaded {
            conversation_id: id,
            seq,
            older,
            newer,
            limit: PAGE,
        });
    });
}

/// Runs a command whose only interesting outcome is an error.
pub fn fire<C: Command<Output = ()> + 'static>(d: &Dispatch, args: C) {
    let d = d.clone();
    spawn_local(async move {
        if let Err(e) = call(args).await {
            report(&d, &e);
        }
    });
}

/// Runs a command and ignores its outcome (typing pokes, focus reports, reads).
pub fn quiet<C: Command<Output = ()> + 'static>(args: C) {
    spawn_local(async move {
        let _ = call(args).await;
    });
}

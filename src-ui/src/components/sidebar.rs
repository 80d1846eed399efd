//! The sidebar, split vertically: conversations on top, pending knowledge-share requests below,
//! with a draggable divider whose position is saved as a setting.

use std::cell::Cell;
use std::rc::Rc;

use confab_model::ipc::commands::{SetConversationMuted, SetSetting, SignOut};
use confab_model::ipc::ConnectionStatus;
use web_sys::{Element, HtmlElement, PointerEvent};
use yew::prelude::*;

use crate::components::avatar::Avatar;
use crate::components::conversation_item::ConversationItem;
use crate::components::history_progress::HistoryProgressBar;
use crate::components::icon::{Glyph, Icon};
use crate::components::request_item::RequestItem;
use crate::components::windowed_list::WindowedList;
use crate::effects;
use crate::logic::text::badge;
use crate::state::{clamp_split, Action, Dialog, SPLIT_SETTING};
use crate::store::use_store;

/// A conversation row's height: `.conversation-row` in styles.css fixes it, so the list can
/// be windowed.
const CONVERSATION_ROW_PX: f64 = 58.0;

fn split_at(split: &NodeRef, e: &PointerEvent) -> Option<f64> {
    let rect = split.cast::<Element>()?.get_bounding_client_rect();
    (rect.height() > 0.0)
        .then(|| clamp_split((f64::from(e.client_y()) - rect.top()) / rect.height()))
}

/// The sidebar.
#[component(Sidebar)]
pub fn sidebar() -> Html {
    let store = use_store();
    let split_ref = use_node_ref();
    let top_ref = use_node_ref();
    {
        // Set through the CSS object model: the CSP allows no inline style attributes.
        let top_ref = top_ref.clone();
        use_effect_with(store.split, move |split| {
            if let Some(el) = top_ref.cast::<HtmlElement>() {
                let _ = el
                    .style()
                    .set_property("flex-basis", &format!("{:.2}%", split * 100.0));
            }
        });
    }
    let dragging = use_memo((), |_| Rc::new(Cell::new(false)));
    let Some(me) = store.session.clone() else {
        return html! {};
    };
    let d = store.dispatcher();

    let on_down = {
        let dragging = dragging.clone();
        Callback::from(move |e: PointerEvent| {
            if let Some(target) = e.target_dyn_into::<Element>() {
                let _ = target.set_pointer_capture(e.pointer_id());
            }
            dragging.set(true);
            e.prevent_default();
        })
    };
    let on_move = {
        let (dragging, split_ref, d) = (dragging.clone(), split_ref.clone(), d.clone());
        Callback::from(move |e: PointerEvent| {
            if dragging.get() {
                if let Some(f) = split_at(&split_ref, &e) {
                    d.dispatch(Action::SetSplit(f));
                }
            }
        })
    };
    let on_up = {
        let (dragging, split_ref, d) = (dragging.clone(), split_ref.clone(), d.clone());
        Callback::from(move |e: PointerEvent| {
            if dragging.replace(false) {
                if let Some(f) = split_at(&split_ref, &e) {
                    d.dispatch(Action::SetSplit(f));
                    let key = SPLIT_SETTING.to_string();
                    let value = format!("{f:.3}");
                    effects::fire(&d, SetSetting { key, value });
                }
            }
        })
    };

    let select = {
        let d = d.clone();
        Callback::from(move |id: i64| d.dispatch(Action::Select(id)))
    };
    let mute = {
        let d = d.clone();
        Callback::from(move |(conversation_id, muted): (i64, bool)| {
            effects::fire(
                &d,
                SetConversationMuted {
                    conversation_id,
                    muted,
                },
            );
        })
    };
    let open_request = {
        let d = d.clone();
        Callback::from(move |id: i64| d.dispatch(Action::Open(Dialog::Respond(id))))
    };
    let open = |dialog: Dialog| {
        let d = d.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::Open(dialog.clone())))
    };
    // The core's `SignedOut` event returns the window to the sign-in screen.
    let sign_out = {
        let d = d.clone();
        Callback::from(move |_: MouseEvent| effects::fire(&d, SignOut {}))
    };

    let connected = store.connection == ConnectionStatus::Connected;
    // Only the rows in view are rendered (2,000 conversations cost what 20 do).
    let row = {
        let (store, count) = (store.clone(), store.conversations.len());
        Callback::from(move |i: usize| {
            let Some(c) = store.conversations.get(i) else {
                return html! {};
            };
            let online = c.direct_peer_id.map(|p| connected && store.is_online(p));
            html! {
                <ConversationItem key={c.id} summary={c.clone()} index={i} setsize={count}
                    selected={store.selected == Some(c.id)} {online}
                    now_ms={store.now_ms} offset_min={store.offset_min}
                    onselect={select.clone()} onmute={mute.clone()} />
            }
        })
    };
    // Another conversation opened (the switcher, Ctrl+1..9) scrolls it into view; a message
    // moving it to the top does not move the view.
    let reveal = store.selected.and_then(|id| {
        let i = store.conversations.iter().position(|c| c.id == id)?;
        Some((i, AttrValue::from(id.to_string())))
    });
    let pending: Vec<_> = store.pending_incoming().cloned().collect();
    let outgoing_open = store
        .requests
        .outgoing
        .iter()
        .filter(|r| r.status == confab_model::KnowledgeStatus::Pending)
        .count();
    let unread_answers = store.unread_answers();

    html! {
        <aside class="sidebar">
            <header class="sidebar-head">
                <button class="me-button" id="open-account" title="Account: password, sign out everywhere"
                        onclick={open(Dialog::Account)}>
                    <Avatar name={me.name.clone()} online={Some(connected)} />
                    <div class="me">
                        <div class="me-name">{ me.name.clone() }</div>
                        <div class="me-status">{ if connected { "Online" } else { "Not connected" } }</div>
                    </div>
                </button>
                <button class="icon-button" title="Search messages (Ctrl+F)" aria-label="Search messages"
                        id="open-search" onclick={open(Dialog::Search)}>
                    <Icon glyph={Glyph::Search} />
                </button>
                <button class="icon-button" title="Sign out" aria-label="Sign out" id="sign-out"
                        onclick={sign_out}>
                    <Icon glyph={Glyph::SignOut} />
                </button>
            </header>
            <HistoryProgressBar />
            <div class="split" ref={split_ref}>
                <section class="pane conversations" ref={top_ref} aria-label="Conversations">
                    <div class="pane-title">
                        <span>{ "Conversations" }</span>
                        <kbd title="Quick switcher">{ "Ctrl K" }</kbd>
                        <span class="spacer" />
                        <button class="icon-button" id="new-conversation"
                                title="New conversation (Ctrl+Shift+N)" aria-label="New conversation"
                                onclick={open(Dialog::NewConversation)}>
                            <Icon glyph={Glyph::Compose} />
                        </button>
                    </div>
                    <WindowedList id="conversation-list" class="conversation-list"
                                  label="Conversation list" count={store.conversations.len()}
                                  row_height={CONVERSATION_ROW_PX} row={row} {reveal}>
                        if store.conversations.is_empty() && store.conversations_loaded {
                            <li class="empty">
                                <p>{ "No conversations yet." }</p>
                                <button class="primary small" id="start-first-conversation"
                                        onclick={open(Dialog::NewConversation)}>
                                    { "Start a conversation" }
                                </button>
                            </li>
                        }
                    </WindowedList>
                </section>
                <div class="divider" role="separator" aria-orientation="horizontal"
                     aria-label="Resize the request list" id="sidebar-divider"
                     onpointerdown={on_down} onpointermove={on_move} onpointerup={on_up.clone()}
                     onpointercancel={on_up} />
                <section class="pane requests" aria-label="Knowledge requests">
                    <div class="pane-title">
                        <span>{ "Requests" }</span>
                        if !pending.is_empty() {
                            <span class="count" id="request-count">{ badge(pending.len() as i64) }</span>
                        }
                        <span class="spacer" />
                        <button class="link small" id="open-ask" title="Ask a teammate (Ctrl+N)"
                                onclick={open(Dialog::Ask(None))}>
                            <Icon glyph={Glyph::Ask} />{ "Ask" }
                        </button>
                    </div>
                    <ul class="request-list" id="request-list">
                        if pending.is_empty() {
                            <li class="empty">{ "No one is waiting for you." }</li>
                        }
                        { for pending.into_iter().map(|r| {
                            let key = r.id;
                            html! {
                                <RequestItem {key} request={r} now_ms={store.now_ms}
                                             onopen={open_request.clone()} />
                            }
                        }) }
                    </ul>
                    <button class="pane-footer" id="open-requests" title="Knowledge library (Ctrl+R)"
                            onclick={open(Dialog::Requests(None))}>
                        <Icon glyph={Glyph::Inbox} />
                        <span>{ "Knowledge library" }</span>
                        if unread_answers > 0 {
                            <span class="count" id="library-unread" aria-label="new answers">
                                { badge(unread_answers as i64) }
                            </span>
                        }
                        if outgoing_open > 0 {
                            <span class="muted">{ format!("{outgoing_open} waiting") }</span>
                        }
                    </button>
                </section>
            </div>
        </aside>
    }
}

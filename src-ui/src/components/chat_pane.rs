//! The chat pane: the open conversation's header (title, who is online), its messages, who is
//! typing, and the composer. Opening a conversation loads it, marks it seen and tells the core
//! which conversation is on screen (for the notification policy).

use confab_model::ipc::commands::{MarkSeen, SetConversationMuted, SetOpenConversation};
use confab_model::ipc::ConnectionStatus;
use confab_model::{ConversationKind, UserId};
use yew::prelude::*;

use crate::components::avatar::Avatar;
use crate::components::composer::Composer;
use crate::components::icon::{Glyph, Icon};
use crate::components::message_list::MessageList;
use crate::effects;
use crate::logic::text::{room_subtitle, typing_line};
use crate::state::{Action, Dialog};
use crate::store::use_store;

fn window_focused() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.has_focus().ok())
        .unwrap_or(false)
}

/// The chat pane.
#[component(ChatPane)]
pub fn chat_pane() -> Html {
    let store = use_store();
    let selected = store.selected;
    // Live rows may have started the timeline already: only a read page counts as loaded.
    let loaded = selected.is_some_and(|id| store.timelines.get(&id).is_some_and(|t| t.page_loaded));
    // Opened at a search hit: the message list reads the window around it, not the newest page
    // first (one read instead of two, and no newest page landing on top of the window). Later
    // ("Jump to newest" from that window) the newest page is read as usual.
    let at_hit = selected.is_some_and(|id| {
        store.highlight.is_some_and(|(c, _)| c == id) && !store.timelines.contains_key(&id)
    });
    {
        // On opening, and whenever the open timeline asks to be read again (going to the newest
        // from a window in the past).
        let d = store.dispatcher();
        use_effect_with((selected, loaded), move |&(sel, loaded)| {
            if let Some(id) = sel {
                if !loaded && !at_hit {
                    effects::messages(d.clone(), id);
                }
            }
        });
    }
    use_effect_with(selected, move |sel| {
        effects::quiet(SetOpenConversation {
            conversation_id: *sel,
        });
    });
    {
        // Seen: when it opens and whenever someone else's message arrives while the window has
        // focus (my own messages change nothing to mark).
        let me = store.session.as_ref().map(|s| s.user_id);
        let newest_from_others = selected
            .and_then(|id| store.timelines.get(&id))
            .and_then(|t| {
                t.messages
                    .iter()
                    .filter(|m| Some(m.sender_id) != me)
                    .filter_map(|m| m.seq)
                    .max()
            });
        use_effect_with((selected, newest_from_others), move |(sel, _)| {
            if let Some(id) = *sel {
                if window_focused() {
                    effects::quiet(MarkSeen {
                        conversation_id: id,
                    });
                }
            }
        });
    }

    let Some(conv) = store.selected_conversation().cloned() else {
        let empty = store.conversations_loaded && store.conversations.is_empty();
        let text = if empty {
            "No conversations yet. Start one with a teammate, or ask someone for knowledge."
        } else {
            "Pick a conversation on the left."
        };
        let d = store.dispatcher();
        let start = Callback::from(move |_: MouseEvent| {
            d.dispatch(Action::Open(Dialog::NewConversation));
        });
        return html! {
            <main class="chat empty-chat">
                <div class="empty-state">
                    <Icon glyph={Glyph::Bulb} />
                    <p>{ text }</p>
                    if empty {
                        <button class="primary" id="empty-new-conversation" onclick={start}>
                            { "New conversation" }
                        </button>
                    }
                </div>
            </main>
        };
    };

    let me = store
        .session
        .as_ref()
        .map(|s| s.user_id)
        .unwrap_or_default();
    let connected = store.connection == ConnectionStatus::Connected;
    // The room's own presence: its members who are online (the summary carries no member ids,
    // and looking each member up in every room was members × rooms a render). Presence is only
    // known while connected.
    let online: Vec<UserId> = match store.presence.get(&conv.id) {
        Some(ids) if connected => ids.iter().copied().filter(|id| *id != me).collect(),
        _ => Vec::new(),
    };
    let names = store.names();
    let subtitle = room_subtitle(
        conv.member_count as usize,
        online.len(),
        conv.direct_peer_id.map(|peer| store.is_online(peer)),
        connected,
    );
    let typing = store
        .typing
        .get(&conv.id)
        .and_then(|names| typing_line(names));
    let ask = {
        let d = store.dispatcher();
        let peer = conv.direct_peer_id;
        Callback::from(move |_: MouseEvent| d.dispatch(Action::Open(Dialog::Ask(peer))))
    };

    let mute = {
        let (d, id, muted) = (store.dispatcher(), conv.id, conv.muted);
        Callback::from(move |_: MouseEvent| {
            effects::fire(
                &d,
                SetConversationMuted {
                    conversation_id: id,
                    muted: !muted,
                },
            );
        })
    };
    let mute_label = if conv.muted {
        "Unmute (notifications on)"
    } else {
        "Mute (only mentions notify)"
    };
    let group = {
        let (d, id) = (store.dispatcher(), conv.id);
        Callback::from(move |_: MouseEvent| d.dispatch(Action::Open(Dialog::Group(id))))
    };

    html! {
        <main class="chat" aria-label={format!("Conversation {}", conv.title)}>
            <header class="chat-head">
                <div class="chat-title">
                    <h1 id="chat-title">{ conv.title.clone() }</h1>
                    <div class="chat-subtitle">
                        if conv.direct_peer_id.is_some() && !subtitle.is_empty() {
                            <span class={classes!("dot", (subtitle == "Online").then_some("online"))} />
                        }
                        { subtitle }
                    </div>
                </div>
                <div class="online-stack" aria-label="Online now">
                    { for online.iter().take(5).map(|id| {
                        let name = names.get(id).cloned().unwrap_or_else(|| "Teammate".into());
                        html! { <span title={name.clone()}><Avatar {name} small=true online={Some(true)} /></span> }
                    }) }
                </div>
                <button class={classes!("icon-button", conv.muted.then_some("on"))} id="chat-mute"
                        onclick={mute} title={mute_label} aria-label={mute_label}
                        aria-pressed={conv.muted.to_string()}>
                    <Icon glyph={if conv.muted { Glyph::BellOff } else { Glyph::Bell }} />
                </button>
                if conv.kind == ConversationKind::Group {
                    <button class="icon-button" id="chat-group" onclick={group}
                            title="People and name" aria-label="People and name">
                        <Icon glyph={Glyph::People} />
                    </button>
                }
                <button class="ghost" onclick={ask} title="Ask for knowledge">
                    <Icon glyph={Glyph::Bulb} />{ "Ask" }
                </button>
            </header>
            <MessageList conversation_id={conv.id} />
            <div class="typing" aria-live="polite" id="typing-indicator">
                if let Some(t) = typing {
                    <span class="typing-dots"><i /><i /><i /></span>{ t }
                }
            </div>
            <Composer conversation_id={conv.id} title={conv.title.clone()}
                      focus_token={store.composer_focus} />
        </main>
    }
}

//! The composer: Enter sends, Shift+Enter adds a line. Each conversation keeps its draft: it is
//! restored when the conversation opens, saved shortly after typing stops, and saved at once
//! when switching away. Every keystroke pokes the core's typing indicator (it throttles).

use std::cell::RefCell;
use std::rc::Rc;

use confab_model::ipc::commands::{Draft, SendMessage, SetDraft, Typing};
use confab_model::ConversationId;
use gloo_timers::callback::Timeout;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::commands::call;
use crate::components::icon::{Glyph, Icon};
use crate::effects;
use crate::logic::keys::{composer_sends, KeyPress};
use crate::state::Action;
use crate::store::use_store;

/// How long after the last keystroke the draft is saved.
const DRAFT_SAVE_MS: u32 = 600;

/// Properties of [`Composer`].
#[derive(Properties, PartialEq)]
pub struct ComposerProps {
    /// The conversation written to.
    pub conversation_id: ConversationId,
    /// Its title (placeholder).
    pub title: AttrValue,
    /// Changes when Ctrl+L asks for focus.
    pub focus_token: u32,
}

#[derive(Default)]
struct Pending {
    /// The text as typed, for the save on switch.
    text: String,
    /// A draft save waiting for typing to stop.
    timer: Option<Timeout>,
}

/// The composer.
#[component(Composer)]
pub fn composer(props: &ComposerProps) -> Html {
    let store = use_store();
    let text = use_state(String::new);
    let area = use_node_ref();
    let pending = use_memo((), |_| Rc::new(RefCell::new(Pending::default())));
    let id = props.conversation_id;

    {
        // Restore this conversation's draft; save it when switching away.
        let (text, pending, area) = (text.clone(), pending.clone(), area.clone());
        use_effect_with(id, move |id| {
            let id = *id;
            text.set(String::new());
            pending.borrow_mut().text.clear();
            let (t, p) = (text.clone(), pending.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(draft) = call(Draft {
                    conversation_id: id,
                })
                .await
                {
                    if p.borrow().text.is_empty() {
                        p.borrow_mut().text = draft.clone();
                        t.set(draft);
                    }
                }
            });
            if let Some(el) = area.cast::<HtmlTextAreaElement>() {
                let _ = el.focus();
            }
            move || {
                let mut p = pending.borrow_mut();
                if p.timer.take().is_some() {
                    let text = p.text.clone();
                    effects::quiet(SetDraft {
                        conversation_id: id,
                        text,
                    });
                }
            }
        });
    }
    {
        let area = area.clone();
        use_effect_with(props.focus_token, move |token| {
            if *token > 0 {
                if let Some(el) = area.cast::<HtmlTextAreaElement>() {
                    let _ = el.focus();
                }
            }
        });
    }

    let send = {
        let (text, pending, d) = (text.clone(), pending.clone(), store.dispatcher());
        Callback::from(move |()| {
            let content = (*text).trim().to_string();
            if content.is_empty() {
                return;
            }
            text.set(String::new());
            {
                let mut p = pending.borrow_mut();
                p.text.clear();
                p.timer = None;
            }
            // One call: the core stores the message, clears the draft and publishes the row
            // and the conversation's summary; the answer shows the row without waiting.
            let (d, text, pending) = (d.clone(), text.clone(), pending.clone());
            let message = SendMessage {
                conversation_id: id,
                content,
            };
            wasm_bindgen_futures::spawn_local(async move {
                let content = message.content.clone();
                match call(message).await {
                    Ok(m) => d.dispatch(Action::MessageUpserted(m)),
                    Err(e) => {
                        // Nothing typed is lost: the text comes back unless more was typed.
                        if pending.borrow().text.is_empty() {
                            pending.borrow_mut().text = content.clone();
                            text.set(content);
                        }
                        effects::report(&d, &e);
                    }
                }
            });
        })
    };
    let oninput = {
        let (text, pending) = (text.clone(), pending.clone());
        Callback::from(move |e: InputEvent| {
            let el: HtmlTextAreaElement = e.target_unchecked_into();
            let value = el.value();
            effects::quiet(Typing {
                conversation_id: id,
            });
            let mut p = pending.borrow_mut();
            p.text = value.clone();
            let saved = value.clone();
            p.timer = Some(Timeout::new(DRAFT_SAVE_MS, move || {
                effects::quiet(SetDraft {
                    conversation_id: id,
                    text: saved,
                });
            }));
            text.set(value);
        })
    };
    let onkeydown = {
        let send = send.clone();
        Callback::from(move |e: KeyboardEvent| {
            let key = e.key();
            let press = KeyPress {
                key: &key,
                ctrl: e.ctrl_key(),
                shift: e.shift_key(),
                alt: e.alt_key(),
                composing: e.is_composing(),
            };
            if composer_sends(press) && !press.ctrl {
                e.prevent_default();
                send.emit(());
            }
        })
    };
    let onclick = send.reform(|_: MouseEvent| ());
    let rows = text.lines().count().clamp(1, 8).to_string();
    let empty = text.trim().is_empty();
    html! {
        <div class="composer">
            <textarea ref={area} id="composer" {rows} value={(*text).clone()} {oninput} {onkeydown}
                      placeholder={format!("Message {}", props.title)} aria-label="Message" />
            <button class="send" {onclick} disabled={empty} aria-label="Send" title="Send (Enter)">
                <Icon glyph={Glyph::Send} />
            </button>
        </div>
    }
}

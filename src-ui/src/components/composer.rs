//! The composer: Enter sends, Shift+Enter adds a line. Each conversation keeps its draft: it is
//! restored when the conversation opens, saved shortly after typing stops, and saved at once
//! when switching away. Every keystroke pokes the core's typing indicator (it throttles).
//! Typing `@` offers the teammates whose names match (arrows to move, Enter or Tab to complete,
//! Escape to dismiss).

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
use crate::logic::complete::{candidates, complete, typed_at, Typed};
use crate::logic::keys::{composer_sends, KeyPress};
use crate::state::Action;
use crate::store::use_store;

/// How long after the last keystroke the draft is saved.
const DRAFT_SAVE_MS: u32 = 600;
/// The most names the `@` list offers.
const SUGGESTIONS: usize = 6;

/// The `@` completion open at the caret.
#[derive(Debug, Clone, PartialEq)]
struct Suggesting {
    typed: Typed,
    caret: u32,
    cursor: usize,
}

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
    let suggesting = use_state(|| None::<Suggesting>);
    let area = use_node_ref();
    let names: Vec<String> = {
        // Online teammates first: the one you are talking with is most likely.
        let mut team = store.teammates.to_vec();
        team.sort_by(|a, b| {
            store
                .is_online(b.id)
                .cmp(&store.is_online(a.id))
                .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
        });
        team.into_iter().map(|t| t.name).collect()
    };
    let offered: Vec<String> = suggesting
        .as_ref()
        .map(|s| {
            candidates(&names, &s.typed.query, SUGGESTIONS)
                .into_iter()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
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
        let (text, pending, suggesting) = (text.clone(), pending.clone(), suggesting.clone());
        Callback::from(move |e: InputEvent| {
            let el: HtmlTextAreaElement = e.target_unchecked_into();
            let value = el.value();
            let caret = el.selection_start().ok().flatten().unwrap_or(0);
            suggesting.set(typed_at(&value, caret).map(|typed| Suggesting {
                typed,
                caret,
                cursor: 0,
            }));
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
    // Puts the chosen name in place of what was typed after the `@`.
    let accept = {
        let (text, pending, suggesting, area) = (
            text.clone(),
            pending.clone(),
            suggesting.clone(),
            area.clone(),
        );
        Callback::from(move |name: String| {
            let Some(s) = (*suggesting).clone() else {
                return;
            };
            let (value, caret) = complete(&text, &s.typed, s.caret, &name);
            pending.borrow_mut().text = value.clone();
            text.set(value.clone());
            suggesting.set(None);
            if let Some(el) = area.cast::<HtmlTextAreaElement>() {
                el.set_value(&value);
                let _ = el.set_selection_range(caret, caret);
                let _ = el.focus();
            }
        })
    };
    let onkeydown = {
        let send = send.clone();
        let (suggesting, accept, offered) = (suggesting.clone(), accept.clone(), offered.clone());
        Callback::from(move |e: KeyboardEvent| {
            let key = e.key();
            if let (Some(s), false) = ((*suggesting).clone(), offered.is_empty()) {
                let last = offered.len() - 1;
                let handled = match key.as_str() {
                    "ArrowDown" => {
                        suggesting.set(Some(Suggesting {
                            cursor: (s.cursor + 1).min(last),
                            ..s
                        }));
                        true
                    }
                    "ArrowUp" => {
                        suggesting.set(Some(Suggesting {
                            cursor: s.cursor.saturating_sub(1),
                            ..s
                        }));
                        true
                    }
                    "Enter" | "Tab" if !e.shift_key() => {
                        accept.emit(offered[s.cursor.min(last)].clone());
                        true
                    }
                    "Escape" => {
                        suggesting.set(None);
                        true
                    }
                    _ => false,
                };
                if handled {
                    e.prevent_default();
                    e.stop_propagation();
                    return;
                }
            }
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
    let onblur = {
        let suggesting = suggesting.clone();
        // Later than the click on a suggestion, which would otherwise never land.
        Callback::from(move |_: FocusEvent| {
            let suggesting = suggesting.clone();
            Timeout::new(150, move || suggesting.set(None)).forget();
        })
    };
    let cursor = suggesting.as_ref().map_or(0, |s| s.cursor);
    html! {
        <div class="composer">
            if !offered.is_empty() {
                <ul class="mention-suggestions" id="mention-suggestions" role="listbox"
                    aria-label="Mention a teammate">
                    { for offered.iter().enumerate().map(|(i, name)| {
                        let (accept, chosen) = (accept.clone(), name.clone());
                        let onmousedown = Callback::from(move |e: MouseEvent| {
                            e.prevent_default();
                            accept.emit(chosen.clone());
                        });
                        html! {
                            <li role="option" aria-selected={(i == cursor).to_string()}
                                class={classes!((i == cursor).then_some("active"))} {onmousedown}>
                                { format!("@{name}") }
                            </li>
                        }
                    }) }
                </ul>
            }
            <textarea {onblur} ref={area} id="composer" {rows} value={(*text).clone()} {oninput} {onkeydown}
                      placeholder={format!("Message {}", props.title)} aria-label="Message" />
            <button class="send" {onclick} disabled={empty} aria-label="Send" title="Send (Enter)">
                <Icon glyph={Glyph::Send} />
            </button>
        </div>
    }
}

//! The "Ask for knowledge" dialog: pick a teammate (`owner_picker`), write the question. While
//! the question is typed, answered questions like it ("asked before", from the cache, so
//! offline too) show under the field; one opens in the knowledge library.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use confab_model::ipc::commands::{Ask, AskedBefore};
use confab_model::ipc::RequestHit;
use confab_model::UserId;
use gloo_timers::callback::Timeout;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::commands::call;
use crate::components::modal::Modal;
use crate::components::owner_picker::OwnerPicker;
use crate::logic::format::list_time;
use crate::state::{Action, Dialog};
use crate::store::use_store;

/// How long typing must pause before "asked before" looks (as search does).
const ASKED_BEFORE_DEBOUNCE_MS: u32 = 200;
/// Fewer characters than this match too much to be worth showing.
const ASKED_BEFORE_MIN_CHARS: usize = 3;

/// Properties of [`AskDialog`].
#[derive(Properties, PartialEq)]
pub struct AskDialogProps {
    /// The teammate chosen beforehand (from a direct chat).
    pub preselect: Option<UserId>,
}

/// The ask dialog.
#[component(AskDialog)]
pub fn ask_dialog(props: &AskDialogProps) -> Html {
    let store = use_store();
    let owner = use_state(|| props.preselect);
    let question = use_state(String::new);
    let similar = use_state(Vec::<RequestHit>::new);
    let timer = use_memo((), |_| RefCell::new(None::<Timeout>));
    // Each look numbered, so an answer that comes back after a newer look started is dropped.
    let looks = use_memo((), |_| Cell::new(0_u32));
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let me = store.session.as_ref().map(|s| s.user_id);
    // The directory itself (an `Rc`): the picker filters it, leaving me out.
    let people = Rc::clone(&store.teammates);
    let onpick = use_callback(owner.setter(), |picked: Option<UserId>, setter| {
        setter.set(picked);
    });
    let oninput = {
        let (question, similar, timer, looks) = (
            question.clone(),
            similar.clone(),
            timer.clone(),
            looks.clone(),
        );
        Callback::from(move |e: InputEvent| {
            let el: HtmlTextAreaElement = e.target_unchecked_into();
            let text = el.value();
            question.set(text.clone());
            let look = looks.get().wrapping_add(1);
            looks.set(look);
            if text.trim().chars().count() < ASKED_BEFORE_MIN_CHARS {
                timer.borrow_mut().take();
                similar.set(Vec::new());
                return;
            }
            let (similar, looks) = (similar.clone(), Rc::clone(&looks));
            *timer.borrow_mut() = Some(Timeout::new(ASKED_BEFORE_DEBOUNCE_MS, move || {
                wasm_bindgen_futures::spawn_local(async move {
                    // A failed look shows nothing: it is a hint, not something asked for.
                    let found = call(AskedBefore { question: text })
                        .await
                        .unwrap_or_default();
                    if looks.get() == look {
                        similar.set(found);
                    }
                });
            }));
        })
    };
    let onsubmit = {
        let (owner, question, busy, error, d) = (
            owner.clone(),
            question.clone(),
            busy.clone(),
            error.clone(),
            store.dispatcher(),
        );
        let store = store.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(to) = *owner else {
                error.set(Some("Pick who to ask.".into()));
                return;
            };
            let q = (*question).trim().to_string();
            if q.is_empty() {
                error.set(Some("Write your question.".into()));
                return;
            }
            busy.set(true);
            let name = store
                .name_of(to)
                .map_or_else(|| "your teammate".into(), str::to_owned);
            let (busy, error, d) = (busy.clone(), error.clone(), d.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match call(Ask {
                    owner_id: to,
                    question: q,
                })
                .await
                {
                    Ok(_) => {
                        d.dispatch(Action::CloseDialog);
                        d.dispatch(Action::Toast(format!("Question sent to {name}.")));
                    }
                    Err(e) => {
                        busy.set(false);
                        error.set(Some(e.message));
                    }
                }
            });
        })
    };
    html! {
        <Modal title="Ask for knowledge" id="ask-dialog">
            <form {onsubmit}>
                <div class="field">
                    <span>{ "Ask" }</span>
                    <OwnerPicker {people} {me} chosen={*owner} {onpick} />
                </div>
                <label class="field">
                    <span>{ "Question" }</span>
                    <textarea id="ask-question" rows="5" value={(*question).clone()} {oninput}
                              placeholder="What would you like them to share?" />
                </label>
                if !similar.is_empty() {
                    <section class="asked-before" id="asked-before" aria-label="Asked before">
                        <h3 class="group-head">{ "Asked before" }</h3>
                        <ul class="plain-list results">
                            { for similar.iter().map(|h| asked_before_row(h, &store)) }
                        </ul>
                    </section>
                }
                if let Some(e) = &*error {
                    <div class="form-error" role="alert">{ e.clone() }</div>
                }
                <div class="dialog-actions">
                    <button class="primary" type="submit" id="ask-submit" disabled={*busy}>
                        { if *busy { "Sending…" } else { "Send question" } }
                    </button>
                </div>
            </form>
        </Modal>
    }
}

/// One past question with its answer: who answered, when, an excerpt; it opens in the library.
fn asked_before_row(h: &RequestHit, store: &crate::store::Store) -> Html {
    let r = &h.request;
    let (d, id) = (store.dispatcher(), r.id);
    let onclick =
        Callback::from(move |_: MouseEvent| d.dispatch(Action::Open(Dialog::Requests(Some(id)))));
    let by = r.owner_name.clone().unwrap_or_else(|| "A teammate".into());
    let when = r
        .answered_at
        .as_deref()
        .map(|at| list_time(at, store.now_ms, crate::zone::local()))
        .filter(|t| !t.is_empty())
        .map(|t| format!(" · {t}"))
        .unwrap_or_default();
    html! {
        <li key={r.id}>
            <button type="button" class="card-row asked-before-hit" {onclick}
                    data-request-id={r.id.to_string()}>
                <span class="grow">
                    <span class="strong block">{ r.question.clone() }</span>
                    <span class="muted small">{ format!("Answered by {by}{when}") }</span>
                    <span class="block excerpt">{ h.excerpt.clone() }</span>
                </span>
            </button>
        </li>
    }
}

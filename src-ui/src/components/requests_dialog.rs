//! The knowledge library: every request I asked or was asked — waiting, answered (the answer,
//! who answered, when), declined (the reason, when one was given) — newest first, filtered by
//! who asked and by state (`logic::library`).
//!
//! What it does: shows the request lists the core's events carry; marks an answer to my
//! question as new until I open it (expand it, or arrive at it from a notification or a search
//! hit), and then tells the core (`mark_answer_seen`, which counts it read at once, offline
//! too). Keyboard: Tab reaches the filters and the list, the arrows, Home and End move through
//! the list, Enter or Space opens an entry, Escape closes the dialog.
//!
//! What it never does: ask the core for the lists, or show an unread answer before it is
//! opened (it would then be read without being counted so).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use confab_model::ipc::commands::MarkAnswerSeen;
use confab_model::{KnowledgeStatus, RequestId};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, ScrollIntoViewOptions, ScrollLogicalPosition};
use yew::prelude::*;

use crate::components::avatar::Avatar;
use crate::components::modal::Modal;
use crate::components::rich_text::{use_text_env, RichText, TextEnv};
use crate::effects;
use crate::logic::format::{age, age_words};
use crate::logic::library::{
    count, filtered, library, step, unread_answer, Entry, Filter, Side, StateFilter, Who,
};
use crate::state::{Action, Dialog};
use crate::store::{use_store, Dispatch};

/// Properties of [`RequestsDialog`].
#[derive(Properties, PartialEq)]
pub struct RequestsDialogProps {
    /// A request to open and bring into view (a notification or a search hit led here).
    pub highlight: Option<RequestId>,
}

/// The id of an entry's head (the button that opens it), for moving focus.
fn head_id(id: RequestId) -> String {
    format!("library-item-{id}")
}

/// Moves focus to the head of entry `id` and scrolls it to the middle of the list.
fn focus_entry(id: RequestId, center: bool) {
    let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(&head_id(id)))
    else {
        return;
    };
    if center {
        let opts = ScrollIntoViewOptions::new();
        opts.set_block(ScrollLogicalPosition::Center);
        el.scroll_into_view_with_scroll_into_view_options(&opts);
    }
    if let Ok(el) = el.dyn_into::<HtmlElement>() {
        let _ = el.focus();
    }
}

/// The knowledge library dialog.
#[component(RequestsDialog)]
pub fn requests_dialog(props: &RequestsDialogProps) -> Html {
    let store = use_store();
    let text_env = use_text_env();
    let filter = use_state(Filter::default);
    let open = use_state(|| props.highlight.into_iter().collect::<BTreeSet<RequestId>>());
    // Answers already reported seen: the core's event saying so comes a moment later.
    let reported = use_memo((), |_| Rc::new(RefCell::new(BTreeSet::<RequestId>::new())));

    let all = library(&store.requests);
    let shown = filtered(&all, *filter);
    let order: Rc<Vec<RequestId>> = Rc::new(shown.iter().map(|e| e.request.id).collect());

    {
        // Arriving at an entry: every filter off (it must be in the list), the entry open, in
        // view and focused. Without one, focus goes to the first entry, so the arrows work.
        let (filter, open) = (filter.clone(), open.clone());
        let first = order.first().copied();
        use_effect_with(props.highlight, move |h| match *h {
            Some(id) => {
                filter.set(Filter::default());
                if !open.contains(&id) {
                    let mut more = (*open).clone();
                    more.insert(id);
                    open.set(more);
                }
                focus_entry(id, true);
            }
            None => {
                if let Some(id) = first {
                    focus_entry(id, false);
                }
            }
        });
    }
    {
        // An open entry whose answer is unread has now been read (also when the answer arrives
        // while it is open).
        let unread_open: Vec<RequestId> = open
            .iter()
            .filter_map(|id| unread_answer(&store.requests, *id))
            .collect();
        let reported = reported.clone();
        use_effect_with(unread_open, move |ids| {
            for &id in ids {
                if reported.borrow_mut().insert(id) {
                    effects::quiet(MarkAnswerSeen { request_id: id });
                }
            }
        });
    }

    let toggle = {
        let open = open.clone();
        Callback::from(move |id: RequestId| {
            let mut next = (*open).clone();
            if !next.remove(&id) {
                next.insert(id);
            }
            open.set(next);
        })
    };
    let onkeydown = {
        let order = order.clone();
        Callback::from(move |e: KeyboardEvent| {
            let Some(at) = e
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|el| el.get_attribute("data-index"))
                .and_then(|i| i.parse::<usize>().ok())
            else {
                return;
            };
            if let Some(next) = step(at, order.len(), &e.key()) {
                e.prevent_default();
                focus_entry(order[next], false);
            }
        })
    };
    let set_filter = |f: Filter| {
        let filter = filter.clone();
        Callback::from(move |_: MouseEvent| filter.set(f))
    };
    let who_buttons = Who::ALL.map(|who| {
        let f = Filter { who, ..*filter };
        let active = filter.who == who;
        html! {
            <button class={classes!("segment", active.then_some("active"))} aria-pressed={active.to_string()}
                    id={format!("library-who-{}", who.key())} onclick={set_filter(f)}>
                { who.label() }<span class="segment-count">{ count(&all, f) }</span>
            </button>
        }
    });
    let state_buttons = StateFilter::ALL.map(|state| {
        let f = Filter { state, ..*filter };
        let active = filter.state == state;
        html! {
            <button class={classes!("segment", active.then_some("active"))} aria-pressed={active.to_string()}
                    id={format!("library-state-{}", state.key())} onclick={set_filter(f)}>
                { state.label() }<span class="segment-count">{ count(&all, f) }</span>
            </button>
        }
    });
    let ask = {
        let d = store.dispatcher();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::Open(Dialog::Ask(None))))
    };
    let view = ItemView {
        now_ms: store.now_ms,
        highlight: props.highlight,
        toggle,
        dispatch: store.dispatcher(),
        text_env,
    };
    html! {
        <Modal title="Knowledge library" id="requests-dialog" wide=true>
            <div class="library-filters">
                <div class="segmented" role="group" aria-label="Whose questions" id="library-who">
                    { for who_buttons }
                </div>
                <div class="segmented" role="group" aria-label="State" id="library-state">
                    { for state_buttons }
                </div>
            </div>
            <ul class="library" id="library-list" aria-label="Requests" {onkeydown}>
                if all.is_empty() {
                    <li class="empty">
                        { "Nothing asked yet. " }
                        <button class="link" id="library-ask" onclick={ask}>{ "Ask a teammate" }</button>
                    </li>
                } else if shown.is_empty() {
                    <li class="empty">{ "No requests match these filters." }</li>
                }
                { for shown.iter().enumerate().map(|(i, e)| view.item(i, e, open.contains(&e.request.id))) }
            </ul>
        </Modal>
    }
}

/// What every entry needs besides its request.
struct ItemView {
    now_ms: i64,
    highlight: Option<RequestId>,
    toggle: Callback<RequestId>,
    dispatch: Dispatch,
    text_env: TextEnv,
}

impl ItemView {
    /// One entry: a head that opens it (who, when, state), the question, and the outcome
    /// (the answer or the reason, clipped until opened; an unread answer only once opened).
    fn item(&self, index: usize, e: &Entry<'_>, open: bool) -> Html {
        let r = e.request;
        let id = r.id;
        let (kind, label) = match r.status {
            KnowledgeStatus::Pending => ("pending", "Waiting"),
            KnowledgeStatus::Approved => ("approved", "Answered"),
            KnowledgeStatus::Denied => ("denied", "Declined"),
        };
        let unread = e.unread();
        let who = match e.side {
            Side::Asked => format!("To {}", e.counterpart()),
            Side::Received => format!("From {}", e.counterpart()),
        };
        let onclick = self.toggle.reform(move |_: MouseEvent| id);
        // A click on the question opens the entry too, unless it was on a link in it.
        let on_question = {
            let toggle = self.toggle.clone();
            Callback::from(move |ev: MouseEvent| {
                let on_link = ev
                    .target()
                    .and_then(|t| t.dyn_into::<Element>().ok())
                    .and_then(|el| el.closest("a").ok().flatten())
                    .is_some();
                if !on_link {
                    toggle.emit(id);
                }
            })
        };
        let class = classes!(
            "library-item",
            kind,
            open.then_some("open"),
            unread.then_some("unread"),
            (self.highlight == Some(id)).then_some("highlight")
        );
        let side = if e.side == Side::Asked {
            "asked"
        } else {
            "received"
        };
        html! {
            <li key={id} {class} data-request-id={id.to_string()} data-state={kind} data-side={side}>
                <button class="library-head" id={head_id(id)} data-index={index.to_string()}
                        aria-expanded={open.to_string()} {onclick}>
                    <Avatar name={e.counterpart()} small=true />
                    <span class="grow library-who">
                        <span class="strong">{ who }</span>
                        <span class="muted small">{ format!(" · {}", age(&r.created_at, self.now_ms)) }</span>
                    </span>
                    if unread {
                        <span class="new-answer" title="A new answer you have not opened yet">{ "New" }</span>
                    }
                    <span class={classes!("chip", kind)}>{ label }</span>
                </button>
                <div class="library-question" onclick={on_question}>
                    <RichText text={r.question.clone()} env={self.text_env.clone()} />
                </div>
                { self.outcome(e, open) }
            </li>
        }
    }

    /// Under the question: the answer or reason with who and when, or what is awaited.
    fn outcome(&self, e: &Entry<'_>, open: bool) -> Html {
        let r = e.request;
        let when = r
            .answered_at
            .as_deref()
            .map(|at| age_words(at, self.now_ms))
            .filter(|w| !w.is_empty())
            .map(|w| format!(" {w}"))
            .unwrap_or_default();
        match r.status {
            KnowledgeStatus::Pending if e.side == Side::Received => {
                let (d, id) = (self.dispatch.clone(), r.id);
                let answer = Callback::from(move |_: MouseEvent| {
                    d.dispatch(Action::Open(Dialog::Respond(id)))
                });
                html! {
                    <div class="library-outcome">
                        <span class="muted small">{ e.outcome() }</span>
                        <button class="secondary small library-answer" onclick={answer}>{ "Answer…" }</button>
                    </div>
                }
            }
            KnowledgeStatus::Pending => html! {
                <div class="library-outcome"><span class="muted small">{ e.outcome() }</span></div>
            },
            _ if e.unread() && !open => html! {
                <div class="library-outcome">
                    <span class="muted small">{ format!("{}{when} · open to read", e.outcome()) }</span>
                </div>
            },
            status => {
                let declined = status == KnowledgeStatus::Denied;
                let text = r.response_content.clone().filter(|t| !t.trim().is_empty());
                html! {
                    <div class="library-outcome">
                        <span class="muted small">{ format!("{}{when}", e.outcome()) }</span>
                        if let Some(text) = text {
                            <div class={classes!(if declined { "reason" } else { "answer" }, (!open).then_some("clipped"))}>
                                <RichText {text} env={self.text_env.clone()} />
                            </div>
                        } else if declined {
                            <span class="muted small">{ " · no reason given" }</span>
                        }
                    </div>
                }
            }
        }
    }
}

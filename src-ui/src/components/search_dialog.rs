//! Search over everything cached: messages, and questions and answers, grouped by kind, with
//! the matching words highlighted (as text runs, never markup). A message hit opens its
//! conversation at that message; a question or answer opens it in the knowledge library.

use std::cell::RefCell;
use std::rc::Rc;

use confab_model::ipc::commands::Search;
use confab_model::ipc::{RequestHit, SearchHit, SearchResults};
use gloo_timers::callback::Timeout;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::commands::call;
use crate::components::modal::Modal;
use crate::logic::filter::highlight;
use crate::logic::format::list_time;
use crate::state::{Action, Dialog};
use crate::store::use_store;

/// The search dialog.
#[component(SearchDialog)]
pub fn search_dialog() -> Html {
    let store = use_store();
    let query = use_state(String::new);
    let hits = use_state(|| None::<Result<SearchResults, String>>);
    let timer = use_memo((), |_| Rc::new(RefCell::new(None::<Timeout>)));
    let input = use_node_ref();
    {
        let input = input.clone();
        use_effect_with((), move |_| {
            if let Some(el) = input.cast::<HtmlInputElement>() {
                let _ = el.focus();
            }
        });
    }
    let oninput = {
        let (query, hits, timer) = (query.clone(), hits.clone(), timer.clone());
        Callback::from(move |e: InputEvent| {
            let el: HtmlInputElement = e.target_unchecked_into();
            let q = el.value();
            query.set(q.clone());
            if q.trim().is_empty() {
                hits.set(None);
                timer.borrow_mut().take();
                return;
            }
            let hits = hits.clone();
            *timer.borrow_mut() = Some(Timeout::new(180, move || {
                wasm_bindgen_futures::spawn_local(async move {
                    let found = call(Search { query: q }).await;
                    hits.set(Some(found.map_err(|e| e.message)));
                });
            }));
        })
    };
    let d = store.dispatcher();
    let excerpt = |text: &str| {
        html! {
            <span class="block excerpt">
                { for highlight(text, &query).into_iter().map(|(run, hit)| {
                    if hit { html! { <mark>{ run }</mark> } } else { html! { { run } } }
                }) }
            </span>
        }
    };
    let message_row = |h: &SearchHit| {
        let (d, cid, seq) = (d.clone(), h.conversation_id, h.seq);
        let onclick = Callback::from(move |_: MouseEvent| match seq {
            Some(seq) => d.dispatch(Action::JumpTo {
                conversation_id: cid,
                seq,
            }),
            None => d.dispatch(Action::Select(cid)),
        });
        html! {
            <li key={h.client_id.clone()}>
                <button class="card-row message-hit" {onclick}>
                    <span class="grow">
                        <span class="strong">{ h.conversation_title.clone() }</span>
                        <span class="muted small">
                            { format!(" · {} · {}", h.sender_name, list_time(&h.created_at, store.now_ms, crate::zone::local())) }
                        </span>
                        { excerpt(&h.excerpt) }
                    </span>
                </button>
            </li>
        }
    };
    let request_row = |h: &RequestHit| {
        let (d, id) = (d.clone(), h.request.id);
        let onclick = Callback::from(move |_: MouseEvent| {
            d.dispatch(Action::Open(Dialog::Requests(Some(id))))
        });
        let r = &h.request;
        let who = if h.in_answer {
            format!(
                "Answer by {}",
                r.owner_name.clone().unwrap_or_else(|| "a teammate".into())
            )
        } else {
            format!("Asked by {}", r.requester_name)
        };
        html! {
            <li key={format!("r{}", r.id)}>
                <button class="card-row request-hit" {onclick}>
                    <span class="grow">
                        <span class="strong">{ r.question.clone() }</span>
                        <span class="muted small">
                            { format!(" · {who} · {}", list_time(&r.created_at, store.now_ms, crate::zone::local())) }
                        </span>
                        { excerpt(&h.excerpt) }
                    </span>
                </button>
            </li>
        }
    };
    let results = match &*hits {
        None => {
            html! { <p class="muted hint">{ "Search every message, question and answer saved on this computer." }</p> }
        }
        Some(Err(e)) => html! { <div class="form-error">{ e.clone() }</div> },
        Some(Ok(found)) if found.messages.is_empty() && found.requests.is_empty() => {
            html! { <p class="muted hint">{ "Nothing matches." }</p> }
        }
        Some(Ok(found)) => html! {
            <div id="search-results">
                if !found.messages.is_empty() {
                    <h3 class="group-head">{ format!("Messages ({})", found.messages.len()) }</h3>
                    <ul class="plain-list results" id="search-messages">
                        { for found.messages.iter().map(message_row) }
                    </ul>
                }
                if !found.requests.is_empty() {
                    <h3 class="group-head">{ format!("Questions and answers ({})", found.requests.len()) }</h3>
                    <ul class="plain-list results" id="search-requests">
                        { for found.requests.iter().map(request_row) }
                    </ul>
                }
            </div>
        },
    };
    html! {
        <Modal title="Search" id="search-dialog" wide=true>
            <input ref={input} class="search-input" id="search-input" type="search"
                   placeholder="Search messages, questions and answers…" value={(*query).clone()} {oninput} />
            { results }
        </Modal>
    }
}

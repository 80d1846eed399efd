//! Search over cached messages: type, see hits with the matching words highlighted (as text
//! runs, never markup), open the conversation.

use std::cell::RefCell;
use std::rc::Rc;

use confab_model::ipc::commands::Search;
use confab_model::ipc::SearchHit;
use gloo_timers::callback::Timeout;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::commands::call;
use crate::components::modal::Modal;
use crate::logic::filter::highlight;
use crate::logic::format::list_time;
use crate::state::Action;
use crate::store::use_store;

/// The search dialog.
#[component(SearchDialog)]
pub fn search_dialog() -> Html {
    let store = use_store();
    let query = use_state(String::new);
    let hits = use_state(|| None::<Result<Vec<SearchHit>, String>>);
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
    let results = match &*hits {
        None => {
            html! { <p class="muted hint">{ "Search every message saved on this computer." }</p> }
        }
        Some(Err(e)) => html! { <div class="form-error">{ e.clone() }</div> },
        Some(Ok(list)) if list.is_empty() => {
            html! { <p class="muted hint">{ "No messages match." }</p> }
        }
        Some(Ok(list)) => html! {
            <ul class="plain-list results" id="search-results">
                { for list.iter().map(|h| {
                    let (d, cid) = (d.clone(), h.conversation_id);
                    let onclick = Callback::from(move |_: MouseEvent| d.dispatch(Action::Select(cid)));
                    html! {
                        <li key={h.client_id.clone()}>
                            <button class="card-row" {onclick}>
                                <span class="grow">
                                    <span class="strong">{ h.conversation_title.clone() }</span>
                                    <span class="muted small">
                                        { format!(" · {} · {}", h.sender_name, list_time(&h.created_at, store.now_ms, store.offset_min)) }
                                    </span>
                                    <span class="block excerpt">
                                        { for highlight(&h.excerpt, &query).into_iter().map(|(run, hit)| {
                                            if hit { html! { <mark>{ run }</mark> } } else { html! { { run } } }
                                        }) }
                                    </span>
                                </span>
                            </button>
                        </li>
                    }
                }) }
            </ul>
        },
    };
    html! {
        <Modal title="Search messages" id="search-dialog" wide=true>
            <input ref={input} class="search-input" id="search-input" type="search"
                   placeholder="Search messages…" value={(*query).clone()} {oninput} />
            { results }
        </Modal>
    }
}

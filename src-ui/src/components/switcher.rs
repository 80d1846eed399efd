//! The quick switcher (Ctrl+K): type part of a title, arrows to move, Enter to open.

use std::rc::Rc;

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::avatar::Avatar;
use crate::components::modal::Modal;
use crate::components::picker::filter_oninput;
use crate::components::windowed_list::{WindowedList, CARD_ROW_PX};
use crate::logic::filter::conversations;
use crate::logic::keys::arrow_step;
use crate::state::Action;
use crate::store::use_store;

/// The element id of a conversation's option (the field's `aria-activedescendant`).
fn option_id(id: i64) -> String {
    format!("switcher-conversation-{id}")
}

/// The switcher.
#[component(Switcher)]
pub fn switcher() -> Html {
    let store = use_store();
    let query = use_state(String::new);
    let cursor = use_state(|| 0usize);
    let input = use_node_ref();
    {
        let input = input.clone();
        use_effect_with((), move |_| {
            if let Some(el) = input.cast::<HtmlInputElement>() {
                let _ = el.focus();
            }
        });
    }
    let matches: Rc<Vec<_>> = Rc::new(
        conversations(&store.conversations, &query)
            .into_iter()
            .map(|c| (c.id, c.title.clone(), c.direct_peer_id))
            .collect(),
    );
    let ids: Vec<i64> = matches.iter().map(|m| m.0).collect();
    let oninput = filter_oninput(&query, &cursor);
    let onkeydown = {
        let (cursor, d) = (cursor.clone(), store.dispatcher());
        Callback::from(move |e: KeyboardEvent| {
            if let Some(next) = arrow_step(&e.key(), *cursor, ids.len()) {
                e.prevent_default();
                cursor.set(next);
                return;
            }
            if e.key() == "Enter" {
                e.prevent_default();
                if let Some(id) = ids.get(*cursor) {
                    d.dispatch(Action::Select(*id));
                }
            }
        })
    };
    // Only the rows in view are rendered: an empty query lists every conversation.
    let row = {
        let (store, matches, cursor) = (store.clone(), Rc::clone(&matches), *cursor);
        let hints = query.is_empty();
        Callback::from(move |i: usize| {
            let Some((id, title, peer)) = matches.get(i).cloned() else {
                return html! {};
            };
            let d = store.dispatcher();
            let onclick = Callback::from(move |_: MouseEvent| d.dispatch(Action::Select(id)));
            let online = peer.map(|p| store.is_online(p));
            html! {
                <li key={id} id={option_id(id)} role="option" aria-selected={(i == cursor).to_string()}
                    aria-setsize={matches.len().to_string()} aria-posinset={(i + 1).to_string()}>
                    <button class={classes!("card-row", (i == cursor).then_some("active"))}
                            data-conversation-id={id.to_string()} {onclick}>
                        <Avatar name={title.clone()} small=true {online} />
                        <span class="grow strong">{ title }</span>
                        if i < 9 && hints { <kbd>{ format!("Ctrl {}", i + 1) }</kbd> }
                    </button>
                </li>
            }
        })
    };
    // A keyboard step or a new filter brings the active row into view.
    let reveal_key = AttrValue::from(format!("{}\u{0}{}", *cursor, *query));
    let active = matches.get(*cursor).map(|m| option_id(m.0));
    html! {
        <Modal title="Go to conversation" id="switcher">
            <input ref={input} class="search-input" id="switcher-input" type="text"
                   placeholder="Type a name…" value={(*query).clone()} {oninput} {onkeydown}
                   aria-controls="switcher-results" aria-activedescendant={active} autocomplete="off" />
            <WindowedList id="switcher-results" class="plain-list results-window" role="listbox"
                          label="Conversations" count={matches.len()} row_height={CARD_ROW_PX}
                          row={row} reveal={Some((*cursor, reveal_key))}>
                if matches.is_empty() {
                    <li class="empty">{ "No conversation matches." }</li>
                }
            </WindowedList>
        </Modal>
    }
}

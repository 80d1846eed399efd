//! The quick switcher (Ctrl+K): type part of a title, arrows to move, Enter to open.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::avatar::Avatar;
use crate::components::modal::Modal;
use crate::logic::filter::conversations;
use crate::logic::keys::arrow_step;
use crate::state::Action;
use crate::store::use_store;

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
    let matches: Vec<_> = conversations(&store.conversations, &query)
        .into_iter()
        .map(|c| (c.id, c.title.clone(), c.direct_peer_id))
        .collect();
    let ids: Vec<i64> = matches.iter().map(|m| m.0).collect();
    let oninput = {
        let (query, cursor) = (query.clone(), cursor.clone());
        Callback::from(move |e: InputEvent| {
            let el: HtmlInputElement = e.target_unchecked_into();
            query.set(el.value());
            cursor.set(0);
        })
    };
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
    let d = store.dispatcher();
    html! {
        <Modal title="Go to conversation" id="switcher">
            <input ref={input} class="search-input" id="switcher-input" type="text"
                   placeholder="Type a name…" value={(*query).clone()} {oninput} {onkeydown} />
            <ul class="plain-list">
                if matches.is_empty() {
                    <li class="empty">{ "No conversation matches." }</li>
                }
                { for matches.into_iter().enumerate().map(|(i, (id, title, peer))| {
                    let d = d.clone();
                    let onclick = Callback::from(move |_: MouseEvent| d.dispatch(Action::Select(id)));
                    let online = peer.map(|p| store.is_online(p));
                    html! {
                        <li key={id}>
                            <button class={classes!("card-row", (i == *cursor).then_some("active"))} {onclick}>
                                <Avatar name={title.clone()} small=true {online} />
                                <span class="grow strong">{ title }</span>
                                if i < 9 && query.is_empty() { <kbd>{ format!("Ctrl {}", i + 1) }</kbd> }
                            </button>
                        </li>
                    }
                }) }
            </ul>
        </Modal>
    }
}

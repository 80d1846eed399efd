//! What the pickers share: the filter field's input handler (the switcher, the new-conversation
//! dialog, the ask dialog's teammate field) and a teammate's option row in a listbox.
//!
//! What it never does: hold state of its own; each picker keeps its query and cursor.

use confab_model::UserId;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::avatar::Avatar;

/// The filter field's `oninput`: the new query, and the cursor back on the first match.
pub fn filter_oninput(
    query: &UseStateHandle<String>,
    cursor: &UseStateHandle<usize>,
) -> Callback<InputEvent> {
    let (query, cursor) = (query.clone(), cursor.clone());
    Callback::from(move |e: InputEvent| {
        let el: HtmlInputElement = e.target_unchecked_into();
        query.set(el.value());
        cursor.set(0);
    })
}

/// One teammate among `count` matches, at `index`.
pub struct PersonOption {
    /// The option's element id (the field's `aria-activedescendant` names it).
    pub dom_id: String,
    /// Its place among the matches, from 0.
    pub index: usize,
    /// How many matches there are.
    pub count: usize,
    /// Under the cursor.
    pub active: bool,
    /// The teammate.
    pub id: UserId,
    /// Their name, as shown.
    pub name: String,
    /// Online now.
    pub online: bool,
    /// Chooses them.
    pub onclick: Callback<MouseEvent>,
}

/// The option row: avatar with presence, name, "online". Not a tab stop: focus stays in the
/// field and the arrows move the cursor (the listbox pattern).
pub fn person_option(o: PersonOption) -> Html {
    let PersonOption {
        dom_id,
        index,
        count,
        active,
        id,
        name,
        online,
        onclick,
    } = o;
    html! {
        <li key={id} id={dom_id} role="option" aria-selected={active.to_string()}
            aria-setsize={count.to_string()} aria-posinset={(index + 1).to_string()}>
            <button type="button" data-user-id={id.to_string()} tabindex="-1"
                    class={classes!("card-row", active.then_some("active"))} {onclick}>
                <Avatar name={name.clone()} small=true online={Some(online)} />
                <span class="grow strong">{ name }</span>
                if online { <span class="muted small">{ "online" }</span> }
            </button>
        </li>
    }
}

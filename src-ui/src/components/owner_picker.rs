//! Who a question goes to, in the ask dialog: type to filter the team (online first), arrows to
//! move, Enter or a click to choose. The chosen teammate shows as a chip; removing it (a click,
//! or Backspace on it) brings the field back. The list is windowed like the new-conversation
//! picker's, so 500 teammates filter within a frame.
//!
//! What it never does: render the whole team (a native `<select>` built 500 options and could
//! only jump to a name's first letters, not filter by any word of it).

use std::rc::Rc;

use confab_model::ipc::Teammate;
use confab_model::UserId;
use web_sys::HtmlElement;
use yew::prelude::*;

use crate::components::picker::{filter_oninput, person_option, PersonOption};
use crate::components::windowed_list::{WindowedList, CARD_ROW_PX};
use crate::logic::filter::teammates;
use crate::logic::keys::arrow_step;

/// Properties of [`OwnerPicker`].
#[derive(Properties, PartialEq)]
pub struct OwnerPickerProps {
    /// The team's directory.
    pub people: Rc<Vec<Teammate>>,
    /// Me, left out of the list.
    pub me: Option<UserId>,
    /// Who is chosen.
    pub chosen: Option<UserId>,
    /// A teammate was chosen, or the choice was removed (`None`).
    pub onpick: Callback<Option<UserId>>,
}

/// The element id of a teammate's option (the field's `aria-activedescendant`).
fn option_id(id: UserId) -> String {
    format!("ask-owner-person-{id}")
}

/// The picker.
#[component(OwnerPicker)]
pub fn owner_picker(props: &OwnerPickerProps) -> Html {
    let query = use_state(String::new);
    let cursor = use_state(|| 0usize);
    let field = use_node_ref();
    let chip = use_node_ref();
    // Focus follows the choice: to the chip once chosen, back to the field once removed (not
    // on the first render: the dialog decides where it starts).
    let first = use_mut_ref(|| true);
    {
        let (field, chip) = (field.clone(), chip.clone());
        use_effect_with(props.chosen, move |chosen| {
            if std::mem::replace(&mut *first.borrow_mut(), false) {
                return;
            }
            let target = if chosen.is_some() { chip } else { field };
            if let Some(el) = target.cast::<HtmlElement>() {
                let _ = el.focus();
            }
        });
    }

    if let Some(id) = props.chosen {
        let name = props
            .people
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| format!("User {id}"), |t| t.name.clone());
        let onpick = props.onpick.clone();
        let onclick = onpick.reform(|_: MouseEvent| None);
        let onkeydown = Callback::from(move |e: KeyboardEvent| {
            if matches!(e.key().as_str(), "Backspace" | "Delete") {
                e.prevent_default();
                onpick.emit(None);
            }
        });
        return html! {
            <div class="member-chips" id="ask-owner">
                <button ref={chip} type="button" class="member-chip" id="ask-owner-chosen"
                        data-user-id={id.to_string()} aria-label={format!("{name}: choose someone else")}
                        {onclick} {onkeydown}>
                    { name }<span aria-hidden="true">{ " ×" }</span>
                </button>
            </div>
        };
    }

    let shown: Rc<Vec<(UserId, String, bool)>> = Rc::new(
        teammates(&props.people, &query, props.me.as_slice())
            .into_iter()
            .map(|t| (t.id, t.name.clone(), t.online))
            .collect(),
    );
    let oninput = filter_oninput(&query, &cursor);
    let onkeydown = {
        let (cursor, shown, onpick) = (cursor.clone(), Rc::clone(&shown), props.onpick.clone());
        Callback::from(move |e: KeyboardEvent| {
            if let Some(next) = arrow_step(&e.key(), *cursor, shown.len()) {
                e.prevent_default();
                cursor.set(next);
            } else if e.key() == "Enter" {
                // Enter picks; it never sends the form with no one chosen.
                e.prevent_default();
                if let Some((id, ..)) = shown.get(*cursor) {
                    onpick.emit(Some(*id));
                }
            }
        })
    };
    let row = {
        let (shown, onpick, cursor) = (Rc::clone(&shown), props.onpick.clone(), *cursor);
        Callback::from(move |i: usize| {
            let Some((id, name, on)) = shown.get(i).cloned() else {
                return html! {};
            };
            person_option(PersonOption {
                dom_id: option_id(id),
                index: i,
                count: shown.len(),
                active: i == cursor,
                id,
                name,
                online: on,
                onclick: onpick.reform(move |_: MouseEvent| Some(id)),
            })
        })
    };
    let reveal_key = AttrValue::from(format!("{}\u{0}{}", *cursor, *query));
    let active = shown.get(*cursor).map(|(id, ..)| option_id(*id));
    html! {
        <div class="picker" id="ask-owner">
            <div class="member-chips">
                <input ref={field} class="member-chip-input" id="ask-owner-query" type="text"
                       placeholder="Type a teammate's name…" value={(*query).clone()}
                       {oninput} {onkeydown} autocomplete="off" role="combobox"
                       aria-expanded="true" aria-controls="ask-owner-people"
                       aria-activedescendant={active} />
            </div>
            <WindowedList id="ask-owner-people" class="plain-list people" role="listbox"
                          label="Teammates" count={shown.len()} row_height={CARD_ROW_PX}
                          row={row} reveal={Some((*cursor, reveal_key))}>
                if shown.is_empty() {
                    <li class="empty">{ if props.people.iter().all(|t| Some(t.id) == props.me) { "No teammates yet." } else { "No one matches." } }</li>
                }
            </WindowedList>
        </div>
    }
}

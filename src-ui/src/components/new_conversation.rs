//! The "New conversation" dialog, keyboard first: type to filter teammates (online first),
//! arrows to move, Enter to pick (or, with people picked and nothing typed, to start),
//! Backspace on an empty field to drop the last one. One teammate opens the direct conversation
//! with them (the one already here opens at once, even offline); several make a group with an
//! optional name.
//!
//! What it never does: queue a conversation while offline. The server decides (it keeps one
//! direct conversation per pair, it may refuse a teammate), so offline the dialog says it needs
//! the connection and starts nothing.

use std::rc::Rc;

use confab_model::ipc::commands::CreateConversation;
use confab_model::ipc::{ConnectionStatus, ConversationSummary};
use confab_model::{ConversationKind, UserId};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::commands::call;
use crate::components::modal::Modal;
use crate::components::picker::{filter_oninput, person_option, PersonOption};
use crate::components::windowed_list::{WindowedList, CARD_ROW_PX};
use crate::logic::filter::teammates;
use crate::logic::keys::arrow_step;
use crate::state::Action;
use crate::store::use_store;

/// The direct conversation with `peer` already cached, if any.
fn direct_with(list: &[ConversationSummary], peer: UserId) -> Option<i64> {
    list.iter()
        .find(|c| c.kind == ConversationKind::Direct && c.direct_peer_id == Some(peer))
        .map(|c| c.id)
}

/// The element id of a teammate's option (the field's `aria-activedescendant`).
fn option_id(id: UserId) -> String {
    format!("new-conversation-person-{id}")
}

/// The dialog.
#[component(NewConversationDialog)]
pub fn new_conversation_dialog() -> Html {
    let store = use_store();
    let query = use_state(String::new);
    let cursor = use_state(|| 0usize);
    let chosen = use_state(Vec::<UserId>::new);
    let title = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let input = use_node_ref();
    {
        let input = input.clone();
        use_effect_with((), move |_| {
            if let Some(el) = input.cast::<HtmlInputElement>() {
                let _ = el.focus();
            }
        });
    }
    let online = store.connection == ConnectionStatus::Connected;
    // Presence is looked up for the rows on screen only: for all 500 it is 500 × the team.
    let matches: Rc<Vec<(UserId, String)>> = Rc::new(
        teammates(&store.teammates, &query, &chosen)
            .into_iter()
            .map(|t| (t.id, t.name.clone()))
            .collect(),
    );

    let start = {
        let (chosen, title, busy, error, d) = (
            chosen.clone(),
            title.clone(),
            busy.clone(),
            error.clone(),
            store.dispatcher(),
        );
        // The handle, not a copy of the list: this runs once, a render runs per keystroke.
        let list = store.clone();
        Callback::from(move |()| {
            let members = (*chosen).clone();
            if members.is_empty() {
                error.set(Some("Choose at least one teammate.".into()));
                return;
            }
            if let [peer] = members[..] {
                if let Some(id) = direct_with(&list.conversations, peer) {
                    d.dispatch(Action::Select(id));
                    d.dispatch(Action::CloseDialog);
                    return;
                }
            }
            if !online {
                error.set(Some(
                    "Starting a conversation needs the connection. Try again when Confab is back online."
                        .into(),
                ));
                return;
            }
            let name = (members.len() > 1)
                .then(|| title.trim().to_owned())
                .filter(|t| !t.is_empty());
            busy.set(true);
            error.set(None);
            let (busy, error, d) = (busy.clone(), error.clone(), d.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match call(CreateConversation {
                    member_ids: members,
                    title: name,
                })
                .await
                {
                    Ok(id) => {
                        d.dispatch(Action::Select(id));
                        d.dispatch(Action::FocusComposer);
                    }
                    Err(e) => {
                        busy.set(false);
                        error.set(Some(e.message));
                    }
                }
            });
        })
    };
    let pick = {
        let (chosen, query, cursor) = (chosen.clone(), query.clone(), cursor.clone());
        Callback::from(move |id: UserId| {
            let mut list = (*chosen).clone();
            if !list.contains(&id) {
                list.push(id);
            }
            chosen.set(list);
            query.set(String::new());
            cursor.set(0);
        })
    };
    let unpick = {
        let chosen = chosen.clone();
        Callback::from(move |id: UserId| {
            chosen.set(chosen.iter().copied().filter(|c| *c != id).collect());
        })
    };
    let oninput = filter_oninput(&query, &cursor);
    let onkeydown = {
        let (cursor, query, chosen) = (cursor.clone(), query.clone(), chosen.clone());
        let ids: Vec<UserId> = matches.iter().map(|m| m.0).collect();
        let (pick, unpick, start) = (pick.clone(), unpick.clone(), start.clone());
        Callback::from(move |e: KeyboardEvent| {
            if let Some(next) = arrow_step(&e.key(), *cursor, ids.len()) {
                e.prevent_default();
                cursor.set(next);
                return;
            }
            match e.key().as_str() {
                "Enter" => {
                    e.prevent_default();
                    if (e.ctrl_key() || query.trim().is_empty()) && !chosen.is_empty() {
                        start.emit(());
                    } else if let Some(id) = ids.get(*cursor) {
                        pick.emit(*id);
                    }
                }
                "Backspace" if query.is_empty() => {
                    if let Some(last) = chosen.last() {
                        unpick.emit(*last);
                    }
                }
                _ => {}
            }
        })
    };
    let ontitle = {
        let title = title.clone();
        Callback::from(move |e: InputEvent| {
            let el: HtmlInputElement = e.target_unchecked_into();
            title.set(el.value());
        })
    };
    let onsubmit = {
        let start = start.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            start.emit(());
        })
    };
    let row = {
        let (store, matches, pick, cursor) =
            (store.clone(), Rc::clone(&matches), pick.clone(), *cursor);
        Callback::from(move |i: usize| {
            let Some((id, name)) = matches.get(i).cloned() else {
                return html! {};
            };
            let on = store.is_online(id);
            let pick = pick.clone();
            person_option(PersonOption {
                dom_id: option_id(id),
                index: i,
                count: matches.len(),
                active: i == cursor,
                id,
                name,
                online: on,
                onclick: Callback::from(move |_: MouseEvent| pick.emit(id)),
            })
        })
    };
    // A keyboard step or a new filter brings the active row into view.
    let reveal_key = AttrValue::from(format!("{}\u{0}{}", *cursor, *query));
    let active = matches.get(*cursor).map(|(id, _)| option_id(*id));
    let group = chosen.len() > 1;
    let action = match chosen.len() {
        0 => "Start conversation".to_owned(),
        1 => "Open direct conversation".to_owned(),
        n => format!("Start group of {}", n + 1),
    };
    html! {
        <Modal title="New conversation" id="new-conversation-dialog">
            <form {onsubmit}>
                <div class="picker">
                    <div class="member-chips" id="chosen-members">
                        { for chosen.iter().map(|id| {
                            // Looked up for the chosen few, not a map of the whole team per keystroke.
                            let name = store.name_of(*id)
                                .map_or_else(|| format!("User {id}"), str::to_owned);
                            let (unpick, id) = (unpick.clone(), *id);
                            let onclick = Callback::from(move |_: MouseEvent| unpick.emit(id));
                            html! {
                                <button type="button" class="member-chip" data-user-id={id.to_string()} {onclick}
                                        aria-label={format!("Remove {name}")}>
                                    { name }<span aria-hidden="true">{ " ×" }</span>
                                </button>
                            }
                        }) }
                        <input ref={input} class="member-chip-input" id="new-conversation-query" type="text"
                               placeholder={if chosen.is_empty() { "Type a teammate's name…" } else { "Add another…" }}
                               value={(*query).clone()} {oninput} {onkeydown}
                               aria-controls="new-conversation-people" aria-activedescendant={active}
                               autocomplete="off" />
                    </div>
                    <WindowedList id="new-conversation-people" class="plain-list people" role="listbox"
                                  label="Teammates" count={matches.len()} row_height={CARD_ROW_PX}
                                  row={row} reveal={Some((*cursor, reveal_key))}>
                        if matches.is_empty() {
                            <li class="empty">{ if store.teammates.is_empty() { "No teammates yet." } else { "No one matches." } }</li>
                        }
                    </WindowedList>
                </div>
                if group {
                    <label class="field">
                        <span>{ "Group name (optional)" }</span>
                        <input id="new-conversation-title" type="text" maxlength="200"
                               value={(*title).clone()} oninput={ontitle}
                               placeholder="e.g. Release crew" />
                    </label>
                }
                if !online {
                    <p class="muted hint" id="new-conversation-offline">
                        { "You're offline. Starting a conversation needs the connection; your existing direct conversations still open." }
                    </p>
                }
                if let Some(e) = &*error {
                    <div class="form-error" role="alert">{ e.clone() }</div>
                }
                <div class="dialog-actions">
                    <span class="muted small grow">{ "Enter picks · Enter on an empty field starts" }</span>
                    <button class="primary" type="submit" id="new-conversation-start"
                            disabled={*busy || chosen.is_empty()}>
                        { if *busy { "Starting…".to_owned() } else { action } }
                    </button>
                </div>
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_direct_conversation_with_a_peer_is_found_and_a_group_of_two_is_not() {
        let mut direct = crate::state::tests::conv(5, 0);
        direct.direct_peer_id = Some(2);
        let mut group = crate::state::tests::conv(6, 0);
        group.kind = ConversationKind::Group;
        group.direct_peer_id = None;
        let list = [group, direct];
        assert_eq!(direct_with(&list, 2), Some(5));
        assert_eq!(direct_with(&list, 3), None);
    }
}

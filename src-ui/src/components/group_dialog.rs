//! A group's settings: its name, who is in it, adding people, leaving. Every member's sidebar
//! shows a change at once (the server tells each of them).
//!
//! What it never does: change anything offline. Renaming, adding and leaving need the server's
//! answer (it may refuse), so offline the buttons say so instead of queueing.

use confab_model::ipc::commands::{AddMembers, LeaveConversation, Members, RenameConversation};
use confab_model::ipc::ConnectionStatus;
use confab_model::{ConversationId, UserId};
use std::rc::Rc;

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::commands::call;
use crate::components::avatar::Avatar;
use crate::components::modal::Modal;
use crate::components::windowed_list::{WindowedList, CARD_ROW_PX};
use crate::logic::filter::teammates;
use crate::state::Action;
use crate::store::use_store;

/// Properties of [`GroupDialog`].
#[derive(Properties, PartialEq)]
pub struct GroupDialogProps {
    /// The group.
    pub conversation_id: ConversationId,
}

/// What the dialog is busy with, or failed at.
#[derive(Clone, PartialEq)]
enum Status {
    Idle,
    Busy,
    Failed(String),
}

/// The group dialog.
#[component(GroupDialog)]
pub fn group_dialog(props: &GroupDialogProps) -> Html {
    let store = use_store();
    let conv = store
        .conversations
        .iter()
        .find(|c| c.id == props.conversation_id)
        .cloned();
    let title = use_state(|| conv.as_ref().map(|c| c.title.clone()).unwrap_or_default());
    let query = use_state(String::new);
    let adding = use_state(Vec::<UserId>::new);
    let confirm_leave = use_state(|| false);
    let status = use_state(|| Status::Idle);
    // Who is in it, read from the cache (the list's summary carries only how many): when the
    // dialog opens and whenever the core publishes the summary again (a join or a leave
    // republishes it; so does a message, which costs one more read while the dialog is open).
    let members = use_state(|| Rc::new(Vec::<UserId>::new()));
    {
        let members = members.clone();
        use_effect_with((props.conversation_id, conv.clone()), move |(id, _)| {
            let (conversation_id, members) = (*id, members.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(ids) = call(Members { conversation_id }).await {
                    members.set(Rc::new(ids));
                }
            });
        });
    }
    let Some(conv) = conv else {
        return html! {
            <Modal title="Group" id="group-dialog">
                <p class="muted">{ "This conversation is no longer in your list." }</p>
            </Modal>
        };
    };
    let id = conv.id;
    let online = store.connection == ConnectionStatus::Connected;
    let me = store.session.as_ref().map(|s| (s.user_id, s.name.clone()));
    let busy = *status == Status::Busy;

    // Runs one change against the server; `done` decides what happens after success.
    let run = {
        let (status, d) = (status.clone(), store.dispatcher());
        move |work: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>>>>,
              toast: String| {
            status.set(Status::Busy);
            let (status, d) = (status.clone(), d.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match work.await {
                    Ok(()) => {
                        status.set(Status::Idle);
                        d.dispatch(Action::Toast(toast));
                    }
                    Err(e) => status.set(Status::Failed(e)),
                }
            });
        }
    };
    let offline_error = {
        let status = status.clone();
        move || {
            status.set(Status::Failed(
                "This needs the connection. Try again when Confab is back online.".into(),
            ));
        }
    };

    let rename = {
        let (title, run, offline_error) = (title.clone(), run.clone(), offline_error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if !online {
                offline_error();
                return;
            }
            let t = title.trim().to_owned();
            let toast = format!("Renamed to {t}.");
            run(
                Box::pin(async move {
                    call(RenameConversation {
                        conversation_id: id,
                        title: t,
                    })
                    .await
                    .map_err(|e| e.message)
                }),
                toast,
            );
        })
    };
    let ontitle = {
        let title = title.clone();
        Callback::from(move |e: InputEvent| {
            let el: HtmlInputElement = e.target_unchecked_into();
            title.set(el.value());
        })
    };
    let onquery = {
        let query = query.clone();
        Callback::from(move |e: InputEvent| {
            let el: HtmlInputElement = e.target_unchecked_into();
            query.set(el.value());
        })
    };
    let toggle = {
        let adding = adding.clone();
        Callback::from(move |user: UserId| {
            let mut list = (*adding).clone();
            match list.iter().position(|u| *u == user) {
                Some(i) => {
                    list.remove(i);
                }
                None => list.push(user),
            }
            adding.set(list);
        })
    };
    let add = {
        let (adding, query, run, offline_error) = (
            adding.clone(),
            query.clone(),
            run.clone(),
            offline_error.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            if !online {
                offline_error();
                return;
            }
            let members = (*adding).clone();
            let n = members.len();
            adding.set(Vec::new());
            query.set(String::new());
            run(
                Box::pin(async move {
                    call(AddMembers {
                        conversation_id: id,
                        member_ids: members,
                    })
                    .await
                    .map_err(|e| e.message)
                }),
                if n == 1 {
                    "Added one person.".into()
                } else {
                    format!("Added {n} people.")
                },
            );
        })
    };
    let leave = {
        let (confirm_leave, status, d) =
            (confirm_leave.clone(), status.clone(), store.dispatcher());
        let group_title = conv.title.clone();
        Callback::from(move |_: MouseEvent| {
            if !online {
                offline_error();
                return;
            }
            if !*confirm_leave {
                confirm_leave.set(true);
                return;
            }
            status.set(Status::Busy);
            let (status, d, group_title) = (status.clone(), d.clone(), group_title.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match call(LeaveConversation {
                    conversation_id: id,
                })
                .await
                {
                    Ok(()) => {
                        d.dispatch(Action::CloseDialog);
                        d.dispatch(Action::Toast(format!("You left {group_title}.")));
                    }
                    Err(e) => status.set(Status::Failed(e.message)),
                }
            });
        })
    };

    // Eight at most, and presence looked up for those only: for a team of 500 it is 500 × the
    // team per keystroke.
    let candidates: Vec<(UserId, String, bool)> = teammates(&store.teammates, &query, &members)
        .into_iter()
        .take(8)
        .map(|t| (t.id, t.name.clone(), store.is_online(t.id)))
        .collect();
    // Names and presence are looked up for the rendered rows only.
    let members = Rc::clone(&*members);
    let member_row = {
        let (members, store) = (Rc::clone(&members), store.clone());
        Callback::from(move |i: usize| {
            let Some(&m) = members.get(i) else {
                return Html::default();
            };
            let name = match &me {
                Some((my_id, my_name)) if *my_id == m => format!("{my_name} (you)"),
                _ => store
                    .name_of(m)
                    .map_or_else(|| format!("User {m}"), str::to_owned),
            };
            html! {
                <li key={m} class="person" data-user-id={m.to_string()}
                    aria-setsize={members.len().to_string()} aria-posinset={(i + 1).to_string()}>
                    <div class="card-row static">
                        <Avatar name={name.clone()} small=true online={Some(store.is_online(m))} />
                        <span class="grow">{ name }</span>
                    </div>
                </li>
            }
        })
    };

    html! {
        <Modal title="Group" id="group-dialog">
            <form class="inline-form" onsubmit={rename}>
                <label class="field grow">
                    <span>{ "Name" }</span>
                    <input id="group-title" type="text" maxlength="200" value={(*title).clone()}
                           oninput={ontitle} />
                </label>
                <button class="primary" type="submit" id="group-rename"
                        disabled={busy || title.trim().is_empty() || title.trim() == conv.title}>
                    { "Rename" }
                </button>
            </form>
            <h3 class="group-head">{ format!("Members ({})", conv.member_count) }</h3>
            // Windowed: a group of the whole team (500) costs what a group of eight does.
            <WindowedList id="group-members" class="plain-list people members" label="Members"
                          count={members.len()} row_height={CARD_ROW_PX} row={member_row} />
            <h3 class="group-head">{ "Add people" }</h3>
            <input class="search-input" id="group-add-query" type="text" placeholder="Type a name…"
                   value={(*query).clone()} oninput={onquery} autocomplete="off" />
            <ul class="plain-list people" id="group-candidates">
                if candidates.is_empty() {
                    <li class="empty">{ "Everyone matching is already here." }</li>
                }
                { for candidates.iter().map(|(uid, name, on)| {
                    let (toggle, uid) = (toggle.clone(), *uid);
                    let picked = adding.contains(&uid);
                    let onclick = Callback::from(move |_: MouseEvent| toggle.emit(uid));
                    html! {
                        <li key={uid}>
                            <button type="button" data-user-id={uid.to_string()} aria-pressed={picked.to_string()}
                                    class={classes!("card-row", picked.then_some("active"))} {onclick}>
                                <Avatar name={name.clone()} small=true online={Some(*on)} />
                                <span class="grow strong">{ name.clone() }</span>
                                if picked { <span class="muted small">{ "will be added" }</span> }
                            </button>
                        </li>
                    }
                }) }
            </ul>
            if let Status::Failed(e) = &*status {
                <div class="form-error" role="alert">{ e.clone() }</div>
            }
            <div class="dialog-actions">
                <button class="danger ghost" id="group-leave" onclick={leave} disabled={busy}>
                    { if *confirm_leave { "Really leave? Click again" } else { "Leave group" } }
                </button>
                <span class="grow" />
                <button class="primary" id="group-add" onclick={add}
                        disabled={busy || adding.is_empty()}>
                    { match adding.len() { 0 | 1 => "Add".to_owned(), n => format!("Add {n}") } }
                </button>
            </div>
        </Modal>
    }
}

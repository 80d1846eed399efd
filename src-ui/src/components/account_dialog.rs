//! The account dialog: who is signed in, where; changing the password; signing out on every
//! device.
//!
//! What it never does: keep a password once the form is done (the fields are cleared), or act
//! offline. Both actions need the server's answer, so offline they say so instead of queueing.

use confab_model::ipc::commands::{ChangePassword, SignOutEverywhere};
use confab_model::ipc::ConnectionStatus;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::commands::call;
use crate::components::modal::Modal;
use crate::logic::form;
use crate::state::Action;
use crate::store::use_store;

/// What the dialog is busy with, or failed at.
#[derive(Clone, PartialEq)]
enum Status {
    Idle,
    Busy,
    Failed(String),
}

const OFFLINE: &str = "This needs the connection. Try again when Confab is back online.";

fn bind(state: &UseStateHandle<String>) -> Callback<InputEvent> {
    let state = state.clone();
    Callback::from(move |e: InputEvent| {
        let el: HtmlInputElement = e.target_unchecked_into();
        state.set(el.value());
    })
}

/// The account dialog.
#[component(AccountDialog)]
pub fn account_dialog() -> Html {
    let store = use_store();
    let current = use_state(String::new);
    let new = use_state(String::new);
    let repeated = use_state(String::new);
    let status = use_state(|| Status::Idle);
    let confirm_everywhere = use_state(|| false);
    let online = store.connection == ConnectionStatus::Connected;
    let busy = *status == Status::Busy;

    let change = {
        let (current, new, repeated, status, d) = (
            current.clone(),
            new.clone(),
            repeated.clone(),
            status.clone(),
            store.dispatcher(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if !online {
                return status.set(Status::Failed(OFFLINE.into()));
            }
            let req = match form::password_change(&current, &new, &repeated) {
                Ok(req) => req,
                Err(sentence) => return status.set(Status::Failed(sentence)),
            };
            status.set(Status::Busy);
            let (current, new, repeated, status, d) = (
                current.clone(),
                new.clone(),
                repeated.clone(),
                status.clone(),
                d.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let done = call(ChangePassword {
                    current: req.current_password,
                    new: req.new_password,
                })
                .await;
                match done {
                    Ok(()) => {
                        for field in [&current, &new, &repeated] {
                            field.set(String::new());
                        }
                        d.dispatch(Action::CloseDialog);
                        d.dispatch(Action::Toast(
                            "Password changed. Your other devices are signed out.".into(),
                        ));
                    }
                    Err(e) => status.set(Status::Failed(e.message)),
                }
            });
        })
    };
    let everywhere = {
        let (confirm, status) = (confirm_everywhere.clone(), status.clone());
        Callback::from(move |_: MouseEvent| {
            if !online {
                return status.set(Status::Failed(OFFLINE.into()));
            }
            if !*confirm {
                return confirm.set(true);
            }
            status.set(Status::Busy);
            let status = status.clone();
            // Success needs nothing here: `SignedOut`, then `SessionEnded` with the sentence,
            // return the window to the sign-in form.
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = call(SignOutEverywhere {}).await {
                    status.set(Status::Failed(e.message));
                }
            });
        })
    };

    let (name, email, server) = store
        .session
        .as_ref()
        .map(|s| (s.name.clone(), s.email.clone(), s.server_url.clone()))
        .unwrap_or_default();
    html! {
        <Modal title="Account" id="account-dialog">
            <dl class="account-facts">
                <dt>{ "Name" }</dt><dd id="account-name">{ name }</dd>
                <dt>{ "Email" }</dt><dd id="account-email">{ email }</dd>
                <dt>{ "Server" }</dt><dd id="account-server">{ server }</dd>
            </dl>
            <h3 class="group-head">{ "Change password" }</h3>
            <form class="stack-form" id="password-form" onsubmit={change}>
                <label class="field">
                    <span>{ "Current password" }</span>
                    <input id="password-current" type="password" autocomplete="current-password"
                           value={(*current).clone()} oninput={bind(&current)} />
                </label>
                <label class="field">
                    <span>{ "New password" }</span>
                    <input id="password-new" type="password" autocomplete="new-password"
                           value={(*new).clone()} oninput={bind(&new)} />
                </label>
                <label class="field">
                    <span>{ "New password again" }</span>
                    <input id="password-repeat" type="password" autocomplete="new-password"
                           value={(*repeated).clone()} oninput={bind(&repeated)} />
                </label>
                <p class="muted small">
                    { "At least 8 characters. You stay signed in here; every other device is signed out." }
                </p>
                <div class="dialog-actions">
                    <span class="grow" />
                    <button class="primary" type="submit" id="password-submit"
                            disabled={busy || current.is_empty() || new.is_empty()}>
                        { if busy { "Changing…" } else { "Change password" } }
                    </button>
                </div>
            </form>
            if let Status::Failed(e) = &*status {
                <div class="form-error" role="alert" id="account-error">{ e.clone() }</div>
            }
            <h3 class="group-head">{ "Devices" }</h3>
            <div class="dialog-actions">
                <p class="muted small grow">
                    { "Lost a laptop, or signed in somewhere you should not have? This ends every session of your account, this one too." }
                </p>
                <button class="danger ghost" id="sign-out-everywhere" onclick={everywhere}
                        disabled={busy}>
                    { if *confirm_everywhere { "Really? Click again" } else { "Sign out everywhere" } }
                </button>
            </div>
        </Modal>
    }
}

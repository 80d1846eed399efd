//! The sign-in screen: server address (remembered), email, password. Errors are sentences
//! chosen by code; without a keyring it offers to keep the session for this run only.

use confab_model::ipc::{IpcErrorCode, SignInRequest};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::commands::call;
use crate::logic::form;
use crate::state::Action;
use crate::store::use_store;

/// What went wrong with the last attempt.
#[derive(Clone, PartialEq)]
enum Problem {
    /// A sentence.
    Text(String),
    /// No keyring: offer "this session only".
    NoKeyring(String),
}

fn bind(state: &UseStateHandle<String>) -> Callback<InputEvent> {
    let state = state.clone();
    Callback::from(move |e: InputEvent| {
        let el: HtmlInputElement = e.target_unchecked_into();
        state.set(el.value());
    })
}

/// The sign-in screen.
#[component(SignIn)]
pub fn sign_in() -> Html {
    let store = use_store();
    let server = use_state(|| store.server_url.clone());
    let email = use_state(String::new);
    let password = use_state(String::new);
    let busy = use_state(|| false);
    let problem = use_state(|| None::<Problem>);

    let attempt = {
        let (server, email, password, busy, problem, d) = (
            server.clone(),
            email.clone(),
            password.clone(),
            busy.clone(),
            problem.clone(),
            store.dispatcher(),
        );
        Callback::from(move |session_only: bool| {
            let url = match form::server_url(&server) {
                Ok(u) => u,
                Err(s) => return problem.set(Some(Problem::Text(s.into()))),
            };
            if let Err(s) = form::credentials(&email, &password) {
                return problem.set(Some(Problem::Text(s.into())));
            }
            let req = SignInRequest {
                server_url: url,
                email: email.trim().to_string(),
                password: (*password).clone(),
                session_only,
            };
            busy.set(true);
            problem.set(None);
            let (busy, problem, d) = (busy.clone(), problem.clone(), d.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match call(confab_model::ipc::commands::SignIn { req }).await {
                    Ok(session) => d.dispatch(Action::SignedIn(session)),
                    Err(e) => {
                        busy.set(false);
                        let text = e.message;
                        problem.set(Some(if e.code == IpcErrorCode::KeyringUnavailable {
                            Problem::NoKeyring(text)
                        } else {
                            Problem::Text(text)
                        }));
                    }
                }
            });
        })
    };
    let onsubmit = {
        let attempt = attempt.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            attempt.emit(false);
        })
    };
    let session_only = attempt.reform(|_: MouseEvent| true);

    html! {
        <div class="signin">
            <form class="signin-card" {onsubmit} id="sign-in-form" novalidate=true>
                <div class="brand">
                    <span class="logo" aria-hidden="true">{ "C" }</span>
                    <div>
                        <h1>{ "Welcome to Confab" }</h1>
                        <p class="muted">{ "Sign in to your team's server." }</p>
                    </div>
                </div>
                if let Some(n) = &store.sign_in_notice {
                    <div class="notice" role="status">{ n.clone() }</div>
                }
                <label class="field">
                    <span>{ "Server address" }</span>
                    <input id="server-url" type="url" value={(*server).clone()} oninput={bind(&server)}
                           placeholder="https://chat.example.com" autocomplete="url" spellcheck="false" />
                </label>
                <label class="field">
                    <span>{ "Email" }</span>
                    <input id="email" type="email" value={(*email).clone()} oninput={bind(&email)}
                           placeholder="you@example.com" autocomplete="username" />
                </label>
                <label class="field">
                    <span>{ "Password" }</span>
                    <input id="password" type="password" value={(*password).clone()}
                           oninput={bind(&password)} autocomplete="current-password" />
                </label>
                { match &*problem {
                    None => html! {},
                    Some(Problem::Text(t)) => html! { <div class="form-error" role="alert" id="sign-in-error">{ t.clone() }</div> },
                    Some(Problem::NoKeyring(t)) => html! {
                        <div class="form-error" role="alert" id="sign-in-error">
                            <p>{ t.clone() }</p>
                            <button type="button" class="secondary" id="session-only" onclick={session_only}>
                                { "Keep me signed in for this session only" }
                            </button>
                        </div>
                    },
                } }
                <button class="primary wide" type="submit" id="sign-in" disabled={*busy}>
                    { if *busy { "Signing in…" } else { "Sign in" } }
                </button>
            </form>
        </div>
    }
}

//! The respond dialog: read an incoming question (its links open in the browser), then share an
//! answer or decline. If the request was answered elsewhere meanwhile, it says so instead.

use confab_model::ipc::commands::Respond;
use confab_model::ipc::IpcErrorCode;
use confab_model::RequestId;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::commands::call;
use crate::components::avatar::Avatar;
use crate::components::modal::Modal;
use crate::components::rich_text::{use_text_env, RichText};
use crate::logic::format::age_words;
use crate::state::Action;
use crate::store::use_store;

/// Properties of [`RespondDialog`].
#[derive(Properties, PartialEq)]
pub struct RespondDialogProps {
    /// The request.
    pub request_id: RequestId,
}

/// The respond dialog.
#[component(RespondDialog)]
pub fn respond_dialog(props: &RespondDialogProps) -> Html {
    let store = use_store();
    let text_env = use_text_env();
    let answer = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let id = props.request_id;
    let Some(req) = store.requests.incoming.iter().find(|r| r.id == id).cloned() else {
        return html! {
            <Modal title="Request" id="respond-dialog">
                <p class="muted">{ "This request has already been answered." }</p>
            </Modal>
        };
    };

    let submit = {
        let (answer, busy, error, d) = (
            answer.clone(),
            busy.clone(),
            error.clone(),
            store.dispatcher(),
        );
        let name = req.requester_name.clone();
        move |approve: bool| {
            let (answer, busy, error, d, name) = (
                answer.clone(),
                busy.clone(),
                error.clone(),
                d.clone(),
                name.clone(),
            );
            Callback::from(move |_: MouseEvent| {
                let content = approve.then(|| (*answer).trim().to_string());
                if approve && content.as_deref().is_some_and(str::is_empty) {
                    error.set(Some("Write what you want to share first.".into()));
                    return;
                }
                busy.set(true);
                let (busy, error, d, name) = (busy.clone(), error.clone(), d.clone(), name.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let answer = Respond {
                        request_id: id,
                        approve,
                        content,
                    };
                    match call(answer).await {
                        Ok(()) => {
                            d.dispatch(Action::Answered(id));
                            let verb = if approve {
                                "Shared your answer with"
                            } else {
                                "Declined the request from"
                            };
                            d.dispatch(Action::Toast(format!("{verb} {name}.")));
                        }
                        Err(e)
                            if e.code == IpcErrorCode::Conflict
                                || e.code == IpcErrorCode::NotFound =>
                        {
                            d.dispatch(Action::Answered(id));
                            d.dispatch(Action::Toast(e.message));
                        }
                        Err(e) => {
                            busy.set(false);
                            error.set(Some(e.message));
                        }
                    }
                });
            })
        }
    };
    let oninput = {
        let answer = answer.clone();
        Callback::from(move |e: InputEvent| {
            let el: HtmlTextAreaElement = e.target_unchecked_into();
            answer.set(el.value());
        })
    };
    html! {
        <Modal title="Knowledge request" id="respond-dialog">
            <div class="asker">
                <Avatar name={req.requester_name.clone()} />
                <div>
                    <div class="asker-name">{ req.requester_name.clone() }</div>
                    <div class="muted small">{ format!("asked {}", age_words(&req.created_at, store.now_ms)) }</div>
                </div>
            </div>
            <blockquote class="question" id="respond-question">
                <RichText text={req.question.clone()} env={text_env} />
            </blockquote>
            <label class="field">
                <span>{ "Your answer" }</span>
                <textarea id="respond-content" rows="6" value={(*answer).clone()} {oninput}
                          placeholder="Share what you know — links, steps, context…" />
            </label>
            if let Some(e) = &*error {
                <div class="form-error" role="alert">{ e.clone() }</div>
            }
            <div class="dialog-actions">
                <button class="secondary" id="respond-deny" disabled={*busy} onclick={submit(false)}>
                    { "Decline" }
                </button>
                <button class="primary" id="respond-approve" disabled={*busy} onclick={submit(true)}>
                    { if *busy { "Sending…" } else { "Share answer" } }
                </button>
            </div>
        </Modal>
    }
}

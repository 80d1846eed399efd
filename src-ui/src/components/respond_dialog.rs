//! The respond dialog: read an incoming question (its links open in the browser), then share an
//! answer or decline, with a reason if the owner wants to give one (a second step, so a decline
//! is never one stray click). If the request was answered elsewhere meanwhile, it says so
//! instead.

use confab_model::ipc::commands::Respond;
use confab_model::ipc::IpcErrorCode;
use confab_model::RequestId;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
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
    let reason = use_state(String::new);
    // The decline step is open: the reason field replaces the answer (which is kept).
    let declining = use_state(|| false);
    let reason_ref = use_node_ref();
    {
        let reason_ref = reason_ref.clone();
        use_effect_with(*declining, move |&open| {
            if let Some(el) = reason_ref.cast::<HtmlInputElement>().filter(|_| open) {
                let _ = el.focus();
            }
        });
    }
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

    let send = {
        let (answer, reason, busy, error, d) = (
            answer.clone(),
            reason.clone(),
            busy.clone(),
            error.clone(),
            store.dispatcher(),
        );
        let name = req.requester_name.clone();
        Callback::from(move |approve: bool| {
            // Approving shares the answer; declining sends the reason, when there is one.
            let text = if approve { &answer } else { &reason };
            let text = (**text).trim().to_string();
            if approve && text.is_empty() {
                error.set(Some("Write what you want to share first.".into()));
                return;
            }
            let content = (!text.is_empty()).then_some(text);
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
                        if e.code == IpcErrorCode::Conflict || e.code == IpcErrorCode::NotFound =>
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
    };
    let oninput = {
        let answer = answer.clone();
        Callback::from(move |e: InputEvent| {
            let el: HtmlTextAreaElement = e.target_unchecked_into();
            answer.set(el.value());
        })
    };
    let on_reason = {
        let reason = reason.clone();
        Callback::from(move |e: InputEvent| {
            let el: HtmlInputElement = e.target_unchecked_into();
            reason.set(el.value());
        })
    };
    let reason_keys = {
        let send = send.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" && !e.is_composing() {
                e.prevent_default();
                send.emit(false);
            }
        })
    };
    let step = |to: bool| {
        let (declining, error) = (declining.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            error.set(None);
            declining.set(to);
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
            if *declining {
                <label class="field">
                    <span>{ "Why are you declining? (optional)" }</span>
                    <input id="respond-reason" type="text" ref={reason_ref} value={(*reason).clone()}
                           oninput={on_reason} onkeydown={reason_keys}
                           placeholder="Not my area — ask the platform team" />
                    <span class="muted small field-hint">
                        { format!("{} sees this with your decline.", req.requester_name) }
                    </span>
                </label>
            } else {
                <label class="field">
                    <span>{ "Your answer" }</span>
                    <textarea id="respond-content" rows="6" value={(*answer).clone()} {oninput}
                              placeholder="Share what you know — links, steps, context…" />
                </label>
            }
            if let Some(e) = &*error {
                <div class="form-error" role="alert">{ e.clone() }</div>
            }
            if *declining {
                <div class="dialog-actions">
                    <button class="secondary" id="respond-back" disabled={*busy} onclick={step(false)}>
                        { "Back" }
                    </button>
                    <button class="primary danger" id="respond-deny-confirm" disabled={*busy}
                            onclick={send.reform(|_: MouseEvent| false)}>
                        { if *busy { "Sending…" } else { "Decline request" } }
                    </button>
                </div>
            } else {
                <div class="dialog-actions">
                    <button class="secondary" id="respond-deny" disabled={*busy} onclick={step(true)}>
                        { "Decline…" }
                    </button>
                    <button class="primary" id="respond-approve" disabled={*busy}
                            onclick={send.reform(|_: MouseEvent| true)}>
                        { if *busy { "Sending…" } else { "Share answer" } }
                    </button>
                </div>
            }
        </Modal>
    }
}

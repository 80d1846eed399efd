//! All requests: those waiting for my answer and the questions I asked, with their answers.

use confab_model::ipc::ShareRequestView;
use confab_model::{KnowledgeStatus, RequestId};
use yew::prelude::*;

use crate::components::avatar::Avatar;
use crate::components::modal::Modal;
use crate::logic::format::age;
use crate::state::{Action, Dialog};
use crate::store::use_store;

/// Properties of [`RequestsDialog`].
#[derive(Properties, PartialEq)]
pub struct RequestsDialogProps {
    /// A request to emphasise (opened from a notification).
    pub highlight: Option<RequestId>,
}

fn status(r: &ShareRequestView) -> (&'static str, &'static str) {
    match r.status {
        KnowledgeStatus::Pending => ("pending", "Waiting"),
        KnowledgeStatus::Approved => ("approved", "Answered"),
        KnowledgeStatus::Denied => ("denied", "Declined"),
    }
}

/// The requests dialog.
#[component(RequestsDialog)]
pub fn requests_dialog(props: &RequestsDialogProps) -> Html {
    let store = use_store();
    let d = store.dispatcher();
    let incoming: Vec<_> = store.pending_incoming().cloned().collect();
    let now = store.now_ms;
    let open = move |id: RequestId| {
        let d = d.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::Open(Dialog::Respond(id))))
    };
    html! {
        <Modal title="Knowledge requests" id="requests-dialog" wide=true>
            <h3 class="section">{ format!("Waiting for your answer ({})", incoming.len()) }</h3>
            <ul class="plain-list">
                if incoming.is_empty() {
                    <li class="empty">{ "Nothing to answer." }</li>
                }
                { for incoming.iter().map(|r| html! {
                    <li key={r.id}>
                        <button class="card-row" onclick={open(r.id)} data-request-id={r.id.to_string()}>
                            <Avatar name={r.requester_name.clone()} small=true />
                            <span class="grow">
                                <span class="strong">{ r.requester_name.clone() }</span>
                                <span class="muted small">{ format!(" · {}", age(&r.created_at, now)) }</span>
                                <span class="block">{ r.question.clone() }</span>
                            </span>
                        </button>
                    </li>
                }) }
            </ul>
            <h3 class="section">{ "Asked by me" }</h3>
            <ul class="plain-list" id="outgoing-requests">
                if store.requests.outgoing.is_empty() {
                    <li class="empty">{ "You haven't asked anything yet." }</li>
                }
                { for store.requests.outgoing.iter().map(|r| {
                    let (kind, label) = status(r);
                    let owner = r.owner_name.clone().unwrap_or_else(|| "Teammate".into());
                    let class = classes!("card", (props.highlight == Some(r.id)).then_some("highlight"));
                    html! {
                        <li key={r.id} {class} data-request-id={r.id.to_string()}>
                            <div class="card-head">
                                <span class="muted small">{ format!("To {owner} · {}", age(&r.created_at, now)) }</span>
                                <span class={classes!("chip", kind)}>{ label }</span>
                            </div>
                            <div class="strong">{ r.question.clone() }</div>
                            if let Some(answer) = &r.response_content {
                                <div class="answer">{ answer.clone() }</div>
                            }
                        </li>
                    }
                }) }
            </ul>
        </Modal>
    }
}

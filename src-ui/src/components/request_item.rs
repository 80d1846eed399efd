//! A compact pending request in the sidebar: who asks, the question (one line, mentions
//! marked; its links open from the respond dialog, since the row is one button), how long ago.

use confab_model::ipc::ShareRequestView;
use yew::prelude::*;

use crate::components::avatar::Avatar;
use crate::components::rich_text::{use_text_env, RichText};
use crate::logic::format::age;

/// Properties of [`RequestItem`].
#[derive(Properties, PartialEq)]
pub struct RequestItemProps {
    /// The request.
    pub request: ShareRequestView,
    /// Wall clock.
    pub now_ms: i64,
    /// Opens the respond dialog.
    pub onopen: Callback<i64>,
}

/// A request row.
#[component(RequestItem)]
pub fn request_item(props: &RequestItemProps) -> Html {
    let text_env = use_text_env();
    let r = &props.request;
    let id = r.id;
    let onclick = props.onopen.reform(move |_: MouseEvent| id);
    html! {
        <li>
            <button class="request" {onclick} data-request-id={id.to_string()}>
                <Avatar name={r.requester_name.clone()} small=true />
                <span class="request-text">
                    <span class="request-top">
                        <span class="request-from">{ r.requester_name.clone() }</span>
                        <span class="request-age">{ age(&r.created_at, props.now_ms) }</span>
                    </span>
                    <span class="request-question">
                        <RichText text={r.question.clone()} env={text_env} links=false />
                    </span>
                </span>
            </button>
        </li>
    }
}

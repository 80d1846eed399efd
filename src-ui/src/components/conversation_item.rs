//! One row of the conversation list: avatar (with online dot for direct chats), title, last
//! message preview, time and unread badge.

use confab_model::ipc::ConversationSummary;
use yew::prelude::*;

use crate::components::avatar::Avatar;
use crate::logic::format::list_time;
use crate::logic::text::badge;

/// Properties of [`ConversationItem`].
#[derive(Properties, PartialEq)]
pub struct ConversationItemProps {
    /// The row.
    pub summary: ConversationSummary,
    /// Position (Ctrl+1..9 hint).
    pub index: usize,
    /// Open in the chat pane.
    pub selected: bool,
    /// The direct peer's presence (direct chats only).
    pub online: Option<bool>,
    /// Wall clock.
    pub now_ms: i64,
    /// Local offset.
    pub offset_min: i32,
    /// Opens it.
    pub onselect: Callback<i64>,
}

/// A conversation row.
#[component(ConversationItem)]
pub fn conversation_item(props: &ConversationItemProps) -> Html {
    let c = &props.summary;
    let id = c.id;
    let onclick = props.onselect.reform(move |_: MouseEvent| id);
    let time = c
        .last_activity_at
        .as_deref()
        .map(|t| list_time(t, props.now_ms, props.offset_min))
        .unwrap_or_default();
    let unread = c.unread_count > 0;
    let class = classes!(
        "conversation",
        props.selected.then_some("selected"),
        unread.then_some("unread")
    );
    let hint = (props.index < 9).then(|| format!("Ctrl+{}", props.index + 1));
    html! {
        <li>
            <button {class} {onclick} data-conversation-id={id.to_string()}
                    aria-current={props.selected.then_some("true")} title={hint}>
                <Avatar name={c.title.clone()} online={props.online} />
                <span class="conversation-text">
                    <span class="conversation-top">
                        <span class="conversation-title">{ c.title.clone() }</span>
                        <span class="conversation-time">{ time }</span>
                    </span>
                    <span class="conversation-bottom">
                        <span class="conversation-preview">
                            { c.last_message_preview.clone().unwrap_or_else(|| "No messages yet".into()) }
                        </span>
                        if unread {
                            <span class="badge" aria-label="unread messages">{ badge(c.unread_count) }</span>
                        }
                    </span>
                </span>
            </button>
        </li>
    }
}

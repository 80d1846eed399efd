//! One row of the conversation list: avatar (with online dot for direct chats), title, last
//! message preview, time, unread and mention badges, and a mute toggle beside it.

use confab_model::ipc::ConversationSummary;
use yew::prelude::*;

use crate::components::avatar::Avatar;
use crate::components::icon::{Glyph, Icon};
use crate::logic::format::list_time;
use crate::logic::text::badge;

/// Properties of [`ConversationItem`].
#[derive(Properties, PartialEq)]
pub struct ConversationItemProps {
    /// The row.
    pub summary: ConversationSummary,
    /// Position (Ctrl+1..9 hint; `aria-posinset`: the list is windowed).
    pub index: usize,
    /// The whole list's length (`aria-setsize`).
    pub setsize: usize,
    /// Open in the chat pane.
    pub selected: bool,
    /// The direct peer's presence (direct chats only).
    pub online: Option<bool>,
    /// Wall clock.
    pub now_ms: i64,
    /// Today's local offset: a change (daylight saving) re-renders the row.
    pub offset_min: i32,
    /// Opens it.
    pub onselect: Callback<i64>,
    /// Mutes (`true`) or unmutes it.
    pub onmute: Callback<(i64, bool)>,
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
        .map(|t| list_time(t, props.now_ms, crate::zone::local()))
        .unwrap_or_default();
    let unread = c.unread_count > 0;
    let class = classes!(
        "conversation",
        props.selected.then_some("selected"),
        unread.then_some("unread")
    );
    let hint = (props.index < 9).then(|| format!("Ctrl+{}", props.index + 1));
    let muted = c.muted;
    let onmute = props.onmute.reform(move |e: MouseEvent| {
        e.stop_propagation();
        (id, !muted)
    });
    let mute_label = if muted {
        "Unmute conversation"
    } else {
        "Mute conversation"
    };
    html! {
        <li class={classes!("conversation-row", muted.then_some("muted"))}
            aria-setsize={props.setsize.to_string()} aria-posinset={(props.index + 1).to_string()}>
            <button {class} {onclick} data-conversation-id={id.to_string()}
                    aria-current={props.selected.then_some("true")} title={hint}>
                <Avatar name={c.title.clone()} online={props.online} />
                <span class="conversation-text">
                    <span class="conversation-top">
                        <span class="conversation-title">{ c.title.clone() }</span>
                        if muted {
                            <span class="muted-mark" title="Muted" aria-label="muted"><Icon glyph={Glyph::BellOff} /></span>
                        }
                        <span class="conversation-time">{ time }</span>
                    </span>
                    <span class="conversation-bottom">
                        <span class="conversation-preview">
                            { c.last_message_preview.clone().unwrap_or_else(|| "No messages yet".into()) }
                        </span>
                        if c.mention_count > 0 {
                            <span class="badge mention-badge" aria-label="mentions of you">
                                { format!("@{}", badge(c.mention_count)) }
                            </span>
                        }
                        if unread {
                            <span class={classes!("badge", muted.then_some("quiet"))} aria-label="unread messages">
                                { badge(c.unread_count) }
                            </span>
                        }
                    </span>
                </span>
            </button>
            <button class="icon-button row-action mute-toggle" title={mute_label} aria-label={mute_label}
                    aria-pressed={muted.to_string()} onclick={onmute}>
                <Icon glyph={if muted { Glyph::Bell } else { Glyph::BellOff }} />
            </button>
        </li>
    }
}

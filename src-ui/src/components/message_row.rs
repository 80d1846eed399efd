//! One message: sender name at the start of a group, the text (text nodes, with its links and
//! mentions marked: [`RichText`]), time and, for mine, the delivery state (pending, sent, seen,
//! held by the server's limit until a time, failed with retry / discard).

use confab_model::ipc::{ChatMessage, DeliveryState};
use yew::prelude::*;

use crate::components::avatar::Avatar;
use crate::components::icon::{Glyph, Icon};
use crate::components::rich_text::{RichText, TextEnv};
use crate::logic::format::clock_at_ms;
use crate::logic::text::held_label;

/// Properties of [`MessageRow`].
#[derive(Properties, PartialEq)]
pub struct MessageRowProps {
    /// The message.
    pub message: ChatMessage,
    /// Written by me.
    pub mine: bool,
    /// First of a group: show name and avatar.
    pub show_sender: bool,
    /// "14:05".
    pub time: String,
    /// Who has read it ("Bob, Cleo"), under my last read message.
    pub seen: Option<String>,
    /// While pending: what it says ("Sending…" or "Waiting for connection") and its tooltip
    /// (`logic::text::pending_label`).
    pub pending_label: (&'static str, &'static str),
    /// Retry a failed message (client id).
    pub onretry: Callback<String>,
    /// Discard a failed message (client id).
    pub ondiscard: Callback<String>,
    /// The message a search hit jumped to: marked until another conversation opens.
    #[prop_or_default]
    pub highlight: bool,
    /// Names to mark in the text; given by the list, so a row re-renders only with its props.
    pub text_env: TextEnv,
}

/// A message row.
#[component(MessageRow)]
pub fn message_row(props: &MessageRowProps) -> Html {
    let m = &props.message;
    let (state, status) = match &m.delivery {
        DeliveryState::Sent => ("sent", html! {}),
        DeliveryState::Pending => {
            let (label, title) = props.pending_label;
            (
                "pending",
                html! { <span class="delivery" {title}><Icon glyph={Glyph::Clock} />{ label }</span> },
            )
        }
        DeliveryState::Held { reason, until_ms } => {
            let at = clock_at_ms(*until_ms, crate::zone::local());
            (
                "held",
                html! {
                    <span class="delivery held" title={reason.clone()}>
                        <Icon glyph={Glyph::Clock} />{ held_label(&at) }
                    </span>
                },
            )
        }
        DeliveryState::Failed { reason } => {
            let cid = m.client_id.clone();
            let retry = props.onretry.reform(move |_: MouseEvent| cid.clone());
            let cid = m.client_id.clone();
            let discard = props.ondiscard.reform(move |_: MouseEvent| cid.clone());
            (
                "failed",
                html! {
                    <span class="delivery failed" role="alert">
                        <Icon glyph={Glyph::Alert} />
                        <span>{ format!("Not sent: {reason}") }</span>
                        <button class="link" onclick={retry}>{ "Retry" }</button>
                        <button class="link danger" onclick={discard}>{ "Discard" }</button>
                    </span>
                },
            )
        }
    };
    let class = classes!(
        "message",
        if props.mine { "mine" } else { "theirs" },
        props.show_sender.then_some("first"),
        state,
        props.highlight.then_some("highlight")
    );
    html! {
        <div {class} data-client-id={m.client_id.clone()} data-delivery={state}
             data-seq={m.seq.map(|s| s.to_string())}>
            <div class="gutter">
                if props.show_sender && !props.mine {
                    <Avatar name={m.sender_name.clone()} small=true />
                }
            </div>
            <div class="bubble-wrap">
                if props.show_sender && !props.mine {
                    <div class="sender">{ m.sender_name.clone() }</div>
                }
                <div class="bubble">
                    <span class="content"><RichText text={m.content.clone()} env={props.text_env.clone()} /></span>
                    <span class="meta">
                        <span class="time">{ props.time.clone() }</span>
                        if props.mine && state == "sent" {
                            <span class="tick" title="Sent"><Icon glyph={Glyph::Check} /></span>
                        }
                    </span>
                </div>
                { status }
                if let Some(who) = &props.seen {
                    <div class="seen">{ format!("Seen by {who}") }</div>
                }
            </div>
        </div>
    }
}

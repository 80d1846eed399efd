//! The scrolling list of messages: day separators, grouped senders, "seen" under my last read
//! message. Scrolling near the top loads the older page and keeps the view where it was; new
//! messages scroll into view when the reader is at the bottom (or wrote them). A search hit
//! (`AppState::highlight`) loads older pages until its message is there, then brings it to the
//! middle of the view, marked.

use confab_model::ipc::commands::{DiscardMessage, RetryMessage};
use std::cell::Cell;
use std::rc::Rc;

use confab_model::{ConversationId, Seq};
use web_sys::Element;
use yew::prelude::*;

use crate::components::message_row::MessageRow;
use crate::components::rich_text::use_text_env;
use crate::effects;
use crate::logic::text::pending_label;
use crate::logic::timeline::{jump, rows, seen_by, Jump, Row, JUMP_PAGE};
use crate::state::Action;
use crate::store::use_store;

/// Properties of [`MessageList`].
#[derive(Properties, PartialEq)]
pub struct MessageListProps {
    /// The conversation.
    pub conversation_id: ConversationId,
}

#[derive(Default)]
struct Scroll {
    at_bottom: Cell<bool>,
    /// Scroll height and top before an older page was asked for.
    anchor: Cell<Option<(i32, i32)>>,
    /// The search hit already brought into view (or found missing): later renders leave the
    /// view where the reader takes it.
    jumped: Cell<Option<(ConversationId, Seq)>>,
}

/// The message list.
#[component(MessageList)]
pub fn message_list(props: &MessageListProps) -> Html {
    let store = use_store();
    let text_env = use_text_env();
    let list_ref = use_node_ref();
    let scroll = use_memo((), |_| Rc::new(Scroll::default()));
    let id = props.conversation_id;
    let timeline = store.timelines.get(&id).cloned().unwrap_or_default();
    let me = store
        .session
        .as_ref()
        .map(|s| s.user_id)
        .unwrap_or_default();

    let first = timeline.messages.first().map(|m| m.client_id.clone());
    let last = timeline
        .messages
        .last()
        .map(|m| (m.client_id.clone(), m.sender_id == me));
    {
        let (list_ref, scroll) = (list_ref.clone(), scroll.clone());
        use_effect_with((id, first, last), move |(_, _, last)| {
            if let Some(el) = list_ref.cast::<Element>() {
                if let Some((height, top)) = scroll.anchor.take() {
                    el.set_scroll_top(el.scroll_height() - height + top);
                } else if scroll.at_bottom.get() || last.as_ref().is_some_and(|(_, mine)| *mine) {
                    el.set_scroll_top(el.scroll_height());
                }
            }
        });
    }
    {
        // A newly opened conversation starts at its newest message.
        let (list_ref, scroll) = (list_ref.clone(), scroll.clone());
        use_effect_with(id, move |_| {
            scroll.at_bottom.set(true);
            if let Some(el) = list_ref.cast::<Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }

    // After the effects above, so a page loaded on the way does not leave the view at the
    // bottom once the message is there.
    let target = store
        .highlight
        .filter(|(c, _)| *c == id)
        .map(|(_, seq)| seq);
    {
        let (list_ref, scroll, d) = (list_ref.clone(), scroll.clone(), store.dispatcher());
        let next = target.map(|seq| (seq, jump(store.timelines.get(&id), seq)));
        use_effect_with((id, next), move |&(id, next)| {
            let Some((seq, next)) = next else {
                // No hit (any more): the same hit found again later is brought into view again.
                scroll.jumped.set(None);
                return;
            };
            if scroll.jumped.get() == Some((id, seq)) {
                return;
            }
            match next {
                Jump::Wait => {}
                Jump::LoadOlder(before) => effects::older_by(d, id, before, JUMP_PAGE),
                Jump::Show => {
                    if let Some(list) = list_ref.cast::<Element>() {
                        if center_on(&list, seq) {
                            scroll.jumped.set(Some((id, seq)));
                            scroll.at_bottom.set(false);
                        }
                    }
                }
                Jump::Missing => {
                    scroll.jumped.set(Some((id, seq)));
                    d.dispatch(Action::Toast(
                        "That message is no longer saved on this computer.".into(),
                    ));
                }
            }
        });
    }

    let onscroll = {
        let (list_ref, scroll, d) = (list_ref.clone(), scroll.clone(), store.dispatcher());
        let can_load = timeline.has_more && !timeline.loading_older;
        let before = timeline.oldest_seq();
        Callback::from(move |_: Event| {
            let Some(el) = list_ref.cast::<Element>() else {
                return;
            };
            let from_bottom = el.scroll_height() - el.scroll_top() - el.client_height();
            scroll.at_bottom.set(from_bottom < 48);
            if el.scroll_top() < 120 && can_load {
                if let Some(before) = before {
                    scroll
                        .anchor
                        .set(Some((el.scroll_height(), el.scroll_top())));
                    effects::older(d.clone(), id, before);
                }
            }
        })
    };

    let names = store.names();
    let pending_label = pending_label(&store.connection);
    let seen = store
        .receipts
        .get(&id)
        .and_then(|r| seen_by(&timeline.messages, me, r, &names));
    let d = store.dispatcher();
    let retry = {
        let d = d.clone();
        Callback::from(move |cid: String| effects::fire(&d, RetryMessage { client_id: cid }))
    };
    let discard =
        Callback::from(move |cid: String| effects::fire(&d, DiscardMessage { client_id: cid }));

    let body = rows(&timeline.messages, me, store.now_ms, crate::zone::local());
    html! {
        <div class="messages" ref={list_ref} {onscroll} id="message-list" aria-live="polite">
            if timeline.loading_older {
                <div class="loading-older">{ "Loading earlier messages…" }</div>
            } else if !timeline.has_more && !timeline.messages.is_empty() {
                <div class="history-start">{ "This is the beginning of the conversation." }</div>
            }
            if timeline.messages.is_empty() {
                <div class="no-messages">{ "No messages yet. Say hello!" }</div>
            }
            { for body.into_iter().map(|row| match row {
                Row::Day(label) => html! {
                    <div class="day" role="separator" key={format!("day-{label}")}><span>{ label }</span></div>
                },
                Row::Message { message, mine, show_sender, time } => {
                    let seen_names = seen
                        .as_ref()
                        .filter(|(cid, _)| *cid == message.client_id)
                        .map(|(_, who)| who.join(", "));
                    let key = message.client_id.clone();
                    let highlight = target.is_some() && message.seq == target;
                    html! {
                        <MessageRow {key} {message} {mine} {show_sender} {pending_label} {highlight}
                            {time} seen={seen_names} onretry={retry.clone()} ondiscard={discard.clone()}
                            text_env={text_env.clone()} />
                    }
                }
            }) }
        </div>
    }
}

/// Scrolls `list` so the row of message `seq` sits in its middle; `false` when the row is not
/// rendered. Only the list scrolls (`scrollIntoView` would scroll the window's clipped
/// ancestors too).
fn center_on(list: &Element, seq: Seq) -> bool {
    let Ok(Some(row)) = list.query_selector(&format!("[data-seq=\"{seq}\"]")) else {
        return false;
    };
    let (r, l) = (
        row.get_bounding_client_rect(),
        list.get_bounding_client_rect(),
    );
    let offset = (r.top() + r.height() / 2.0) - (l.top() + l.height() / 2.0);
    list.set_scroll_top(list.scroll_top() + offset.round() as i32);
    true
}

//! The scrolling list of messages: day separators, grouped senders, "seen" under my last read
//! message. It renders the open timeline, a window of at most `MAX_LOADED` messages: scrolling
//! near the top reads the older page, near the bottom of a window in the past the newer one,
//! and the row at the top of the view stays where it was while rows come and go above and below
//! it. New messages scroll into view when the reader is at the bottom (or wrote them); "Jump to
//! newest" appears once the reader is away from it. A search hit (`AppState::highlight`) opens
//! a window around its message, then brings it to the middle of the view, marked.

use confab_model::ipc::commands::{DiscardMessage, RetryMessage};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use confab_model::{ConversationId, Seq};
use web_sys::Element;
use yew::prelude::*;

use crate::components::icon::{Glyph, Icon};
use crate::components::message_row::MessageRow;
use crate::components::rich_text::use_text_env;
use crate::effects;
use crate::logic::text::pending_label;
use crate::logic::timeline::{jump, rows, seen_by, Jump, Row};
use crate::state::Action;
use crate::store::use_store;

/// Properties of [`MessageList`].
#[derive(Properties, PartialEq)]
pub struct MessageListProps {
    /// The conversation.
    pub conversation_id: ConversationId,
}

/// How close to an end (px) the view must come to read the next page there.
const LOAD_MARGIN: i32 = 400;
/// How close to the bottom (px) still counts as reading the newest messages.
const BOTTOM_SLACK: i32 = 48;

#[derive(Default)]
struct Scroll {
    at_bottom: Cell<bool>,
    /// The row at the top of the view (client id) and its offset from the list's top edge, as
    /// of the last scroll: after rows are added or dropped, the view is put back on it.
    anchor: RefCell<Option<(String, f64)>>,
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
    // Whether "Jump to newest" shows: state (unlike `scroll`), as it changes what is drawn.
    let away = use_state_eq(|| false);
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
    let live_end = !timeline.has_newer;
    // The pages the view may read next (none while one is being read).
    let older = (timeline.has_more && !timeline.loading_older)
        .then(|| timeline.oldest_seq())
        .flatten();
    let newer = (timeline.has_newer && !timeline.loading_newer)
        .then(|| timeline.newest_seq())
        .flatten();
    let jumping = store.highlight.is_some_and(|(c, _)| c == id);
    {
        let (list_ref, scroll, away) = (list_ref.clone(), scroll.clone(), away.clone());
        let d = store.dispatcher();
        use_effect_with((id, first, last), move |(_, _, last)| {
            if let Some(el) = list_ref.cast::<Element>() {
                let mine = last.as_ref().is_some_and(|(_, mine)| *mine);
                if live_end && (scroll.at_bottom.get() || mine) {
                    el.set_scroll_top(el.scroll_height());
                } else if let Some((cid, offset)) = scroll.anchor.borrow().as_ref() {
                    let moved = restore(&el, cid, *offset);
                    // What the last restore did, for the end-to-end test to report (written here,
                    // not on every scroll event).
                    let _ = el.set_attribute("data-restored", &format!("{cid} {moved:?}"));
                } else {
                    let _ = el.set_attribute("data-restored", "no anchor");
                }
                // Not only on scroll: the newest page replacing a window in the past may leave
                // the view where it was, with no scroll event to say the reader is home.
                away.set(is_away(&el, !live_end));
                // Still near an end once the rows landed (a page shorter than the margin, or a
                // view the restore could not move): read on now, as no scroll event will come
                // while the view stays put at the very top. A search hit's window waits for
                // its jump.
                if !jumping {
                    read_on(&el, &d, id, older, newer);
                }
            }
        });
    }
    {
        // A newly opened conversation starts at its newest message.
        let (list_ref, scroll, away) = (list_ref.clone(), scroll.clone(), away.clone());
        use_effect_with(id, move |_| {
            scroll.at_bottom.set(true);
            scroll.anchor.replace(None);
            away.set(false);
            if let Some(el) = list_ref.cast::<Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }

    // After the effects above, so the view is not left at the bottom once the message is there.
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
                Jump::LoadAround => effects::around(d, id, seq),
                Jump::Show => {
                    if let Some(list) = list_ref.cast::<Element>() {
                        if center_on(&list, seq) {
                            scroll.jumped.set(Some((id, seq)));
                            scroll.at_bottom.set(false);
                            scroll.anchor.replace(top_row(&list));
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
        let away = away.clone();
        let has_newer = timeline.has_newer;
        Callback::from(move |_: Event| {
            let Some(el) = list_ref.cast::<Element>() else {
                return;
            };
            let from_bottom = el.scroll_height() - el.scroll_top() - el.client_height();
            let bottom = from_bottom < BOTTOM_SLACK;
            scroll.at_bottom.set(bottom);
            scroll.anchor.replace(top_row(&el));
            away.set(is_away(&el, has_newer));
            read_on(&el, &d, id, older, newer);
        })
    };
    let to_newest = {
        let (list_ref, scroll, d) = (list_ref.clone(), scroll.clone(), store.dispatcher());
        let away = away.clone();
        let has_newer = timeline.has_newer;
        Callback::from(move |_: MouseEvent| {
            scroll.at_bottom.set(true);
            scroll.anchor.replace(None);
            away.set(false);
            d.dispatch(Action::ToNewest(id));
            // A window in the past is replaced by the newest page, which lands at the bottom
            // (`at_bottom`); scrolling its old rows down now would only read a newer page that
            // no longer joins anything.
            if !has_newer {
                if let Some(el) = list_ref.cast::<Element>() {
                    el.set_scroll_top(el.scroll_height());
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
        <div class="messages-wrap">
        <div class="messages" ref={list_ref} {onscroll} id="message-list" aria-live="polite">
            // Present whenever there is more, not only while a page loads: the rows below do not
            // move when loading starts, and the reader reaching it is what starts it.
            if timeline.has_more {
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
            if timeline.has_newer {
                <div class="loading-newer">{ "Loading later messages…" }</div>
            }
        </div>
        if *away {
            <button class="jump-newest" id="jump-newest" onclick={to_newest}
                    title="Jump to the newest messages">
                <Icon glyph={Glyph::ArrowDown} />{ "Jump to newest" }
            </button>
        }
        </div>
    }
}

/// Whether "Jump to newest" is offered: the newest messages are not loaded, or more than a
/// screen below.
fn is_away(list: &Element, has_newer: bool) -> bool {
    has_newer
        || list.scroll_height() - list.scroll_top() - list.client_height() > list.client_height()
}

/// The message row at the top edge of `list`'s view: its client id and how far (px) its top
/// lies from the list's top edge (negative: partly scrolled past). A binary search over the
/// rows, as this runs on every scroll event.
fn top_row(list: &Element) -> Option<(String, f64)> {
    let rows = list.children();
    let top = list.get_bounding_client_rect().top();
    let (mut lo, mut hi) = (0, rows.length());
    // The first child whose bottom edge is below the list's top edge.
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let below = rows
            .item(mid)
            .is_some_and(|r| r.get_bounding_client_rect().bottom() > top);
        if below {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    (lo..rows.length()).find_map(|i| {
        let row = rows.item(i)?;
        let cid = row.get_attribute("data-client-id")?;
        Some((cid, row.get_bounding_client_rect().top() - top))
    })
}

/// Scrolls `list` so the row of message `client_id` lies `offset` px below its top edge again
/// (rows were added or dropped above it): by how much it moved the view (`None` when the row
/// is gone).
fn restore(list: &Element, client_id: &str, offset: f64) -> Option<i32> {
    let rows = list.children();
    let row = (0..rows.length())
        .filter_map(|i| rows.item(i))
        .find(|r| r.get_attribute("data-client-id").as_deref() == Some(client_id));
    if let Some(row) = row {
        let top = list.get_bounding_client_rect().top();
        let now = row.get_bounding_client_rect().top() - top;
        let by = (now - offset).round() as i32;
        if by != 0 {
            list.set_scroll_top(list.scroll_top() + by);
        }
        return Some(by);
    }
    None
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

/// Reads the older page when the view is near the top, the newer one when it is near the
/// bottom of a window in the past (each only if there is one to read and none is being read).
fn read_on(
    el: &Element,
    d: &crate::store::Dispatch,
    id: ConversationId,
    older: Option<Seq>,
    newer: Option<Seq>,
) {
    if el.scroll_top() < LOAD_MARGIN {
        if let Some(before) = older {
            effects::older(d.clone(), id, before);
        }
    }
    let from_bottom = el.scroll_height() - el.scroll_top() - el.client_height();
    if from_bottom < LOAD_MARGIN {
        if let Some(after) = newer {
            effects::newer(d.clone(), id, after);
        }
    }
}

//! One conversation's loaded messages: merging pages and live updates without duplicates,
//! turning them into display rows (day separators, sender grouping, "seen"), and deciding how
//! to reach an older message to show (a search hit).
//!
//! Order: messages the server stored, by sequence; then mine that are still pending or failed,
//! in the order I wrote them. A message is identified by its client id; a server id seen twice
//! under different client ids is one message too (the later copy wins).
//!
//! A timeline is a window of at most [`MAX_LOADED`] consecutive messages, not the whole
//! history: scrolling back through a conversation of 100,000 messages costs what 150 cost.
//! Loading an older page drops the newest rows beyond the cap (the window then lies in the past:
//! `has_newer`, and scrolling down reads newer pages back from the cache); loading a newer page
//! drops the oldest. A search hit far back opens a window around it ([`Timeline::around`])
//! instead of reading every page in between.

use std::collections::HashMap;

use confab_model::ipc::{ChatMessage, DeliveryState};
use confab_model::{Seq, UserId};

use super::format;

/// How many messages one page holds (initial load and each older page).
pub const PAGE: u32 = 50;

/// The most messages a timeline holds (three pages, some ten screens): the message list renders
/// them all, so this bounds its DOM rows and the UI's memory whatever the history's length. It
/// was five pages; three scroll back through 10,000 messages in two thirds of the time, with
/// 0.5 MB less wasm memory (`bench_history`).
pub const MAX_LOADED: usize = 150;

/// The loaded part of a conversation's history.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timeline {
    /// Messages in display order.
    pub messages: Vec<ChatMessage>,
    /// Older messages may exist in the cache (the last page was full).
    pub has_more: bool,
    /// An older page is being fetched.
    pub loading_older: bool,
    /// The window lies in the past: newer messages exist than the ones held (rows dropped to
    /// stay under [`MAX_LOADED`], or a window opened around an old message). Live messages are
    /// not put in then (they would leave a hole); scrolling down reads them.
    pub has_newer: bool,
    /// A newer page is being fetched.
    pub loading_newer: bool,
    /// The message this window was opened around (a search hit), if it was.
    pub around: Option<Seq>,
    /// The newest page was read from the cache (a timeline started by live rows alone, while
    /// the page was on its way, still needs it).
    pub page_loaded: bool,
}

impl Timeline {
    /// A timeline from the newest page (ascending); `has_more` when the page was full.
    pub fn from_page(page: Vec<ChatMessage>, limit: u32) -> Self {
        let has_more = page.len() >= limit as usize;
        let mut t = Timeline::default();
        t.upsert(page);
        t.has_more = has_more;
        t.page_loaded = true;
        t
    }

    /// Adds or replaces messages (by client id, or by server id), keeping display order.
    pub fn upsert(&mut self, messages: impl IntoIterator<Item = ChatMessage>) {
        for m in messages {
            let same = self
                .messages
                .iter()
                .position(|old| old.client_id == m.client_id || (m.id.is_some() && old.id == m.id));
            match same {
                // A stale copy (the reply to `send_message`, written before the server had
                // it) can arrive after the event saying it was sent: never go back.
                Some(i) if self.messages[i].seq.is_some() && m.seq.is_none() => {}
                Some(i) => self.messages[i] = m,
                None => self.messages.push(m),
            }
        }
        sort(&mut self.messages);
    }

    /// A window around message `seq`: `older` ends with it (the page before `seq + 1`),
    /// `newer` follows it (the page after `seq`). Each side says whether more lies beyond it.
    pub fn around(seq: Seq, older: Vec<ChatMessage>, newer: Vec<ChatMessage>, limit: u32) -> Self {
        let mut t = Timeline {
            around: Some(seq),
            has_more: older.len() >= limit as usize,
            has_newer: sent(&newer) >= limit as usize,
            page_loaded: true,
            ..Timeline::default()
        };
        t.upsert(older.into_iter().chain(newer));
        t
    }

    /// Adds a message the core just accepted (the answer to sending it), unless the core's own
    /// event about it arrived first: that one is newer (held by the server's limit, refused,
    /// or sent), and the answer, written before any of it, must not take the row back to
    /// pending. A window in the past takes no new rows (the list goes to the newest first).
    pub fn insert_accepted(&mut self, message: ChatMessage) {
        if !self.has_newer
            && !self
                .messages
                .iter()
                .any(|old| old.client_id == message.client_id)
        {
            self.upsert([message]);
        }
    }

    /// Adds or replaces messages that arrived live (events). A sent message older than the
    /// oldest one loaded is a catch-up filling the cache in below what is shown (a first sync
    /// runs oldest first): it is not put in, where it would leave a hole of rows that arrived
    /// before this timeline existed; the timeline learns instead that older messages exist, and
    /// scrolling back (or a jump) loads them page by page, contiguously.
    ///
    /// A window in the past (`has_newer`) takes only updates of rows it holds: anything else
    /// belongs to the newer part not loaded, where scrolling down will find it in the cache.
    pub fn upsert_live(&mut self, messages: impl IntoIterator<Item = ChatMessage>) {
        let oldest = self.oldest_seq();
        let mut newer = Vec::new();
        for m in messages {
            let held = || {
                self.messages
                    .iter()
                    .any(|old| old.client_id == m.client_id || (m.id.is_some() && old.id == m.id))
            };
            match (m.seq, oldest) {
                _ if self.has_newer && !held() => {}
                (Some(seq), Some(oldest)) if seq < oldest => self.has_more = true,
                _ => newer.push(m),
            }
        }
        self.upsert(newer);
        self.trim_oldest();
    }

    /// An older page read from before `before` lands: added if it still joins the window (its
    /// oldest row is still `before`), dropped otherwise (the window was read anew or trimmed
    /// meanwhile: a page that does not join it would leave a hole). Either way the read is over.
    pub fn older_landed(&mut self, before: Seq, page: Vec<ChatMessage>, limit: u32) {
        if self.oldest_seq() == Some(before) {
            self.prepend_older(page, limit);
        } else {
            self.loading_older = false;
        }
    }

    /// A newer page read from after `after` lands: added if it still joins the window (its
    /// newest sent row is still `after`), dropped otherwise, as [`Self::older_landed`].
    pub fn newer_landed(&mut self, after: Seq, page: Vec<ChatMessage>, limit: u32) {
        if self.newest_seq() == Some(after) {
            self.append_newer(page, limit);
        } else {
            self.loading_newer = false;
        }
    }

    /// Adds an older page (ascending) in front; `has_more` when the page was full. Beyond
    /// [`MAX_LOADED`], the newest rows go (the window now lies in the past).
    pub fn prepend_older(&mut self, page: Vec<ChatMessage>, limit: u32) {
        self.has_more = page.len() >= limit as usize;
        self.loading_older = false;
        self.upsert(page);
        let excess = self.messages.len().saturating_sub(MAX_LOADED);
        if excess > 0 {
            self.messages.truncate(MAX_LOADED);
            self.has_newer = true;
        }
    }

    /// Adds a newer page (ascending, from [`Self::newest_seq`] on) behind; fewer than `limit`
    /// sent rows means it reached the newest (and brought the unsent ones). Beyond
    /// [`MAX_LOADED`], the oldest rows go.
    pub fn append_newer(&mut self, page: Vec<ChatMessage>, limit: u32) {
        self.has_newer = sent(&page) >= limit as usize;
        self.loading_newer = false;
        self.upsert(page);
        self.trim_oldest();
    }

    /// Keeps the newest [`MAX_LOADED`] rows.
    fn trim_oldest(&mut self) {
        let excess = self.messages.len().saturating_sub(MAX_LOADED);
        if excess > 0 {
            self.messages.drain(..excess);
            self.has_more = true;
        }
    }

    /// Merges what the timeline held into a freshly read newest page (kept: what arrived live
    /// or was written while the page was read). A window in the past is replaced instead: its
    /// rows lie far from the newest page, and joining them would leave a hole.
    pub fn merge_into(self, fresh: &mut Timeline) {
        if self.has_newer {
            return;
        }
        let kept: Vec<ChatMessage> = self
            .messages
            .into_iter()
            .filter(|m| !fresh.messages.iter().any(|n| n.client_id == m.client_id))
            .collect();
        fresh.upsert(kept);
        fresh.has_more = fresh.has_more || self.has_more;
        fresh.trim_oldest();
    }

    /// The sequence to ask newer pages after.
    pub fn newest_seq(&self) -> Option<Seq> {
        self.messages.iter().filter_map(|m| m.seq).max()
    }

    /// Removes a message (discarded from the outbox).
    pub fn remove(&mut self, client_id: &str) {
        self.messages.retain(|m| m.client_id != client_id);
    }

    /// The sequence to ask older pages before.
    pub fn oldest_seq(&self) -> Option<Seq> {
        self.messages.iter().filter_map(|m| m.seq).min()
    }
}

/// The next step towards showing message `seq` of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jump {
    /// It is loaded: scroll to it.
    Show,
    /// Open a window around it (two pages from the cache), then decide again.
    LoadAround,
    /// A page is on its way: decide when it arrives.
    Wait,
    /// The cache holds no such message: a window was opened around it and it is not there.
    Missing,
}

/// What to do to show message `seq` of a conversation, given what is loaded (`None`: nothing
/// is, as when the conversation was just opened at the hit: its window is read straight away).
/// However far back it lies, it costs one window: no page in between is read.
pub fn jump(t: Option<&Timeline>, seq: Seq) -> Jump {
    let Some(t) = t else {
        return Jump::LoadAround;
    };
    if t.messages.iter().any(|m| m.seq == Some(seq)) {
        Jump::Show
    } else if t.loading_older || t.loading_newer {
        Jump::Wait
    } else if !t.page_loaded {
        // Only live rows so far (they arrived before any page was read).
        Jump::LoadAround
    } else if t.around == Some(seq) || covers(t, seq) {
        Jump::Missing
    } else {
        Jump::LoadAround
    }
}

/// Whether `seq` would be among the loaded rows if it existed: between two of them (the rows
/// are consecutive), or below the oldest when the history ends there.
fn covers(t: &Timeline, seq: Seq) -> bool {
    match (t.oldest_seq(), t.newest_seq()) {
        (Some(lo), Some(hi)) => (lo < seq && seq < hi) || (!t.has_more && seq < lo),
        _ => !t.has_more && !t.has_newer,
    }
}

/// Sent (stored) messages in a page: the unsent ones a last page carries do not count.
fn sent(page: &[ChatMessage]) -> usize {
    page.iter().filter(|m| m.seq.is_some()).count()
}

fn sort(messages: &mut [ChatMessage]) {
    // Stable: pending messages keep the order in which they were written.
    messages.sort_by(|a, b| match (a.seq, b.seq) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.created_at.cmp(&b.created_at),
    });
}

/// One line of the message list.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    /// A day separator ("Today").
    Day(String),
    /// A message.
    Message {
        /// The message.
        message: ChatMessage,
        /// Written by me.
        mine: bool,
        /// First of a group from one sender: show the name.
        show_sender: bool,
        /// "14:05".
        time: String,
    },
}

/// Display rows: a day separator whenever the local day changes, the sender's name at the
/// start of each run of messages by one person (a run breaks after 5 minutes).
pub fn rows(
    messages: &[ChatMessage],
    me: UserId,
    now_ms: i64,
    zone: impl format::LocalTime,
) -> Vec<Row> {
    let today = format::now_local(now_ms, zone).date();
    let mut out = Vec::with_capacity(messages.len() + 4);
    let mut last_day = None;
    let mut last: Option<&ChatMessage> = None;
    for m in messages {
        let day = format::day(&m.created_at, zone).unwrap_or(today);
        let new_day = last_day != Some(day);
        if new_day {
            out.push(Row::Day(format::day_label(day, today)));
            last_day = Some(day);
        }
        let continues =
            !new_day && last.is_some_and(|p| p.sender_id == m.sender_id && within_minutes(p, m, 5));
        out.push(Row::Message {
            message: m.clone(),
            mine: m.sender_id == me,
            show_sender: !continues,
            time: format::clock(&m.created_at, zone),
        });
        last = Some(m);
    }
    out
}

fn within_minutes(a: &ChatMessage, b: &ChatMessage, minutes: i64) -> bool {
    match (
        format::local(&a.created_at, 0),
        format::local(&b.created_at, 0),
    ) {
        (Some(x), Some(y)) => (y - x).whole_minutes().abs() < minutes,
        _ => false,
    }
}

/// The client id of my last sent message that others have read up to, with their names
/// ("seen by Bob"): empty when nobody has seen it yet.
pub fn seen_by(
    messages: &[ChatMessage],
    me: UserId,
    receipts: &HashMap<UserId, Seq>,
    names: &HashMap<UserId, String>,
) -> Option<(String, Vec<String>)> {
    let last_mine = messages
        .iter()
        .rev()
        .find(|m| m.sender_id == me && m.delivery == DeliveryState::Sent && m.seq.is_some())?;
    let seq = last_mine.seq?;
    let mut who: Vec<String> = receipts
        .iter()
        .filter(|(user, read)| **user != me && **read >= seq)
        .map(|(user, _)| names.get(user).cloned().unwrap_or_else(|| "Someone".into()))
        .collect();
    if who.is_empty() {
        return None;
    }
    who.sort();
    Some((last_mine.client_id.clone(), who))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn msg(client_id: &str, seq: Option<Seq>, sender: UserId, at: &str) -> ChatMessage {
        ChatMessage {
            client_id: client_id.into(),
            id: seq.map(|s| s * 10),
            conversation_id: 1,
            seq,
            sender_id: sender,
            sender_name: format!("user{sender}"),
            content: format!("text of {client_id}"),
            created_at: at.into(),
            delivery: if seq.is_some() {
                DeliveryState::Sent
            } else {
                DeliveryState::Pending
            },
        }
    }

    fn ids(t: &Timeline) -> Vec<&str> {
        t.messages.iter().map(|m| m.client_id.as_str()).collect()
    }

    #[test]
    fn a_message_arriving_twice_is_shown_once() {
        let mut t = Timeline::default();
        t.upsert([msg("a", Some(1), 2, "2025-03-05T10:00:00Z")]);
        t.upsert([msg("a", Some(1), 2, "2025-03-05T10:00:00Z")]);
        assert_eq!(ids(&t), ["a"]);
    }

    #[test]
    fn my_pending_message_becomes_sent_in_place() {
        let mut t = Timeline::default();
        t.upsert([msg("x", Some(1), 2, "2025-03-05T10:00:00Z")]);
        t.upsert([msg("mine", None, 1, "2025-03-05T10:01:00Z")]);
        assert_eq!(t.messages[1].delivery, DeliveryState::Pending);
        // The answer to sending it, arriving late, changes nothing.
        let mut late = t.messages[1].clone();
        late.content = "late copy".into();
        t.insert_accepted(late);
        assert_ne!(t.messages[1].content, "late copy");
        t.upsert([msg("mine", Some(2), 1, "2025-03-05T10:01:00Z")]);
        assert_eq!(ids(&t), ["x", "mine"]);
        assert_eq!(t.messages[1].delivery, DeliveryState::Sent);
    }

    #[test]
    fn a_late_pending_copy_never_hides_that_my_message_was_sent() {
        let mut t = Timeline::default();
        t.upsert([msg("mine", None, 1, "2025-03-05T10:01:00Z")]);
        t.upsert([msg("mine", Some(2), 1, "2025-03-05T10:01:00Z")]);
        // The reply to `send_message` comes in after the "sent" event.
        t.upsert([msg("mine", None, 1, "2025-03-05T10:01:00Z")]);
        assert_eq!(ids(&t), ["mine"]);
        assert_eq!(t.messages[0].delivery, DeliveryState::Sent);
    }

    #[test]
    fn pending_messages_stay_below_sent_ones() {
        let mut t = Timeline::default();
        t.upsert([msg("p", None, 1, "2025-03-05T09:00:00Z")]);
        t.upsert([msg("s", Some(5), 2, "2025-03-05T10:00:00Z")]);
        assert_eq!(ids(&t), ["s", "p"]);
    }

    #[test]
    fn a_copy_with_the_same_server_id_replaces_the_old_one() {
        let mut t = Timeline::default();
        t.upsert([msg("a", Some(1), 2, "2025-03-05T10:00:00Z")]);
        let mut again = msg("server-1", Some(1), 2, "2025-03-05T10:00:00Z");
        again.content = "edited".into();
        t.upsert([again]);
        assert_eq!(ids(&t), ["server-1"]);
    }

    #[test]
    fn older_pages_go_in_front_and_a_short_page_ends_the_history() {
        let page: Vec<_> = (10..12)
            .map(|s| msg(&format!("m{s}"), Some(s), 2, "2025-03-05T10:00:00Z"))
            .collect();
        let mut t = Timeline::from_page(page, 2);
        assert!(t.has_more);
        assert_eq!(t.oldest_seq(), Some(10));
        t.loading_older = true;
        t.prepend_older(vec![msg("m3", Some(3), 2, "2025-03-04T10:00:00Z")], 2);
        assert_eq!(ids(&t), ["m3", "m10", "m11"]);
        assert!(!t.has_more);
        assert!(!t.loading_older);
    }

    fn page(from: Seq, to: Seq) -> Vec<ChatMessage> {
        (from..to)
            .map(|s| msg(&format!("m{s}"), Some(s), 2, "2025-03-05T10:00:00Z"))
            .collect()
    }

    #[test]
    fn a_jump_opens_one_window_around_the_message_and_waits_while_a_page_is_read() {
        // Opened at the hit: its window is read at once, not the newest page first.
        assert_eq!(jump(None, 40), Jump::LoadAround);
        let live_only = Timeline {
            messages: page(600, 601),
            ..Timeline::default()
        };
        assert_eq!(jump(Some(&live_only), 40), Jump::LoadAround);
        let mut t = Timeline::from_page(page(500, 550), 50);
        // However far back: one window, no page in between.
        assert_eq!(jump(Some(&t), 40), Jump::LoadAround);
        t.loading_older = true;
        assert_eq!(jump(Some(&t), 40), Jump::Wait);
        let w = Timeline::around(40, page(0, 41), page(41, 91), 50);
        assert_eq!(jump(Some(&w), 40), Jump::Show);
        assert!(w.has_newer, "the window lies in the past");
        assert!(!w.has_more, "a short older page ends the history");
        assert_eq!(w.around, Some(40));
        // Opened around a message the cache lacks: it is missing, not loaded again.
        let gap = Timeline::around(45, page(0, 45), page(46, 96), 50);
        assert_eq!(jump(Some(&gap), 45), Jump::Missing);
    }

    #[test]
    fn a_page_that_no_longer_joins_the_window_is_dropped_and_ends_the_read() {
        // A window in the past reads a newer page; "Jump to newest" reads the newest page
        // meanwhile: the late page would leave a hole below the newest rows.
        let mut t = Timeline::around(500, page(451, 501), page(501, 551), 50);
        t.loading_newer = true;
        let mut newest = Timeline::from_page(page(9_950, 10_000), 50);
        t.merge_into(&mut newest);
        newest.loading_newer = true;
        newest.newer_landed(550, page(551, 601), 50);
        assert_eq!(newest.oldest_seq(), Some(9_950));
        assert_eq!(newest.messages.len(), 50);
        assert!(
            !newest.loading_newer,
            "the read is over: the list may read again"
        );
        // The same for an older page after the window's oldest rows were trimmed.
        newest.loading_older = true;
        newest.older_landed(451, page(401, 451), 50);
        assert_eq!(newest.oldest_seq(), Some(9_950));
        assert!(!newest.loading_older);
        // A page that joins is added.
        newest.loading_older = true;
        newest.older_landed(9_950, page(9_900, 9_950), 50);
        assert_eq!(newest.oldest_seq(), Some(9_900));
        assert_eq!(newest.messages.len(), 100);
    }

    #[test]
    fn scrolling_back_through_a_long_history_keeps_at_most_five_pages() {
        let mut t = Timeline::from_page(page(9_950, 10_000), 50);
        while t.has_more {
            let before = t.oldest_seq().unwrap();
            t.loading_older = true;
            t.prepend_older(page(before.saturating_sub(50).max(0), before), 50);
            assert!(t.messages.len() <= MAX_LOADED, "{}", t.messages.len());
        }
        assert_eq!(t.oldest_seq(), Some(0));
        assert_eq!(t.newest_seq(), Some(MAX_LOADED as Seq - 1));
        assert!(t.has_newer, "the newest rows were dropped");
        assert!(!t.has_more);
    }

    #[test]
    fn scrolling_forward_drops_the_oldest_rows_and_the_last_page_returns_to_the_live_end() {
        let mut t = Timeline::around(100, page(51, 101), page(101, 151), 50);
        while t.has_newer {
            let after = t.newest_seq().unwrap();
            let mut next = page(after + 1, (after + 51).min(1_000));
            if after + 51 > 1_000 {
                next.push(msg("mine", None, 1, "2025-03-05T11:00:00Z"));
            }
            t.loading_newer = true;
            t.append_newer(next, 50);
            assert!(t.messages.len() <= MAX_LOADED);
            assert!(!t.loading_newer);
        }
        assert_eq!(t.newest_seq(), Some(999));
        assert_eq!(t.messages.last().unwrap().client_id, "mine");
        assert!(t.has_more, "the oldest rows were dropped");
    }

    #[test]
    fn a_window_in_the_past_takes_updates_of_its_rows_but_not_new_messages() {
        let mut t = Timeline::around(100, page(51, 101), page(101, 151), 50);
        let len = t.messages.len();
        t.upsert_live([msg("new", Some(5_000), 2, "2025-03-06T10:00:00Z")]);
        t.upsert_live([msg("mine", None, 1, "2025-03-06T10:00:00Z")]);
        assert_eq!(t.messages.len(), len, "no hole between the window and them");
        let mut edited = msg("m100", Some(100), 2, "2025-03-05T10:00:00Z");
        edited.content = "edited".into();
        t.upsert_live([edited]);
        assert!(t.messages.iter().any(|m| m.content == "edited"));
        // My message, accepted while reading the past, waits for the newest page.
        t.insert_accepted(msg("sent-now", None, 1, "2025-03-06T10:00:00Z"));
        assert_eq!(t.messages.len(), len);
    }

    #[test]
    fn the_newest_page_replaces_a_window_in_the_past_but_keeps_live_rows_of_the_live_end() {
        let window = Timeline::around(100, page(51, 101), page(101, 151), 50);
        let mut fresh = Timeline::from_page(page(950, 1_000), 50);
        window.merge_into(&mut fresh);
        assert_eq!(fresh.oldest_seq(), Some(950), "no rows from far back");
        assert!(!fresh.has_newer);

        let mut live = Timeline::default();
        live.upsert_live([msg("arrived", Some(1_000), 2, "2025-03-05T10:00:00Z")]);
        let mut fresh = Timeline::from_page(page(950, 1_000), 50);
        live.merge_into(&mut fresh);
        assert_eq!(fresh.newest_seq(), Some(1_000));
    }

    #[test]
    fn a_catch_up_filling_in_below_the_loaded_rows_says_older_pages_exist_instead_of_leaving_a_hole(
    ) {
        // The newest message came first (the conversation list carries it); the catch-up then
        // brings older ones.
        let mut t = Timeline::from_page(
            vec![msg("newest", Some(900), 2, "2025-03-05T11:00:00Z")],
            50,
        );
        assert!(!t.has_more);
        t.upsert_live([msg("old", Some(10), 2, "2025-03-05T09:00:00Z")]);
        assert_eq!(t.messages.len(), 1, "not put in front of a hole");
        assert!(t.has_more, "older pages can be loaded now");
        assert_eq!(jump(Some(&t), 10), Jump::LoadAround);
        // Newer rows and my pending ones still go in.
        t.upsert_live([
            msg("next", Some(901), 2, "2025-03-05T11:01:00Z"),
            msg("mine", None, 1, "2025-03-05T11:02:00Z"),
        ]);
        assert_eq!(t.messages.len(), 3);
    }

    #[test]
    fn a_jump_to_a_message_the_cache_lacks_gives_up_instead_of_loading_forever() {
        let page: Vec<_> = (10..12)
            .map(|s| msg(&format!("m{s}"), Some(s), 2, "2025-03-05T10:00:00Z"))
            .collect();
        let full = Timeline::from_page(page.clone(), 2);
        assert_eq!(jump(Some(&full), 11), Jump::Show);
        // Between two loaded messages (deleted, or another conversation's sequence).
        let mut gap = full.clone();
        gap.upsert([msg("m14", Some(14), 2, "2025-03-05T10:00:00Z")]);
        assert_eq!(jump(Some(&gap), 13), Jump::Missing);
        // Older than everything, and the history has ended.
        let ended = Timeline::from_page(page, 50);
        assert_eq!(jump(Some(&ended), 3), Jump::Missing);
        assert_eq!(
            jump(Some(&Timeline::from_page(vec![], 50)), 3),
            Jump::Missing
        );
    }

    #[test]
    fn discarded_messages_disappear() {
        let mut t = Timeline::default();
        t.upsert([msg("p", None, 1, "2025-03-05T09:00:00Z")]);
        t.remove("p");
        assert!(t.messages.is_empty());
    }

    #[test]
    fn rows_separate_days_and_group_runs_by_sender() {
        let now = 1_741_176_000_000; // 2025-03-05T12:00Z
        let list = vec![
            msg("a", Some(1), 2, "2025-03-04T10:00:00Z"),
            msg("b", Some(2), 2, "2025-03-05T10:00:00Z"),
            msg("c", Some(3), 2, "2025-03-05T10:02:00Z"),
            msg("d", Some(4), 1, "2025-03-05T10:03:00Z"),
            msg("e", Some(5), 1, "2025-03-05T10:30:00Z"),
        ];
        let r = rows(&list, 1, now, 0);
        let shape: Vec<String> = r
            .iter()
            .map(|row| match row {
                Row::Day(d) => format!("[{d}]"),
                Row::Message {
                    message,
                    mine,
                    show_sender,
                    ..
                } => format!(
                    "{}{}{}",
                    message.client_id,
                    if *mine { "*" } else { "" },
                    if *show_sender { "+" } else { "" }
                ),
            })
            .collect();
        assert_eq!(
            shape,
            ["[Yesterday]", "a+", "[Today]", "b+", "c", "d*+", "e*+"]
        );
    }

    #[test]
    fn seen_names_the_readers_of_my_last_sent_message() {
        let list = vec![
            msg("mine1", Some(4), 1, "2025-03-05T10:00:00Z"),
            msg("theirs", Some(5), 2, "2025-03-05T10:01:00Z"),
            msg("mine2", Some(6), 1, "2025-03-05T10:02:00Z"),
            msg("pending", None, 1, "2025-03-05T10:03:00Z"),
        ];
        let names = HashMap::from([(2, "Bob".to_string()), (3, "Cleo".to_string())]);
        let mut receipts = HashMap::from([(2, 5)]);
        assert_eq!(seen_by(&list, 1, &receipts, &names), None);
        receipts.insert(3, 6);
        receipts.insert(2, 7);
        assert_eq!(
            seen_by(&list, 1, &receipts, &names),
            Some(("mine2".into(), vec!["Bob".into(), "Cleo".into()]))
        );
    }
}

//! The knowledge library's list: every request I asked or was asked, in every state (waiting,
//! answered, declined), filtered by who asked and by state, newest first; the sentence that
//! says who answered; and how the arrow keys move through the list.
//!
//! What it does: merges the three lists the core publishes (`incoming`: waiting for my answer,
//! `outgoing`: mine, `answered`: those I answered or declined), each request once, ordered by
//! when it was asked.
//!
//! What it never does: ask the core for anything (the lists arrive on its events), touch the
//! DOM, or decide what is unread (the core's `unread` flag says so). Tested natively.

use std::cmp::Reverse;

use confab_model::ipc::{RequestLists, ShareRequestView};
use confab_model::{KnowledgeStatus, RequestId};

use super::format;

/// Whose questions the library shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Who {
    /// Everything.
    #[default]
    All,
    /// The questions I asked.
    ByMe,
    /// The questions teammates asked me.
    OfMe,
}

impl Who {
    /// Every choice, in the order the dialog offers them.
    pub const ALL: [Who; 3] = [Who::All, Who::ByMe, Who::OfMe];

    /// The button's label.
    pub fn label(self) -> &'static str {
        match self {
            Who::All => "All",
            Who::ByMe => "Asked by me",
            Who::OfMe => "Asked of me",
        }
    }

    /// A stable name for element ids (`library-who-mine`).
    pub fn key(self) -> &'static str {
        match self {
            Who::All => "all",
            Who::ByMe => "mine",
            Who::OfMe => "theirs",
        }
    }

    fn admits(self, side: Side) -> bool {
        match self {
            Who::All => true,
            Who::ByMe => side == Side::Asked,
            Who::OfMe => side == Side::Received,
        }
    }
}

/// Which states the library shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateFilter {
    /// Every state.
    #[default]
    Any,
    /// Waiting for an answer.
    Pending,
    /// Answered (approved with content).
    Answered,
    /// Declined.
    Declined,
}

impl StateFilter {
    /// Every choice, in the order the dialog offers them.
    pub const ALL: [StateFilter; 4] = [
        StateFilter::Any,
        StateFilter::Pending,
        StateFilter::Answered,
        StateFilter::Declined,
    ];

    /// The button's label.
    pub fn label(self) -> &'static str {
        match self {
            StateFilter::Any => "Any state",
            StateFilter::Pending => "Waiting",
            StateFilter::Answered => "Answered",
            StateFilter::Declined => "Declined",
        }
    }

    /// A stable name for element ids (`library-state-declined`).
    pub fn key(self) -> &'static str {
        match self {
            StateFilter::Any => "any",
            StateFilter::Pending => "pending",
            StateFilter::Answered => "answered",
            StateFilter::Declined => "declined",
        }
    }

    fn admits(self, status: KnowledgeStatus) -> bool {
        match self {
            StateFilter::Any => true,
            StateFilter::Pending => status == KnowledgeStatus::Pending,
            StateFilter::Answered => status == KnowledgeStatus::Approved,
            StateFilter::Declined => status == KnowledgeStatus::Denied,
        }
    }
}

/// Both filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Filter {
    /// Whose questions.
    pub who: Who,
    /// Which states.
    pub state: StateFilter,
}

/// Which side of a request I am on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// I asked it.
    Asked,
    /// I was asked.
    Received,
}

/// One request in the library.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry<'a> {
    /// The request.
    pub request: &'a ShareRequestView,
    /// Mine or addressed to me.
    pub side: Side,
}

impl Entry<'_> {
    /// An answer to my question that I have not opened yet.
    pub fn unread(&self) -> bool {
        self.side == Side::Asked && self.request.unread
    }

    /// The other person: who I asked, or who asked me.
    pub fn counterpart(&self) -> String {
        match self.side {
            Side::Asked => owner(self.request),
            Side::Received => self.request.requester_name.clone(),
        }
    }

    /// The sentence above the answer: "Grace Hopper answered", "You declined",
    /// "Waiting for Grace Hopper".
    pub fn outcome(&self) -> String {
        let by = match self.side {
            Side::Asked => owner(self.request),
            Side::Received => "You".to_owned(),
        };
        match (self.request.status, self.side) {
            (KnowledgeStatus::Pending, Side::Asked) => format!("Waiting for {by}"),
            (KnowledgeStatus::Pending, Side::Received) => "Waiting for your answer".to_owned(),
            (KnowledgeStatus::Approved, _) => format!("{by} answered"),
            (KnowledgeStatus::Denied, _) => format!("{by} declined"),
        }
    }
}

fn owner(r: &ShareRequestView) -> String {
    r.owner_name
        .clone()
        .unwrap_or_else(|| "Your teammate".to_owned())
}

/// Every request I asked or was asked, each once, newest first (by when it was asked; the
/// same second falls back to the id, which grows with time). A request in two lists (answered
/// while the pending list had not caught up) shows as answered.
pub fn library(lists: &RequestLists) -> Vec<Entry<'_>> {
    let mine = lists.outgoing.iter().map(|request| Entry {
        request,
        side: Side::Asked,
    });
    let to_me = lists
        .answered
        .iter()
        .chain(&lists.incoming)
        .map(|request| Entry {
            request,
            side: Side::Received,
        });
    let mut out: Vec<Entry<'_>> = Vec::new();
    for e in mine.chain(to_me) {
        if !out.iter().any(|o| o.request.id == e.request.id) {
            out.push(e);
        }
    }
    // Times that do not parse sort last; the key is computed once per request.
    out.sort_by_cached_key(|e| {
        let at = format::local(&e.request.created_at, 0).map(|t| t.unix_timestamp_nanos());
        Reverse((at, e.request.id))
    });
    out
}

/// The entries `filter` keeps, in their order.
pub fn filtered<'a>(all: &[Entry<'a>], filter: Filter) -> Vec<Entry<'a>> {
    all.iter()
        .copied()
        .filter(|e| filter.who.admits(e.side) && filter.state.admits(e.request.status))
        .collect()
}

/// How many entries `filter` keeps (for the filter buttons' counts).
pub fn count(all: &[Entry<'_>], filter: Filter) -> usize {
    all.iter()
        .filter(|e| filter.who.admits(e.side) && filter.state.admits(e.request.status))
        .count()
}

/// `id` when it is an answer to my question that I have not opened yet: opening it should
/// tell the core (`mark_answer_seen`).
pub fn unread_answer(lists: &RequestLists, id: RequestId) -> Option<RequestId> {
    lists
        .outgoing
        .iter()
        .any(|r| r.id == id && r.unread)
        .then_some(id)
}

/// Where focus goes in a list of `len` items when `key` is pressed on item `current`: the
/// arrows move one (stopping at the ends), Home and End jump; `None` for any other key.
pub fn step(current: usize, len: usize, key: &str) -> Option<usize> {
    let last = len.checked_sub(1)?;
    match key {
        "Home" => Some(0),
        "End" => Some(last),
        arrow => crate::logic::keys::arrow_step(arrow, current, len).map(|c| c.min(last)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: i64 = 1;

    fn req(
        id: RequestId,
        asker: i64,
        owner: i64,
        status: KnowledgeStatus,
        at: &str,
    ) -> ShareRequestView {
        let name = |u: i64| ["", "Ada Lovelace", "Grace Hopper", "Linus Torvalds"][u as usize];
        ShareRequestView {
            id,
            requester_id: asker,
            requester_name: name(asker).into(),
            owner_id: owner,
            owner_name: Some(name(owner).into()),
            question: format!("question {id}"),
            status,
            response_content: (status != KnowledgeStatus::Pending).then(|| format!("answer {id}")),
            created_at: at.into(),
            answered_at: (status != KnowledgeStatus::Pending).then(|| at.to_owned()),
            unread: false,
        }
    }

    /// Mine: 1 (answered, 10:01), 2 (pending, 10:05), 3 (declined, 09:00). To me: 4 (pending,
    /// 10:03), 5 (answered by me, 10:04), 6 (declined by me, 08:00).
    fn lists() -> RequestLists {
        use KnowledgeStatus::{Approved, Denied, Pending};
        RequestLists {
            outgoing: vec![
                req(2, ME, 2, Pending, "2025-03-05T10:05:00Z"),
                req(1, ME, 2, Approved, "2025-03-05T10:01:00Z"),
                req(3, ME, 3, Denied, "2025-03-05T09:00:00Z"),
            ],
            incoming: vec![req(4, 3, ME, Pending, "2025-03-05T10:03:00Z")],
            answered: vec![
                req(5, 2, ME, Approved, "2025-03-05T10:04:00Z"),
                req(6, 3, ME, Denied, "2025-03-05T08:00:00Z"),
            ],
        }
    }

    fn ids(entries: &[Entry<'_>]) -> Vec<RequestId> {
        entries.iter().map(|e| e.request.id).collect()
    }

    #[test]
    fn every_request_i_asked_or_was_asked_shows_once_newest_first() {
        let l = lists();
        let all = library(&l);
        assert_eq!(ids(&all), [2, 5, 4, 1, 3, 6]);
        assert_eq!(all[0].side, Side::Asked);
        assert_eq!(all[1].side, Side::Received);
    }

    #[test]
    fn asked_by_me_and_asked_of_me_split_the_library() {
        let l = lists();
        let all = library(&l);
        let mine = Filter {
            who: Who::ByMe,
            ..Filter::default()
        };
        let theirs = Filter {
            who: Who::OfMe,
            ..Filter::default()
        };
        assert_eq!(ids(&filtered(&all, mine)), [2, 1, 3]);
        assert_eq!(ids(&filtered(&all, theirs)), [5, 4, 6]);
    }

    #[test]
    fn the_state_filter_keeps_waiting_answered_or_declined_requests_on_both_sides() {
        let l = lists();
        let all = library(&l);
        let with = |state| Filter {
            state,
            ..Filter::default()
        };
        assert_eq!(ids(&filtered(&all, with(StateFilter::Pending))), [2, 4]);
        assert_eq!(ids(&filtered(&all, with(StateFilter::Answered))), [5, 1]);
        assert_eq!(ids(&filtered(&all, with(StateFilter::Declined))), [3, 6]);
        let declined_of_me = Filter {
            who: Who::OfMe,
            state: StateFilter::Declined,
        };
        assert_eq!(ids(&filtered(&all, declined_of_me)), [6]);
        assert_eq!(count(&all, declined_of_me), 1);
        assert_eq!(count(&all, Filter::default()), 6);
    }

    #[test]
    fn a_request_answered_before_the_pending_list_caught_up_shows_once_as_answered() {
        let mut l = lists();
        l.incoming.push(req(
            5,
            2,
            ME,
            KnowledgeStatus::Pending,
            "2025-03-05T10:04:00Z",
        ));
        let all = library(&l);
        let fives: Vec<_> = all.iter().filter(|e| e.request.id == 5).collect();
        assert_eq!(fives.len(), 1);
        assert_eq!(fives[0].request.status, KnowledgeStatus::Approved);
    }

    #[test]
    fn times_with_other_offsets_or_fractions_still_sort_by_the_moment_they_name() {
        use KnowledgeStatus::Pending;
        let l = RequestLists {
            outgoing: vec![
                req(1, ME, 2, Pending, "2025-03-05T10:30:00+02:00"),
                req(2, ME, 2, Pending, "2025-03-05T09:00:00.5Z"),
                req(3, ME, 2, Pending, "not a time"),
            ],
            ..RequestLists::default()
        };
        assert_eq!(ids(&library(&l)), [2, 1, 3]);
    }

    #[test]
    fn the_outcome_names_who_answered_declined_or_is_awaited() {
        let l = lists();
        let all = library(&l);
        let line = |id| {
            all.iter()
                .find(|e| e.request.id == id)
                .map(Entry::outcome)
                .unwrap_or_default()
        };
        assert_eq!(line(1), "Grace Hopper answered");
        assert_eq!(line(2), "Waiting for Grace Hopper");
        assert_eq!(line(3), "Linus Torvalds declined");
        assert_eq!(line(4), "Waiting for your answer");
        assert_eq!(line(5), "You answered");
        assert_eq!(line(6), "You declined");
        assert_eq!(
            all[1].counterpart(),
            "Grace Hopper",
            "request 5 came from Grace"
        );
    }

    #[test]
    fn only_an_unread_answer_to_my_own_question_is_to_be_marked_seen() {
        let mut l = lists();
        l.outgoing[1].unread = true;
        l.answered[0].unread = true;
        assert_eq!(unread_answer(&l, 1), Some(1));
        assert_eq!(
            unread_answer(&l, 5),
            None,
            "an answer I gave is never unread"
        );
        assert_eq!(unread_answer(&l, 2), None);
        let all = library(&l);
        let unread: Vec<_> = all
            .iter()
            .filter(|e| e.unread())
            .map(|e| e.request.id)
            .collect();
        assert_eq!(unread, [1]);
    }

    #[test]
    fn arrow_keys_move_through_the_list_and_stop_at_its_ends() {
        assert_eq!(step(0, 3, "ArrowDown"), Some(1));
        assert_eq!(step(2, 3, "ArrowDown"), Some(2));
        assert_eq!(step(0, 3, "ArrowUp"), Some(0));
        assert_eq!(step(2, 3, "ArrowUp"), Some(1));
        assert_eq!(step(1, 3, "Home"), Some(0));
        assert_eq!(step(0, 3, "End"), Some(2));
        assert_eq!(step(0, 3, "Enter"), None);
        assert_eq!(step(0, 0, "ArrowDown"), None);
    }
}

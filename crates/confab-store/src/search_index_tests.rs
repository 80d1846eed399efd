//! The message search index keyed by recency (`migrations/0006_search_by_recency.sql`): newest
//! first, pages, conversations, and every write path keeping the index in step, checked against
//! a naive scan of `messages`.

use confab_model::{Change, LeftChange, Message, MessageChange, Seq};

use crate::testing::*;
use crate::{Reload, SearchCursor, Store, MAX_SEARCH_PAGE};

/// What identifies a hit here: (conversation, client id, seq).
type Found = (i64, String, Option<Seq>);

/// Ada's message `seq` in `conversation`, with its own server id and text.
fn said(id: i64, seq: Seq, conversation: i64, content: &str) -> Message {
    let mut m = message_from_ada(seq);
    m.id = id;
    m.client_id = format!("ada-{id}");
    m.conversation_id = conversation;
    m.content = content.to_owned();
    m
}

/// Every hit of `query`, page after page of `page` hits, checking each page's size and cursor.
fn all_pages(store: &Store, query: &str, conversation: Option<i64>, page: usize) -> Vec<Found> {
    let mut found = Vec::new();
    let mut before: Option<SearchCursor> = None;
    loop {
        let got = store
            .search_page(query, conversation, before, page)
            .unwrap();
        assert!(got.hits.len() <= page);
        found.extend(
            got.hits
                .iter()
                .map(|h| (h.conversation_id, h.client_id.clone(), h.seq)),
        );
        match got.next {
            Some(next) => {
                assert_eq!(got.hits.len(), page, "only a full page has a next one");
                before = Some(next);
            }
            None => return found,
        }
    }
}

/// The same search done the slow way: `LIKE` over every row (the test vocabulary is lowercase
/// ASCII words separated by single spaces), newest first as the search documents it: unsent
/// first (newest written first), then by seq, messages sharing a seq by their key.
fn naive(store: &Store, query: &str, conversation: Option<i64>) -> Vec<Found> {
    let words: Vec<&str> = query.split_whitespace().collect();
    let mut conditions: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let tail = if i + 1 == words.len() { "%" } else { " %" };
            format!("' ' || content || ' ' LIKE '% {w}{tail}'")
        })
        .collect();
    if let Some(id) = conversation {
        conditions.push(format!("conversation_id = {id}"));
    }
    let sql = format!(
        "SELECT conversation_id, client_id, seq FROM messages WHERE {}
         ORDER BY seq IS NULL DESC, seq DESC, search_key DESC",
        conditions.join(" AND ")
    );
    let mut stmt = store.conn.prepare(&sql).unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Fails unless the index is whole (FTS5's own check against `messages`) and nothing waits to
/// be indexed.
fn assert_index_whole(store: &Store) {
    store
        .conn
        .execute(
            "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)",
            [],
        )
        .unwrap();
    let waiting: i64 = store
        .conn
        .query_row(
            "SELECT (SELECT count(*) FROM messages_fts_pending)
                 + (SELECT count(*) FROM messages WHERE search_key IS NULL)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(waiting, 0);
}

#[test]
fn newest_first_follows_seq_even_when_older_history_is_cached_after_newer_messages() {
    let mut store = store_with_conversation();
    store
        .apply_changes(
            &[
                Change::Message(MessageChange {
                    seq: 50,
                    message: said(50, 50, CONV, "deploy fifty"),
                }),
                Change::Message(MessageChange {
                    seq: 51,
                    message: said(51, 51, CONV, "deploy fifty-one"),
                }),
            ],
            51,
        )
        .unwrap();
    // History fetched later: lower seqs, higher local ids.
    store
        .write(|tx| {
            tx.apply_history(&[
                said(3, 3, CONV, "deploy three"),
                said(40, 40, CONV, "deploy forty"),
            ])
        })
        .unwrap();
    store
        .enqueue_message(CONV, "c-1", "deploy unsent", &time(60), 0)
        .unwrap();
    let seqs: Vec<Option<Seq>> = store
        .search("deploy", None, 10)
        .unwrap()
        .iter()
        .map(|h| h.seq)
        .collect();
    assert_eq!(seqs, [None, Some(51), Some(50), Some(40), Some(3)]);
    // Sent, the unsent message takes its place among the others.
    let mut echo = message_from_me(45, "c-1");
    echo.content = "deploy unsent".into();
    store.apply_message(&echo).unwrap();
    let seqs: Vec<Option<Seq>> = store
        .search("deploy", None, 10)
        .unwrap()
        .iter()
        .map(|h| h.seq)
        .collect();
    assert_eq!(seqs, [Some(51), Some(50), Some(45), Some(40), Some(3)]);
    assert_index_whole(&store);
}

#[test]
fn pages_of_hits_follow_one_another_without_gaps_or_repeats_and_never_exceed_the_cap() {
    let mut store = store_with_conversation();
    let page: Vec<Change> = (2..260)
        .map(|seq| {
            let text = if seq % 2 == 0 {
                "even deploy"
            } else {
                "odd deploy"
            };
            Change::Message(MessageChange {
                seq,
                message: said(seq, seq, CONV, text),
            })
        })
        .collect();
    store.apply_changes(&page, 260).unwrap();
    let paged = all_pages(&store, "even", None, 10);
    assert_eq!(paged.len(), 129);
    assert_eq!(paged, naive(&store, "even", None));
    // The last page is partial and says so; an exact multiple ends with an empty page's worth
    // of nothing (no cursor on the page that holds the last hit).
    let first = store.search_page("even", None, None, 129).unwrap();
    assert_eq!(first.hits.len(), 129);
    assert_eq!(first.next, None);
    // Asking for more than the cap gets the cap, and a cursor to go on.
    let capped = store.search_page("deploy", None, None, 100_000).unwrap();
    assert_eq!(capped.hits.len(), MAX_SEARCH_PAGE);
    assert!(capped.next.is_some());
    assert_eq!(
        all_pages(&store, "deploy", None, MAX_SEARCH_PAGE).len(),
        258
    );
    assert!(store
        .search_page("deploy", None, None, 0)
        .unwrap()
        .hits
        .is_empty());
}

#[test]
fn a_search_within_a_conversation_matches_words_in_the_text_only() {
    let mut store = store_with_conversation();
    store
        .apply_message(&said(2, 2, CONV, "plain words"))
        .unwrap();
    store
        .apply_message(&said(3, 3, 11, "c10 is a word here"))
        .unwrap();
    // The conversation's own token (`c10`) is no word of any message.
    let hits = store.search("c10", None, 10).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].conversation_id, 11);
    assert!(store.search("c1", Some(CONV), 10).unwrap().is_empty());
    assert_eq!(store.search("plain", Some(CONV), 10).unwrap().len(), 1);
    assert!(store.search("plain", Some(11), 10).unwrap().is_empty());
    // A message the server moves to another conversation is found there only.
    store.apply_message(&said(2, 4, 11, "plain words")).unwrap();
    assert!(store.search("plain", Some(CONV), 10).unwrap().is_empty());
    assert_eq!(store.search("plain", Some(11), 10).unwrap().len(), 1);
    assert_index_whole(&store);
}

/// A small deterministic generator (an LCG step), as in the other randomized tests.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }

    fn text(&mut self) -> String {
        const WORDS: &[&str] = &[
            "alpha", "alpine", "beta", "bet", "gamma", "delta", "deltas", "omega", "al",
        ];
        let len = 1 + self.below(4);
        (0..len)
            .map(|_| WORDS[self.below(WORDS.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[test]
fn the_index_answers_as_a_naive_scan_does_after_a_mixed_sequence_of_writes() {
    let mut store = store_with_conversation();
    for id in [11, 12] {
        store
            .apply_conversation(&conversation(id, "Group", &[ME, ADA, 3]), Some(1))
            .unwrap();
    }
    let mut rng = Lcg(0x5eed);
    let (mut next_seq, mut history_seq, mut next_id) = (1_000, 999, 1);
    // Server messages cached so far (id, seq, conversation), and my unsent ones (client id).
    let mut sent: Vec<(i64, Seq, i64)> = Vec::new();
    let mut unsent: Vec<String> = Vec::new();
    let queries = [
        "al",
        "alp",
        "bet",
        "delta",
        "gamma al",
        "omega beta",
        "a",
        "de",
    ];
    for step in 0..300 {
        let conversations = store.conversation_ids().unwrap();
        let conv = [CONV, 11, 12][rng.below(3) as usize];
        let what = rng.below(11);
        match what {
            // A sync page of new messages.
            0 | 1 => {
                let changes: Vec<Change> = (0..1 + rng.below(5))
                    .map(|_| {
                        let (id, seq) = (next_id, next_seq);
                        next_id += 1;
                        next_seq += 1;
                        sent.push((id, seq, conv));
                        Change::Message(MessageChange {
                            seq,
                            message: said(id, seq, conv, &rng.text()),
                        })
                    })
                    .collect();
                store.apply_changes(&changes, next_seq).unwrap();
            }
            // Older history, cached after newer messages.
            2 => {
                let (id, seq) = (next_id, history_seq);
                next_id += 1;
                history_seq -= 1;
                sent.push((id, seq, conv));
                let old = said(id, seq, conv, &rng.text());
                store.write(|tx| tx.apply_history(&[old])).unwrap();
            }
            // A cached message arrives again, changed: its text, or renumbered, or moved.
            3 if !sent.is_empty() => {
                let i = rng.below(sent.len() as u64) as usize;
                let (id, mut seq, mut to) = sent[i];
                match rng.below(3) {
                    0 => {}
                    1 => {
                        seq = next_seq;
                        next_seq += 1;
                    }
                    _ => to = conv,
                }
                sent[i] = (id, seq, to);
                store
                    .apply_message(&said(id, seq, to, &rng.text()))
                    .unwrap();
            }
            // I write a message (it waits in the outbox).
            4 if conversations.contains(&conv) => {
                let client_id = format!("c-{step}");
                store
                    .enqueue_message(conv, &client_id, &rng.text(), &time(step), 0)
                    .unwrap();
                unsent.push(client_id);
            }
            // The server's copy of one of mine arrives: sent, perhaps with other text.
            5 if !unsent.is_empty() => {
                let client_id = unsent.remove(rng.below(unsent.len() as u64) as usize);
                let queued = store
                    .outbox()
                    .unwrap()
                    .into_iter()
                    .find(|o| o.client_id == client_id);
                if let Some(queued) = queued {
                    let mut echo = message_from_me(next_seq, &client_id);
                    echo.id = next_id;
                    echo.conversation_id = queued.conversation_id;
                    echo.content = if rng.below(2) == 0 {
                        queued.content
                    } else {
                        rng.text()
                    };
                    sent.push((next_id, next_seq, queued.conversation_id));
                    next_id += 1;
                    next_seq += 1;
                    store.apply_message(&echo).unwrap();
                }
            }
            // One of mine is given up, or fails.
            6 if !unsent.is_empty() => {
                let i = rng.below(unsent.len() as u64) as usize;
                if rng.below(2) == 0 {
                    let client_id = unsent.remove(i);
                    let _ = store.outbox_discard(&client_id);
                } else {
                    let _ = store.outbox_fail(&unsent[i], "refused");
                }
            }
            // I leave a conversation (or am removed): it goes with its messages.
            7 if conv != CONV => {
                let left = LeftChange {
                    seq: next_seq,
                    conversation_id: conv,
                    user_id: ME,
                };
                next_seq += 1;
                store.write(|tx| tx.apply_left(&left)).unwrap();
                sent.retain(|&(_, _, c)| c != conv);
            }
            // A reload from scratch: the server lists two conversations and some history,
            // and may have been restored from a backup (seqs that cached messages hold).
            8 => {
                let listed = [
                    conversation(CONV, "Ada", &[ME, ADA]),
                    conversation(11, "Group", &[ME, ADA, 3]),
                ];
                let mut history = Vec::new();
                for _ in 0..rng.below(4) {
                    let seq = if rng.below(2) == 0 && !sent.is_empty() {
                        sent[rng.below(sent.len() as u64) as usize].1
                    } else {
                        next_seq += 1;
                        next_seq
                    };
                    let to = [CONV, 11][rng.below(2) as usize];
                    history.push(said(next_id, seq, to, &rng.text()));
                    sent.push((next_id, seq, to));
                    next_id += 1;
                }
                store
                    .write(|tx| {
                        tx.replace_synced(Reload {
                            head: next_seq,
                            conversations: &listed,
                            messages: &history,
                            requests: &[],
                        })
                    })
                    .unwrap();
                let kept = store.conversation_ids().unwrap();
                sent.retain(|&(_, _, c)| kept.contains(&c));
            }
            // A transaction that writes and then rolls back.
            9 => {
                let tx = store.transaction().unwrap();
                tx.apply_message(&said(next_id, next_seq, conv, "rolled back alpha"))
                    .unwrap();
                drop(tx);
            }
            // The index merged (idle time).
            _ => store.optimize_search().unwrap(),
        }
        assert_index_whole(&store);
        for query in queries {
            for conversation in [None, Some(CONV), Some(11)] {
                let expected = naive(&store, query, conversation);
                let page = 1 + rng.below(4) as usize;
                assert_eq!(
                    all_pages(&store, query, conversation, page),
                    expected,
                    "step {step} ({what}): {query:?} in {conversation:?}"
                );
            }
        }
    }
}

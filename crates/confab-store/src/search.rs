//! Full-text search over message content (FTS5, kept in step by triggers; see
//! `migrations/0002_search.sql`, and `migrations/0006_search_by_recency.sql` for the index keyed
//! by recency that lets a page of newest hits cost only its hits).

use confab_model::ipc::SearchHit;
use confab_model::{ConversationId, KnowledgeRequest};
use rusqlite::{params, Connection};

use crate::error::Result;
use crate::query::{request_from_row, REQUEST_COLUMNS};
use crate::store::Store;

/// A knowledge request whose question or answer matched a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMatch {
    /// The request, as stored.
    pub request: KnowledgeRequest,
    /// Plain text around the match.
    pub excerpt: String,
    /// The match is in the answer (else in the question).
    pub in_answer: bool,
}

/// Words too common to tell one question from another ("asked before" ranks by the rest).
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "can", "do", "does", "for", "how", "i", "in", "is", "it", "me", "my",
    "of", "on", "or", "the", "to", "we", "what", "when", "where", "which", "who", "why", "with",
    "you",
];

/// The most hits one page of [`Store::search_page`] holds, whatever the caller asks: a page
/// costs its hits (each joined to its message, with an excerpt), so pages stay bounded.
pub const MAX_SEARCH_PAGE: usize = 200;

/// Where a page of search hits ended: pass it to [`Store::search_page`] for the next page.
/// Opaque (the last hit's search key); valid while the query stays the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchCursor(i64);

/// One page of message search hits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchPage {
    /// Newest first.
    pub hits: Vec<SearchHit>,
    /// Where the next page starts; `None` when this page holds the last hit.
    pub next: Option<SearchCursor>,
}

/// How many tokens of context a search excerpt carries around the match.
const EXCERPT_TOKENS: i64 = 12;

/// Indexes the messages written or changed since the last call, in one batch (see
/// `migrations/0002_search.sql` for why not one by one). Called before every commit.
///
/// Each message is indexed under its search key (see `migrations/0006_search_by_recency.sql`):
/// the key follows recency, so FTS5 can return the newest matches first without sorting.
pub(crate) fn index_pending(conn: &Connection) -> Result<()> {
    let pending = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM messages_fts_pending)")?
        .query_row([], |r| r.get::<_, bool>(0))?;
    if pending {
        // Row by row (SQLite evaluates the SET for each row after writing the one before), so
        // the subquery sees the keys given earlier in this statement: messages sharing a seq
        // take 0, 1, 2... in local id order, and the unique index never sees a duplicate.
        conn.prepare_cached(&format!(
            "UPDATE messages SET search_key = CASE
                 WHEN seq IS NULL THEN {UNSENT_KEY_BASE} + local_id
                 ELSE (min(max(seq, 0), {MAX_KEYED_SEQ}) << {SEQ_SHIFT}) + coalesce(
                     (SELECT max(o.search_key) + 1 FROM messages o
                      WHERE o.search_key BETWEEN min(max(messages.seq, 0), {MAX_KEYED_SEQ})
                              << {SEQ_SHIFT}
                          AND (min(max(messages.seq, 0), {MAX_KEYED_SEQ}) << {SEQ_SHIFT})
                              + {SAME_SEQ_SLOTS} - 1)
                     - (min(max(seq, 0), {MAX_KEYED_SEQ}) << {SEQ_SHIFT}),
                     0)
             END
             WHERE local_id IN (SELECT local_id FROM messages_fts_pending)"
        ))?
        .execute([])?;
        conn.prepare_cached(
            "INSERT INTO messages_fts (rowid, content, search_conversation)
             SELECT m.search_key, m.content, m.search_conversation FROM messages_fts_pending p
             JOIN messages m ON m.local_id = p.local_id",
        )?
        .execute([])?;
        conn.prepare_cached("DELETE FROM messages_fts_pending")?
            .execute([])?;
    }
    Ok(())
}

/// A sent message's search key is `seq << SEQ_SHIFT` plus its rank among the cached messages
/// sharing that seq (only after a server was restored from a backup: one more per restore).
const SEQ_SHIFT: u32 = 8;
/// How many messages can share one seq before their keys would run into the next seq's (the
/// unique index then refuses the commit rather than corrupt the order).
const SAME_SEQ_SLOTS: i64 = 1 << SEQ_SHIFT;
/// Unsent messages are keyed from here up, above every sent one.
const UNSENT_KEY_BASE: i64 = 1 << 62;
/// Seqs above this (none a real server reaches) are keyed as this one, so keys stay below
/// [`UNSENT_KEY_BASE`].
const MAX_KEYED_SEQ: i64 = (UNSENT_KEY_BASE >> SEQ_SHIFT) - 1;

/// Turns what a user typed into an FTS5 query that always parses: every word becomes a quoted
/// string (so `AND`, `OR`, `NOT`, `NEAR`, `*`, `^`, `:`, parentheses and stray quotes are plain
/// text), the words must all match, and the last one matches as a prefix (search as you type).
/// Words without a letter or digit, and control characters, are dropped; `None` when nothing searchable is left.
///
/// ```
/// assert_eq!(confab_store::fts_query(r#"deploy "prod"#).as_deref(), Some(r#""deploy" """prod"*"#));
/// assert_eq!(confab_store::fts_query("  ** ").as_deref(), None);
/// ```
pub fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        // Control characters (NUL above all) would end the query string early in SQLite.
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    if words.is_empty() {
        return None;
    }
    Some(words.join(" ") + "*")
}

/// Like [`fts_query`], but every word limited to one column of the requests index.
fn fts_query_in(column: &str, input: &str) -> Option<String> {
    let all = fts_query(input)?;
    // fts_query yields quoted words separated by single spaces (quotes inside are doubled, so a
    // space never occurs inside a word... except within the quotes: split on the quote pairs).
    let mut out = Vec::new();
    for word in split_quoted(&all) {
        out.push(format!("{column} : {word}"));
    }
    Some(out.join(" "))
}

/// Splits `"a" "b c"*` into its quoted words (a trailing `*` stays with its word).
fn split_quoted(query: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut inside = false;
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if inside && chars.peek() == Some(&'"') => {
                current.push_str("\"\"");
                chars.next();
            }
            '"' => {
                current.push('"');
                inside = !inside;
            }
            ' ' if !inside => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// "Any of these words" for "asked before": the distinctive words of a question being typed,
/// each quoted, joined by OR, the last as a prefix. `None` when no distinctive word is left.
fn fts_query_any(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .filter(|w| !STOP_WORDS.contains(&w.to_lowercase().as_str()))
        .map(|w| format!("\"{w}\""))
        .collect();
    if words.is_empty() {
        return None;
    }
    Some(words.join(" OR ") + "*")
}

impl Store {
    /// Merges the search indexes' segments into one each (FTS5 `optimize`): a search then reads
    /// one b-tree per word instead of one per batch of synced messages. It rewrites the whole
    /// index, so run it when the app is idle, not on every sync.
    ///
    /// # Errors
    /// SQLite errors (a full disk: the index stays as it was, still correct).
    pub fn optimize_search(&self) -> Result<()> {
        self.conn.execute_batch(
            "INSERT INTO messages_fts (messages_fts) VALUES ('optimize');
             INSERT INTO share_requests_fts (share_requests_fts) VALUES ('optimize');",
        )?;
        Ok(())
    }

    /// Knowledge requests whose question or answer contains every word of `query` (the last as
    /// a prefix), newest first; a request matching in its question is reported there.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn search_requests(&self, query: &str, limit: usize) -> Result<Vec<RequestMatch>> {
        let (Some(in_question), Some(in_answer)) = (
            fts_query_in("question", query),
            fts_query_in("response_content", query),
        ) else {
            return Ok(Vec::new());
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut found = Vec::new();
        for (fts, column, answer) in [(in_question, 0, false), (in_answer, 1, true)] {
            let rows = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {REQUEST_COLUMNS},
                         snippet(share_requests_fts, {column}, '', '', '…', ?3)
                     FROM share_requests_fts
                     JOIN share_requests r ON r.id = share_requests_fts.rowid
                     WHERE share_requests_fts MATCH ?1
                     ORDER BY r.id DESC LIMIT ?2"
                ))?
                .query_map(params![fts, limit, EXCERPT_TOKENS], |r| {
                    Ok(RequestMatch {
                        request: request_from_row(r)?,
                        excerpt: r.get(12)?,
                        in_answer: answer,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for hit in rows {
                if !found
                    .iter()
                    .any(|f: &RequestMatch| f.request.id == hit.request.id)
                {
                    found.push(hit);
                }
            }
        }
        found.sort_by_key(|m| std::cmp::Reverse(m.request.id));
        found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(found)
    }

    /// Approved requests with an answer that share distinctive words with `question` (a question
    /// being typed), best match first: what was asked before and answered.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn asked_before(&self, question: &str, limit: usize) -> Result<Vec<RequestMatch>> {
        let Some(fts) = fts_query_any(question) else {
            return Ok(Vec::new());
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {REQUEST_COLUMNS},
                     snippet(share_requests_fts, 1, '', '', '…', ?3)
                 FROM share_requests_fts
                 JOIN share_requests r ON r.id = share_requests_fts.rowid
                 WHERE share_requests_fts MATCH ?1 AND r.status = 'approved'
                     AND r.response_content IS NOT NULL
                 ORDER BY bm25(share_requests_fts), r.id DESC LIMIT ?2"
            ))?
            .query_map(params![fts, limit, EXCERPT_TOKENS], |r| {
                Ok(RequestMatch {
                    request: request_from_row(r)?,
                    excerpt: r.get(12)?,
                    in_answer: true,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Messages whose text contains every word of `query` (the last word as a prefix), newest
    /// first (unsent ones before all), optionally within one conversation: the first page of
    /// [`Store::search_page`].
    ///
    /// # Errors
    /// SQLite errors.
    pub fn search(
        &self,
        query: &str,
        conversation_id: Option<ConversationId>,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        Ok(self.search_page(query, conversation_id, None, limit)?.hits)
    }

    /// One page of the messages whose text contains every word of `query` (the last word as a
    /// prefix), newest first (unsent ones before all, newest written first; messages sharing a
    /// seq, which only a server restored from a backup makes, newest cached first), optionally
    /// within one conversation, after the hits of the page `before` ended. At most `limit` hits,
    /// and never more than [`MAX_SEARCH_PAGE`]. Any user input is accepted: see [`fts_query`];
    /// nothing searchable gives no hits. Excerpts are plain text around the match, without
    /// markup.
    ///
    /// The cost is that of the page, not of every match: the index is keyed by recency and read
    /// newest first, and holds each message's conversation as a token (see
    /// `migrations/0006_search_by_recency.sql`).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn search_page(
        &self,
        query: &str,
        conversation_id: Option<ConversationId>,
        before: Option<SearchCursor>,
        limit: usize,
    ) -> Result<SearchPage> {
        let Some(words) = fts_query(query) else {
            return Ok(SearchPage::default());
        };
        // The words in the text only; a conversation by its token (see the migration).
        let fts = match conversation_id {
            None => format!("content : ({words})"),
            Some(id) => format!("content : ({words}) AND search_conversation : \"c{id}\""),
        };
        let limit = limit.min(MAX_SEARCH_PAGE);
        if limit == 0 {
            return Ok(SearchPage::default());
        }
        let before = before.map_or(i64::MAX, |c| c.0);
        // One row more than the page: whether there is a next page.
        let wanted = i64::try_from(limit + 1).unwrap_or(i64::MAX);
        let mut rows: Vec<(SearchHit, i64)> = self
            .conn
            .prepare_cached(
                "SELECT m.conversation_id, c.title, m.client_id, m.seq, m.sender_name,
                     snippet(messages_fts, 0, '', '', '…', ?4), m.created_at, messages_fts.rowid
                 FROM messages_fts
                 JOIN messages m ON m.search_key = messages_fts.rowid
                 JOIN conversations c ON c.id = m.conversation_id
                 WHERE messages_fts MATCH ?1 AND messages_fts.rowid < ?2
                 ORDER BY messages_fts.rowid DESC
                 LIMIT ?3",
            )?
            .query_map(params![fts, before, wanted, EXCERPT_TOKENS], |r| {
                Ok((
                    SearchHit {
                        conversation_id: r.get(0)?,
                        conversation_title: r.get(1)?,
                        client_id: r.get(2)?,
                        seq: r.get(3)?,
                        sender_name: r.get(4)?,
                        excerpt: r.get(5)?,
                        created_at: r.get(6)?,
                    },
                    r.get(7)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more {
            rows.last().map(|(_, key)| SearchCursor(*key))
        } else {
            None
        };
        let mut hits: Vec<SearchHit> = rows.into_iter().map(|(hit, _)| hit).collect();
        // Titled as the list titles them (a direct conversation by the other person's name):
        // one lookup per conversation among the hits.
        let mut titles: std::collections::HashMap<ConversationId, String> =
            std::collections::HashMap::new();
        for hit in &mut hits {
            let title = match titles.entry(hit.conversation_id) {
                std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => slot.insert(
                    self.conversation_label(hit.conversation_id)?
                        .map_or_else(|| hit.conversation_title.clone(), |l| l.title),
                ),
            };
            hit.conversation_title.clone_from(title);
        }
        Ok(SearchPage { hits, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;
    use confab_model::KnowledgeStatus;

    fn store_with_requests() -> Store {
        let mut store = store_with_conversation();
        let mut asked = request(60, false, KnowledgeStatus::Pending, 20);
        asked.question = "Where do the deploy keys live?".into();
        store.apply_request(&asked).unwrap();
        let mut answered = request(61, true, KnowledgeStatus::Approved, 21);
        answered.question = "Which port does staging use?".into();
        answered.response_content = Some("Staging listens on 8443 behind the gateway".into());
        store.apply_request(&answered).unwrap();
        let mut declined = request(62, false, KnowledgeStatus::Denied, 22);
        declined.question = "Can I have the root password?".into();
        declined.response_content = Some("Ask the on-call lead instead".into());
        store.apply_request(&declined).unwrap();
        store
    }

    #[test]
    fn a_word_only_in_an_answer_finds_its_request_marked_as_an_answer_match() {
        let store = store_with_requests();
        let hits = store.search_requests("gateway", 10).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].request.id, 61);
        assert!(hits[0].in_answer);
        assert!(hits[0].excerpt.contains("gateway"));
        let hits = store.search_requests("deploy ke", 10).unwrap();
        assert_eq!(hits.len(), 1);
        assert!(!hits[0].in_answer);
        // A declined request's reason is searchable too.
        assert_eq!(
            store.search_requests("on-call", 10).unwrap()[0].request.id,
            62
        );
    }

    #[test]
    fn asked_before_offers_answered_questions_sharing_distinctive_words() {
        let store = store_with_requests();
        let hits = store
            .asked_before("what port is staging on these days", 5)
            .unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].request.id, 61);
        // Declined and pending requests hold no answer to offer.
        assert!(store.asked_before("root password", 5).unwrap().is_empty());
        assert!(store.asked_before("deploy keys", 5).unwrap().is_empty());
        assert!(store.asked_before("what is the", 5).unwrap().is_empty());
    }

    fn store_with_texts(texts: &[&str]) -> Store {
        let mut store = store_with_conversation();
        for (i, text) in texts.iter().enumerate() {
            let mut m = message_from_ada(i as i64 + 2);
            m.content = (*text).to_owned();
            store.apply_message(&m).unwrap();
        }
        store
    }

    #[test]
    fn a_word_finds_the_messages_containing_it_newest_first_with_an_excerpt() {
        let mut store = store_with_texts(&[
            "the deploy went fine",
            "lunch?",
            "another deploy tomorrow morning",
        ]);
        let hits = store.search("deploy", None, 10).unwrap();
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].excerpt, "another deploy tomorrow morning");
        assert_eq!(hits[0].seq, Some(4));
        assert_eq!(hits[0].conversation_title, "Ada");
        // A direct conversation is titled by the other person, whatever its stored title.
        store
            .apply_conversation(&conversation(CONV, "Me, Ada", &[ME, ADA]), None)
            .unwrap();
        assert_eq!(
            store.search("deploy", None, 10).unwrap()[0].conversation_title,
            "Ada"
        );
        assert_eq!(hits[0].sender_name, "Ada");
        assert_eq!(hits[1].excerpt, "the deploy went fine");
    }

    #[test]
    fn optimizing_the_index_changes_no_answer_and_new_messages_are_found_after_it() {
        let mut store = store_with_texts(&["the deploy went fine", "deploy again", "lunch?"]);
        let before = store.search("depl", None, 10).unwrap();
        store.optimize_search().unwrap();
        assert_eq!(store.search("depl", None, 10).unwrap(), before);
        let mut later = message_from_ada(9);
        later.content = "deploy once more".into();
        store.apply_message(&later).unwrap();
        assert_eq!(store.search("depl", None, 10).unwrap().len(), 3);
        store.optimize_search().unwrap();
        assert_index_matches_messages(&store);
    }

    #[test]
    fn the_last_word_matches_as_a_prefix_and_accents_are_ignored() {
        let store = store_with_texts(&["Déploiement réussi", "deplorable weather"]);
        assert_eq!(store.search("deploiem", None, 10).unwrap().len(), 1);
        assert_eq!(store.search("depl", None, 10).unwrap().len(), 2);
        assert_eq!(store.search("depl weather", None, 10).unwrap().len(), 0);
        assert_eq!(store.search("weather depl", None, 10).unwrap().len(), 1);
    }

    #[test]
    fn hostile_or_odd_input_never_errors() {
        let store = store_with_texts(&["foo AND bar", "say \"hi\" OR leave", "C++ (v2) NEAR x"]);
        for input in [
            "\"foo",
            "foo\"",
            "AND OR",
            "NOT",
            "OR",
            "NEAR(",
            "*",
            "foo*",
            "^foo",
            "content:foo",
            "-foo",
            "(",
            ")",
            "\"\"",
            "'",
            "c++",
            "🙂",
            "",
            "   ",
            "a\u{0}b",
            "foo - bar",
            "{content}: x",
            "x NEAR/2 y",
        ] {
            let result = store.search(input, None, 10);
            assert!(result.is_ok(), "{input:?}: {result:?}");
        }
        assert_eq!(store.search("AND", None, 10).unwrap().len(), 1);
        assert_eq!(store.search("\"hi", None, 10).unwrap().len(), 1);
        assert_eq!(store.search("(v2)", None, 10).unwrap().len(), 1);
    }

    #[test]
    fn search_can_be_limited_to_one_conversation() {
        let mut store = store_with_texts(&["release notes"]);
        let mut other = message_from_ada(10);
        other.conversation_id = 99;
        other.content = "release party".into();
        store.apply_message(&other).unwrap();
        assert_eq!(store.search("release", None, 10).unwrap().len(), 2);
        let hits = store.search("release", Some(99), 10).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].conversation_id, 99);
    }

    #[test]
    fn unsent_messages_are_searchable_and_upgrading_them_keeps_one_hit() {
        let mut store = store_with_conversation();
        store
            .enqueue_message(
                CONV,
                "c-1",
                "ship the banana build",
                "2024-01-01T00:00:00Z",
                0,
            )
            .unwrap();
        let hits = store.search("banana", None, 10).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].seq, None);
        let mut echo = message_from_me(7, "c-1");
        echo.content = "ship the banana build".into();
        store.apply_message(&echo).unwrap();
        let hits = store.search("banana", None, 10).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].seq, Some(7));
    }

    #[test]
    fn a_long_message_gets_a_short_excerpt_around_the_match() {
        let long = format!(
            "{} needle {}",
            "word ".repeat(100).trim_end(),
            "more ".repeat(100).trim_end()
        );
        let store = store_with_texts(&[&long]);
        let hits = store.search("needle", None, 10).unwrap();
        assert!(hits[0].excerpt.contains("needle"));
        assert!(hits[0].excerpt.len() < 120, "{}", hits[0].excerpt);
        assert!(hits[0].excerpt.contains('…'));
    }

    /// Fails unless the index holds exactly the text of every message (FTS5's own check,
    /// comparing with the content table).
    fn assert_index_matches_messages(store: &Store) {
        store
            .conn
            .execute(
                "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)",
                [],
            )
            .unwrap();
        let pending: i64 = store
            .conn
            .query_row("SELECT count(*) FROM messages_fts_pending", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(pending, 0);
    }

    #[test]
    fn the_index_follows_inserts_edits_and_deletes_within_and_across_transactions() {
        let mut store = store_with_conversation();
        // Inserted, edited twice and another inserted then deleted, all in one transaction.
        store
            .write(|tx| {
                tx.apply_message(&message_from_ada(2))?;
                tx.apply_message(&message_from_ada(3))?;
                let mut edited = message_from_ada(2);
                edited.content = "first edit".into();
                tx.apply_message(&edited)?;
                edited.content = "second edit".into();
                tx.apply_message(&edited)?;
                tx.conn()
                    .execute("DELETE FROM messages WHERE seq = 3", [])?;
                Ok::<_, crate::StoreError>(())
            })
            .unwrap();
        assert_index_matches_messages(&store);
        assert_eq!(store.search("second", None, 10).unwrap().len(), 1);
        assert!(store.search("first", None, 10).unwrap().is_empty());
        assert!(store.search("message", None, 10).unwrap().is_empty());
        // Then, in later transactions, an indexed message is edited and another deleted.
        store.apply_message(&message_from_ada(4)).unwrap();
        let mut edited = message_from_ada(2);
        edited.content = "third edit".into();
        store.apply_message(&edited).unwrap();
        store
            .enqueue_message(CONV, "c-1", "discard me", &time(5), 0)
            .unwrap();
        store.outbox_discard("c-1").unwrap();
        assert_index_matches_messages(&store);
        assert_eq!(store.search("edit", None, 10).unwrap().len(), 1);
        assert_eq!(store.search("message", None, 10).unwrap().len(), 1);
        assert!(store.search("discard", None, 10).unwrap().is_empty());
    }

    #[test]
    fn a_rolled_back_transaction_leaves_the_index_as_it_was() {
        let mut store = store_with_texts(&["kept text"]);
        let tx = store.transaction().unwrap();
        tx.apply_message(&message_from_ada(9)).unwrap();
        drop(tx);
        assert_index_matches_messages(&store);
        assert_eq!(store.search("kept", None, 10).unwrap().len(), 1);
        assert!(store.search("message", None, 10).unwrap().is_empty());
    }

    #[test]
    fn random_input_always_gives_a_query_that_parses() {
        let store = store_with_texts(&["alpha beta", "gamma"]);
        let alphabet: Vec<char> = "ab \"'*^:()-+{}[]NEAROTD\u{0}\té🙂,./_".chars().collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            let mut input = String::new();
            for _ in 0..(state % 12) {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                input.push(alphabet[(state >> 33) as usize % alphabet.len()]);
            }
            state = state.wrapping_add(7);
            let result = store.search(&input, None, 5);
            assert!(
                result.is_ok(),
                "{input:?} -> {:?}: {result:?}",
                fts_query(&input)
            );
        }
    }
}

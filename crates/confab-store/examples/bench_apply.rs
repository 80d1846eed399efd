//! Measures the catch-up path: applying 10,000 messages in sync pages of 500 (one transaction
//! per page, as the sync engine does) into a cache file, one page of 1,000 alone, replaying the
//! same pages (all duplicates), then the conversation-list query, a message page and full-text
//! searches over them; last, the conversation list of a big team's cache (2,000 conversations,
//! half of them direct). Prints wall-clock times: run it on an idle machine.
//!
//! `cargo run --release -p confab-store --example bench_apply`

use std::time::{Duration, Instant};

use confab_model::{Change, Conversation, Message, MessageChange, User, UserSummary};
use confab_store::Store;

const MESSAGES: i64 = 10_000;
const PAGE: usize = 500;
const CONVERSATIONS: i64 = 50;
const USERS: i64 = 20;
const WORDS: &[&str] = &[
    "deploy", "release", "coffee", "review", "bug", "fix", "meeting", "tomorrow", "staging",
    "database", "cache", "sync", "lunch", "ship", "test", "green", "build", "merge", "plan",
    "later", "thanks", "question", "answer", "docs",
];

fn message(seq: i64) -> Message {
    let sender = 1 + seq % USERS;
    // A cheap deterministic mix of words, 8 to 20 of them.
    let mut x = seq.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let len = 8 + (seq % 13);
    let mut words = Vec::new();
    for _ in 0..len {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        words.push(WORDS[((x >> 33) as usize) % WORDS.len()]);
    }
    if seq % 100 == 0 {
        words.push("needle");
    }
    Message {
        id: seq,
        conversation_id: 1 + seq % CONVERSATIONS,
        seq: CONVERSATIONS + seq,
        sender_id: sender,
        sender: UserSummary {
            id: sender,
            name: format!("User {sender}"),
        },
        content: words.join(" "),
        client_id: format!("client-{seq}"),
        created_at: format!("2024-01-01T00:00:{:02}Z", seq % 60),
    }
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// A cache file with the account and its conversations, no messages yet.
fn fresh_store(dir: &std::path::Path, name: &str) -> Result<Store, confab_store::StoreError> {
    let mut store = Store::open(dir.join(name))?;
    store.set_account(&User {
        id: 1,
        name: "User 1".into(),
        email: "user1@example.com".into(),
    })?;
    for id in 1..=CONVERSATIONS {
        let conversation = Conversation {
            id,
            title: format!("Conversation {id}"),
            member_ids: vec![1, 1 + id % USERS, 1 + (id + 7) % USERS],
            last_message: None,
            unread_count: 0,
            last_read_seq: 0,
            kind: confab_model::ConversationKind::Group,
            muted: None,
        };
        store.apply_conversation(&conversation, Some(id))?;
    }
    Ok(store)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut store = fresh_store(dir.path(), "bench.db")?;
    let changes: Vec<Change> = (1..=MESSAGES)
        .map(|seq| {
            let message = message(seq);
            Change::Message(MessageChange {
                seq: message.seq,
                message,
            })
        })
        .collect();

    let ((), total) = time(|| {
        for page in changes.chunks(PAGE) {
            let cursor = page.last().map_or(0, Change::seq);
            store.apply_changes(page, cursor).expect("page applies");
        }
    });
    let per_sec = MESSAGES as f64 / total.as_secs_f64();
    println!(
        "apply {MESSAGES} messages in pages of {PAGE} (file, WAL): {:.1} ms total, {:.0} messages/s, {:.2} ms per page",
        total.as_secs_f64() * 1e3,
        per_sec,
        total.as_secs_f64() * 1e3 / (MESSAGES as f64 / PAGE as f64),
    );

    let mut single = fresh_store(dir.path(), "single-page.db")?;
    let first_1000 = &changes[..1000];
    let (_, one_page) = time(|| {
        single
            .apply_changes(first_1000, 1000)
            .expect("page applies")
    });
    println!(
        "one page of 1000 messages in one transaction: {:.2} ms",
        one_page.as_secs_f64() * 1e3
    );

    // The same pages again (a sync replaying what realtime already delivered): all no-ops.
    let ((), replay) = time(|| {
        for page in changes.chunks(PAGE) {
            let cursor = page.last().map_or(0, Change::seq);
            store.apply_changes(page, cursor).expect("page applies");
        }
    });
    println!(
        "re-apply the same {MESSAGES} (idempotent no-op): {:.1} ms",
        replay.as_secs_f64() * 1e3
    );

    let (list, list_time) = time(|| store.conversation_list().expect("list"));
    println!(
        "conversation list ({} conversations, unread counts + previews): {:.3} ms",
        list.len(),
        list_time.as_secs_f64() * 1e3
    );
    let (page, page_time) = time(|| store.messages_before(1, None, 50).expect("page"));
    println!(
        "newest page of {} messages: {:.3} ms",
        page.len(),
        page_time.as_secs_f64() * 1e3
    );
    let (hits, rare) = time(|| store.search("needle", None, 50).expect("search"));
    println!(
        "FTS search for a rare word: {} hits in {:.3} ms",
        hits.len(),
        rare.as_secs_f64() * 1e3
    );
    let (hits, common) = time(|| store.search("deploy rev", None, 50).expect("search"));
    println!(
        "FTS search for two common words (prefix), first 50 of many: {} hits in {:.3} ms",
        hits.len(),
        common.as_secs_f64() * 1e3
    );
    big_team_list(dir.path())
}

/// The conversation list of 2,000 conversations (every other one direct, ten messages each):
/// what a start and every complete list the UI receives costs. Median of five.
fn big_team_list(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    const TEAM_CONVERSATIONS: i64 = 2_000;
    let mut store = fresh_store(dir, "team.db")?;
    for id in CONVERSATIONS + 1..=TEAM_CONVERSATIONS {
        let direct = id % 2 == 0;
        let conversation = Conversation {
            id,
            title: format!("Conversation {id}"),
            member_ids: if direct {
                vec![1, 2 + id % (USERS - 1)]
            } else {
                vec![1, 1 + id % USERS, 1 + (id + 7) % USERS]
            },
            last_message: None,
            unread_count: 0,
            last_read_seq: 0,
            kind: if direct {
                confab_model::ConversationKind::Direct
            } else {
                confab_model::ConversationKind::Group
            },
            muted: None,
        };
        store.apply_conversation(&conversation, Some(id))?;
    }
    let changes: Vec<Change> = (1..=TEAM_CONVERSATIONS * 10)
        .map(|n| {
            let mut message = message(n);
            message.conversation_id = 1 + n % TEAM_CONVERSATIONS;
            message.seq = TEAM_CONVERSATIONS + n;
            Change::Message(MessageChange {
                seq: message.seq,
                message,
            })
        })
        .collect();
    for page in changes.chunks(PAGE) {
        let cursor = page.last().map_or(0, Change::seq);
        store.apply_changes(page, cursor)?;
    }
    let mut times: Vec<Duration> = (0..5)
        .map(|_| time(|| store.conversation_list().expect("list")).1)
        .collect();
    times.sort();
    println!(
        "conversation list of a big team ({TEAM_CONVERSATIONS} conversations, half direct, 10 messages each): median {:.1} ms, max {:.1} ms",
        times[2].as_secs_f64() * 1e3,
        times[4].as_secs_f64() * 1e3
    );
    Ok(())
}

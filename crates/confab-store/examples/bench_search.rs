//! Full-text search over a big cache: fills a cache file with `--messages` messages (default
//! 1,000,000, in sync pages of 5,000 as the engine applies them) over 200 conversations, with a
//! vocabulary of a few thousand made-up words in a skewed distribution (a few very common, most
//! rare, as in chat), then times searches as a user types them: a rare word, a common word, a
//! two-letter and a three-letter prefix (search as you type), two words, and a search limited to
//! one conversation. Prints p50/p95/max per kind and over all, on one page of 50 hits.
//!
//! `cargo run --release -p confab-store --example bench_search -- --messages 1000000`
//!
//! Run it on an idle machine: it prints wall-clock times.

use std::time::{Duration, Instant};

use confab_model::{Change, Conversation, Message, MessageChange, User, UserSummary};
use confab_store::Store;

const PAGE: usize = 5_000;
const CONVERSATIONS: i64 = 200;
const USERS: i64 = 40;
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "de", "po", "gri", "stan", "bel", "mor", "ex",
    "qua", "zen", "fi", "ho", "ju",
];
const SEARCHES: usize = 40;

/// The i-th search of one kind: what is typed, and the conversation it is limited to.
type Query = Box<dyn Fn(usize) -> (String, Option<i64>)>;

/// The word of rank `n`: ranks spell different syllable sequences, so the vocabulary is as big
/// as the ranks used.
fn word(mut n: u64) -> String {
    let mut w = String::new();
    loop {
        w.push_str(SYLLABLES[(n % SYLLABLES.len() as u64) as usize]);
        n /= SYLLABLES.len() as u64;
        if n == 0 {
            break;
        }
    }
    w
}

/// A cheap deterministic generator (an LCG step).
fn next(x: &mut u64) -> u64 {
    *x = x
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *x >> 33
}

fn message(seq: i64) -> Message {
    let sender = 1 + seq % USERS;
    let mut x = (seq as u64).wrapping_mul(2_862_933_555_777_941_757);
    let len = 6 + (next(&mut x) % 15);
    let words: Vec<String> = (0..len)
        .map(|_| {
            // Skewed ranks: the square of a uniform draw favours small ranks (common words).
            let u = (next(&mut x) % 8_000) as f64 / 8_000.0;
            word((u * u * 8_000.0) as u64)
        })
        .collect();
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
        created_at: "2024-01-01T00:00:00Z".into(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let messages: i64 = std::env::args()
        .skip_while(|a| a != "--messages")
        .nth(1)
        .map_or(Ok(1_000_000), |v| v.parse())?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("search.db");
    let mut store = Store::open(&path)?;
    store.set_account(&User {
        id: 1,
        name: "User 1".into(),
        email: "user1@example.com".into(),
    })?;
    for id in 1..=CONVERSATIONS {
        store.apply_conversation(
            &Conversation {
                id,
                title: format!("Conversation {id}"),
                member_ids: vec![1, 1 + id % USERS],
                last_message: None,
                unread_count: 0,
                last_read_seq: 0,
                kind: confab_model::ConversationKind::Group,
                muted: None,
            },
            Some(id),
        )?;
    }
    let fill = Instant::now();
    let mut seq = 1;
    while seq <= messages {
        let end = (seq + PAGE as i64 - 1).min(messages);
        let page: Vec<Change> = (seq..=end)
            .map(|s| {
                let m = message(s);
                Change::Message(MessageChange {
                    seq: m.seq,
                    message: m,
                })
            })
            .collect();
        store.apply_changes(&page, CONVERSATIONS + end)?;
        seq = end + 1;
    }
    let filled = fill.elapsed();
    let size = std::fs::metadata(&path)?.len();
    println!(
        "{messages} messages cached in {:.1} s ({:.0} MB file)",
        filled.as_secs_f64(),
        size as f64 / 1e6
    );
    let idle = Instant::now();
    store.optimize_search()?;
    println!(
        "search index optimized in {:.1} s",
        idle.elapsed().as_secs_f64()
    );

    let kinds: Vec<(&str, Query)> = vec![
        (
            "rare word",
            Box::new(|i| (word(6_000 + i as u64 * 37), None)),
        ),
        ("common word", Box::new(|i| (word(i as u64 % 5), None))),
        (
            "2-letter prefix",
            Box::new(|i| (word(i as u64 % 20)[..2].to_owned(), None)),
        ),
        (
            "3-letter prefix",
            Box::new(|i| (word(20 + i as u64 * 7)[..3].to_owned(), None)),
        ),
        (
            "two words",
            Box::new(|i| {
                (
                    format!("{} {}", word(i as u64 % 50), word(100 + i as u64 * 13)),
                    None,
                )
            }),
        ),
        (
            "in one conversation",
            Box::new(|i| (word(10 + i as u64 % 30), Some(1 + i as i64 % CONVERSATIONS))),
        ),
    ];
    let mut all = Vec::new();
    println!(
        "{:<20} {:>9} {:>9} {:>9} {:>7}",
        "search (50 hits max)", "p50 ms", "p95 ms", "max ms", "hits"
    );
    for (name, query) in &kinds {
        let mut times = Vec::new();
        let mut hits = 0;
        for i in 0..SEARCHES {
            let (text, conversation) = query(i);
            let start = Instant::now();
            hits += store.search(&text, conversation, 50)?.len();
            times.push(start.elapsed());
        }
        times.sort_unstable();
        println!(
            "{name:<20} {:>9.2} {:>9.2} {:>9.2} {:>7.1}",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
            ms(times[times.len() - 1]),
            hits as f64 / SEARCHES as f64
        );
        all.extend(times);
    }
    all.sort_unstable();
    println!(
        "{:<20} {:>9.2} {:>9.2} {:>9.2}   (target p95 <= 50 ms)",
        "all",
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.95)),
        ms(all[all.len() - 1])
    );
    Ok(())
}

//! Matching typed text: the quick switcher's conversation filter, the teammate pickers and
//! search-hit highlighting.

use confab_model::ipc::{ConversationSummary, Teammate};
use confab_model::UserId;

/// Teammates a picker offers for `query`: every word must start a word of the name
/// (case-insensitive), `exclude`d ids left out; online first, then by name.
pub fn teammates<'a>(list: &'a [Teammate], query: &str, exclude: &[UserId]) -> Vec<&'a Teammate> {
    let q: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    // Each name lowercased once, for the match and the sort (a comparator lowercasing both
    // sides made a keystroke over 500 teammates cost thousands of allocations).
    let mut hits: Vec<(std::cmp::Reverse<bool>, String, UserId, &Teammate)> = list
        .iter()
        .filter(|t| !exclude.contains(&t.id))
        .filter_map(|t| {
            let name = t.name.to_lowercase();
            let matched = q
                .iter()
                .all(|w| name.split_whitespace().any(|n| n.starts_with(w.as_str())));
            matched.then_some((std::cmp::Reverse(t.online), name, t.id, t))
        })
        .collect();
    hits.sort_unstable_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    hits.into_iter().map(|(.., t)| t).collect()
}

/// Conversations whose title contains every word of the query (case-insensitive), titles that
/// start with the query first; all of them, in list order, for an empty query.
pub fn conversations<'a>(
    list: &'a [ConversationSummary],
    query: &str,
) -> Vec<&'a ConversationSummary> {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return list.iter().collect();
    }
    let mut hits: Vec<(bool, &ConversationSummary)> = list
        .iter()
        .filter_map(|c| {
            let title = c.title.to_lowercase();
            q.split_whitespace()
                .all(|w| title.contains(w))
                .then(|| (!title.starts_with(&q), c))
        })
        .collect();
    hits.sort_by_key(|(later, _)| *later);
    hits.into_iter().map(|(_, c)| c).collect()
}

/// Splits text into runs, marking those that match a word of the query (case-insensitive), for
/// highlighting with text nodes.
pub fn highlight(text: &str, query: &str) -> Vec<(String, bool)> {
    let words: Vec<String> = query
        .split_whitespace()
        .map(|w| w.trim_matches('"').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    let lower: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let chars: Vec<char> = text.chars().collect();
    if words.is_empty() || lower.len() != chars.len() {
        // Lower-casing changed the length (rare scripts): show it plain rather than misaligned.
        return vec![(text.to_string(), false)];
    }
    let mut marked = vec![false; chars.len()];
    for w in &words {
        let w: Vec<char> = w.chars().collect();
        let mut i = 0;
        while i + w.len() <= lower.len() {
            if lower[i..i + w.len()] == w[..] {
                marked[i..i + w.len()].iter_mut().for_each(|m| *m = true);
                i += w.len();
            } else {
                i += 1;
            }
        }
    }
    let mut out: Vec<(String, bool)> = Vec::new();
    for (c, m) in chars.into_iter().zip(marked) {
        match out.last_mut() {
            Some((s, last)) if *last == m => s.push(c),
            _ => out.push((c.to_string(), m)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(id: i64, title: &str) -> ConversationSummary {
        ConversationSummary {
            id,
            title: title.into(),
            kind: confab_model::ConversationKind::Group,
            mention_count: 0,
            member_count: 0,
            last_message_preview: None,
            last_activity_at: None,
            unread_count: 0,
            muted: false,
            direct_peer_id: None,
            sort_key: (0, id),
        }
    }

    fn mate(id: i64, name: &str, online: bool) -> Teammate {
        Teammate {
            id,
            name: name.into(),
            online,
        }
    }

    #[test]
    fn the_picker_lists_online_teammates_first_and_matches_word_starts() {
        let team = [
            mate(2, "Grace Hopper", false),
            mate(3, "Ada Lovelace", true),
            mate(4, "Alan Turing", false),
        ];
        let names = |q: &str, ex: &[i64]| -> Vec<String> {
            teammates(&team, q, ex)
                .into_iter()
                .map(|t| t.name.clone())
                .collect()
        };
        assert_eq!(
            names("", &[]),
            ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
        );
        assert_eq!(names("a", &[]), ["Ada Lovelace", "Alan Turing"]);
        assert_eq!(names("hop", &[]), ["Grace Hopper"]);
        assert_eq!(
            names("ace", &[]),
            Vec::<String>::new(),
            "inside a word is no match"
        );
        assert_eq!(names("", &[3]), ["Alan Turing", "Grace Hopper"]);
    }

    #[test]
    fn the_switcher_prefers_titles_starting_with_the_query() {
        let list = [
            conv(1, "Design team"),
            conv(2, "Bob"),
            conv(3, "Team lunch"),
        ];
        let ids: Vec<i64> = conversations(&list, "team").iter().map(|c| c.id).collect();
        assert_eq!(ids, [3, 1]);
        assert_eq!(conversations(&list, "").len(), 3);
        assert!(conversations(&list, "zzz").is_empty());
    }

    #[test]
    fn highlight_marks_each_query_word() {
        let runs = highlight("Deploy the API today", "api deploy");
        assert_eq!(
            runs,
            vec![
                ("Deploy".to_string(), true),
                (" the ".to_string(), false),
                ("API".to_string(), true),
                (" today".to_string(), false),
            ]
        );
        assert_eq!(highlight("plain", ""), vec![("plain".to_string(), false)]);
    }
}

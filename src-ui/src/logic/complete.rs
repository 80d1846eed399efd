//! `@` completion in the composer: finding the mention being typed at the caret, and putting a
//! teammate's name in its place.
//!
//! Positions are in UTF-16 code units, as the textarea's `selectionStart` gives them; the text
//! is sliced by chars converted from them, so emoji and accents before the caret are safe.

/// The longest name part looked at after an `@` (a longer run is not a mention being typed).
const MAX_QUERY_CHARS: usize = 40;

/// The mention being typed: where its `@` is (in UTF-16 units) and what follows it up to the
/// caret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    /// The `@`'s position.
    pub at: u32,
    /// The text between the `@` and the caret.
    pub query: String,
}

fn utf16_to_char_index(text: &str, units: u32) -> usize {
    let mut seen = 0u32;
    for (i, c) in text.chars().enumerate() {
        if seen >= units {
            return i;
        }
        seen += c.len_utf16() as u32;
    }
    text.chars().count()
}

/// The mention being typed before `caret`: an `@` at the start or after whitespace, followed by
/// at most two words (names have spaces) and no line break.
pub fn typed_at(text: &str, caret: u32) -> Option<Typed> {
    let chars: Vec<char> = text.chars().collect();
    let end = utf16_to_char_index(text, caret);
    let start = chars[..end].iter().rposition(|c| *c == '@')?;
    if start > 0 && !chars[start - 1].is_whitespace() {
        return None;
    }
    let query: String = chars[start + 1..end].iter().collect();
    if query.contains('\n')
        || query.starts_with(' ')
        || query.chars().count() > MAX_QUERY_CHARS
        || query.matches(' ').count() > 2
    {
        return None;
    }
    let at: u32 = chars[..start].iter().map(|c| c.len_utf16() as u32).sum();
    Some(Typed { at, query })
}

/// The names that complete `query`: each word of it starts a word of the name, in the given
/// order (the caller sorts), at most `limit`.
pub fn candidates<'a>(names: &'a [String], query: &str, limit: usize) -> Vec<&'a str> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    names
        .iter()
        .filter(|n| {
            let lower = n.to_lowercase();
            let parts: Vec<&str> = lower.split_whitespace().collect();
            words
                .iter()
                .all(|w| parts.iter().any(|p| p.starts_with(w.as_str())))
        })
        .take(limit)
        .map(String::as_str)
        .collect()
}

/// `text` with the mention typed at `typed` (up to `caret`) replaced by `@name ` and the caret
/// after it (UTF-16 units).
pub fn complete(text: &str, typed: &Typed, caret: u32, name: &str) -> (String, u32) {
    let chars: Vec<char> = text.chars().collect();
    let start = utf16_to_char_index(text, typed.at);
    let end = utf16_to_char_index(text, caret);
    let before: String = chars[..start].iter().collect();
    let after: String = chars[end..].iter().collect();
    let inserted = format!("@{name} ");
    let caret = (before.encode_utf16().count() + inserted.encode_utf16().count()) as u32;
    (format!("{before}{inserted}{after}"), caret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_at_sign_after_a_space_starts_a_mention_and_an_email_does_not() {
        assert_eq!(
            typed_at("hi @ad", 6),
            Some(Typed {
                at: 3,
                query: "ad".into()
            })
        );
        assert_eq!(typed_at("@", 1).map(|t| t.query), Some(String::new()));
        assert_eq!(typed_at("mail me@ex", 10), None);
        assert_eq!(typed_at("@ada\nnext", 9), None, "a line break ends it");
        assert_eq!(typed_at("no mention", 5), None);
    }

    #[test]
    fn a_mention_can_span_the_words_of_a_name() {
        assert_eq!(
            typed_at("ping @Ada Lo", 12).map(|t| t.query),
            Some("Ada Lo".into())
        );
        let names = vec!["Ada Lovelace".to_owned(), "Alan Turing".to_owned()];
        assert_eq!(candidates(&names, "Ada Lo", 5), ["Ada Lovelace"]);
        assert_eq!(candidates(&names, "a", 5), ["Ada Lovelace", "Alan Turing"]);
        assert_eq!(candidates(&names, "tur", 5), ["Alan Turing"]);
        assert!(candidates(&names, "x", 5).is_empty());
    }

    #[test]
    fn completing_replaces_the_typed_part_and_puts_the_caret_after_the_name() {
        let typed = typed_at("hi @ad, see", 6).unwrap();
        let (text, caret) = complete("hi @ad, see", &typed, 6, "Ada Lovelace");
        assert_eq!(text, "hi @Ada Lovelace , see");
        assert_eq!(caret, 17);
    }

    #[test]
    fn positions_count_utf16_units_so_emoji_before_the_caret_are_safe() {
        // "🙂" is two UTF-16 units.
        let typed = typed_at("🙂 @gr", 6).unwrap();
        assert_eq!(typed.at, 3);
        let (text, caret) = complete("🙂 @gr", &typed, 6, "Grace");
        assert_eq!(text, "🙂 @Grace ");
        assert_eq!(caret, 10);
    }
}

//! Whether a message mentions someone: `@` followed by their display name.
//!
//! Names may hold spaces ("@Ada Lovelace"), so a mention is the name itself after the `@`,
//! compared without regard to case, and not running on into a longer word ("@Adam" does not
//! mention Ada). The UI highlights with the same rule in its own copy (it builds for wasm32 and
//! does not link this crate).

/// Whether `text` mentions `name` (`@name`, case-insensitive, ending at a non-alphanumeric
/// character or the end). An empty name is never mentioned.
pub fn mentions(text: &str, name: &str) -> bool {
    let name = name.trim();
    if name.is_empty() {
        return false;
    }
    let wanted: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().any(|(at, &c)| {
        if c != '@' {
            return false;
        }
        // A mention starts a word: "a@b" is an email address, ".../@ada" part of a link.
        if at > 0 && !(chars[at - 1].is_whitespace() || "([{\"'".contains(chars[at - 1])) {
            return false;
        }
        let mut rest = chars[at + 1..].iter().flat_map(|c| c.to_lowercase());
        let matched = wanted.iter().all(|w| rest.next() == Some(*w));
        matched && rest.next().is_none_or(|next| !next.is_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn an_at_sign_before_the_name_mentions_it_whatever_the_case() {
        assert!(mentions("@ada can you look?", "Ada"));
        assert!(mentions("thanks @ADA.", "Ada"));
        assert!(mentions("ping @Ada Lovelace about it", "Ada Lovelace"));
    }

    #[test]
    fn a_longer_word_an_email_or_a_bare_name_is_no_mention() {
        assert!(!mentions("@Adam is here", "Ada"));
        assert!(!mentions("mail ada@example.com", "example"));
        assert!(!mentions("see https://example.com/@Ada", "Ada"));
        assert!(mentions("(@Ada) thoughts?", "Ada"));
        assert!(!mentions("Ada said so", "Ada"));
        assert!(!mentions("@ ada", "Ada"));
        assert!(!mentions("@anyone", ""));
    }

    #[test]
    fn a_name_at_the_very_end_is_a_mention() {
        assert!(mentions("over to you @Grace", "Grace"));
    }
}

//! Splits the text of a message, a question or an answer into the runs the UI shows
//! differently: plain text, links, and `@mentions` of teammates.
//!
//! What it does: finds `http://`, `https://` and `mailto:` links (the scheme in any case) and
//! ends each where a reader would (at whitespace, without the sentence's punctuation or an
//! unbalanced closing bracket or quote, keeping balanced parentheses as in Wikipedia's URLs);
//! finds `@Name` for the names it is given (case-insensitive, the longest that fits wins, a
//! letter or digit right after the name means it was another word) and says whether the name
//! is mine.
//!
//! What it never does: make a link of any other scheme (`javascript:`, `file:`, `data:`, …) or
//! of an address without a scheme (`www.example.com`), build HTML, or use web APIs — the
//! component that shows the runs makes text nodes of them. Tested natively.

/// One run of a text. Concatenating the `text` of every segment gives the text back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Text shown as it is.
    Text(String),
    /// A link to open in the system browser.
    Link {
        /// As written.
        text: String,
        /// What to open: the written link with its scheme in lower case (the shell's scope
        /// matches schemes literally).
        url: String,
    },
    /// `@Name` of a known name.
    Mention {
        /// As written, the `@` included.
        text: String,
        /// The name it matched, as the directory spells it.
        name: String,
        /// The name is mine.
        me: bool,
    },
}

impl Segment {
    /// The segment's text as written.
    pub fn text(&self) -> &str {
        match self {
            Segment::Text(text) | Segment::Link { text, .. } | Segment::Mention { text, .. } => {
                text
            }
        }
    }
}

/// The names a text may mention: mine and my teammates'.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mentionable {
    /// Trimmed, without blanks or case-insensitive duplicates, longest first: the first that
    /// matches is the longest.
    names: Vec<String>,
    /// My name, lower-cased.
    me: Option<String>,
}

impl Mentionable {
    /// The names `my_name` (when known) and `teammates`.
    pub fn new<'a>(my_name: Option<&'a str>, teammates: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names: Vec<String> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for name in my_name.into_iter().chain(teammates).map(str::trim) {
            let lower = name.to_lowercase();
            if !name.is_empty() && !seen.contains(&lower) {
                seen.push(lower);
                names.push(name.to_owned());
            }
        }
        // Stable: of two names as long, the earlier (mine first) stays first.
        names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
        let me = my_name
            .map(|n| n.trim().to_lowercase())
            .filter(|n| !n.is_empty());
        Mentionable { names, me }
    }

    /// No name to find.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The longest name `after_at` (the text right after an `@`) starts with, followed by the
    /// end or a character that is not a letter or digit: its length in `after_at` and the name.
    fn mention_at<'n>(&'n self, after_at: &str) -> Option<(usize, &'n str)> {
        self.names.iter().find_map(|name| {
            let len = prefix_len_ignoring_case(after_at, name)?;
            let next = after_at[len..].chars().next();
            next.is_none_or(|c| !c.is_alphanumeric())
                .then_some((len, name.as_str()))
        })
    }

    fn is_me(&self, name: &str) -> bool {
        self.me.as_deref() == Some(name.to_lowercase().as_str())
    }
}

/// Whether `text` mentions `my_name` (`@` + the name, as [`segments`] finds it with only that
/// name known; an `@` inside a link or a word does not count).
pub fn mentions(text: &str, my_name: &str) -> bool {
    let known = Mentionable::new(Some(my_name), []);
    segments(text, &known)
        .iter()
        .any(|s| matches!(s, Segment::Mention { me: true, .. }))
}

/// `text` as runs of plain text, links and mentions of `known` names, in order.
pub fn segments(text: &str, known: &Mentionable) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut plain_from = 0;
    let mut at = 0;
    let mut prev: Option<char> = None;
    while let Some(c) = text[at..].chars().next() {
        // A link or mention starts a word: `xhttps://…` and `ada@grace.dev` are neither.
        let starts_word = prev.is_none_or(|p| !p.is_alphanumeric());
        let found = if !starts_word {
            None
        } else if let Some((len, url)) = link_at(&text[at..]) {
            let text = text[at..at + len].to_owned();
            Some((len, Segment::Link { text, url }))
        } else if c == '@' {
            known.mention_at(&text[at + 1..]).map(|(len, name)| {
                let segment = Segment::Mention {
                    text: text[at..at + 1 + len].to_owned(),
                    name: name.to_owned(),
                    me: known.is_me(name),
                };
                (1 + len, segment)
            })
        } else {
            None
        };
        match found {
            Some((len, segment)) => {
                if plain_from < at {
                    out.push(Segment::Text(text[plain_from..at].to_owned()));
                }
                prev = segment.text().chars().next_back();
                out.push(segment);
                at += len;
                plain_from = at;
            }
            None => {
                prev = Some(c);
                at += c.len_utf8();
            }
        }
    }
    if plain_from < text.len() {
        out.push(Segment::Text(text[plain_from..].to_owned()));
    }
    out
}

/// The schemes that make links, lower case. `https://` before `http://` only for reading
/// order: neither is a prefix of the other.
const SCHEMES: [&str; 3] = ["https://", "http://", "mailto:"];

/// The link `rest` starts with: its length in `rest` and the URL to open.
fn link_at(rest: &str) -> Option<(usize, String)> {
    let scheme = SCHEMES.into_iter().find(|s| {
        rest.get(..s.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(s))
    })?;
    // These never belong to a URL unescaped, and in prose they end one: `<https://…>`,
    // "`https://…`", `"https://…"`.
    let end = rest
        .find(|c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | '`'))
        .unwrap_or(rest.len());
    let link = trim_end(&rest[..end]);
    let body = link.get(scheme.len()..).filter(|b| !b.is_empty())?;
    let valid = if scheme == "mailto:" {
        // An address: something on both sides of the `@` before any `?subject=…`.
        body.split('?')
            .next()
            .and_then(|address| address.split_once('@'))
            .is_some_and(|(user, host)| !user.is_empty() && !host.is_empty())
    } else {
        // A host: not `https:///path`, `https://?q` or `https://.`.
        body.chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '[')
    };
    valid.then(|| (link.len(), format!("{scheme}{body}")))
}

/// `candidate` without what ends the sentence rather than the link: trailing punctuation, a
/// closing bracket without its opening one, an unpaired quote.
fn trim_end(mut candidate: &str) -> &str {
    let count = |s: &str, c: char| s.chars().filter(|&x| x == c).count();
    while let Some(last) = candidate.chars().next_back() {
        let drop = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '…' | '”' | '’' | '»' => true,
            ')' => count(candidate, '(') < count(candidate, ')'),
            ']' => count(candidate, '[') < count(candidate, ']'),
            '}' => count(candidate, '{') < count(candidate, '}'),
            '\'' => count(candidate, '\'') % 2 == 1,
            _ => false,
        };
        if !drop {
            break;
        }
        candidate = &candidate[..candidate.len() - last.len_utf8()];
    }
    candidate
}

/// How many bytes of `text` spell `name`, letter for letter ignoring case; `None` when `text`
/// does not start with it.
fn prefix_len_ignoring_case(text: &str, name: &str) -> Option<usize> {
    let mut chars = text.char_indices();
    for n in name.chars() {
        let (_, c) = chars.next()?;
        if c != n && !c.to_lowercase().eq(n.to_lowercase()) {
            return None;
        }
    }
    Some(chars.next().map_or(text.len(), |(i, _)| i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Segment {
        Segment::Text(s.into())
    }

    fn link(text: &str, url: &str) -> Segment {
        Segment::Link {
            text: text.into(),
            url: url.into(),
        }
    }

    fn mention(text: &str, name: &str, me: bool) -> Segment {
        Segment::Mention {
            text: text.into(),
            name: name.into(),
            me,
        }
    }

    fn nobody() -> Mentionable {
        Mentionable::default()
    }

    fn team() -> Mentionable {
        Mentionable::new(
            Some("Ada Lovelace"),
            ["Grace Hopper", "Grace", "Linus", "Zoë"],
        )
    }

    /// The links of `s`, as (written, url).
    fn links(s: &str) -> Vec<(String, String)> {
        segments(s, &nobody())
            .into_iter()
            .filter_map(|seg| match seg {
                Segment::Link { text, url } => Some((text, url)),
                _ => None,
            })
            .collect()
    }

    fn only_link(s: &str) -> String {
        let found = links(s);
        assert_eq!(found.len(), 1, "one link in {s:?}: {found:?}");
        found[0].1.clone()
    }

    #[test]
    fn an_empty_text_has_no_segments() {
        assert_eq!(segments("", &team()), vec![]);
    }

    #[test]
    fn a_text_without_links_or_mentions_is_one_plain_segment() {
        assert_eq!(
            segments("Deploy is green, ship it!", &team()),
            vec![text("Deploy is green, ship it!")]
        );
    }

    #[test]
    fn a_link_in_a_sentence_is_split_from_the_words_around_it() {
        assert_eq!(
            segments("see https://example.com/docs for more", &nobody()),
            vec![
                text("see "),
                link("https://example.com/docs", "https://example.com/docs"),
                text(" for more"),
            ]
        );
    }

    #[test]
    fn the_sentences_full_stop_and_a_parenthesised_query_are_told_apart() {
        assert_eq!(
            segments(
                "see https://example.com/a?b=1&c=(d). and javascript:alert(1)",
                &nobody()
            ),
            vec![
                text("see "),
                link(
                    "https://example.com/a?b=1&c=(d)",
                    "https://example.com/a?b=1&c=(d)"
                ),
                text(". and javascript:alert(1)"),
            ]
        );
    }

    #[test]
    fn trailing_punctuation_of_every_kind_is_left_out_of_a_link() {
        for end in [".", ",", ";", ":", "!", "?", "…", "?!", "...", ".”", "’"] {
            assert_eq!(
                only_link(&format!("at http://example.com/x{end} then")),
                "http://example.com/x",
                "ending with {end:?}"
            );
        }
    }

    #[test]
    fn punctuation_inside_a_link_stays_in_it() {
        let url = "https://example.com/a.b/c,d;e:f!g?h=i.j";
        assert_eq!(only_link(&format!("{url} next")), url);
        assert_eq!(only_link(&format!("{url}.")), url);
    }

    #[test]
    fn balanced_parentheses_stay_in_a_link_as_in_wikipedias_urls() {
        let url = "https://en.wikipedia.org/wiki/Rust_(programming_language)";
        assert_eq!(only_link(url), url);
        assert_eq!(only_link(&format!("read {url}, then")), url);
    }

    #[test]
    fn a_link_inside_parentheses_leaves_the_closing_one_out() {
        assert_eq!(
            segments("(see https://example.com/a)", &nobody()),
            vec![
                text("(see "),
                link("https://example.com/a", "https://example.com/a"),
                text(")"),
            ]
        );
        let url = "https://en.wikipedia.org/wiki/Rust_(programming_language)";
        assert_eq!(only_link(&format!("(about {url}).")), url);
    }

    #[test]
    fn an_unbalanced_closing_bracket_or_brace_is_left_out_and_a_balanced_one_kept() {
        assert_eq!(
            only_link("[docs: https://example.com/x]"),
            "https://example.com/x"
        );
        assert_eq!(
            only_link("https://example.com/x?a[0]=1"),
            "https://example.com/x?a[0]=1"
        );
        assert_eq!(
            only_link("{https://example.com/x}"),
            "https://example.com/x"
        );
    }

    #[test]
    fn quotes_around_a_link_are_left_out() {
        assert_eq!(
            only_link("he said \"https://example.com/q\"."),
            "https://example.com/q"
        );
        assert_eq!(
            only_link("it's at 'https://example.com/q'"),
            "https://example.com/q"
        );
        assert_eq!(
            only_link("“https://example.com/q”"),
            "https://example.com/q"
        );
        assert_eq!(
            only_link("https://example.com/it's"),
            "https://example.com/it's"
        );
    }

    #[test]
    fn a_link_ends_at_whitespace_angle_brackets_and_backticks() {
        assert_eq!(
            only_link("<https://example.com/a>"),
            "https://example.com/a"
        );
        assert_eq!(
            only_link("`https://example.com/a`"),
            "https://example.com/a"
        );
        assert_eq!(
            only_link("https://example.com/a\nnext line"),
            "https://example.com/a"
        );
        assert_eq!(
            only_link("https://example.com/a\u{a0}nbsp"),
            "https://example.com/a"
        );
    }

    #[test]
    fn mailto_links_are_links_and_keep_their_query() {
        assert_eq!(
            segments("write to mailto:ada@example.com.", &nobody()),
            vec![
                text("write to "),
                link("mailto:ada@example.com", "mailto:ada@example.com"),
                text("."),
            ]
        );
        assert_eq!(
            only_link("mailto:ada@example.com?subject=Deploy%20notes"),
            "mailto:ada@example.com?subject=Deploy%20notes"
        );
    }

    #[test]
    fn an_uppercase_scheme_is_a_link_whose_url_has_a_lowercase_scheme() {
        assert_eq!(
            links("HTTPS://Example.com/Path and MailTo:Ada@Example.com"),
            vec![
                (
                    "HTTPS://Example.com/Path".to_owned(),
                    "https://Example.com/Path".to_owned()
                ),
                (
                    "MailTo:Ada@Example.com".to_owned(),
                    "mailto:Ada@Example.com".to_owned()
                ),
            ]
        );
        assert_eq!(only_link("Http://example.com"), "http://example.com");
    }

    #[test]
    fn javascript_file_data_and_other_schemes_are_plain_text() {
        for s in [
            "javascript:alert(1)",
            "JavaScript:alert(document.cookie)",
            "file:///etc/passwd",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "ftp://example.com/file",
            "tel:+123456",
        ] {
            assert_eq!(segments(s, &nobody()), vec![text(s)], "{s}");
        }
    }

    #[test]
    fn an_address_without_a_scheme_is_plain_text() {
        for s in ["www.example.com", "example.com/a", "//example.com"] {
            assert_eq!(segments(s, &nobody()), vec![text(s)], "{s}");
        }
    }

    #[test]
    fn a_scheme_with_no_host_or_address_after_it_is_not_a_link() {
        for s in [
            "https://",
            "http://.",
            "https:///etc",
            "https://?q=1",
            "mailto:",
            "mailto:ada",
            "mailto:@example.com",
            "mailto:ada@",
            "mailto:?subject=hi",
        ] {
            assert_eq!(links(s), vec![], "{s}");
        }
    }

    #[test]
    fn a_scheme_glued_to_a_word_is_not_a_link_but_one_after_punctuation_is() {
        assert_eq!(links("xhttps://example.com"), vec![]);
        assert_eq!(only_link("(https://example.com)"), "https://example.com");
        assert_eq!(only_link("link:https://example.com"), "https://example.com");
    }

    #[test]
    fn javascript_hidden_behind_an_allowed_scheme_stays_an_https_url() {
        // Whatever follows, the browser is asked for an https:// address, never to run code.
        assert_eq!(
            only_link("https://javascript:alert(1)"),
            "https://javascript:alert(1)"
        );
    }

    #[test]
    fn two_links_in_a_row_are_two_links() {
        assert_eq!(
            links("https://a.example/1,https://b.example/2"),
            vec![(
                "https://a.example/1,https://b.example/2".to_owned(),
                "https://a.example/1,https://b.example/2".to_owned()
            )],
            "without a space it is one URL, as a browser would read it"
        );
        assert_eq!(
            links("https://a.example/1, https://b.example/2.")
                .into_iter()
                .map(|(_, u)| u)
                .collect::<Vec<_>>(),
            ["https://a.example/1", "https://b.example/2"]
        );
    }

    #[test]
    fn a_known_name_after_an_at_sign_is_a_mention() {
        assert_eq!(
            segments("thanks @Linus, merged", &team()),
            vec![
                text("thanks "),
                mention("@Linus", "Linus", false),
                text(", merged"),
            ]
        );
    }

    #[test]
    fn a_mention_ignores_case_and_keeps_what_was_written() {
        assert_eq!(
            segments("@linus", &team()),
            vec![mention("@linus", "Linus", false)]
        );
        assert_eq!(
            segments("@ZOË!", &team()),
            vec![mention("@ZOË", "Zoë", false), text("!")]
        );
    }

    #[test]
    fn a_mention_of_my_name_is_marked_as_mine() {
        assert_eq!(
            segments("@Ada Lovelace can you look?", &team()),
            vec![
                mention("@Ada Lovelace", "Ada Lovelace", true),
                text(" can you look?"),
            ]
        );
    }

    #[test]
    fn names_with_spaces_are_mentioned_whole_and_the_longest_name_wins() {
        assert_eq!(
            segments("@Grace Hopper and @Grace", &team()),
            vec![
                mention("@Grace Hopper", "Grace Hopper", false),
                text(" and "),
                mention("@Grace", "Grace", false),
            ]
        );
    }

    #[test]
    fn when_the_longer_name_does_not_fit_a_shorter_one_that_does_wins() {
        assert_eq!(
            segments("@Grace Hoppers", &team()),
            vec![mention("@Grace", "Grace", false), text(" Hoppers")]
        );
        assert_eq!(
            segments("@Grace Hop", &team()),
            vec![mention("@Grace", "Grace", false), text(" Hop")]
        );
    }

    #[test]
    fn a_name_followed_by_a_letter_or_digit_is_not_a_mention() {
        for s in ["@Linuses", "@Linus2", "@Zoëy", "@Linusé"] {
            assert_eq!(segments(s, &team()), vec![text(s)], "{s}");
        }
    }

    #[test]
    fn a_name_followed_by_punctuation_an_apostrophe_or_the_end_is_a_mention() {
        for (s, rest) in [
            ("@Linus", ""),
            ("@Linus.", "."),
            ("@Linus's patch", "'s patch"),
            ("@Linus: hi", ": hi"),
            ("@Linus_", "_"),
        ] {
            let mut want = vec![mention("@Linus", "Linus", false)];
            if !rest.is_empty() {
                want.push(text(rest));
            }
            assert_eq!(segments(s, &team()), want, "{s}");
        }
    }

    #[test]
    fn an_at_sign_inside_a_word_or_an_email_address_is_not_a_mention() {
        for s in ["mail linus@Grace.dev", "ada@linus", "x@Zoë"] {
            assert_eq!(segments(s, &team()), vec![text(s)], "{s}");
        }
        assert_eq!(
            segments("(@Linus)", &team()),
            vec![text("("), mention("@Linus", "Linus", false), text(")")]
        );
    }

    #[test]
    fn an_unknown_name_or_a_bare_at_sign_is_plain_text() {
        for s in ["@Bob hi", "@", "@ Linus", "a @ b"] {
            assert_eq!(segments(s, &team()), vec![text(s)], "{s}");
        }
    }

    #[test]
    fn an_at_sign_inside_a_link_is_not_a_mention() {
        assert_eq!(
            segments(
                "https://example.com/@Linus and mailto:linus@example.com",
                &team()
            ),
            vec![
                link("https://example.com/@Linus", "https://example.com/@Linus"),
                text(" and "),
                link("mailto:linus@example.com", "mailto:linus@example.com"),
            ]
        );
    }

    #[test]
    fn links_and_mentions_mix_in_one_text() {
        assert_eq!(
            segments("@Grace see https://example.com. cc @ada lovelace", &team()),
            vec![
                mention("@Grace", "Grace", false),
                text(" see "),
                link("https://example.com", "https://example.com"),
                text(". cc "),
                mention("@ada lovelace", "Ada Lovelace", true),
            ]
        );
    }

    #[test]
    fn the_segments_put_together_give_the_text_back() {
        for s in [
            "see https://example.com/a?b=1&c=(d). and javascript:alert(1)",
            "(@Grace Hopper) mailto:x@y.z?a=b, “https://é.example/ü”…",
            "@@Linus @ @Zoë's https:// http://x) ]https://y] ünïcødé",
            "tab\thttps://example.com/\t@Linus\n",
        ] {
            let joined: String = segments(s, &team()).iter().map(Segment::text).collect();
            assert_eq!(joined, s);
        }
    }

    #[test]
    fn blank_and_repeated_names_are_ignored() {
        let known = Mentionable::new(Some("  "), ["", "Linus", "linus", " Grace "]);
        assert_eq!(
            known.names,
            vec!["Linus".to_owned(), "Grace".to_owned()],
            "trimmed, deduplicated, longest first (as given when as long)"
        );
        assert!(known.me.is_none());
        assert!(Mentionable::new(None, []).is_empty());
    }

    #[test]
    fn mentions_finds_my_name_the_way_the_segments_do() {
        assert!(mentions("@Ada Lovelace please review", "Ada Lovelace"));
        assert!(mentions("cc @ada lovelace.", "Ada Lovelace"));
        assert!(mentions("(@ADA LOVELACE)", " Ada Lovelace "));
        assert!(!mentions("@Ada Lovelaces", "Ada Lovelace"));
        assert!(!mentions(
            "Ada Lovelace without the at sign",
            "Ada Lovelace"
        ));
        assert!(!mentions("ping ada@Ada Lovelace", "Ada Lovelace"));
        assert!(!mentions(
            "https://example.com/@Ada Lovelace",
            "Ada Lovelace"
        ));
        assert!(!mentions("@Grace", "Ada Lovelace"));
        assert!(!mentions("@ anything", ""));
    }
}

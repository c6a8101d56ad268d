//! The words a message is found by, the same for the stored text and for a query, so both index
//! adapters (PostgreSQL full-text search and SQLite FTS5) match exactly the same messages.
//!
//! # Why bigrams for Korean
//! Korean writes a word together with its particles and endings ("회의는", "회의를", "회의에서" are
//! all "meeting"), so splitting on spaces, as PostgreSQL's `simple` configuration does, finds "회의는"
//! only by "회의는". Trigrams (pg_trgm, FTS5's `trigram` tokenizer) cannot index the many two-syllable
//! words at all ("회의" is two characters). So a run of Hangul (or other CJK) characters is indexed
//! by its overlapping two-character pieces ("회의는" → "회의", "의는"), and a query word is cut the
//! same way and all its pieces must match: "회의" finds all three, "의는" finds only the first. The
//! cost is a few false positives where the pieces appear apart in one word, which ranking pushes
//! down. Other scripts are split into words, lower-cased.
//!
//! A term is only letters and digits, so a term can never carry a full-text operator into a query.
//!
//! # Phrases
//! A query is a list of phrases ([`phrases`]) that must all occur: a word typed alone is a phrase of
//! its terms (so "하세요" matches "하세" then "세요" side by side, not apart), and "quoted words" are
//! one phrase of all their terms. Both engines match a phrase as consecutive terms of the stored
//! `terms` column, which keeps the text's order.

/// Terms of `text`, in order, repeats kept (ranking counts them).
pub fn terms(text: &str) -> Vec<String> {
    pieces(text).into_iter().map(|piece| piece.term).collect()
}

/// The phrases of a query, each the terms that must occur side by side in this order: every
/// quoted stretch is one phrase (an unclosed quote runs to the end), every other word its own.
/// Words without terms (punctuation) are dropped.
pub fn phrases(query: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for (index, stretch) in query.split('"').enumerate() {
        let quoted = index % 2 == 1;
        if quoted {
            found.push(terms(stretch));
        } else {
            found.extend(stretch.split_whitespace().map(terms));
        }
    }
    found.retain(|phrase| !phrase.is_empty());
    found
}

/// Where in `text` the terms of `query` occur: ranges of UTF-16 code units (as JavaScript indexes
/// strings), in order, overlapping ones merged. For highlighting: the client marks these ranges and
/// escapes the text around them itself, so nothing from a message is ever taken for markup.
pub fn highlights(text: &str, query: &str) -> Vec<(u32, u32)> {
    let wanted: std::collections::HashSet<String> = terms(query).into_iter().collect();
    let mut utf16_at = Vec::with_capacity(text.len() + 1);
    let mut offset = 0u32;
    for c in text.chars() {
        utf16_at.push(offset);
        offset += c.len_utf16() as u32;
    }
    utf16_at.push(offset);
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for piece in pieces(text).into_iter().filter(|piece| wanted.contains(&piece.term)) {
        let (start, end) = (utf16_at[piece.start], utf16_at[piece.end]);
        match ranges.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => ranges.push((start, end)),
        }
    }
    ranges
}

/// A term and the characters of the text it came from (`start..end`, in chars).
struct Piece {
    term: String,
    start: usize,
    end: usize,
}

fn pieces(text: &str) -> Vec<Piece> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        if !chars[at].is_alphanumeric() {
            at += 1;
            continue;
        }
        // A run of one script inside a word: CJK or not.
        let cjk = is_cjk(chars[at]);
        let start = at;
        while at < chars.len() && chars[at].is_alphanumeric() && is_cjk(chars[at]) == cjk {
            at += 1;
        }
        if !cjk {
            let term = chars[start..at].iter().collect::<String>().to_lowercase();
            found.push(Piece { term, start, end: at });
        } else if at - start == 1 {
            found.push(Piece { term: chars[start].to_string(), start, end: at });
        } else {
            for pair in start..at - 1 {
                found.push(Piece {
                    term: chars[pair..pair + 2].iter().collect(),
                    start: pair,
                    end: pair + 2,
                });
            }
        }
    }
    found
}

/// Hangul syllables and jamo, CJK ideographs, kana.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF
        | 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF)
}

#[cfg(test)]
mod tests {
    use super::terms;

    #[test]
    fn english_is_split_into_lowercase_words() {
        assert_eq!(terms("Hello, WORLD! it's 2026"), ["hello", "world", "it", "s", "2026"]);
    }

    #[test]
    fn korean_is_cut_into_overlapping_pairs() {
        assert_eq!(terms("회의는 내일"), ["회의", "의는", "내일"]);
        assert_eq!(terms("회"), ["회"]);
        // A query for the stem is covered by the stored word's pieces.
        let stored = terms("회의에서 봐요");
        assert!(terms("회의").iter().all(|t| stored.contains(t)));
    }

    #[test]
    fn mixed_words_split_at_the_script_change() {
        assert_eq!(terms("Natter앱을"), ["natter", "앱을"]);
        assert_eq!(terms("v2버전"), ["v2", "버전"]);
    }

    #[test]
    fn highlights_are_utf16_ranges_of_the_matching_terms() {
        use super::highlights;
        assert_eq!(highlights("Lunch at noon, LUNCH!", "lunch"), [(0, 5), (15, 20)]);
        // Overlapping pairs merge: "회의" and "의는" of the query cover all of "회의는".
        assert_eq!(highlights("내일 회의는 취소", "회의는"), [(3, 6)]);
        // After an emoji (two UTF-16 units) the offsets are JavaScript's.
        assert_eq!(highlights("🎉 party time", "party"), [(3, 8)]);
        assert_eq!(highlights("<b>lunch</b>", "lunch"), [(3, 8)], "markup in the text is just text");
        assert!(highlights("nothing here", "lunch").is_empty());
    }

    #[test]
    fn quoted_words_are_one_phrase_and_other_words_their_own() {
        use super::phrases;
        assert_eq!(
            phrases(r#"lunch "Good morning, all" 회의는"#),
            [vec!["lunch"], vec!["good", "morning", "all"], vec!["회의", "의는"],]
        );
        assert_eq!(phrases(r#""unclosed quote here"#), [vec!["unclosed", "quote", "here"]]);
        assert!(phrases(r#"" " -- ()"#).is_empty());
    }

    #[test]
    fn operators_and_quotes_never_survive() {
        assert_eq!(terms(r#"a' OR 1=1; -- "x" NEAR(y) *"#), ["a", "or", "1", "1", "x", "near", "y"]);
        assert!(terms("'\";--*()").is_empty());
    }
}

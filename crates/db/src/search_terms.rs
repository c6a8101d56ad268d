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

/// Terms of `text`, in order, repeats kept (ranking counts them).
pub fn terms(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let word = word.to_lowercase();
        let mut run = String::new();
        let mut other = String::new();
        for c in word.chars() {
            if is_cjk(c) {
                if !other.is_empty() {
                    found.push(std::mem::take(&mut other));
                }
                run.push(c);
            } else {
                if !run.is_empty() {
                    push_bigrams(&std::mem::take(&mut run), &mut found);
                }
                other.push(c);
            }
        }
        if !run.is_empty() {
            push_bigrams(&run, &mut found);
        }
        if !other.is_empty() {
            found.push(other);
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

fn push_bigrams(run: &str, into: &mut Vec<String>) {
    let chars: Vec<char> = run.chars().collect();
    if chars.len() == 1 {
        into.push(run.to_owned());
        return;
    }
    for pair in chars.windows(2) {
        into.push(pair.iter().collect());
    }
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
    fn operators_and_quotes_never_survive() {
        assert_eq!(terms(r#"a' OR 1=1; -- "x" NEAR(y) *"#), ["a", "or", "1", "1", "x", "near", "y"]);
        assert!(terms("'\";--*()").is_empty());
    }
}

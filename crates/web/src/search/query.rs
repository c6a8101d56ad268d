//! The search box's syntax: words, plus `from:@name`, `in:#room`, `has:file`, `is:dm`,
//! `before:YYYY-MM-DD` and `after:YYYY-MM-DD` (whole UTC days), and "quoted words" found side by side
//! (a filter inside quotes is words). Anything else, operators included, is words.

use chrono::{Days, NaiveDate};

/// A search as typed, taken apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SearchQuery {
    /// Everything that is not a filter, for the index's terms.
    pub(crate) words: String,
    /// `from:@alice` (without the `@`).
    pub(crate) from: Option<String>,
    /// `in:#lunch` (without the `#`), matched against room names ignoring case.
    pub(crate) in_room: Option<String>,
    pub(crate) has_file: bool,
    pub(crate) is_dm: bool,
    /// `after:2026-12-01`: sent from the start of the next day (UTC), in ms.
    pub(crate) sent_from_ms: Option<i64>,
    /// `before:2026-12-01`: sent before the start of that day (UTC), in ms.
    pub(crate) sent_before_ms: Option<i64>,
}

pub(crate) fn parse(text: &str) -> SearchQuery {
    let mut query = SearchQuery::default();
    let mut words = Vec::new();
    for (index, stretch) in text.split('"').enumerate() {
        if index % 2 == 1 {
            words.push(format!("\"{stretch}\""));
        } else {
            take_filters(stretch, &mut query, &mut words);
        }
    }
    query.words = words.join(" ");
    query
}

/// Takes the filters out of `stretch` (text outside quotes); the rest goes to `words`.
fn take_filters(stretch: &str, query: &mut SearchQuery, words: &mut Vec<String>) {
    for token in stretch.split_whitespace() {
        let lower = token.to_lowercase();
        let taken = match lower.split_once(':') {
            Some(("from", name)) if !name.trim_start_matches('@').is_empty() => {
                query.from = Some(name.trim_start_matches('@').to_owned());
                true
            }
            Some(("in", room)) if !room.trim_start_matches('#').is_empty() => {
                query.in_room = Some(room.trim_start_matches('#').to_owned());
                true
            }
            Some(("has", "file")) => {
                query.has_file = true;
                true
            }
            Some(("is", "dm")) => {
                query.is_dm = true;
                true
            }
            Some(("after", day)) => match start_of(day, 1) {
                Some(ms) => {
                    query.sent_from_ms = Some(ms);
                    true
                }
                None => false,
            },
            Some(("before", day)) => match start_of(day, 0) {
                Some(ms) => {
                    query.sent_before_ms = Some(ms);
                    true
                }
                None => false,
            },
            _ => false,
        };
        if !taken {
            words.push(token.to_owned());
        }
    }
}

/// Milliseconds at the start (UTC) of `day` plus `later` days.
fn start_of(day: &str, later: u64) -> Option<i64> {
    let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?.checked_add_days(Days::new(later))?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_taken_out_and_the_rest_are_words() {
        let query =
            parse("lunch FROM:@Alice in:#Lunch-Club has:file is:dm after:2026-12-01 before:2026-12-03 noon");
        assert_eq!(query.words, "lunch noon");
        assert_eq!(query.from.as_deref(), Some("alice"));
        assert_eq!(query.in_room.as_deref(), Some("lunch-club"));
        assert!(query.has_file && query.is_dm);
        assert_eq!(query.sent_from_ms, Some(1_796_169_600_000), "2026-12-02T00:00Z");
        assert_eq!(query.sent_before_ms, Some(1_796_256_000_000), "2026-12-03T00:00Z");
    }

    #[test]
    fn what_is_not_a_filter_stays_text() {
        let query = parse("after:someday from: has:photos \"quoted in:#x words\" a:b");
        assert_eq!(query.words, "after:someday from: has:photos \"quoted in:#x words\" a:b");
        assert_eq!(query, SearchQuery { words: query.words.clone(), ..SearchQuery::default() });
    }
}

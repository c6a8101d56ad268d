//! Small helpers pages share: how times, query values and choices are written, and the redirect after a
//! form post.

use actix_web::HttpResponse;

/// A choice in a visibility select.
pub(crate) struct VisibilityOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// The visibility choices, with `selected` marked.
pub(crate) fn visibility_options(selected: natter_db::Visibility) -> Vec<VisibilityOption> {
    use natter_db::Visibility;
    [Visibility::Public, Visibility::InviteOnly, Visibility::Private]
        .into_iter()
        .map(|v| VisibilityOption {
            value: v.as_str(),
            label: crate::rooms::manage::visibility_label(v),
            selected: v == selected,
        })
        .collect()
}

/// A time (milliseconds since the epoch) as pages show it.
pub(crate) fn time_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// Percent-encodes a query parameter value (for links built on the server).
pub(crate) fn query_value(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A 303 redirect after a successful form post.
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", location)).finish()
}

/// `text` cut into plain and marked stretches by `ranges` (UTF-16 offsets, as the search API gives
/// them), at most `max_chars` characters of it: around the first mark when the text is longer, with
/// "…" where it was cut. The template escapes every stretch, so nothing in a message becomes markup.
pub(crate) fn marked_snippet(
    text: &str,
    ranges: &[[u32; 2]],
    max_chars: usize,
) -> Vec<crate::templates::TextSegment> {
    use crate::templates::TextSegment;
    // Each char's UTF-16 offset, to turn the ranges into char indexes.
    let chars: Vec<char> = text.chars().collect();
    let mut utf16 = Vec::with_capacity(chars.len() + 1);
    let mut at = 0u32;
    for c in &chars {
        utf16.push(at);
        at += c.len_utf16() as u32;
    }
    utf16.push(at);
    let char_at = |offset: u32| utf16.partition_point(|&o| o < offset);
    let marks: Vec<(usize, usize)> =
        ranges.iter().map(|[a, b]| (char_at(*a), char_at(*b))).filter(|(a, b)| a < b).collect();
    // The window: from a little before the first mark, or the start.
    let first = marks.first().map_or(0, |m| m.0);
    let start = if chars.len() <= max_chars { 0 } else { first.saturating_sub(max_chars / 4) };
    let end = (start + max_chars).min(chars.len());
    let mut segments = Vec::new();
    let mut push = |from: usize, to: usize, marked: bool| {
        if from < to {
            segments.push(TextSegment { text: chars[from..to].iter().collect(), marked });
        }
    };
    let mut at = start;
    for (a, b) in marks {
        let (a, b) = (a.clamp(start, end), b.clamp(start, end));
        if a < at {
            continue;
        }
        push(at, a, false);
        push(a, b, true);
        at = b;
    }
    push(at, end, false);
    if start > 0 {
        segments.insert(0, TextSegment { text: "…".to_owned(), marked: false });
    }
    if end < chars.len() {
        segments.push(TextSegment { text: "…".to_owned(), marked: false });
    }
    segments
}

#[cfg(test)]
mod snippet_tests {
    use super::marked_snippet;
    use crate::templates::TextSegment;

    fn shown(segments: &[TextSegment]) -> String {
        segments.iter().map(|s| if s.marked { format!("[{}]", s.text) } else { s.text.clone() }).collect()
    }

    #[test]
    fn marks_are_placed_by_utf16_offsets() {
        assert_eq!(shown(&marked_snippet("🎉 party <b>time</b>", &[[3, 8]], 100)), "🎉 [party] <b>time</b>");
        assert_eq!(shown(&marked_snippet("회의는 내일", &[[0, 3]], 100)), "[회의는] 내일");
        assert_eq!(shown(&marked_snippet("no marks", &[], 100)), "no marks");
    }

    #[test]
    fn long_texts_are_cut_around_the_first_mark() {
        let text = format!("{} needle {}", "a".repeat(500), "b".repeat(500));
        let at = 501u32;
        let shown = shown(&marked_snippet(&text, &[[at, at + 6]], 40));
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert!(shown.contains("[needle]"), "{shown}");
        assert_eq!(shown.chars().filter(|c| !"[]…".contains(*c)).count(), 40);
    }
}

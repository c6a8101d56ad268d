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

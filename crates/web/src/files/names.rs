//! File names as uploaders give them: shown to readers, never used as a path.

/// Longest name kept, in characters.
const MAX_NAME_CHARS: usize = 200;

/// The last path component of `raw` without control characters, cut to a sane length; "file" when
/// nothing is left.
pub(crate) fn clean(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(MAX_NAME_CHARS).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "file".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// `Content-Disposition` for downloading a file named `name`: an ASCII fallback and the exact name
/// (RFC 6266 / RFC 5987), so no name can break out of the header.
pub(crate) fn content_disposition(kind: &str, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || " .-_()".contains(c) { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b".-_".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean("../../etc/passwd"), "passwd");
        assert_eq!(clean("C:\\Users\\ann\\cat.png"), "cat.png");
        assert_eq!(clean("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean(".."), "file");
        assert_eq!(clean(""), "file");
        assert_eq!(clean(&"x".repeat(500)).chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn a_name_cannot_break_out_of_the_header() {
        let header = content_disposition("attachment", "evil\".html; x=\"y ünï.png");
        assert_eq!(
            header,
            "attachment; filename=\"evil_.html_ x__y _n_.png\"; \
             filename*=UTF-8''evil%22.html%3B%20x%3D%22y%20%C3%BCn%C3%AF.png"
        );
    }
}

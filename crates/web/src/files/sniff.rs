//! A file's type, from its first bytes (magic numbers, by the `infer` crate), never from the name or
//! the client's Content-Type; and the checks made with it.

/// Bytes read before deciding a file's type.
pub const SNIFF_BYTES: usize = 8 * 1024;

/// The media type of content starting with `head`: what `infer` recognises, else `text/plain` for
/// UTF-8 text without NUL bytes, else `application/octet-stream`.
pub(crate) fn content_type(head: &[u8]) -> &'static str {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type();
    }
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        // Cut in the middle of a character by the sniff window: still text.
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > head.len(),
    };
    if text && !head.contains(&0) { "text/plain" } else { "application/octet-stream" }
}

/// Why a file's type is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TypeRefusal {
    NotAllowed {
        found: String,
    },
    /// The name claims another type than the content has (say, a program named `photo.png`).
    Disguised {
        found: String,
        named: String,
    },
}

impl std::fmt::Display for TypeRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeRefusal::NotAllowed { found } => write!(f, "files of type {found} may not be uploaded here"),
            TypeRefusal::Disguised { found, named } => {
                write!(f, "the file's content is {found} but its name says {named}; rename it")
            }
        }
    }
}

/// Whether content of type `found`, named `name`, may be uploaded given the `allowed` types.
pub(crate) fn check(found: &str, name: &str, allowed: &[String]) -> Result<(), TypeRefusal> {
    if !allowed.iter().any(|a| a == found) {
        return Err(TypeRefusal::NotAllowed { found: found.to_owned() });
    }
    let has_extension = name.rsplit_once('.').is_some_and(|(stem, _)| !stem.is_empty());
    let Some(named) = mime_guess::from_path(name).first().filter(|_| has_extension) else {
        return Ok(());
    };
    let named = named.essence_str().to_owned();
    let same = named == found
        || (found == "text/plain" && named.starts_with("text/") && named != "text/html")
        || (found == "application/zip" && named.starts_with("application/vnd.openxmlformats"));
    if same { Ok(()) } else { Err(TypeRefusal::Disguised { found: found.to_owned(), named }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    /// The start of an x86-64 executable (infer wants a whole ELF header).
    fn elf() -> Vec<u8> {
        let mut bytes = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0\x01\0\0\0".to_vec();
        bytes.resize(64, 0);
        bytes
    }

    fn allowed() -> Vec<String> {
        crate::files::settings::DEFAULT_ALLOWED_TYPES.split(',').map(str::to_owned).collect()
    }

    #[test]
    fn the_type_comes_from_the_content() {
        assert_eq!(content_type(PNG), "image/png");
        assert_eq!(content_type(&elf()), "application/x-executable");
        assert_eq!(content_type(b"<!DOCTYPE html><html><script>alert(1)</script>"), "text/html");
        assert_eq!(content_type("plain words, ünïcode".as_bytes()), "text/plain");
        assert_eq!(content_type(&"é".as_bytes()[..1]), "text/plain", "cut mid-character");
        assert_eq!(content_type(b"\0\x01\x02binary"), "application/octet-stream");
    }

    #[test]
    fn disallowed_and_disguised_types_are_refused() {
        let allowed = allowed();
        assert_eq!(check("image/png", "cat.png", &allowed), Ok(()));
        assert_eq!(check("image/png", "cat", &allowed), Ok(()), "no extension claims nothing");
        assert_eq!(check("text/plain", "notes.md", &allowed), Ok(()));
        assert_eq!(check("text/plain", ".bashrc", &allowed), Ok(()));
        assert!(matches!(
            check("application/x-executable", "photo.png", &allowed),
            Err(TypeRefusal::NotAllowed { .. })
        ));
        assert!(matches!(check("text/html", "page.html", &allowed), Err(TypeRefusal::NotAllowed { .. })));
        assert_eq!(
            check("image/png", "report.pdf", &allowed),
            Err(TypeRefusal::Disguised { found: "image/png".into(), named: "application/pdf".into() })
        );
        assert!(matches!(check("text/plain", "page.html", &allowed), Err(TypeRefusal::Disguised { .. })));
        assert!(matches!(check("text/plain", "pic.svg", &allowed), Err(TypeRefusal::Disguised { .. })));
    }
}

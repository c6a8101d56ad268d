//! Reactions: which emoji a member may react with, and how a message's reactions are shown.
//!
//! An emoji is one of [`EMOJI`] (a fixed set, so every client can draw every reaction) or a
//! `:shortcode:` of lowercase letters, digits, `_`, `+` and `-` (for custom emoji later; clients show
//! the code). Shortcodes of the fixed set's emoji (`:+1:`, `:tada:`) are stored as the emoji, so one
//! reaction is never split into two.

use serde::{Deserialize, Serialize};

use crate::MemberId;

/// The emoji a client offers, with the shortcodes that mean them.
pub const EMOJI: [(&str, &str); 16] = [
    ("👍", "+1"),
    ("👎", "-1"),
    ("❤️", "heart"),
    ("😂", "joy"),
    ("😮", "open_mouth"),
    ("😢", "cry"),
    ("🎉", "tada"),
    ("🙏", "pray"),
    ("🔥", "fire"),
    ("👀", "eyes"),
    ("✅", "white_check_mark"),
    ("🚀", "rocket"),
    ("👏", "clap"),
    ("🤔", "thinking"),
    ("💯", "100"),
    ("☕", "coffee"),
];

/// Most reactors named with a reaction (the newest); `count` has them all.
pub const REACTORS_SHOWN: usize = 20;

/// Longest shortcode between the colons.
const MAX_SHORTCODE: usize = 32;

/// The stored form of `raw`: an emoji of the set, or a `:shortcode:`; `None` when it is neither.
pub fn normalise(raw: &str) -> Option<String> {
    if let Some((emoji, _)) =
        EMOJI.iter().find(|(emoji, _)| *emoji == raw || emoji.trim_end_matches('\u{fe0f}') == raw)
    {
        return Some((*emoji).to_owned());
    }
    let code = raw.strip_prefix(':')?.strip_suffix(':')?;
    let valid = !code.is_empty()
        && code.len() <= MAX_SHORTCODE
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_+-".contains(&b));
    if !valid {
        return None;
    }
    Some(match EMOJI.iter().find(|(_, name)| *name == code) {
        Some((emoji, _)) => (*emoji).to_owned(),
        None => format!(":{code}:"),
    })
}

/// The reactions with one emoji on a message, as a reader sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reaction {
    pub emoji: String,
    /// Members reacting with it.
    pub count: u32,
    /// The newest of them (at most [`REACTORS_SHOWN`]), newest first.
    pub reactors: Vec<MemberId>,
    /// The reader is one of them.
    #[serde(default)]
    pub mine: bool,
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn emoji_of_the_set_and_shortcodes_are_kept_one_way() {
        assert_eq!(normalise("👍").as_deref(), Some("👍"));
        assert_eq!(normalise(":+1:").as_deref(), Some("👍"), "a set emoji's code is the emoji");
        assert_eq!(normalise("❤").as_deref(), Some("❤️"), "without the variation selector too");
        assert_eq!(normalise(":party_parrot:").as_deref(), Some(":party_parrot:"));
        for bad in ["", "x", "👍👍", ":Big:", "::", ":a b:", "<script>", &format!(":{}:", "a".repeat(33))]
        {
            assert_eq!(normalise(bad), None, "{bad:?}");
        }
    }
}

#[cfg(test)]
mod client_set {
    /// The browser client's picker offers exactly this set, in this order.
    #[test]
    fn the_client_offers_the_same_emoji() {
        let client = include_str!("../../web/client/src/lib/reactions.js");
        let line = client.lines().find(|l| l.starts_with("export const REACTION_EMOJI")).expect("the list");
        let listed: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        let ours: Vec<&str> = super::EMOJI.iter().map(|(emoji, _)| *emoji).collect();
        assert_eq!(listed, ours);
    }
}

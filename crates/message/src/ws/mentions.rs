//! Mentions, found on the server when a message is published so that clients never decide who was
//! mentioned: `@username` of a current member of the room, and `@room` (everyone; in a room of more
//! than [`OPEN_ROOM_MENTION_UP_TO`] members only when an owner or admin writes it, otherwise it stays
//! text). Names are looked up in web (`GET /internal/rooms/{room}/mentions`) only when the text has
//! an `@` in it; a name that is not a member is just text.

use natter_proto::events::MessagePosted;
use natter_proto::http::{MentionTargets, RoomAccess};

use super::refusal::Refusal;
use crate::node::Node;

/// Up to this many members anyone may mention `@room`.
const OPEN_ROOM_MENTION_UP_TO: u32 = 20;
/// Distinct names looked up per message.
const MAX_NAMES: usize = 20;

/// What a text asks to mention.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Asked {
    /// Lower-cased usernames, in order of first appearance.
    pub(super) names: Vec<String>,
    pub(super) room: bool,
}

/// The `@name`s of `text`: an `@` at the start or after something other than a letter, digit or
/// one of `._-` (so `ann@example.org` is no mention), followed by 3 to 32 of the characters
/// usernames are made of (a trailing `.`, as at the end of a sentence, is not part of it).
pub(super) fn asked(text: &str) -> Asked {
    let mut asked = Asked::default();
    let chars: Vec<char> = text.chars().collect();
    let in_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    for (at, &c) in chars.iter().enumerate() {
        if c != '@' || (at > 0 && in_name(chars[at - 1])) {
            continue;
        }
        let name: String = chars[at + 1..].iter().take_while(|&&c| in_name(c)).collect();
        let name = name.trim_end_matches('.').to_lowercase();
        if name == "room" {
            asked.room = true;
        } else if (3..=32).contains(&name.len())
            && !asked.names.contains(&name)
            && asked.names.len() < MAX_NAMES
        {
            asked.names.push(name);
        }
    }
    asked
}

/// `posted` with its mentions, for a sender with `access` to the room.
pub(super) async fn mentioning(
    node: &Node,
    mut posted: MessagePosted,
    access: &RoomAccess,
) -> Result<MessagePosted, Refusal> {
    let asked = asked(&posted.text);
    if asked == Asked::default() {
        return Ok(posted);
    }
    let path = format!("/internal/rooms/{}/mentions?names={}", posted.room_id, asked.names.join(","));
    let targets: MentionTargets = node.upstream.web.get_json(&path).await.map_err(|e| {
        tracing::warn!(error = %e, room.id = posted.room_id, "mentions not resolved");
        Refusal::unavailable("cannot look up the people mentioned right now; retry")
    })?;
    posted.mentions = asked
        .names
        .iter()
        .filter_map(|name| targets.members.iter().find(|m| m.username == *name).map(|m| m.member_id))
        .collect();
    let moderator = access.role.is_some_and(|role| role.moderates());
    posted.mentions_room = asked.room && (moderator || targets.member_count <= OPEN_ROOM_MENTION_UP_TO);
    Ok(posted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_after_an_at_sign_not_inside_addresses() {
        let found = asked("@Ann and @bob_1, mail carol@example.org; @ann again, @room. Thanks @dave.");
        assert_eq!(found.names, ["ann", "bob_1", "dave"]);
        assert!(found.room);
        assert_eq!(asked("no mentions here"), Asked::default());
        assert_eq!(asked("@ab is too short, @ alone too").names, Vec::<String>::new());
        assert_eq!(asked("(@ann)").names, ["ann"], "after punctuation");
        assert_eq!(asked("회의 @ann 참석").names, ["ann"], "after Korean text and a space");
    }
}

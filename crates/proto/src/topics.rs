//! Bus topics. Room-scoped events are keyed by room id (decimal string), so one room's events keep
//! their order; a member's presence changes are keyed by `member:<id>`, so they keep theirs.
//! Operators can prefix every name (`NATTER_KAFKA_TOPIC_PREFIX`) to share a cluster.

/// The topics Natter uses. See `proto/README.md` for producers and consumers of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Messages in community rooms: [`crate::events::MessagePosted`].
    CommunityMessages,
    /// Messages in direct (1:1) rooms: [`crate::events::MessagePosted`].
    DirectMessages,
    /// Membership and room changes, produced by web: [`crate::events::MembershipChanged`].
    Membership,
    /// Who is typing where: [`crate::events::TypingChanged`]. Ephemeral: read by every message pod's
    /// fan-out, never by the history writers, so it is never stored nor replayed.
    Typing,
    /// Edits and deletions of stored messages: [`crate::events::MessageChanged`]. Read by every message
    /// pod's fan-out (to tell subscribers) and by the shared history writers (to change history).
    Edits,
    /// Presence and read-position changes pushed to room co-members: [`crate::events::PresenceEvent`].
    /// Ephemeral like typing: read by every message pod's fan-out from the end, never stored.
    Presence,
    /// Messages of every room in their room's order, with their positions: [`crate::events::StoredMessage`].
    /// Written by the sequencer (the history writers) after storing them; read by every message pod's
    /// fan-out. The two message topics above are the publish log the sequencer reads.
    Sequenced,
    /// Files uploaded and removed: [`crate::events::FileEvent`], produced by web (uploads) and message
    /// pods (removals), read by web's shared file janitors. The file *message* itself travels on the
    /// room's message topic like any message, so it shares the room's one order and positions.
    Files,
    /// Calls: who is in each room's call and the signalling between participants,
    /// [`crate::events::CallEvent`]. Ephemeral like typing: read by every message pod's fan-out from
    /// the end, never stored.
    Calls,
    /// Whispers: [`crate::events::WhisperPosted`], stored by the message pod that accepted them
    /// before they are published; read by every message pod's fan-out, which tells only the
    /// sender's and the recipient's connections.
    Whispers,
}

impl Topic {
    /// Every topic, for creating them at start-up.
    pub const ALL: [Topic; 10] = [
        Topic::CommunityMessages,
        Topic::DirectMessages,
        Topic::Sequenced,
        Topic::Membership,
        Topic::Typing,
        Topic::Edits,
        Topic::Presence,
        Topic::Files,
        Topic::Calls,
        Topic::Whispers,
    ];
    /// The topics carrying chat messages ([`crate::events::MessagePosted`]); not typing, which is never
    /// stored.
    pub const MESSAGES: [Topic; 2] = [Topic::CommunityMessages, Topic::DirectMessages];

    /// The topic name without prefix.
    pub fn base_name(self) -> &'static str {
        match self {
            Topic::CommunityMessages => "natter.chat.community",
            Topic::DirectMessages => "natter.chat.direct",
            Topic::Membership => "natter.rooms.membership",
            Topic::Typing => "natter.chat.typing",
            Topic::Edits => "natter.chat.edits",
            Topic::Presence => "natter.presence",
            Topic::Files => "natter.chat.files",
            Topic::Sequenced => "natter.chat.sequenced",
            Topic::Calls => "natter.calls",
            Topic::Whispers => "natter.chat.whispers",
        }
    }

    /// The topic name with the operator's prefix.
    pub fn name(self, prefix: &str) -> String {
        format!("{prefix}{}", self.base_name())
    }
}

/// The key of every room-scoped event.
pub fn room_key(room_id: crate::RoomId) -> String {
    room_id.to_string()
}

/// The key of the signals from call session `from` to session `to`: one pair's keep their order.
pub fn signal_key(from: &str, to: &str) -> String {
    format!("signal:{from}>{to}")
}

/// The key of a member's presence changes.
pub fn member_key(member_id: crate::MemberId) -> String {
    format!("member:{member_id}")
}

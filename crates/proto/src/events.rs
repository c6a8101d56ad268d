//! Payloads of the events that travel over the bus (Kafka topics, see [`crate::topics`]).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{MemberId, RoomId};

/// A chat message as it travels over the bus, keyed by its room id.
///
/// Its `position` is not part of the payload: it is assigned by the bus (the partition offset), so it is
/// known once the broker has stored the event and is the same for every consumer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessagePosted {
    /// Server-assigned id (UUIDv7), the idempotency key of history storage.
    pub message_id: Uuid,
    pub room_id: RoomId,
    pub sender_id: MemberId,
    /// Display name at the time of sending, so readers need no lookup.
    pub sender_name: String,
    pub text: String,
    /// The id the client gave the publish request, if any (used for idempotent retries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    /// Milliseconds since the Unix epoch, UTC, set by the message pod that accepted it.
    pub sent_at_ms: i64,
    /// The message of the same room this one answers, as it was when the reply was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyTo>,
    /// A file shared with the message (`text` is then its optional caption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRef>,
    /// The members the text mentions (`@username`), found by the message pod that accepted it among
    /// the room's members at that moment; clients never decide this (a `publish` frame with a
    /// `mentions` field is refused: frames allow no unknown fields).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<MemberId>,
    /// `@room`: the text mentions every member (in a room of more than 20 members, only when an
    /// owner or admin writes it; otherwise it is just text).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mentions_room: bool,
}

impl MessagePosted {
    /// Whether the message mentions `member` (by name or with `@room`); never its own sender.
    pub fn mentions(&self, member: MemberId) -> bool {
        self.sender_id != member && (self.mentions_room || self.mentions.contains(&member))
    }
}

/// A file shared in a room, as a file message carries it. Clients fetch it from web with their session
/// or access token: `GET /files/{file_id}` (the content) and, when `thumbnail` is set,
/// `GET /files/{file_id}/thumbnail` (a PNG). Both check room membership on every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FileRef {
    pub file_id: Uuid,
    /// The name the uploader gave (shown to readers, never used as a storage path).
    pub name: String,
    /// Bytes.
    pub size: i64,
    /// The type sniffed from the content when it was uploaded (never the one the client claimed).
    pub content_type: String,
    /// Images: the size of the thumbnail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<Thumbnail>,
}

/// Pixel size of a file's thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Thumbnail {
    pub width: u32,
    pub height: u32,
}

/// A change to a stored file (topic `natter.chat.files`, keyed by room id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FileEvent {
    /// A member uploaded a file to the room (published by web once it is stored). It becomes a file
    /// message when the uploader publishes it; an upload never published is removed after a while.
    Uploaded(FileUploaded),
    /// The file's message was deleted (published by the message pod that accepted the deletion,
    /// after the `deleted` change): web's file janitors remove the content and thumbnail from storage.
    Removed(FileRemoved),
}

/// See [`FileEvent::Uploaded`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FileUploaded {
    pub room_id: RoomId,
    pub uploader_id: MemberId,
    pub file: FileRef,
}

/// See [`FileEvent::Removed`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FileRemoved {
    pub room_id: RoomId,
    pub file_id: Uuid,
    /// The deleted message that carried it.
    pub message_id: Uuid,
}

/// What a reply names of the message it answers: enough to show "in reply to Ann" and jump to it,
/// but never its text, which a later edit or deletion would leave stale (or keep after deletion).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReplyTo {
    pub message_id: Uuid,
    pub position: i64,
    pub sender_id: MemberId,
    pub sender_name: String,
}

/// A message as stored in history and as delivered to clients: the posted event plus its position,
/// and whether it has been edited or deleted since (history pages and replays show the current state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredMessage {
    #[serde(flatten)]
    pub posted: MessagePosted,
    /// The message's place in its room: 1 for the first message, then 2, 3, ... with no holes, the
    /// same for every reader (assigned by the sequencer, see `proto/README.md`). A client that sees a
    /// position other than the next one knows it missed something.
    pub position: i64,
    /// When the text was last edited (milliseconds since the Unix epoch, UTC); absent if never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at_ms: Option<i64>,
    /// Deleted: `posted.text` is empty, the message keeps its place. Absent when `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The message's reactions as the reader sees them, most common first, in history read over
    /// `GET /api/v1/rooms/{room}/messages`; absent elsewhere (and when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<crate::reactions::Reaction>,
}

impl StoredMessage {
    /// A message as posted: neither edited nor deleted.
    pub fn new(posted: MessagePosted, position: i64) -> Self {
        Self { posted, position, edited_at_ms: None, deleted: false, reactions: Vec::new() }
    }
}

/// A change to a stored message (topic `natter.chat.edits`, keyed by room id), published by the message
/// pod that accepted it after checking who may make it. Every pod tells its subscribers; the shared
/// history writers apply it, idempotently (an edit or delete applied twice leaves the same state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessageChanged {
    /// The author replaced the text.
    Edited(MessageEdited),
    /// The author or a room moderator deleted the message.
    Deleted(MessageDeleted),
    /// A member reacted to the message or took a reaction back (published by the pod that accepted
    /// it; the history writer applies it and announces the result as `reaction_counted`).
    Reacted(MessageReacted),
    /// The history writer applied a reaction: the message's count for that emoji now (pods tell
    /// their subscribers with `reaction_changed`). The writer handles a room's changes one at a
    /// time, so the last count announced is the stored one.
    ReactionCounted(ReactionCounted),
}

impl MessageChanged {
    pub fn room_id(&self) -> RoomId {
        match self {
            MessageChanged::Edited(e) => e.room_id,
            MessageChanged::Deleted(d) => d.room_id,
            MessageChanged::Reacted(r) => r.room_id,
            MessageChanged::ReactionCounted(c) => c.room_id,
        }
    }

    pub fn message_id(&self) -> Uuid {
        match self {
            MessageChanged::Edited(e) => e.message_id,
            MessageChanged::Deleted(d) => d.message_id,
            MessageChanged::Reacted(r) => r.message_id,
            MessageChanged::ReactionCounted(c) => c.message_id,
        }
    }
}

/// See [`MessageChanged::Reacted`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageReacted {
    pub room_id: RoomId,
    pub message_id: Uuid,
    pub position: i64,
    pub member_id: MemberId,
    /// As stored (`crate::reactions::normalise`).
    pub emoji: String,
    /// Reacted (`true`) or took it back.
    pub added: bool,
    /// When the pod accepted it (ms since the Unix epoch): of two changes by one member to one
    /// message and emoji, the later wins, whichever is applied first.
    pub at_ms: i64,
}

/// See [`MessageChanged::ReactionCounted`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReactionCounted {
    pub room_id: RoomId,
    pub message_id: Uuid,
    pub position: i64,
    pub emoji: String,
    pub member_id: MemberId,
    pub added: bool,
    pub count: u32,
    /// The newest reactors, at most `crate::reactions::REACTORS_SHOWN`.
    pub reactors: Vec<MemberId>,
}

/// See [`MessageChanged::Edited`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageEdited {
    pub room_id: RoomId,
    pub message_id: Uuid,
    pub editor_id: MemberId,
    pub text: String,
    /// Milliseconds since the Unix epoch, UTC, set by the message pod that accepted it.
    pub edited_at_ms: i64,
    /// The message's position, known to the pod from its history lookup, so receivers need none.
    pub position: i64,
}

/// See [`MessageChanged::Deleted`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageDeleted {
    pub room_id: RoomId,
    pub message_id: Uuid,
    pub deleted_by: MemberId,
    /// The message's position, as for [`MessageEdited::position`].
    pub position: i64,
}

/// A member started or stopped typing in a room (topic `natter.chat.typing`, keyed by room id), published
/// by the message pod the member is connected to. Ephemeral: delivered live to the room's subscribers
/// on every pod (except the typist's own connections), never stored, never replayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TypingChanged {
    pub room_id: RoomId,
    pub member_id: MemberId,
    /// Display name, so receivers need no lookup.
    pub member_name: String,
    pub typing: bool,
}

/// A change pushed to the co-members of a member (topic `natter.presence`), never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PresenceEvent {
    /// A member came online or went offline (keyed by [`crate::topics::member_key`]), published by
    /// presence after a debounce, so a connection that flaps within it publishes nothing.
    Member(MemberPresenceChanged),
    /// A member's read position in a room moved forward (keyed by room id), published by the message
    /// pod that stored it, at most once per debounce for one member and room.
    Read(ReadMoved),
    /// Something in the friends lists of `member_ids` changed (a request came, was answered or
    /// withdrawn, a friendship ended), published by web; pods tell those members' connections.
    Friends(FriendsChanged),
}

/// See [`PresenceEvent::Friends`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FriendsChanged {
    pub member_ids: Vec<MemberId>,
}

/// See [`PresenceEvent::Member`]. Message pods tell their subscribers of `room_ids` (except the
/// member's own connections).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberPresenceChanged {
    pub member_id: MemberId,
    pub state: crate::http::PresenceState,
    /// When the member went offline (milliseconds since the Unix epoch), for offline members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_ms: Option<i64>,
    /// The rooms the member belongs to: whoever watches one of them is told.
    pub room_ids: Vec<RoomId>,
}

/// See [`PresenceEvent::Read`]. Message pods tell every subscriber of the room, the member's other
/// devices too (so reading on one device clears the unread mark on the others).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReadMoved {
    pub room_id: RoomId,
    pub member_id: MemberId,
    pub position: i64,
}

/// A change to who may use a room (topic `natter.rooms.membership`, keyed by room id), published by
/// web after the change is committed. Message pods drop their cached [`crate::http::RoomAccess`] for
/// the member (or for everyone in the room when `member_id` is `None`) and, when the change removes
/// access, stop delivering the room to that member's connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MembershipChanged {
    pub room_id: RoomId,
    /// The member concerned; `None` for a change to the whole room (archived, deleted, edited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<MemberId>,
    pub change: MembershipChange,
}

/// What happened, see [`MembershipChanged`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MembershipChange {
    Joined,
    Left,
    Kicked,
    Banned,
    Unbanned,
    RoleChanged,
    Muted,
    Unmuted,
    Blocked,
    Unblocked,
    RoomEdited,
    RoomArchived,
    RoomDeleted,
}

impl MembershipChange {
    /// Whether the member (or, for a room-wide change, everyone) can no longer read the room.
    pub fn removes_access(self) -> bool {
        matches!(
            self,
            MembershipChange::Left
                | MembershipChange::Kicked
                | MembershipChange::Banned
                | MembershipChange::RoomDeleted
        )
    }
}

/// What travels on the calls topic (`natter.calls`), never stored: every message pod reads it all
/// from the end and tells its own connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CallEvent {
    /// Who is in a room's call now (keyed by room id), published by presence after each change:
    /// pods send it to the room's subscribers.
    State(crate::calls::CallState),
    /// Signalling between two participants of a room's call (keyed by
    /// [`crate::topics::signal_key`], so one sender's signals to one receiver keep their order),
    /// published by the sender's pod once it checked the sender is in the call; the receiver's pod
    /// delivers it only to the connection holding session `to` in that room's call.
    Signal(SignalRelayed),
}

/// See [`CallEvent::Signal`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignalRelayed {
    pub room_id: RoomId,
    pub from: String,
    pub from_member: MemberId,
    pub to: String,
    /// The client's signalling payload, passed on as it is (at most `calls::MAX_SIGNAL_BYTES`).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A whisper: a message in a community room for one member (`to_id`) and its sender only (topic
/// `natter.chat.whispers`, keyed by room id). It is outside the room's sequence of positions, so
/// nobody else can tell it exists: not live, not in history, search, unread counts, previews or
/// notifications. `after` places it: the room's last position when it was sent, so clients show it
/// after that message. Stored once by the message pod that accepted it (before it is published);
/// moderators cannot read whispers they are not party to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WhisperPosted {
    /// Server-assigned id (UUIDv7).
    pub message_id: Uuid,
    pub room_id: RoomId,
    pub sender_id: MemberId,
    pub sender_name: String,
    pub to_id: MemberId,
    /// The recipient's display name when it was sent.
    pub to_name: String,
    pub text: String,
    /// The id the client gave the publish request, if any (for retries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    /// Milliseconds since the Unix epoch, UTC, set by the message pod that accepted it.
    pub sent_at_ms: i64,
    /// The room's last position when it was sent (0 in an empty room).
    pub after: i64,
}

impl WhisperPosted {
    /// Whether `member` may see it: its sender or its recipient, nobody else.
    pub fn involves(&self, member: MemberId) -> bool {
        self.sender_id == member || self.to_id == member
    }
}

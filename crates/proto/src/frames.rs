//! WebSocket frames between a client and a message pod. Every frame is one JSON text message with a
//! `type` field. Every client request carries an `id` chosen by the client; every answer names it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::RoomId;
use crate::events::StoredMessage;

/// A request from a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Start receiving a room's messages. Needs membership of the room. With `since` (the last
    /// position the client has), the messages after it are replayed first, once each and in order,
    /// then live ones follow: resuming after a reconnect, on any pod.
    Subscribe {
        id: String,
        room: RoomId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<i64>,
    },
    /// Stop receiving a room's messages.
    Unsubscribe { id: String, room: RoomId },
    /// Post a message to a room the connection is subscribed to.
    Publish {
        id: String,
        room: RoomId,
        text: String,
        /// Client-chosen id of this message, for retries.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<String>,
        /// The id of the message of the same room this one answers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<Uuid>,
        /// Share a file uploaded to this room by the sender (`POST /api/v1/rooms/{room}/files`);
        /// `text` is then its caption and may be empty. A file is shared by one message only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<Uuid>,
        /// Whisper: the text goes to this member of the (community) room only, and to the sender's
        /// own connections; answered with `whispered` instead of `ack`, and both get `whisper`. Text
        /// only (no `reply_to`, no `file`); to a current member who has not blocked the sender.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        whisper_to: Option<crate::MemberId>,
    },
    /// Liveness check; answered with `pong`.
    Ping { id: String },
    /// The member started (`true`) or stopped typing in a subscribed room. Ephemeral: never stored
    /// or replayed; no answer unless refused (for example rate-limited).
    Typing { id: String, room: RoomId, typing: bool },
    /// The member has read the room up to `position` (a message position). Answered with
    /// `read_position`, the member's position after the mark: it never moves back.
    MarkRead { id: String, room: RoomId, position: i64 },
    /// Replace the text of one's own message in a subscribed room. Answered with `ack` naming the
    /// message's original position; every subscriber (the editor too) then gets `edited`.
    Edit { id: String, room: RoomId, message_id: Uuid, text: String },
    /// Delete a message in a subscribed room: one's own, or anyone's for room owners and admins.
    /// Answered with `ack` naming the message's original position; every subscriber then gets
    /// `deleted`. The text is gone from history; the message keeps its position there.
    Delete { id: String, room: RoomId, message_id: Uuid },
    /// React to a message in a subscribed room with `emoji` (see `crate::reactions`: an emoji of the
    /// set or a `:shortcode:`). Idempotent: a member reacts once per message and emoji. Answered with
    /// `ack` naming the message's position; every subscriber then gets `reaction_changed`. Any member
    /// who may read the room may react, observers too; not while muted, not in an archived room.
    React { id: String, room: RoomId, message_id: Uuid, emoji: String },
    /// Take back one's reaction with `emoji`; idempotent, answered like `react`.
    Unreact { id: String, room: RoomId, message_id: Uuid, emoji: String },
    /// Join the call of a subscribed room, sending `media` (all false: listening only, which is all
    /// observers and muted members may do). Answered with `call_joined` and this connection's session
    /// id; every subscriber of the room then gets `call_state`. Again in the same room: changes the
    /// media, keeping the session. In another room: leaves the call there first (one call per
    /// device). Unsubscribing from the room or closing the connection leaves the call.
    CallJoin {
        id: String,
        room: RoomId,
        #[serde(default)]
        media: crate::calls::CallMedia,
    },
    /// Leave the room's call; answered with `call_left` (also when not in it).
    CallLeave { id: String, room: RoomId },
    /// WebRTC signalling (an SDP offer or answer, an ICE candidate: `data` is passed on as it is, at
    /// most `calls::MAX_SIGNAL_BYTES` of JSON) for participant `to` of the room's call, which this
    /// connection must be in too. Never stored; no answer unless refused. Signals from one session to
    /// another arrive in the order sent.
    Signal {
        id: String,
        room: RoomId,
        to: String,
        #[schema(value_type = Object)]
        data: serde_json::Value,
    },
}

/// The `type` values a client may send, for telling "unknown type" from "bad fields".
pub const CLIENT_FRAME_TYPES: [&str; 13] = [
    "subscribe",
    "unsubscribe",
    "publish",
    "ping",
    "typing",
    "edit",
    "delete",
    "mark_read",
    "react",
    "unreact",
    "call_join",
    "call_leave",
    "signal",
];

/// A frame from a message pod.
#[allow(
    clippy::large_enum_variant,
    reason = "frames are made to be serialised at once, never stored in bulk; `message` dominates"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The subscription is active; messages of the room follow.
    Subscribed { id: String, room: RoomId },
    /// The subscription has ended.
    Unsubscribed { id: String, room: RoomId },
    /// The published message is stored and ordered: `position` is its place in the room's sequence
    /// (1, 2, 3, ... with no holes), and it reaches every subscriber. Also the answer
    /// to `edit` and `delete`: then `message_id` and `position` are those of the changed message (its
    /// original position; an edit or delete never moves a message).
    Ack { id: String, room: RoomId, message_id: Uuid, position: i64 },
    /// A message in a subscribed room.
    Message { message: StoredMessage },
    /// Answer to `ping`.
    Pong { id: String },
    /// A message in a subscribed room was edited; `position` is the message's (unchanged) position.
    /// Not an answer to a request: the editor gets it too.
    Edited { room: RoomId, message_id: Uuid, position: i64, text: String, edited_at_ms: i64 },
    /// A message in a subscribed room was deleted; it keeps its `position`, its text is gone.
    /// Not an answer to a request: whoever deleted it gets it too.
    Deleted { room: RoomId, message_id: Uuid, position: i64 },
    /// The reactions with `emoji` on a message of a subscribed room changed: `member_id` reacted
    /// (`added`) or took it back, and `count` members now react with it, the newest in `reactors`
    /// (at most 20). Changes of one message come in the order they were made. Not an answer: the
    /// member who reacted gets it too (a client learns whether its member is among them from
    /// `member_id` and `added`, and from history's `mine`).
    ReactionChanged {
        room: RoomId,
        message_id: Uuid,
        position: i64,
        emoji: String,
        count: u32,
        reactors: Vec<crate::MemberId>,
        member_id: crate::MemberId,
        added: bool,
    },
    /// Someone in a subscribed room started or stopped typing.
    Typing { room: RoomId, member_id: crate::MemberId, member_name: String, typing: bool },
    /// A member of a subscribed room came online or went offline (`last_seen_ms` then says when).
    /// Debounced: a connection that flaps briefly is not reported. Not sent about oneself.
    Presence {
        room: RoomId,
        member_id: crate::MemberId,
        state: crate::http::PresenceState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_seen_ms: Option<i64>,
    },
    /// A member of a subscribed room (possibly oneself, on another device) has read it up to
    /// `position`. Debounced per member and room; positions only grow.
    MemberRead { room: RoomId, member_id: crate::MemberId, position: i64 },
    /// Answer to `mark_read`: the member's read position in the room (it only grows).
    ReadPosition { id: String, room: RoomId, position: i64 },
    /// A resume could not replay everything after `since` (too much was missed, or history could not
    /// be read), or the connection fell behind a busy room and skipped ahead (its outbound queue was
    /// full; the connection stays open): fetch the messages with positions `after + 1 ..= up_to` from
    /// `GET /api/v1/rooms/{room}/messages?after=..&up_to=..` instead (it serves that whole range, in
    /// pages, or answers 503 with `retry_after_ms`). Live messages, after `up_to`, follow as usual.
    ReloadHistory { room: RoomId, after: i64, up_to: i64 },
    /// The connection no longer receives the room: the member left, was kicked or banned, or the room
    /// was deleted. Not an answer to a request.
    Removed { room: RoomId, reason: String },
    /// Something about one of the member's rooms changed that their room list shows: they joined a
    /// room (on another device, or someone started a direct chat with them), their role or mute
    /// changed, or the room was renamed or archived. Sent to every connection of the member (for
    /// their own changes) or to the room's subscribers (for room-wide ones). Re-read the room
    /// (`GET /api/v1/me/rooms`); not an answer to a request.
    RoomChanged { room: RoomId, change: crate::events::MembershipChange },
    /// Who is in a subscribed room changed (someone joined, left, was kicked or banned, or got a new
    /// role or mute): re-read its member list (`GET /api/v1/rooms/{room}/members`). Not an answer to a
    /// request; the member concerned is not told about their own removal this way (see `removed`).
    MembersChanged { room: RoomId },
    /// This server is shutting down: every answer to a request already made has been sent, and the
    /// connection closes next (code 1012). Reconnect after `retry_after_ms` (spread so clients do not
    /// all come back at once), to any pod, and subscribe with `since` to resume.
    Reconnect { reason: String, retry_after_ms: u64 },
    /// Something in the member's friends list changed (a request arrived, was answered or withdrawn,
    /// a friendship ended): re-read `GET /api/v1/friends`. Sent to every connection of the member.
    FriendsChanged,
    /// A whisper to or from this connection's member in a subscribed room (see
    /// `events::WhisperPosted`); also on the sender's other devices, and after a resume's replay for
    /// the whispers after `since`.
    Whisper { whisper: crate::events::WhisperPosted },
    /// Answer to a `publish` with `whisper_to`: stored, and on its way to both; shown after position
    /// `after` of the room.
    Whispered { id: String, room: RoomId, message_id: Uuid, after: i64 },
    /// Answer to `call_join`: this connection is in the room's call as `session`.
    CallJoined { id: String, room: RoomId, session: String },
    /// Answer to `call_leave`.
    CallLeft { id: String, room: RoomId },
    /// Who is in the call of a subscribed room: sent when it changes, and after subscribing when a
    /// call is going on. Keep the state with the highest `version`; an empty list ends the call.
    /// A client drops its peer connections to sessions no longer listed (someone left, was kicked,
    /// or their device went away).
    CallState { room: RoomId, version: u64, participants: Vec<crate::calls::CallParticipant> },
    /// Signalling from participant `from` (member `from_member`) of the room's call to this
    /// connection's session.
    Signal {
        room: RoomId,
        from: String,
        from_member: crate::MemberId,
        #[schema(value_type = Object)]
        data: serde_json::Value,
    },
    /// A request could not be served. The connection stays open.
    Error {
        /// The request this answers, when the frame carried a readable id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        code: ErrorCode,
        /// A human-readable explanation; never contains secrets.
        detail: String,
        /// For `rate_limited`: when the request may be retried.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
}

impl ServerFrame {
    /// An error frame answering request `id` (when known).
    pub fn error(id: Option<String>, code: ErrorCode, detail: impl Into<String>) -> Self {
        ServerFrame::Error { id, code, detail: detail.into(), retry_after_ms: None }
    }
}

/// Machine-readable error codes of error frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not JSON, or not a JSON object.
    MalformedFrame,
    /// The frame's `type` is missing or not one this server knows.
    UnknownFrameType,
    /// The frame is larger than the server accepts.
    FrameTooLarge,
    /// The frame's fields are missing, of the wrong type, or out of range.
    InvalidRequest,
    /// The member may not do this in that room (also: editing someone else's message, deleting
    /// someone else's message without moderating the room).
    Forbidden,
    /// Publishing needs a subscription to the room first.
    NotSubscribed,
    /// A service this request needs is unreachable; retry later.
    Unavailable,
    /// Too many requests; retry after `retry_after_ms`.
    RateLimited,
}

/// Why a text frame could not be read as a [`ClientFrame`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    pub id: Option<String>,
    pub code: ErrorCode,
    pub detail: String,
}

impl FrameError {
    /// The error frame that answers it.
    pub fn into_frame(self) -> ServerFrame {
        ServerFrame::Error { id: self.id, code: self.code, detail: self.detail, retry_after_ms: None }
    }
}

impl ClientFrame {
    /// Reads a client text frame, telling apart "not JSON", "unknown type" and "bad fields", and keeping
    /// the request id whenever it can be read so the error can name it.
    pub fn parse(text: &str) -> Result<ClientFrame, FrameError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| FrameError {
            id: None,
            code: ErrorCode::MalformedFrame,
            detail: format!("frame is not valid JSON: {e}"),
        })?;
        let Some(object) = value.as_object() else {
            return Err(FrameError {
                id: None,
                code: ErrorCode::MalformedFrame,
                detail: "frame must be a JSON object".to_owned(),
            });
        };
        let id = object.get("id").and_then(|v| v.as_str()).map(str::to_owned);
        match object.get("type").and_then(|v| v.as_str()) {
            Some(kind) if CLIENT_FRAME_TYPES.contains(&kind) => {}
            Some(kind) => {
                return Err(FrameError {
                    id,
                    code: ErrorCode::UnknownFrameType,
                    detail: format!("unknown frame type {kind:?}; expected one of {CLIENT_FRAME_TYPES:?}"),
                });
            }
            None => {
                return Err(FrameError {
                    id,
                    code: ErrorCode::UnknownFrameType,
                    detail: "frame has no string field \"type\"".to_owned(),
                });
            }
        }
        serde_json::from_value(value).map_err(|e| FrameError {
            id,
            code: ErrorCode::InvalidRequest,
            detail: format!("invalid frame: {e}"),
        })
    }
}

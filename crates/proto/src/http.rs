//! Bodies of the HTTP APIs between services (documented in `proto/openapi.json`).

use serde::{Deserialize, Serialize};

use crate::{MemberId, RoomId};

/// A message pod asks web to attach an uploaded file to the message about to be published
/// (`PUT /internal/files/{file}/attachment`). Web answers the file's [`crate::events::FileRef`] when the
/// file was uploaded to `room_id` by `member_id` and is not shared by another message (again for the
/// same `message_id`: a retry), 404 when not, 409 when another message shares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttachFile {
    pub room_id: RoomId,
    pub member_id: MemberId,
    pub message_id: uuid::Uuid,
}

/// Web's answer to "may this member use this room?" (`GET /internal/rooms/{room}/members/{member}`).
///
/// A member may subscribe when `role` is set, and publish when also `read_only` is unset and
/// `muted_until_ms` is unset or past. Message pods cache answers briefly and drop them on a
/// [`crate::events::MembershipChanged`] event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoomAccess {
    pub room_id: RoomId,
    pub member_id: MemberId,
    /// `None` when the member is not in the room (or is banned from it).
    pub role: Option<RoomRole>,
    /// A direct (1:1) room: its messages go to the direct-chat topic.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub direct: bool,
    /// Why the member may read but not post, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<ReadOnlyReason>,
    /// Muted until this instant (milliseconds since the Unix epoch, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted_until_ms: Option<i64>,
}

impl RoomAccess {
    /// Whether the member may subscribe to the room.
    pub fn may_read(&self) -> bool {
        self.role.is_some()
    }

    /// Whether the member may post to the room at `now_ms`; `Err` says why not.
    /// Whether the member may react to messages at `now_ms`: any member, observers too (a reaction
    /// is how an audience answers without posting), but not while muted (a sanction that silences)
    /// nor in an archived room.
    pub fn may_react(&self, now_ms: i64) -> Result<(), String> {
        if self.role.is_none() {
            return Err(format!("you are not a member of room {}", self.room_id));
        }
        if self.read_only == Some(ReadOnlyReason::Archived) {
            return Err(ReadOnlyReason::Archived.explain().to_owned());
        }
        match self.muted_until_ms {
            Some(until) if until > now_ms => Err("you are muted in this room".to_owned()),
            _ => Ok(()),
        }
    }

    /// Whether the member may be in the room's call sending `media` at `now_ms`: any member may
    /// listen, observers too; sending media (a microphone, a camera, a screen) needs what posting
    /// needs, so observers and muted members listen only. Not in an archived room, nor in a direct
    /// chat whose other member has blocked the caller.
    pub fn may_call(&self, media: crate::calls::CallMedia, now_ms: i64) -> Result<(), String> {
        if self.role.is_none() {
            return Err(format!("you are not a member of room {}", self.room_id));
        }
        match self.read_only {
            Some(ReadOnlyReason::Archived) => {
                return Err("this room is archived: it holds no calls".to_owned());
            }
            Some(ReadOnlyReason::Blocked) => return Err("you cannot call this member".to_owned()),
            Some(ReadOnlyReason::Observer) if media.sends() => {
                return Err("observers may listen to a call but not send media".to_owned());
            }
            _ => {}
        }
        match self.muted_until_ms {
            Some(until) if until > now_ms && media.sends() => {
                Err("you are muted in this room: you may listen to the call but not send media".to_owned())
            }
            _ => Ok(()),
        }
    }

    pub fn may_post(&self, now_ms: i64) -> Result<(), String> {
        if self.role.is_none() {
            return Err(format!("you are not a member of room {}", self.room_id));
        }
        if let Some(reason) = self.read_only {
            return Err(reason.explain().to_owned());
        }
        match self.muted_until_ms {
            Some(until) if until > now_ms => {
                Err(format!("you are muted in this room until {until} (ms since epoch)"))
            }
            _ => Ok(()),
        }
    }
}

/// Why a member may read a room but not post to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadOnlyReason {
    /// Observers only read.
    Observer,
    /// The room is archived: read-only for everyone.
    Archived,
    /// The other member of this direct chat has blocked you.
    Blocked,
}

impl ReadOnlyReason {
    pub fn explain(self) -> &'static str {
        match self {
            ReadOnlyReason::Observer => "observers cannot post in this room",
            ReadOnlyReason::Archived => "this room is archived (read-only)",
            ReadOnlyReason::Blocked => "you cannot send direct messages to this member",
        }
    }
}

/// A member's role in a room, highest first. Owners and admins moderate; observers only read.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RoomRole {
    Observer,
    Member,
    Admin,
    Owner,
}

impl RoomRole {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomRole::Owner => "owner",
            RoomRole::Admin => "admin",
            RoomRole::Member => "member",
            RoomRole::Observer => "observer",
        }
    }

    pub fn parse(raw: &str) -> Option<RoomRole> {
        match raw {
            "owner" => Some(RoomRole::Owner),
            "admin" => Some(RoomRole::Admin),
            "member" => Some(RoomRole::Member),
            "observer" => Some(RoomRole::Observer),
            _ => None,
        }
    }

    /// Owners and admins kick, mute, ban, invite and read the audit log.
    pub fn moderates(self) -> bool {
        self >= RoomRole::Admin
    }
}

/// `GET /internal/rooms/{room}/mentions?names=ann,bob`: which of the names belong to current members
/// of the room (a message pod resolving a message's `@name` mentions), and how many members the room
/// has (in a room of more than 20, only owners and admins may mention `@room`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MentionTargets {
    pub members: Vec<MentionedMember>,
    pub member_count: u32,
}

/// Whether a member may be whispered to in a room by another (`GET
/// /internal/rooms/{room}/whisper-targets/{member}?from=`, a message pod checking a whisper).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WhisperTarget {
    pub room_id: RoomId,
    pub member_id: MemberId,
    /// Their display name (empty when they are not a member).
    pub name: String,
    /// A current member of the room.
    pub member: bool,
    /// They have blocked the sender.
    pub blocked: bool,
}

/// See [`MentionTargets`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MentionedMember {
    /// Lower-cased, as the name was matched.
    pub username: String,
    pub member_id: crate::MemberId,
}

/// One WebSocket connection as a message pod reports it to presence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConnectionState {
    /// Unique within the pod.
    pub connection: String,
    pub member_id: MemberId,
    /// The room the member is looking at on this connection (its last subscription); none = lobby.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<RoomId>,
    /// When the member last did something on it (milliseconds since the Unix epoch, UTC).
    pub active_at_ms: i64,
    /// The connection's seat in a call, when it is in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<crate::calls::CallSeat>,
}

/// A message pod's heartbeat (`PUT /internal/pods/{pod}/heartbeat`): renews its lease and reports
/// what changed since the last one. `full` says `upserts` is every connection of the pod (any other
/// the store holds for it is gone); a pod sends a full one first and whenever presence asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PodHeartbeat {
    /// How long the pod counts as alive without another heartbeat.
    pub lease_ms: u64,
    #[serde(default)]
    pub full: bool,
    /// Connections opened or changed (room, activity).
    #[serde(default)]
    pub upserts: Vec<ConnectionState>,
    /// Connections closed.
    #[serde(default)]
    pub closed: Vec<String>,
}

/// Presence's answer to a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeartbeatAnswer {
    /// Presence did not know the pod's lease (it expired, or Redis lost its data): send a full
    /// heartbeat next.
    pub resync: bool,
}

/// Whether a member is around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceState {
    /// At least one live connection, used recently.
    Online,
    /// Connected, but idle for longer than the configured time on every connection.
    Away,
    Offline,
}

/// One member's presence (`GET /internal/presence?members=1,2`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberPresence {
    pub member_id: MemberId,
    pub state: PresenceState,
    /// Live connections across all pods.
    pub connections: u32,
    /// Rooms the member is looking at now (on any connection), ascending.
    #[serde(default)]
    pub rooms: Vec<RoomId>,
    /// When the member was last online (milliseconds since the Unix epoch, UTC); offline members only,
    /// when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_ms: Option<i64>,
}

impl MemberPresence {
    pub fn online(&self) -> bool {
        self.state != PresenceState::Offline
    }
}

/// Who is looking at a room now (`GET /internal/rooms/{room}/present`): member ids, ascending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoomPresent {
    pub room_id: RoomId,
    pub members: Vec<MemberId>,
}

/// The rooms a member belongs to (`GET /internal/members/{member}/rooms`, web), for presence to
/// know whom to tell about the member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberRooms {
    pub member_id: MemberId,
    pub room_ids: Vec<RoomId>,
}

/// The error body of every HTTP API: `{"errors":[{"detail":"..."}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub errors: Vec<ErrorDetail>,
    /// With a 503 for something that is on its way (a history range not stored yet): when to ask
    /// again (also in the `Retry-After` header, in whole seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub detail: String,
}

impl ErrorBody {
    pub fn new(detail: impl Into<String>) -> Self {
        Self { errors: vec![ErrorDetail { detail: detail.into() }], retry_after_ms: None }
    }
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// Tokens of a REST login (`/api/v1/auth/login` and `/api/v1/auth/refresh`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenPair {
    /// EdDSA JWT, audience `natter-api`; send as `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token is valid.
    pub expires_in: u64,
    /// Opaque; use once at `/api/v1/auth/refresh` to get the next pair.
    pub refresh_token: String,
}

/// `POST /api/v1/auth/refresh` and `POST /api/v1/auth/logout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// `GET /api/v1/me`: the member the access token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Me {
    pub id: MemberId,
    pub username: String,
    pub display_name: String,
}

/// A short-lived token: for the message host (`GET /ws-token` with a session, `GET /api/v1/ws-token` with an
/// access token), or a REST access token for the page of a logged-in member (`GET /api-token`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WsToken {
    pub token: String,
    pub expires_in: u64,
}

/// `GET /api/v1/search?q=&page=`: messages the caller may read now that contain every word of `q`
/// (Korean words also by their stem, see `natter_db::search_terms`), most relevant first, then
/// newest. Operators and quotes in `q` are read as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageSearchPage {
    pub hits: Vec<MessageHit>,
    /// The page asked for (0 is the first); `has_more` says whether another follows.
    pub page: u32,
    pub has_more: bool,
}

/// One message found by a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageHit {
    pub message_id: String,
    pub room_id: RoomId,
    pub sender_id: MemberId,
    /// The message's position in its room: the client opens the room there.
    pub position: i64,
    pub sent_at_ms: i64,
    /// The text as it is now (edited messages are found by their new text only).
    pub text: String,
    /// Where the query's words occur in `text`: `[start, end)` in UTF-16 code units (JavaScript's
    /// string indexes), in order, not overlapping. The client marks these and escapes all of the text.
    pub highlights: Vec<[u32; 2]>,
}

/// `GET /api/v1/push/key`: the key a browser subscribes to Web Push with (`applicationServerKey`),
/// base64url of the uncompressed P-256 point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PushKey {
    pub public_key: String,
}

/// `PUT /api/v1/push/subscription`: a browser's `PushSubscription` as `toJSON()` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PushSubscriptionBody {
    /// The push service's URL for this browser (`https:`).
    pub endpoint: String,
    pub keys: PushSubscriptionKeys,
}

/// The browser's keys (RFC 8291), base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PushSubscriptionKeys {
    /// Its P-256 public key (65 bytes uncompressed).
    pub p256dh: String,
    /// Its authentication secret (16 bytes).
    pub auth: String,
}

/// `DELETE /api/v1/push/subscription`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PushEndpoint {
    pub endpoint: String,
}

/// `PUT /api/v1/rooms/{room}/notify`: what in the room is worth a notification while the member is
/// away: `all`, `mentions` (mentions and direct messages; the default) or `nothing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotifyChoice {
    pub level: String,
}

/// `GET /api/v1/calls/ice`: the ICE servers for a call, as `RTCPeerConnection`'s `iceServers` takes
/// them; TURN ones carry credentials that expire at `expires_at_ms` (fetch again before).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IceServers {
    pub ice_servers: Vec<IceServer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<i64>,
}

/// See [`IceServers`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

//! Bodies of web's room API (`/api/v1/rooms`, `/api/v1/me/rooms`, `/api/v1/direct`, `/api/v1/blocks`),
//! documented in `proto/openapi.json`. Times are milliseconds since the Unix epoch, UTC.

use serde::{Deserialize, Serialize};

use crate::http::RoomRole;
use crate::{MemberId, RoomId};

/// Who can find and join a community room.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Listed and searchable; anyone may join.
    #[default]
    Public,
    /// Listed and searchable; joining needs an invitation or an invite link.
    InviteOnly,
    /// Visible to members only; joining needs an invitation or an invite link.
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::InviteOnly => "invite_only",
            Visibility::Private => "private",
        }
    }

    pub fn parse(raw: &str) -> Option<Visibility> {
        match raw {
            "public" => Some(Visibility::Public),
            "invite_only" => Some(Visibility::InviteOnly),
            "private" => Some(Visibility::Private),
            _ => None,
        }
    }
}

/// Community or direct (1:1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    Community,
    Direct,
}

impl RoomKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Community => "community",
            RoomKind::Direct => "direct",
        }
    }

    pub fn parse(raw: &str) -> Option<RoomKind> {
        match raw {
            "community" => Some(RoomKind::Community),
            "direct" => Some(RoomKind::Direct),
            _ => None,
        }
    }
}

/// `POST /api/v1/rooms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoom {
    pub name: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub visibility: Visibility,
    /// Most members the room holds; the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
}

/// `PATCH /api/v1/rooms/{room}`: the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
}

/// A room as a reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoomView {
    pub id: RoomId,
    pub kind: RoomKind,
    /// For a direct room, the other member's display name.
    pub name: String,
    pub topic: String,
    pub visibility: Visibility,
    pub capacity: u32,
    pub member_count: u32,
    pub archived: bool,
    pub created_at_ms: i64,
    /// The caller's role, when they are a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub your_role: Option<RoomRole>,
}

/// `GET /api/v1/rooms?q=&page=`: public and invite-only rooms whose name contains `q`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoomSearchPage {
    pub rooms: Vec<RoomView>,
    /// The next page's number, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page: Option<u32>,
}

/// The newest message of a room, shortened for a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessagePreview {
    pub position: i64,
    pub sender_id: crate::MemberId,
    pub sender_name: String,
    /// At most 120 characters of the text.
    pub text: String,
    pub sent_at_ms: i64,
}

/// One entry of a member's room list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoomListItem {
    pub room: RoomView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<MessagePreview>,
    /// Messages after the member's read position, counted up to 100 (`unread_more` beyond).
    pub unread: u32,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unread_more: bool,
    /// Of the unread messages, those that mention the member (by name or `@room`), up to 100;
    /// absent when none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mentions: u32,
    /// The last message's time, or when the member joined: the list's sort key, newest first.
    pub last_activity_ms: i64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// `GET /api/v1/me/rooms?page=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoomListPage {
    pub rooms: Vec<RoomListItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page: Option<u32>,
}

/// A member of a room (`GET /api/v1/rooms/{room}/members`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoomMemberView {
    pub member_id: MemberId,
    pub username: String,
    pub display_name: String,
    pub role: RoomRole,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted_until_ms: Option<i64>,
    pub joined_at_ms: i64,
}

/// `PUT /api/v1/rooms/{room}/members/{member}/role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    pub role: RoomRole,
}

/// `POST /api/v1/rooms/{room}/members/{member}/mute` and `.../ban`: until when (`None`: a ban is
/// forever; a mute needs a time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Until {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<i64>,
}

/// `POST /api/v1/rooms/{room}/transfer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferOwnership {
    pub member_id: MemberId,
}

/// `POST /api/v1/rooms/{room}/invitations`: invite a member by username.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    pub username: String,
}

/// `POST /api/v1/rooms/{room}/invite-links`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInviteLink {
    /// Seconds until the link expires; default one day, at most 30 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_s: Option<u64>,
    /// How many members may join through it; unlimited when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
}

/// An invite link. `code` is only present in the answer that created it (only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InviteLink {
    pub id: i64,
    pub room_id: RoomId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub expires_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    pub uses: u32,
    pub revoked: bool,
}

/// `POST /api/v1/invites/accept`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvite {
    pub code: String,
}

/// One moderation record (`GET /api/v1/rooms/{room}/audit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at_ms: i64,
    pub actor_id: MemberId,
    pub actor_name: String,
    /// What was done: `created`, `edited`, `archived`, `transferred`, `role_changed`, `kicked`,
    /// `muted`, `unmuted`, `banned`, `unbanned`, `invited`, `invite_link_created`, `invite_link_revoked`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<MemberId>,
    pub detail: String,
}

/// `PUT /api/v1/rooms/{room}/read`: the member has read up to `position` (never moves back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    pub position: i64,
}

/// The member's read position in a room after a mark-read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReadPosition {
    pub room_id: RoomId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
}

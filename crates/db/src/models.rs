//! Rows as the application sees them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

pub use natter_proto::http::RoomRole as Role;
pub use natter_proto::rooms::{RoomKind, Visibility};

use crate::schema::{members, room_members, rooms};

/// A member account.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = members)]
pub struct Member {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// Argon2id PHC string; never logged.
    pub password_hash: String,
    pub created_at: NaiveDateTime,
    /// An https URL of the member's picture, if they set one.
    pub avatar_url: Option<String>,
}

/// What sign-up stores.
#[derive(Debug, Clone)]
pub struct NewMember<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = members)]
pub(crate) struct MemberRow<'a> {
    pub username_key: String,
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub created_at: NaiveDateTime,
}

impl<'a> MemberRow<'a> {
    pub(crate) fn new(new: &NewMember<'a>, created_at: NaiveDateTime) -> Self {
        Self {
            username_key: username_key(new.username),
            username: new.username,
            display_name: new.display_name,
            password_hash: new.password_hash,
            created_at,
        }
    }
}

/// A room.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = rooms)]
pub struct Room {
    pub id: i64,
    /// Empty for direct rooms (readers show the other member's name).
    pub name: String,
    /// `community` or `direct`; see [`Room::kind`].
    pub kind: String,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub topic: String,
    /// See [`Room::visibility`].
    pub visibility: String,
    pub capacity: i32,
    pub member_count: i32,
    pub archived_at: Option<NaiveDateTime>,
    /// `"{low id}:{high id}"` of a direct room's two members; unique, so a pair has one room.
    pub direct_key: Option<String>,
}

impl Room {
    pub fn kind(&self) -> RoomKind {
        RoomKind::parse(&self.kind).unwrap_or(RoomKind::Community)
    }

    pub fn visibility(&self) -> Visibility {
        Visibility::parse(&self.visibility).unwrap_or(Visibility::Private)
    }

    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }

    /// The two members of a direct room.
    pub fn direct_pair(&self) -> Option<(i64, i64)> {
        let (low, high) = self.direct_key.as_deref()?.split_once(':')?;
        Some((low.parse().ok()?, high.parse().ok()?))
    }
}

/// The key of the direct room of two members, the same whichever of them asks.
pub fn direct_key(a: i64, b: i64) -> String {
    format!("{}:{}", a.min(b), a.max(b))
}

/// What creating a community room needs (validated by the caller).
#[derive(Debug, Clone)]
pub struct NewRoom<'a> {
    pub name: &'a str,
    pub topic: &'a str,
    pub visibility: Visibility,
    pub capacity: i32,
}

/// Changes to a community room; `None` keeps the field.
#[derive(Debug, Clone, Default)]
pub struct RoomChanges<'a> {
    pub name: Option<&'a str>,
    pub topic: Option<&'a str>,
    pub visibility: Option<Visibility>,
    pub capacity: Option<i32>,
}

#[derive(Insertable)]
#[diesel(table_name = rooms)]
pub(crate) struct RoomRow<'a> {
    pub name: &'a str,
    pub name_key: String,
    pub kind: &'a str,
    pub topic: &'a str,
    pub visibility: &'a str,
    pub capacity: i32,
    pub member_count: i32,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub direct_key: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = room_members)]
pub(crate) struct RoomMemberRow<'a> {
    pub room_id: i64,
    pub member_id: i64,
    pub role: &'a str,
    pub joined_at: NaiveDateTime,
}

/// A member's place in a room.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = room_members)]
pub struct Membership {
    pub room_id: i64,
    pub member_id: i64,
    /// See [`Membership::role`].
    pub role: String,
    pub joined_at: NaiveDateTime,
    pub muted_until: Option<NaiveDateTime>,
    /// The last position the member has read; only grows.
    pub read_position: Option<i64>,
    /// See [`Membership::notify`].
    pub notify: String,
}

impl Membership {
    /// What in the room is worth a notification while the member is away.
    pub fn notify(&self) -> NotifyLevel {
        NotifyLevel::parse(&self.notify).unwrap_or(NotifyLevel::Mentions)
    }

    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Observer)
    }
}

/// A member as listed in a room.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = members)]
pub struct MemberSummary {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

/// How a member asks to join a room.
#[derive(Debug, Clone, Copy)]
pub enum JoinBy<'a> {
    /// No credentials: works for public rooms, and for others with a pending invitation.
    Asking,
    /// With an invite link, by the SHA-256 (hex) of its code.
    Link { code_hash: &'a str },
}

/// What a join led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joined {
    Joined,
    AlreadyMember,
}

/// An invite link as stored (the code itself is not).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = crate::schema::invite_links)]
pub struct InviteLinkRecord {
    pub id: i64,
    pub room_id: i64,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub max_uses: Option<i32>,
    pub uses: i32,
    pub revoked_at: Option<NaiveDateTime>,
}

/// One moderation record, with the actor's display name.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct AuditRecord {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor_id: i64,
    pub actor_name: String,
    pub action: String,
    pub target_id: Option<i64>,
    pub detail: String,
}

#[derive(Insertable)]
#[diesel(table_name = crate::schema::room_audit)]
pub(crate) struct AuditRow<'a> {
    pub room_id: i64,
    pub actor_id: i64,
    pub action: &'a str,
    pub target_id: Option<i64>,
    pub detail: &'a str,
    pub at: NaiveDateTime,
}

/// A file uploaded to a room (see [`crate::files`]).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::room_files)]
pub struct RoomFile {
    /// A UUID, as text.
    pub id: String,
    pub room_id: i64,
    pub uploader_id: i64,
    /// As the uploader named it; for display only.
    pub name: String,
    /// Sniffed from the content.
    pub content_type: String,
    pub size: i64,
    pub thumb_width: Option<i32>,
    pub thumb_height: Option<i32>,
    /// Where the content is in object storage (the thumbnail: this plus `.thumb`).
    pub storage_key: String,
    /// The message sharing it, once shared.
    pub message_id: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Usernames are unique regardless of case; this is the key they are compared by.
pub fn username_key(username: &str) -> String {
    username.to_lowercase()
}

#[derive(Insertable)]
#[diesel(table_name = crate::schema::refresh_tokens)]
pub(crate) struct RefreshTokenRow<'a> {
    pub family_id: &'a str,
    pub member_id: i64,
    pub token_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = crate::schema::refresh_tokens)]
pub(crate) struct StoredRefreshToken {
    pub id: i64,
    pub family_id: String,
    pub member_id: i64,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// A new refresh token to store (its hash, never the token).
#[derive(Debug, Clone)]
pub struct NewRefreshToken<'a> {
    pub family_id: &'a str,
    pub member_id: i64,
    pub token_hash: &'a str,
    pub expires_at: NaiveDateTime,
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was valid; it is now used and the next one is stored.
    Rotated { member_id: i64 },
    /// The token had been used before: the whole family is now revoked.
    ReuseDetected { member_id: i64 },
    /// Unknown, expired or revoked.
    Invalid,
}

/// What in a room is worth notifying a member about while they are away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotifyLevel {
    /// Every message.
    All,
    /// Messages that mention the member, and every message of a direct chat (the default).
    Mentions,
    /// Nothing (the room is muted).
    Nothing,
}

impl NotifyLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyLevel::All => "all",
            NotifyLevel::Mentions => "mentions",
            NotifyLevel::Nothing => "nothing",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "all" => Some(NotifyLevel::All),
            "mentions" => Some(NotifyLevel::Mentions),
            "nothing" => Some(NotifyLevel::Nothing),
            _ => None,
        }
    }
}

/// A browser's Web Push subscription (RFC 8030): where to send, and the keys to encrypt for it
/// (RFC 8291), base64url as the browser gives them.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = crate::schema::push_subscriptions)]
pub struct PushSubscription {
    pub id: i64,
    pub member_id: i64,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub created_at: NaiveDateTime,
}

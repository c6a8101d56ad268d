//! Rows as the application sees them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

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
    pub name: String,
    /// `community` or `direct`; see [`RoomKind`].
    pub kind: String,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = rooms)]
pub(crate) struct RoomRow<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = room_members)]
pub(crate) struct RoomMemberRow<'a> {
    pub room_id: i64,
    pub member_id: i64,
    pub role: &'a str,
    pub joined_at: NaiveDateTime,
}

/// Kinds of room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// A member's role in a room, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Member => "member",
        }
    }

    pub(crate) fn parse(raw: &str) -> Option<Role> {
        match raw {
            "owner" => Some(Role::Owner),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
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

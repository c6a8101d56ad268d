use async_trait::async_trait;

use crate::identities::Identities;
use crate::refresh_tokens::RefreshTokens;
use crate::{DbError, Member, NewMember, Role, Room, RoomKind};

/// Members and rooms. Every method is one short transaction.
#[async_trait]
pub trait Directory: RefreshTokens + Identities + Send + Sync + 'static {
    /// Stores a new member; [`DbError::Conflict`] if the username is taken in any letter case.
    async fn create_member(&self, new: NewMember<'_>) -> Result<Member, DbError>;
    /// Finds a member by username, ignoring case.
    async fn member_by_username(&self, username: &str) -> Result<Option<Member>, DbError>;
    async fn member_by_id(&self, id: i64) -> Result<Option<Member>, DbError>;
    /// Sets the member's display name and avatar URL (validated by the caller).
    async fn update_profile(
        &self,
        id: i64,
        display_name: &str,
        avatar_url: Option<&str>,
    ) -> Result<(), DbError>;
    /// Creates a room with `owner` as its first member, atomically.
    async fn create_room(&self, name: &str, kind: RoomKind, owner: i64) -> Result<Room, DbError>;
    async fn room(&self, id: i64) -> Result<Option<Room>, DbError>;
    /// Adds a member to a room; joining again keeps the existing role.
    async fn join_room(&self, room_id: i64, member_id: i64) -> Result<(), DbError>;
    /// The member's role in the room, or `None` if they are not in it.
    async fn role_in_room(&self, room_id: i64, member_id: i64) -> Result<Option<Role>, DbError>;
    /// Rooms the member belongs to, newest first.
    async fn rooms_of_member(&self, member_id: i64) -> Result<Vec<Room>, DbError>;
    /// Community rooms anyone may join, newest first.
    async fn community_rooms(&self, limit: i64) -> Result<Vec<Room>, DbError>;
    /// Whether the store answers (readiness checks).
    async fn ping(&self) -> Result<(), DbError>;
}

use async_trait::async_trait;

use crate::audit::Audit;
use crate::direct::DirectChats;
use crate::files::Files;
use crate::identities::Identities;
use crate::invites::Invites;
use crate::membership::Memberships;
use crate::refresh_tokens::RefreshTokens;
use crate::rooms::Rooms;
use crate::{DbError, Member, NewMember};

/// Members and rooms. Every method is one short transaction.
#[async_trait]
pub trait Directory:
    RefreshTokens
    + Identities
    + Rooms
    + Memberships
    + Invites
    + DirectChats
    + Audit
    + Files
    + Send
    + Sync
    + 'static
{
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
    /// Whether the store answers (readiness checks).
    async fn ping(&self) -> Result<(), DbError>;
}

//! Invitations by name and invite links. Written once for both backends, like `queries.rs`.

use async_trait::async_trait;
use chrono::NaiveDateTime;

use crate::DbError;
use crate::models::InviteLinkRecord;

#[async_trait]
pub trait Invites: Send + Sync + 'static {
    /// Lets `member_id` join the room once (a no-op when already invited).
    async fn invite_member(&self, room_id: i64, member_id: i64, actor: i64) -> Result<(), DbError>;
    /// Stores a link by the SHA-256 (hex) of its code.
    async fn create_invite_link(
        &self,
        room_id: i64,
        code_hash: &str,
        expires_at: NaiveDateTime,
        max_uses: Option<i32>,
        actor: i64,
    ) -> Result<InviteLinkRecord, DbError>;
    /// The room's links, newest first.
    async fn invite_links(&self, room_id: i64) -> Result<Vec<InviteLinkRecord>, DbError>;
    /// Revokes a link of the room; `false` when the room has no such link.
    async fn revoke_invite_link(&self, room_id: i64, link_id: i64, actor: i64) -> Result<bool, DbError>;
    /// Whether the member has a pending invitation to the room.
    async fn is_invited(&self, room_id: i64, member_id: i64) -> Result<bool, DbError>;
    /// The room a link code (by hash) leads to, whether or not the link is still usable.
    async fn invite_link_room(&self, code_hash: &str) -> Result<Option<i64>, DbError>;
}

macro_rules! impl_invites {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::invites::Invites for $store {
            async fn invite_member(
                &self,
                room_id: i64,
                member_id: i64,
                actor: i64,
            ) -> Result<(), $crate::DbError> {
                use $crate::schema::room_invitations;
                let mut conn = self.conn().await?;
                conn.transaction(async |conn| {
                    let added = diesel::insert_into(room_invitations::table)
                        .values((
                            room_invitations::room_id.eq(room_id),
                            room_invitations::member_id.eq(member_id),
                            room_invitations::invited_by.eq(actor),
                            room_invitations::created_at.eq(chrono::Utc::now().naive_utc()),
                        ))
                        .on_conflict_do_nothing()
                        .execute(conn)
                        .await?;
                    if added > 0 {
                        $crate::rooms::record_audit!(conn, room_id, actor, "invited", Some(member_id), "")?;
                    }
                    Ok::<_, $crate::DbError>(())
                })
                .await
            }

            async fn create_invite_link(
                &self,
                room_id: i64,
                code_hash: &str,
                expires_at: chrono::NaiveDateTime,
                max_uses: Option<i32>,
                actor: i64,
            ) -> Result<$crate::models::InviteLinkRecord, $crate::DbError> {
                use $crate::schema::invite_links;
                let mut conn = self.conn().await?;
                conn.transaction(async |conn| {
                    let link = diesel::insert_into(invite_links::table)
                        .values((
                            invite_links::room_id.eq(room_id),
                            invite_links::code_hash.eq(code_hash),
                            invite_links::created_by.eq(actor),
                            invite_links::created_at.eq(chrono::Utc::now().naive_utc()),
                            invite_links::expires_at.eq(expires_at),
                            invite_links::max_uses.eq(max_uses),
                        ))
                        .returning($crate::models::InviteLinkRecord::as_returning())
                        .get_result(conn)
                        .await?;
                    let detail = format!("link {}", link.id);
                    $crate::rooms::record_audit!(conn, room_id, actor, "invite_link_created", None, &detail)?;
                    Ok::<_, $crate::DbError>(link)
                })
                .await
            }

            async fn invite_links(
                &self,
                room_id: i64,
            ) -> Result<Vec<$crate::models::InviteLinkRecord>, $crate::DbError> {
                use $crate::schema::invite_links;
                let mut conn = self.conn().await?;
                Ok(invite_links::table
                    .filter(invite_links::room_id.eq(room_id))
                    .order(invite_links::id.desc())
                    .select($crate::models::InviteLinkRecord::as_select())
                    .load(&mut *conn)
                    .await?)
            }

            async fn revoke_invite_link(
                &self,
                room_id: i64,
                link_id: i64,
                actor: i64,
            ) -> Result<bool, $crate::DbError> {
                use $crate::schema::invite_links;
                let mut conn = self.conn().await?;
                conn.transaction(async |conn| {
                    let revoked = diesel::update(
                        invite_links::table
                            .find(link_id)
                            .filter(invite_links::room_id.eq(room_id))
                            .filter(invite_links::revoked_at.is_null()),
                    )
                    .set(invite_links::revoked_at.eq(chrono::Utc::now().naive_utc()))
                    .execute(conn)
                    .await?;
                    if revoked > 0 {
                        let detail = format!("link {link_id}");
                        $crate::rooms::record_audit!(
                            conn,
                            room_id,
                            actor,
                            "invite_link_revoked",
                            None,
                            &detail
                        )?;
                    }
                    Ok::<_, $crate::DbError>(revoked > 0)
                })
                .await
            }

            async fn is_invited(&self, room_id: i64, member_id: i64) -> Result<bool, $crate::DbError> {
                use $crate::schema::room_invitations;
                let mut conn = self.conn().await?;
                let found: Option<i64> = room_invitations::table
                    .find((room_id, member_id))
                    .select(room_invitations::member_id)
                    .first(&mut *conn)
                    .await
                    .optional()?;
                Ok(found.is_some())
            }

            async fn invite_link_room(&self, code_hash: &str) -> Result<Option<i64>, $crate::DbError> {
                use $crate::schema::invite_links;
                let mut conn = self.conn().await?;
                Ok(invite_links::table
                    .filter(invite_links::code_hash.eq(code_hash))
                    .select(invite_links::room_id)
                    .first(&mut *conn)
                    .await
                    .optional()?)
            }
        }
    };
}

pub(crate) use impl_invites;

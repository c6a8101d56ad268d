//! Who is in a room and with which role: joining (capacity, bans, invitations), leaving, moderation
//! (kick, role, mute, ban) and read positions. Written once for both backends, like `queries.rs`.
//!
//! Capacity holds under concurrent joins because a join increments `rooms.member_count` with
//! `WHERE member_count < capacity` in the join's transaction: the row lock makes concurrent joins take
//! turns, and the one that finds the room full rolls back.

use async_trait::async_trait;
use chrono::NaiveDateTime;

use crate::models::{JoinBy, Joined, MemberSummary, Membership};
use crate::{DbError, Role};

#[async_trait]
pub trait Memberships: Send + Sync + 'static {
    /// Joins a community room, checking archive, bans, visibility (invitation or link) and capacity in
    /// one transaction. A pending invitation is used up by joining.
    async fn join_room(&self, room_id: i64, member_id: i64, by: JoinBy<'_>) -> Result<Joined, DbError>;
    async fn membership(&self, room_id: i64, member_id: i64) -> Result<Option<Membership>, DbError>;
    /// The member's role in the room, or `None` if they are not in it.
    async fn role_in_room(&self, room_id: i64, member_id: i64) -> Result<Option<Role>, DbError>;
    /// Members of the room with their membership, by role (highest first), then by join time.
    async fn room_members(&self, room_id: i64) -> Result<Vec<(MemberSummary, Membership)>, DbError>;
    /// Removes the member; `actor` and `action` (`left`, `kicked`) go to the audit log when the actor
    /// is someone else. `false` when they were not in the room.
    async fn remove_member(
        &self,
        room_id: i64,
        member_id: i64,
        actor: i64,
        action: &str,
    ) -> Result<bool, DbError>;
    /// Sets a member's role (not to or from owner; see `transfer_ownership`).
    async fn set_role(&self, room_id: i64, member_id: i64, role: Role, actor: i64) -> Result<(), DbError>;
    /// Mutes the member until `until`, or unmutes them with `None`.
    async fn set_muted(
        &self,
        room_id: i64,
        member_id: i64,
        until: Option<NaiveDateTime>,
        actor: i64,
    ) -> Result<(), DbError>;
    /// Removes the member (if in the room) and bans them until `until` (`None`: forever).
    async fn ban(
        &self,
        room_id: i64,
        member_id: i64,
        until: Option<NaiveDateTime>,
        actor: i64,
    ) -> Result<(), DbError>;
    /// Lifts a ban; `false` when there was none.
    async fn unban(&self, room_id: i64, member_id: i64, actor: i64) -> Result<bool, DbError>;
    /// The end of the member's ban (`Some(None)`: forever), if a ban is in force.
    async fn active_ban(
        &self,
        room_id: i64,
        member_id: i64,
    ) -> Result<Option<Option<NaiveDateTime>>, DbError>;
    /// Makes `to` (a member) the owner and the current owner `from` an admin.
    async fn transfer_ownership(&self, room_id: i64, from: i64, to: i64) -> Result<(), DbError>;
    /// Moves the member's read position forward to `position` (never back); the position after,
    /// or `None` when they are not in the room.
    async fn mark_read(&self, room_id: i64, member_id: i64, position: i64) -> Result<Option<i64>, DbError>;
}

macro_rules! impl_memberships {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::membership::Memberships for $store {
            async fn join_room(
                &self,
                room_id: i64,
                member_id: i64,
                by: $crate::models::JoinBy<'_>,
            ) -> Result<$crate::models::Joined, $crate::DbError> {
                use $crate::error::Refusal;
                use $crate::models::{JoinBy, Joined};
                use $crate::schema::{invite_links, room_bans, room_invitations, room_members, rooms};
                let mut conn = self.conn().await?;
                let now = chrono::Utc::now().naive_utc();
                conn.transaction(async |conn| {
                    let room: $crate::Room =
                        rooms::table.find(room_id).select($crate::Room::as_select()).first(conn).await?;
                    if room.kind() == $crate::RoomKind::Direct {
                        return Err($crate::DbError::Refused(Refusal::DirectRoom));
                    }
                    if room.is_archived() {
                        return Err($crate::DbError::Refused(Refusal::Archived));
                    }
                    let ban: Option<Option<chrono::NaiveDateTime>> = room_bans::table
                        .find((room_id, member_id))
                        .select(room_bans::until)
                        .first(conn)
                        .await
                        .optional()?;
                    if let Some(until) = ban
                        && until.is_none_or(|until| until > now)
                    {
                        return Err($crate::DbError::Refused(Refusal::Banned { until }));
                    }
                    let existing: Option<String> = room_members::table
                        .find((room_id, member_id))
                        .select(room_members::role)
                        .first(conn)
                        .await
                        .optional()?;
                    if existing.is_some() {
                        return Ok(Joined::AlreadyMember);
                    }
                    match by {
                        JoinBy::Link { code_hash } => {
                            let used = diesel::update(
                                invite_links::table
                                    .filter(invite_links::code_hash.eq(code_hash))
                                    .filter(invite_links::room_id.eq(room_id))
                                    .filter(invite_links::revoked_at.is_null())
                                    .filter(invite_links::expires_at.gt(now))
                                    .filter(
                                        invite_links::max_uses
                                            .is_null()
                                            .or(invite_links::max_uses.gt(invite_links::uses.nullable())),
                                    ),
                            )
                            .set(invite_links::uses.eq(invite_links::uses + 1))
                            .execute(conn)
                            .await?;
                            if used == 0 {
                                return Err($crate::DbError::Refused(Refusal::InviteInvalid));
                            }
                        }
                        JoinBy::Asking => {
                            let invited = diesel::delete(room_invitations::table.find((room_id, member_id)))
                                .execute(conn)
                                .await?;
                            if invited == 0 && room.visibility() != $crate::Visibility::Public {
                                return Err($crate::DbError::Refused(Refusal::InvitationRequired));
                            }
                        }
                    }
                    let counted = diesel::update(
                        rooms::table.find(room_id).filter(rooms::member_count.lt(rooms::capacity)),
                    )
                    .set(rooms::member_count.eq(rooms::member_count + 1))
                    .execute(conn)
                    .await?;
                    if counted == 0 {
                        return Err($crate::DbError::Refused(Refusal::RoomFull));
                    }
                    diesel::insert_into(room_members::table)
                        .values(&$crate::models::RoomMemberRow {
                            room_id,
                            member_id,
                            role: $crate::Role::Member.as_str(),
                            joined_at: now,
                        })
                        .execute(conn)
                        .await?;
                    Ok(Joined::Joined)
                })
                .await
            }

            async fn membership(
                &self,
                room_id: i64,
                member_id: i64,
            ) -> Result<Option<$crate::Membership>, $crate::DbError> {
                use $crate::schema::room_members;
                let mut conn = self.conn().await?;
                Ok(room_members::table
                    .find((room_id, member_id))
                    .select($crate::Membership::as_select())
                    .first(&mut *conn)
                    .await
                    .optional()?)
            }

            async fn role_in_room(
                &self,
                room_id: i64,
                member_id: i64,
            ) -> Result<Option<$crate::Role>, $crate::DbError> {
                Ok($crate::membership::Memberships::membership(self, room_id, member_id)
                    .await?
                    .map(|m| m.role()))
            }

            async fn room_members(
                &self,
                room_id: i64,
            ) -> Result<Vec<($crate::models::MemberSummary, $crate::Membership)>, $crate::DbError> {
                use $crate::schema::{members, room_members};
                let mut conn = self.conn().await?;
                let mut rows: Vec<($crate::models::MemberSummary, $crate::Membership)> = members::table
                    .inner_join(room_members::table)
                    .filter(room_members::room_id.eq(room_id))
                    .order(room_members::joined_at.asc())
                    .select(($crate::models::MemberSummary::as_select(), $crate::Membership::as_select()))
                    .load(&mut *conn)
                    .await?;
                rows.sort_by_key(|(_, m)| std::cmp::Reverse(m.role()));
                Ok(rows)
            }

            async fn remove_member(
                &self,
                room_id: i64,
                member_id: i64,
                actor: i64,
                action: &str,
            ) -> Result<bool, $crate::DbError> {
                use $crate::schema::{room_members, rooms};
                let mut conn = self.conn().await?;
                conn.transaction(async |conn| {
                    let removed =
                        diesel::delete(room_members::table.find((room_id, member_id))).execute(conn).await?;
                    if removed == 0 {
                        return Ok(false);
                    }
                    diesel::update(rooms::table.find(room_id))
                        .set(rooms::member_count.eq(rooms::member_count - 1))
                        .execute(conn)
                        .await?;
                    if actor != member_id {
                        $crate::rooms::record_audit!(conn, room_id, actor, action, Some(member_id), "")?;
                    }
                    Ok::<_, $crate::DbError>(true)
                })
                .await
            }

            async fn set_role(
                &self,
                room_id: i64,
                member_id: i64,
                role: $crate::Role,
                actor: i64,
            ) -> Result<(), $crate::DbError> {
                use $crate::schema::room_members;
                let mut conn = self.conn().await?;
                conn.transaction(async |conn| {
                    let changed = diesel::update(room_members::table.find((room_id, member_id)))
                        .set(room_members::role.eq(role.as_str()))
                        .execute(conn)
                        .await?;
                    if changed == 0 {
                        return Err($crate::DbError::Refused($crate::error::Refusal::NotAMember));
                    }
                    $crate::rooms::record_audit!(
                        conn,
                        room_id,
                        actor,
                        "role_changed",
                        Some(member_id),
                        role.as_str()
                    )?;
                    Ok(())
                })
                .await
            }

            async fn set_muted(
                &self,
                room_id: i64,
                member_id: i64,
                until: Option<chrono::NaiveDateTime>,
                actor: i64,
            ) -> Result<(), $crate::DbError> {
                use $crate::schema::room_members;
                let mut conn = self.conn().await?;
                conn.transaction(async |conn| {
                    let changed = diesel::update(room_members::table.find((room_id, member_id)))
                        .set(room_members::muted_until.eq(until))
                        .execute(conn)
                        .await?;
                    if changed == 0 {
                        return Err($crate::DbError::Refused($crate::error::Refusal::NotAMember));
                    }
                    let (action, detail) = match until {
                        Some(until) => ("muted", format!("until {until} UTC")),
                        None => ("unmuted", String::new()),
                    };
                    $crate::rooms::record_audit!(conn, room_id, actor, action, Some(member_id), &detail)?;
                    Ok(())
                })
                .await
            }

            async fn ban(
                &self,
                room_id: i64,
                member_id: i64,
                until: Option<chrono::NaiveDateTime>,
                actor: i64,
            ) -> Result<(), $crate::DbError> {
                use $crate::schema::{room_bans, room_invitations, room_members, rooms};
                let mut conn = self.conn().await?;
                let now = chrono::Utc::now().naive_utc();
                conn.transaction(async |conn| {
                    let removed =
                        diesel::delete(room_members::table.find((room_id, member_id))).execute(conn).await?;
                    if removed > 0 {
                        diesel::update(rooms::table.find(room_id))
                            .set(rooms::member_count.eq(rooms::member_count - 1))
                            .execute(conn)
                            .await?;
                    }
                    diesel::delete(room_invitations::table.find((room_id, member_id))).execute(conn).await?;
                    diesel::delete(room_bans::table.find((room_id, member_id))).execute(conn).await?;
                    diesel::insert_into(room_bans::table)
                        .values((
                            room_bans::room_id.eq(room_id),
                            room_bans::member_id.eq(member_id),
                            room_bans::until.eq(until),
                            room_bans::banned_by.eq(actor),
                            room_bans::banned_at.eq(now),
                        ))
                        .execute(conn)
                        .await?;
                    let detail = until.map_or_else(|| "forever".to_owned(), |u| format!("until {u} UTC"));
                    $crate::rooms::record_audit!(conn, room_id, actor, "banned", Some(member_id), &detail)?;
                    Ok::<_, $crate::DbError>(())
                })
                .await
            }

            async fn unban(&self, room_id: i64, member_id: i64, actor: i64) -> Result<bool, $crate::DbError> {
                use $crate::schema::room_bans;
                let mut conn = self.conn().await?;
                conn.transaction(async |conn| {
                    let lifted =
                        diesel::delete(room_bans::table.find((room_id, member_id))).execute(conn).await?;
                    if lifted > 0 {
                        $crate::rooms::record_audit!(conn, room_id, actor, "unbanned", Some(member_id), "")?;
                    }
                    Ok::<_, $crate::DbError>(lifted > 0)
                })
                .await
            }

            async fn active_ban(
                &self,
                room_id: i64,
                member_id: i64,
            ) -> Result<Option<Option<chrono::NaiveDateTime>>, $crate::DbError> {
                use $crate::schema::room_bans;
                let mut conn = self.conn().await?;
                let ban: Option<Option<chrono::NaiveDateTime>> = room_bans::table
                    .find((room_id, member_id))
                    .select(room_bans::until)
                    .first(&mut *conn)
                    .await
                    .optional()?;
                let now = chrono::Utc::now().naive_utc();
                Ok(ban.filter(|until| until.is_none_or(|u| u > now)))
            }

            async fn transfer_ownership(
                &self,
                room_id: i64,
                from: i64,
                to: i64,
            ) -> Result<(), $crate::DbError> {
                use $crate::schema::room_members;
                let mut conn = self.conn().await?;
                conn.transaction(async |conn| {
                    let promoted = diesel::update(room_members::table.find((room_id, to)))
                        .set(room_members::role.eq($crate::Role::Owner.as_str()))
                        .execute(conn)
                        .await?;
                    if promoted == 0 {
                        return Err($crate::DbError::Refused($crate::error::Refusal::NotAMember));
                    }
                    diesel::update(room_members::table.find((room_id, from)))
                        .set(room_members::role.eq($crate::Role::Admin.as_str()))
                        .execute(conn)
                        .await?;
                    $crate::rooms::record_audit!(conn, room_id, from, "transferred", Some(to), "")?;
                    Ok(())
                })
                .await
            }

            async fn mark_read(
                &self,
                room_id: i64,
                member_id: i64,
                position: i64,
            ) -> Result<Option<i64>, $crate::DbError> {
                use $crate::schema::room_members;
                let mut conn = self.conn().await?;
                // One conditional UPDATE: concurrent marks can only move the position forward.
                diesel::update(room_members::table.find((room_id, member_id)).filter(
                    room_members::read_position.is_null().or(room_members::read_position.lt(position)),
                ))
                .set(room_members::read_position.eq(position))
                .execute(&mut *conn)
                .await?;
                let now: Option<Option<i64>> = room_members::table
                    .find((room_id, member_id))
                    .select(room_members::read_position)
                    .first(&mut *conn)
                    .await
                    .optional()?;
                Ok(now.flatten())
            }
        }
    };
}

pub(crate) use impl_memberships;

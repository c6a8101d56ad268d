//! Who is in a room and with which role: joining (capacity, bans, invitations), leaving, moderation
//! (kick, role, mute, ban) and read positions.
//!
//! Capacity holds under concurrent joins because a join locks the room's row ([`crate::rooms::lock`])
//! and increments `rooms.member_count` with `WHERE member_count < capacity` in its transaction:
//! concurrent joins take turns, and the one that finds the room full rolls back.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::connection::{Conn, on_backend};
use crate::error::Refusal;
use crate::models::{JoinBy, Joined, MemberSummary, Membership, Role, RoomKind, RoomMemberRow, Visibility};
use crate::schema::{invite_links, room_bans, room_invitations, room_members, rooms};
use crate::{DbError, audit};

/// Joins a community room, checking archive, bans, visibility (invitation or link) and capacity in
/// one transaction. A pending invitation is used up by joining.
pub async fn join(
    conn: &mut Conn<'_>,
    room_id: i64,
    member_id: i64,
    by: JoinBy<'_>,
) -> Result<Joined, DbError> {
    let now = chrono::Utc::now().naive_utc();
    conn.transaction(async |mut tx| {
        let room = crate::rooms::lock(&mut tx, room_id).await?.ok_or(DbError::NotFound)?;
        if room.kind() == RoomKind::Direct {
            return Err(DbError::Refused(Refusal::DirectRoom));
        }
        if room.is_archived() {
            return Err(DbError::Refused(Refusal::Archived));
        }
        if let Some(until) = active_ban(&mut tx, room_id, member_id).await? {
            return Err(DbError::Refused(Refusal::Banned { until }));
        }
        if get(&mut tx, room_id, member_id).await?.is_some() {
            return Ok(Joined::AlreadyMember);
        }
        match by {
            JoinBy::Link { code_hash } => {
                let used = on_backend!(&mut tx, c => {
                    diesel::update(
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
                    .execute(c)
                    .await
                })?;
                if used == 0 {
                    return Err(DbError::Refused(Refusal::InviteInvalid));
                }
            }
            JoinBy::Asking => {
                let invited = on_backend!(&mut tx, c => {
                    diesel::delete(room_invitations::table.find((room_id, member_id))).execute(c).await
                })?;
                if invited == 0 && room.visibility() != Visibility::Public {
                    return Err(DbError::Refused(Refusal::InvitationRequired));
                }
            }
        }
        let counted = on_backend!(&mut tx, c => {
            diesel::update(rooms::table.find(room_id).filter(rooms::member_count.lt(rooms::capacity)))
                .set(rooms::member_count.eq(rooms::member_count + 1))
                .execute(c)
                .await
        })?;
        if counted == 0 {
            return Err(DbError::Refused(Refusal::RoomFull));
        }
        let row = RoomMemberRow { room_id, member_id, role: Role::Member.as_str(), joined_at: now };
        on_backend!(&mut tx, c => diesel::insert_into(room_members::table).values(&row).execute(c).await)?;
        Ok(Joined::Joined)
    })
    .await
}

/// The member's place in the room, if they are in it.
pub async fn get(conn: &mut Conn<'_>, room_id: i64, member_id: i64) -> Result<Option<Membership>, DbError> {
    Ok(on_backend!(conn, c => {
        room_members::table
            .find((room_id, member_id))
            .select(Membership::as_select())
            .first(c)
            .await
            .optional()
    })?)
}

/// The member's role in the room, or `None` if they are not in it.
pub async fn role(conn: &mut Conn<'_>, room_id: i64, member_id: i64) -> Result<Option<Role>, DbError> {
    Ok(get(conn, room_id, member_id).await?.map(|m| m.role()))
}

/// Members of the room with their membership, by role (highest first), then by join time.
pub async fn members_of(
    conn: &mut Conn<'_>,
    room_id: i64,
) -> Result<Vec<(MemberSummary, Membership)>, DbError> {
    use crate::schema::members;
    let mut rows: Vec<(MemberSummary, Membership)> = on_backend!(conn, c => {
        members::table
            .inner_join(room_members::table)
            .filter(room_members::room_id.eq(room_id))
            .order(room_members::joined_at.asc())
            .select((MemberSummary::as_select(), Membership::as_select()))
            .load(c)
            .await
    })?;
    rows.sort_by_key(|(_, m)| std::cmp::Reverse(m.role()));
    Ok(rows)
}

/// Takes the member out of the room and the room's count; whether they were in it.
async fn take_out(conn: &mut Conn<'_>, room_id: i64, member_id: i64) -> Result<bool, DbError> {
    let removed = on_backend!(conn, c => {
        diesel::delete(room_members::table.find((room_id, member_id))).execute(c).await
    })?;
    if removed > 0 {
        on_backend!(conn, c => {
            diesel::update(rooms::table.find(room_id))
                .set(rooms::member_count.eq(rooms::member_count - 1))
                .execute(c)
                .await
        })?;
    }
    Ok(removed > 0)
}

/// Removes the member; `actor` and `action` (`left`, `kicked`) go to the audit log when the actor is
/// someone else. `false` when they were not in the room.
pub async fn remove(
    conn: &mut Conn<'_>,
    room_id: i64,
    member_id: i64,
    actor: i64,
    action: &str,
) -> Result<bool, DbError> {
    conn.transaction(async |mut tx| {
        if !take_out(&mut tx, room_id, member_id).await? {
            return Ok(false);
        }
        if actor != member_id {
            audit::record(&mut tx, room_id, actor, action, Some(member_id), "").await?;
        }
        Ok(true)
    })
    .await
}

/// Sets a member's role (not to or from owner; see [`transfer_ownership`]).
pub async fn set_role(
    conn: &mut Conn<'_>,
    room_id: i64,
    member_id: i64,
    role: Role,
    actor: i64,
) -> Result<(), DbError> {
    conn.transaction(async |mut tx| {
        let changed = on_backend!(&mut tx, c => {
            diesel::update(room_members::table.find((room_id, member_id)))
                .set(room_members::role.eq(role.as_str()))
                .execute(c)
                .await
        })?;
        if changed == 0 {
            return Err(DbError::Refused(Refusal::NotAMember));
        }
        audit::record(&mut tx, room_id, actor, "role_changed", Some(member_id), role.as_str()).await
    })
    .await
}

/// Mutes the member until `until`, or unmutes them with `None`.
pub async fn set_muted(
    conn: &mut Conn<'_>,
    room_id: i64,
    member_id: i64,
    until: Option<NaiveDateTime>,
    actor: i64,
) -> Result<(), DbError> {
    conn.transaction(async |mut tx| {
        let changed = on_backend!(&mut tx, c => {
            diesel::update(room_members::table.find((room_id, member_id)))
                .set(room_members::muted_until.eq(until))
                .execute(c)
                .await
        })?;
        if changed == 0 {
            return Err(DbError::Refused(Refusal::NotAMember));
        }
        let (action, detail) = match until {
            Some(until) => ("muted", format!("until {until} UTC")),
            None => ("unmuted", String::new()),
        };
        audit::record(&mut tx, room_id, actor, action, Some(member_id), &detail).await
    })
    .await
}

/// Removes the member (if in the room) and bans them until `until` (`None`: forever).
pub async fn ban(
    conn: &mut Conn<'_>,
    room_id: i64,
    member_id: i64,
    until: Option<NaiveDateTime>,
    actor: i64,
) -> Result<(), DbError> {
    let now = chrono::Utc::now().naive_utc();
    conn.transaction(async |mut tx| {
        take_out(&mut tx, room_id, member_id).await?;
        on_backend!(&mut tx, c => {
            diesel::delete(room_invitations::table.find((room_id, member_id))).execute(c).await?;
            diesel::delete(room_bans::table.find((room_id, member_id))).execute(c).await?;
            diesel::insert_into(room_bans::table)
                .values((
                    room_bans::room_id.eq(room_id),
                    room_bans::member_id.eq(member_id),
                    room_bans::until.eq(until),
                    room_bans::banned_by.eq(actor),
                    room_bans::banned_at.eq(now),
                ))
                .execute(c)
                .await
        })?;
        let detail = until.map_or_else(|| "forever".to_owned(), |u| format!("until {u} UTC"));
        audit::record(&mut tx, room_id, actor, "banned", Some(member_id), &detail).await
    })
    .await
}

/// Lifts a ban; `false` when there was none.
pub async fn unban(conn: &mut Conn<'_>, room_id: i64, member_id: i64, actor: i64) -> Result<bool, DbError> {
    conn.transaction(async |mut tx| {
        let lifted = on_backend!(&mut tx, c => {
            diesel::delete(room_bans::table.find((room_id, member_id))).execute(c).await
        })?;
        if lifted > 0 {
            audit::record(&mut tx, room_id, actor, "unbanned", Some(member_id), "").await?;
        }
        Ok(lifted > 0)
    })
    .await
}

/// The end of the member's ban (`Some(None)`: forever), if a ban is in force.
pub async fn active_ban(
    conn: &mut Conn<'_>,
    room_id: i64,
    member_id: i64,
) -> Result<Option<Option<NaiveDateTime>>, DbError> {
    let ban: Option<Option<NaiveDateTime>> = on_backend!(conn, c => {
        room_bans::table.find((room_id, member_id)).select(room_bans::until).first(c).await.optional()
    })?;
    let now = chrono::Utc::now().naive_utc();
    Ok(ban.filter(|until| until.is_none_or(|u| u > now)))
}

/// Makes `to` (a member) the owner and the current owner `from` an admin.
pub async fn transfer_ownership(
    conn: &mut Conn<'_>,
    room_id: i64,
    from: i64,
    to: i64,
) -> Result<(), DbError> {
    conn.transaction(async |mut tx| {
        let promoted = on_backend!(&mut tx, c => {
            diesel::update(room_members::table.find((room_id, to)))
                .set(room_members::role.eq(Role::Owner.as_str()))
                .execute(c)
                .await
        })?;
        if promoted == 0 {
            return Err(DbError::Refused(Refusal::NotAMember));
        }
        on_backend!(&mut tx, c => {
            diesel::update(room_members::table.find((room_id, from)))
                .set(room_members::role.eq(Role::Admin.as_str()))
                .execute(c)
                .await
        })?;
        audit::record(&mut tx, room_id, from, "transferred", Some(to), "").await
    })
    .await
}

/// Moves the member's read position forward to `position` (never back); the position after, or
/// `None` when they are not in the room.
pub async fn mark_read(
    conn: &mut Conn<'_>,
    room_id: i64,
    member_id: i64,
    position: i64,
) -> Result<Option<i64>, DbError> {
    let now: Option<Option<i64>> = on_backend!(conn, c => {
        // One conditional UPDATE: concurrent marks can only move the position forward.
        diesel::update(
            room_members::table
                .find((room_id, member_id))
                .filter(room_members::read_position.is_null().or(room_members::read_position.lt(position))),
        )
        .set(room_members::read_position.eq(position))
        .execute(c)
        .await?;
        room_members::table
            .find((room_id, member_id))
            .select(room_members::read_position)
            .first(c)
            .await
            .optional()
    })?;
    Ok(now.flatten())
}

//! Direct (1:1) rooms and blocks between members.
//!
//! A pair of members has one direct room: its `direct_key` ("low id:high id") is unique, so of two
//! members starting a chat with each other at the same moment, one insert wins and the other finds
//! its room.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::DbError;
use crate::connection::{Conn, on_backend};
use crate::models::{Role, Room, RoomKind, RoomMemberRow, RoomRow, Visibility, direct_key};
use crate::schema::{member_blocks, room_members, rooms};

/// The direct room of `a` and `b`, created (with both as members) if they have none.
pub async fn find_or_create_room(conn: &mut Conn<'_>, a: i64, b: i64) -> Result<Room, DbError> {
    let key = direct_key(a, b);
    if let Some(room) = by_key(conn, &key).await? {
        return Ok(room);
    }
    let now = chrono::Utc::now().naive_utc();
    let row = RoomRow {
        name: "",
        name_key: String::new(),
        kind: RoomKind::Direct.as_str(),
        topic: "",
        visibility: Visibility::Private.as_str(),
        capacity: 2,
        member_count: 2,
        created_by: a,
        created_at: now,
        direct_key: Some(key.clone()),
    };
    let created = conn
        .transaction(async |mut tx| {
            let room: Room = on_backend!(&mut tx, c => {
                diesel::insert_into(rooms::table)
                    .values(&row)
                    .returning(Room::as_returning())
                    .get_result(c)
                    .await
            })?;
            for member_id in [a.min(b), a.max(b)] {
                let member = RoomMemberRow {
                    room_id: room.id,
                    member_id,
                    role: Role::Member.as_str(),
                    joined_at: now,
                };
                on_backend!(&mut tx, c => diesel::insert_into(room_members::table)
                    .values(&member)
                    .execute(c)
                    .await)?;
            }
            Ok(room)
        })
        .await;
    match created {
        // The other member created it at the same moment: theirs is the room.
        Err(DbError::Conflict) => by_key(conn, &key).await?.ok_or(DbError::NotFound),
        created => created,
    }
}

/// The direct room of `a` and `b`, if they have one.
pub async fn find_room(conn: &mut Conn<'_>, a: i64, b: i64) -> Result<Option<Room>, DbError> {
    by_key(conn, &direct_key(a, b)).await
}

async fn by_key(conn: &mut Conn<'_>, key: &str) -> Result<Option<Room>, DbError> {
    Ok(on_backend!(conn, c => {
        rooms::table.filter(rooms::direct_key.eq(key)).select(Room::as_select()).first(c).await.optional()
    })?)
}

/// `blocker` blocks `blocked`; a no-op when already blocked.
pub async fn block(conn: &mut Conn<'_>, blocker: i64, blocked: i64) -> Result<(), DbError> {
    let now = chrono::Utc::now().naive_utc();
    on_backend!(conn, c => {
        diesel::insert_into(member_blocks::table)
            .values((
                member_blocks::blocker_id.eq(blocker),
                member_blocks::blocked_id.eq(blocked),
                member_blocks::created_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Lifts a block; `false` when there was none.
pub async fn unblock(conn: &mut Conn<'_>, blocker: i64, blocked: i64) -> Result<bool, DbError> {
    let lifted = on_backend!(conn, c => diesel::delete(member_blocks::table.find((blocker, blocked)))
        .execute(c)
        .await)?;
    Ok(lifted > 0)
}

/// Whether `blocker` blocks `blocked`.
pub async fn has_blocked(conn: &mut Conn<'_>, blocker: i64, blocked: i64) -> Result<bool, DbError> {
    let found: Option<i64> = on_backend!(conn, c => {
        member_blocks::table
            .find((blocker, blocked))
            .select(member_blocks::blocker_id)
            .first(c)
            .await
            .optional()
    })?;
    Ok(found.is_some())
}

//! Community rooms: create, read, edit, archive, delete, search. Every change a moderator makes is
//! recorded in the room's audit log in the same transaction.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::connection::{Conn, Raw, on_backend};
use crate::models::{
    Membership, NewRoom, Role, Room, RoomChanges, RoomKind, RoomMemberRow, RoomRow, Visibility,
};
use crate::schema::{room_members, rooms};
use crate::{DbError, audit};

/// Creates a community room with `owner` as its first member, atomically.
pub async fn create(conn: &mut Conn<'_>, new: NewRoom<'_>, owner: i64) -> Result<Room, DbError> {
    let now = chrono::Utc::now().naive_utc();
    let row = RoomRow {
        name: new.name,
        name_key: crate::models::username_key(new.name),
        kind: RoomKind::Community.as_str(),
        topic: new.topic,
        visibility: new.visibility.as_str(),
        capacity: new.capacity,
        member_count: 1,
        created_by: owner,
        created_at: now,
        direct_key: None,
    };
    conn.transaction(async |mut tx| {
        let room: Room = on_backend!(&mut tx, c => {
            diesel::insert_into(rooms::table).values(&row).returning(Room::as_returning()).get_result(c).await
        })?;
        let first =
            RoomMemberRow { room_id: room.id, member_id: owner, role: Role::Owner.as_str(), joined_at: now };
        on_backend!(&mut tx, c => diesel::insert_into(room_members::table).values(&first).execute(c).await)?;
        audit::record(&mut tx, room.id, owner, "created", None, new.name).await?;
        Ok(room)
    })
    .await
}

/// The room with this id.
pub async fn by_id(conn: &mut Conn<'_>, id: i64) -> Result<Option<Room>, DbError> {
    Ok(on_backend!(conn, c => rooms::table.find(id).select(Room::as_select()).first(c).await.optional())?)
}

/// The room, locked until the end of the surrounding transaction: use cases that check and then
/// change a room or its members start with this, so that on PostgreSQL they take turns as they do
/// on SQLite's one connection, and always take the room's lock before any member's.
pub async fn lock(conn: &mut Conn<'_>, id: i64) -> Result<Option<Room>, DbError> {
    // Not `on_backend!`: SQLite has no `FOR UPDATE` (nor needs it).
    Ok(match conn.raw() {
        Raw::Pg(c) => rooms::table.find(id).select(Room::as_select()).for_update().first(c).await.optional(),
        Raw::Sqlite(c) => rooms::table.find(id).select(Room::as_select()).first(c).await.optional(),
    }?)
}

/// Applies `changes` (validated by the caller) and records who did it.
pub async fn update(
    conn: &mut Conn<'_>,
    id: i64,
    changes: RoomChanges<'_>,
    actor: i64,
) -> Result<Room, DbError> {
    conn.transaction(async |mut tx| {
        let mut room: Room =
            on_backend!(&mut tx, c => rooms::table.find(id).select(Room::as_select()).first(c).await)?;
        let mut what = Vec::new();
        if let Some(name) = changes.name {
            room.name = name.to_owned();
            what.push(format!("name={name}"));
        }
        if let Some(topic) = changes.topic {
            room.topic = topic.to_owned();
            what.push("topic".to_owned());
        }
        if let Some(visibility) = changes.visibility {
            room.visibility = visibility.as_str().to_owned();
            what.push(format!("visibility={}", visibility.as_str()));
        }
        if let Some(capacity) = changes.capacity {
            room.capacity = capacity;
            what.push(format!("capacity={capacity}"));
        }
        let name_key = crate::models::username_key(&room.name);
        on_backend!(&mut tx, c => {
            diesel::update(rooms::table.find(id))
                .set((
                    rooms::name.eq(&room.name),
                    rooms::name_key.eq(&name_key),
                    rooms::topic.eq(&room.topic),
                    rooms::visibility.eq(&room.visibility),
                    rooms::capacity.eq(room.capacity),
                ))
                .execute(c)
                .await
        })?;
        audit::record(&mut tx, id, actor, "edited", None, &what.join(", ")).await?;
        Ok(room)
    })
    .await
}

/// Archives (read-only for everyone) or un-archives the room.
pub async fn set_archived(conn: &mut Conn<'_>, id: i64, archived: bool, actor: i64) -> Result<(), DbError> {
    let at = archived.then(|| chrono::Utc::now().naive_utc());
    conn.transaction(async |mut tx| {
        on_backend!(&mut tx, c => {
            diesel::update(rooms::table.find(id)).set(rooms::archived_at.eq(at)).execute(c).await
        })?;
        let action = if archived { "archived" } else { "unarchived" };
        audit::record(&mut tx, id, actor, action, None, "").await
    })
    .await
}

/// Deletes the room with its memberships, bans, invitations and audit log; `false` if unknown.
pub async fn delete(conn: &mut Conn<'_>, id: i64) -> Result<bool, DbError> {
    Ok(on_backend!(conn, c => diesel::delete(rooms::table.find(id)).execute(c).await)? > 0)
}

/// Listed community rooms (public and invite-only) whose name contains `query` (any case), newest
/// first.
pub async fn search(conn: &mut Conn<'_>, query: &str, limit: i64, offset: i64) -> Result<Vec<Room>, DbError> {
    let pattern = contains_pattern(query);
    Ok(on_backend!(conn, c => {
        rooms::table
            .filter(rooms::kind.eq(RoomKind::Community.as_str()))
            .filter(rooms::visibility.ne(Visibility::Private.as_str()))
            .filter(rooms::name_key.like(&pattern).escape('\\'))
            .order(rooms::id.desc())
            .limit(limit)
            .offset(offset)
            .select(Room::as_select())
            .load(c)
            .await
    })?)
}

/// Ids of every room (community and direct) above `after`, in order, at most `limit`: for jobs that
/// walk all rooms a page at a time (the search backfill).
pub async fn ids_after(conn: &mut Conn<'_>, after: i64, limit: i64) -> Result<Vec<i64>, DbError> {
    Ok(on_backend!(conn, c => {
        rooms::table.filter(rooms::id.gt(after)).order(rooms::id).limit(limit).select(rooms::id).load(c).await
    })?)
}

/// The member's rooms with their membership, newest first.
pub async fn of_member(conn: &mut Conn<'_>, member_id: i64) -> Result<Vec<(Room, Membership)>, DbError> {
    Ok(on_backend!(conn, c => {
        rooms::table
            .inner_join(room_members::table)
            .filter(room_members::member_id.eq(member_id))
            .order(rooms::id.desc())
            .select((Room::as_select(), Membership::as_select()))
            .load(c)
            .await
    })?)
}

/// A `LIKE` pattern matching names that contain `query`, with `%`, `_` and `\` taken literally.
fn contains_pattern(query: &str) -> String {
    let mut pattern = String::with_capacity(query.len() + 2);
    pattern.push('%');
    for c in crate::models::username_key(query).chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

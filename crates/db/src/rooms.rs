//! Community rooms: create, read, edit, archive, delete, search. Written once for both backends, like
//! `queries.rs`. Every change a moderator makes is recorded in the room's audit log in the same
//! transaction.

use async_trait::async_trait;

use crate::models::{Membership, NewRoom, RoomChanges};
use crate::{DbError, Room};

#[async_trait]
pub trait Rooms: Send + Sync + 'static {
    /// Creates a community room with `owner` as its first member, atomically.
    async fn create_room(&self, new: NewRoom<'_>, owner: i64) -> Result<Room, DbError>;
    async fn room(&self, id: i64) -> Result<Option<Room>, DbError>;
    /// Applies `changes` (validated by the caller) and records who did it.
    async fn update_room(&self, id: i64, changes: RoomChanges<'_>, actor: i64) -> Result<Room, DbError>;
    /// Archives (read-only for everyone) or un-archives the room.
    async fn set_archived(&self, id: i64, archived: bool, actor: i64) -> Result<(), DbError>;
    /// Deletes the room with its memberships, bans, invitations and audit log; `false` if unknown.
    async fn delete_room(&self, id: i64) -> Result<bool, DbError>;
    /// Listed community rooms (public and invite-only) whose name contains `query` (any case),
    /// newest first.
    async fn search_rooms(&self, query: &str, limit: i64, offset: i64) -> Result<Vec<Room>, DbError>;
    /// The member's rooms with their membership, newest first.
    async fn rooms_of_member(&self, member_id: i64) -> Result<Vec<(Room, Membership)>, DbError>;
}

/// A `LIKE` pattern matching names that contain `query`, with `%`, `_` and `\` taken literally.
pub(crate) fn contains_pattern(query: &str) -> String {
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

/// Inserts one audit record inside the surrounding transaction.
macro_rules! record_audit {
    ($conn:expr, $room:expr, $actor:expr, $action:expr, $target:expr, $detail:expr) => {
        diesel::insert_into($crate::schema::room_audit::table)
            .values(&$crate::models::AuditRow {
                room_id: $room,
                actor_id: $actor,
                action: $action,
                target_id: $target,
                detail: $detail,
                at: chrono::Utc::now().naive_utc(),
            })
            .execute($conn)
            .await
    };
}

pub(crate) use record_audit;

macro_rules! impl_rooms {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::rooms::Rooms for $store {
            async fn create_room(
                &self,
                new: $crate::models::NewRoom<'_>,
                owner: i64,
            ) -> Result<$crate::Room, $crate::DbError> {
                use $crate::schema::{room_members, rooms};
                let mut conn = self.conn().await?;
                let now = chrono::Utc::now().naive_utc();
                let row = $crate::models::RoomRow {
                    name: new.name,
                    name_key: $crate::models::username_key(new.name),
                    kind: $crate::RoomKind::Community.as_str(),
                    topic: new.topic,
                    visibility: new.visibility.as_str(),
                    capacity: new.capacity,
                    member_count: 1,
                    created_by: owner,
                    created_at: now,
                    direct_key: None,
                };
                let room = conn
                    .transaction(async |conn| {
                        let room: $crate::Room = diesel::insert_into(rooms::table)
                            .values(&row)
                            .returning($crate::Room::as_returning())
                            .get_result(conn)
                            .await?;
                        diesel::insert_into(room_members::table)
                            .values(&$crate::models::RoomMemberRow {
                                room_id: room.id,
                                member_id: owner,
                                role: $crate::Role::Owner.as_str(),
                                joined_at: now,
                            })
                            .execute(conn)
                            .await?;
                        $crate::rooms::record_audit!(conn, room.id, owner, "created", None, new.name)?;
                        Ok::<_, diesel::result::Error>(room)
                    })
                    .await?;
                Ok(room)
            }

            async fn room(&self, id: i64) -> Result<Option<$crate::Room>, $crate::DbError> {
                use $crate::schema::rooms;
                let mut conn = self.conn().await?;
                Ok(rooms::table
                    .find(id)
                    .select($crate::Room::as_select())
                    .first(&mut *conn)
                    .await
                    .optional()?)
            }

            async fn update_room(
                &self,
                id: i64,
                changes: $crate::models::RoomChanges<'_>,
                actor: i64,
            ) -> Result<$crate::Room, $crate::DbError> {
                use $crate::schema::rooms;
                let mut conn = self.conn().await?;
                let room = conn
                    .transaction(async |conn| {
                        let mut room: $crate::Room =
                            rooms::table.find(id).select($crate::Room::as_select()).first(conn).await?;
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
                        diesel::update(rooms::table.find(id))
                            .set((
                                rooms::name.eq(&room.name),
                                rooms::name_key.eq($crate::models::username_key(&room.name)),
                                rooms::topic.eq(&room.topic),
                                rooms::visibility.eq(&room.visibility),
                                rooms::capacity.eq(room.capacity),
                            ))
                            .execute(conn)
                            .await?;
                        $crate::rooms::record_audit!(conn, id, actor, "edited", None, &what.join(", "))?;
                        Ok::<_, diesel::result::Error>(room)
                    })
                    .await?;
                Ok(room)
            }

            async fn set_archived(&self, id: i64, archived: bool, actor: i64) -> Result<(), $crate::DbError> {
                use $crate::schema::rooms;
                let mut conn = self.conn().await?;
                let at = archived.then(|| chrono::Utc::now().naive_utc());
                conn.transaction(async |conn| {
                    diesel::update(rooms::table.find(id))
                        .set(rooms::archived_at.eq(at))
                        .execute(conn)
                        .await?;
                    let action = if archived { "archived" } else { "unarchived" };
                    $crate::rooms::record_audit!(conn, id, actor, action, None, "")?;
                    Ok::<_, diesel::result::Error>(())
                })
                .await?;
                Ok(())
            }

            async fn delete_room(&self, id: i64) -> Result<bool, $crate::DbError> {
                use $crate::schema::rooms;
                let mut conn = self.conn().await?;
                Ok(diesel::delete(rooms::table.find(id)).execute(&mut *conn).await? > 0)
            }

            async fn search_rooms(
                &self,
                query: &str,
                limit: i64,
                offset: i64,
            ) -> Result<Vec<$crate::Room>, $crate::DbError> {
                use $crate::schema::rooms;
                let mut conn = self.conn().await?;
                Ok(rooms::table
                    .filter(rooms::kind.eq($crate::RoomKind::Community.as_str()))
                    .filter(rooms::visibility.ne($crate::Visibility::Private.as_str()))
                    .filter(rooms::name_key.like($crate::rooms::contains_pattern(query)).escape('\\'))
                    .order(rooms::id.desc())
                    .limit(limit)
                    .offset(offset)
                    .select($crate::Room::as_select())
                    .load(&mut *conn)
                    .await?)
            }

            async fn rooms_of_member(
                &self,
                member_id: i64,
            ) -> Result<Vec<($crate::Room, $crate::Membership)>, $crate::DbError> {
                use $crate::schema::{room_members, rooms};
                let mut conn = self.conn().await?;
                Ok(rooms::table
                    .inner_join(room_members::table)
                    .filter(room_members::member_id.eq(member_id))
                    .order(rooms::id.desc())
                    .select(($crate::Room::as_select(), $crate::Membership::as_select()))
                    .load(&mut *conn)
                    .await?)
            }
        }
    };
}

pub(crate) use impl_rooms;

//! Direct (1:1) rooms and blocks between members. Written once for both backends, like `queries.rs`.
//!
//! A pair of members has one direct room: its `direct_key` ("low id:high id") is unique, so of two
//! members starting a chat with each other at the same moment, one insert wins and the other finds
//! its room.

use async_trait::async_trait;

use crate::{DbError, Room};

#[async_trait]
pub trait DirectChats: Send + Sync + 'static {
    /// The direct room of `a` and `b`, created (with both as members) if they have none.
    async fn direct_room(&self, a: i64, b: i64) -> Result<Room, DbError>;
    /// `blocker` blocks `blocked`; a no-op when already blocked.
    async fn block(&self, blocker: i64, blocked: i64) -> Result<(), DbError>;
    /// `false` when there was no block.
    async fn unblock(&self, blocker: i64, blocked: i64) -> Result<bool, DbError>;
    async fn has_blocked(&self, blocker: i64, blocked: i64) -> Result<bool, DbError>;
}

macro_rules! impl_direct_chats {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::direct::DirectChats for $store {
            async fn direct_room(&self, a: i64, b: i64) -> Result<$crate::Room, $crate::DbError> {
                use $crate::schema::{room_members, rooms};
                let key = $crate::models::direct_key(a, b);
                let mut conn = self.conn().await?;
                let existing = rooms::table
                    .filter(rooms::direct_key.eq(&key))
                    .select($crate::Room::as_select())
                    .first(&mut *conn)
                    .await
                    .optional()?;
                if let Some(room) = existing {
                    return Ok(room);
                }
                let now = chrono::Utc::now().naive_utc();
                let row = $crate::models::RoomRow {
                    name: "",
                    name_key: String::new(),
                    kind: $crate::RoomKind::Direct.as_str(),
                    topic: "",
                    visibility: $crate::Visibility::Private.as_str(),
                    capacity: 2,
                    member_count: 2,
                    created_by: a,
                    created_at: now,
                    direct_key: Some(key.clone()),
                };
                let created = conn
                    .transaction(async |conn| {
                        let room: $crate::Room = diesel::insert_into(rooms::table)
                            .values(&row)
                            .returning($crate::Room::as_returning())
                            .get_result(conn)
                            .await?;
                        for member_id in [a.min(b), a.max(b)] {
                            diesel::insert_into(room_members::table)
                                .values(&$crate::models::RoomMemberRow {
                                    room_id: room.id,
                                    member_id,
                                    role: $crate::Role::Member.as_str(),
                                    joined_at: now,
                                })
                                .execute(conn)
                                .await?;
                        }
                        Ok::<_, diesel::result::Error>(room)
                    })
                    .await;
                match created {
                    Ok(room) => Ok(room),
                    // The other member created it at the same moment: theirs is the room.
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    )) => Ok(rooms::table
                        .filter(rooms::direct_key.eq(&key))
                        .select($crate::Room::as_select())
                        .first(&mut *conn)
                        .await?),
                    Err(e) => Err(e.into()),
                }
            }

            async fn block(&self, blocker: i64, blocked: i64) -> Result<(), $crate::DbError> {
                use $crate::schema::member_blocks;
                let mut conn = self.conn().await?;
                diesel::insert_into(member_blocks::table)
                    .values((
                        member_blocks::blocker_id.eq(blocker),
                        member_blocks::blocked_id.eq(blocked),
                        member_blocks::created_at.eq(chrono::Utc::now().naive_utc()),
                    ))
                    .on_conflict_do_nothing()
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            async fn unblock(&self, blocker: i64, blocked: i64) -> Result<bool, $crate::DbError> {
                use $crate::schema::member_blocks;
                let mut conn = self.conn().await?;
                Ok(diesel::delete(member_blocks::table.find((blocker, blocked))).execute(&mut *conn).await?
                    > 0)
            }

            async fn has_blocked(&self, blocker: i64, blocked: i64) -> Result<bool, $crate::DbError> {
                use $crate::schema::member_blocks;
                let mut conn = self.conn().await?;
                let found: Option<i64> = member_blocks::table
                    .find((blocker, blocked))
                    .select(member_blocks::blocker_id)
                    .first(&mut *conn)
                    .await
                    .optional()?;
                Ok(found.is_some())
            }
        }
    };
}

pub(crate) use impl_direct_chats;

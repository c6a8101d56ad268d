//! Files uploaded to rooms: who uploaded what where, and which message shares it. The content itself
//! is in object storage (web's `files` module); this is what decides who may read it.

use async_trait::async_trait;
use chrono::NaiveDateTime;

use crate::DbError;
use crate::models::RoomFile;

/// What attaching a file to a message found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attached {
    /// The file now belongs to the message (or already did: a retry).
    Done(RoomFile),
    /// No such file uploaded by that member to that room.
    NotFound,
    /// Another message shares the file.
    Taken,
}

#[async_trait]
pub trait Files: Send + Sync + 'static {
    /// Records an uploaded file (not yet shared by a message).
    async fn create_file(&self, file: &RoomFile) -> Result<(), DbError>;
    async fn file(&self, id: &str) -> Result<Option<RoomFile>, DbError>;
    /// Attaches file `id` (uploaded by `uploader` to `room`) to `message_id`.
    async fn attach_file(
        &self,
        id: &str,
        room: i64,
        uploader: i64,
        message_id: &str,
    ) -> Result<Attached, DbError>;
    /// Forgets file `id`; whether it was there.
    async fn delete_file(&self, id: &str) -> Result<bool, DbError>;
    /// Files nobody will read again: never shared and uploaded before `unshared_before`, or in a room
    /// that no longer exists. At most `limit`, oldest first.
    async fn abandoned_files(
        &self,
        unshared_before: NaiveDateTime,
        limit: i64,
    ) -> Result<Vec<RoomFile>, DbError>;
}

macro_rules! impl_files {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::files::Files for $store {
            async fn create_file(&self, file: &$crate::models::RoomFile) -> Result<(), $crate::DbError> {
                use $crate::schema::room_files;
                let mut conn = self.conn().await?;
                diesel::insert_into(room_files::table).values(file).execute(&mut *conn).await?;
                Ok(())
            }

            async fn file(&self, id: &str) -> Result<Option<$crate::models::RoomFile>, $crate::DbError> {
                use $crate::schema::room_files;
                let mut conn = self.conn().await?;
                Ok(room_files::table
                    .find(id)
                    .select($crate::models::RoomFile::as_select())
                    .first(&mut *conn)
                    .await
                    .optional()?)
            }

            async fn attach_file(
                &self,
                id: &str,
                room: i64,
                uploader: i64,
                message_id: &str,
            ) -> Result<$crate::files::Attached, $crate::DbError> {
                use $crate::files::Attached;
                use $crate::schema::room_files as f;
                let mut conn = self.conn().await?;
                // One conditional UPDATE: two messages racing for one file cannot both win.
                let updated = diesel::update(
                    f::table
                        .filter(f::id.eq(id))
                        .filter(f::room_id.eq(room))
                        .filter(f::uploader_id.eq(uploader))
                        .filter(f::message_id.is_null().or(f::message_id.eq(message_id))),
                )
                .set(f::message_id.eq(message_id))
                .returning($crate::models::RoomFile::as_returning())
                .get_result(&mut *conn)
                .await
                .optional()?;
                if let Some(file) = updated {
                    return Ok(Attached::Done(file));
                }
                let exists: i64 = f::table
                    .filter(f::id.eq(id))
                    .filter(f::room_id.eq(room))
                    .filter(f::uploader_id.eq(uploader))
                    .count()
                    .get_result(&mut *conn)
                    .await?;
                Ok(if exists == 0 { Attached::NotFound } else { Attached::Taken })
            }

            async fn delete_file(&self, id: &str) -> Result<bool, $crate::DbError> {
                use $crate::schema::room_files;
                let mut conn = self.conn().await?;
                let deleted = diesel::delete(room_files::table.find(id)).execute(&mut *conn).await?;
                Ok(deleted > 0)
            }

            async fn abandoned_files(
                &self,
                unshared_before: chrono::NaiveDateTime,
                limit: i64,
            ) -> Result<Vec<$crate::models::RoomFile>, $crate::DbError> {
                use $crate::schema::{room_files as f, rooms};
                let mut conn = self.conn().await?;
                let room_gone =
                    diesel::dsl::not(diesel::dsl::exists(rooms::table.filter(rooms::id.eq(f::room_id))));
                Ok(f::table
                    .filter(f::message_id.is_null().and(f::created_at.lt(unshared_before)).or(room_gone))
                    .order(f::created_at.asc())
                    .limit(limit)
                    .select($crate::models::RoomFile::as_select())
                    .load(&mut *conn)
                    .await?)
            }
        }
    };
}

pub(crate) use impl_files;

//! Files uploaded to rooms: who uploaded what where, and which message shares it. The content itself
//! is in object storage (web's `files` module); this is what decides who may read it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::DbError;
use crate::connection::{Conn, on_backend};
use crate::models::RoomFile;
use crate::schema::{room_files as f, rooms};

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

/// Records an uploaded file (not yet shared by a message).
pub async fn create(conn: &mut Conn<'_>, file: &RoomFile) -> Result<(), DbError> {
    on_backend!(conn, c => diesel::insert_into(f::table).values(file).execute(c).await)?;
    Ok(())
}

/// The file with this id.
pub async fn by_id(conn: &mut Conn<'_>, id: &str) -> Result<Option<RoomFile>, DbError> {
    Ok(on_backend!(conn, c => f::table.find(id).select(RoomFile::as_select()).first(c).await.optional())?)
}

/// Attaches file `id` (uploaded by `uploader` to `room`) to `message_id`.
pub async fn attach(
    conn: &mut Conn<'_>,
    id: &str,
    room: i64,
    uploader: i64,
    message_id: &str,
) -> Result<Attached, DbError> {
    // One conditional UPDATE: two messages racing for one file cannot both win.
    let updated: Option<RoomFile> = on_backend!(conn, c => {
        diesel::update(
            f::table
                .filter(f::id.eq(id))
                .filter(f::room_id.eq(room))
                .filter(f::uploader_id.eq(uploader))
                .filter(f::message_id.is_null().or(f::message_id.eq(message_id))),
        )
        .set(f::message_id.eq(message_id))
        .returning(RoomFile::as_returning())
        .get_result(c)
        .await
        .optional()
    })?;
    if let Some(file) = updated {
        return Ok(Attached::Done(file));
    }
    let exists: i64 = on_backend!(conn, c => {
        f::table
            .filter(f::id.eq(id))
            .filter(f::room_id.eq(room))
            .filter(f::uploader_id.eq(uploader))
            .count()
            .get_result(c)
            .await
    })?;
    Ok(if exists == 0 { Attached::NotFound } else { Attached::Taken })
}

/// Forgets file `id`; whether it was there.
pub async fn delete(conn: &mut Conn<'_>, id: &str) -> Result<bool, DbError> {
    let deleted = on_backend!(conn, c => diesel::delete(f::table.find(id)).execute(c).await)?;
    Ok(deleted > 0)
}

/// Files nobody will read again: never shared and uploaded before `unshared_before`, or in a room
/// that no longer exists. At most `limit`, oldest first.
pub async fn abandoned(
    conn: &mut Conn<'_>,
    unshared_before: NaiveDateTime,
    limit: i64,
) -> Result<Vec<RoomFile>, DbError> {
    Ok(on_backend!(conn, c => {
        let room_gone = diesel::dsl::not(diesel::dsl::exists(rooms::table.filter(rooms::id.eq(f::room_id))));
        f::table
            .filter(f::message_id.is_null().and(f::created_at.lt(unshared_before)).or(room_gone))
            .order(f::created_at.asc())
            .limit(limit)
            .select(RoomFile::as_select())
            .load(c)
            .await
    })?)
}

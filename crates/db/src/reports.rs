//! Reports of messages (whispers included) to a room's owners and admins, with the text as it was
//! when reported. A member reports a message once.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::DbError;
use crate::connection::{Conn, on_backend};
use crate::schema::message_reports;

/// A report as filed.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = message_reports)]
pub struct Report {
    pub id: i64,
    pub room_id: i64,
    pub reporter_id: i64,
    pub message_id: String,
    pub whisper: bool,
    pub author_id: i64,
    pub author_name: String,
    pub text: String,
    pub reason: String,
    pub created_at: NaiveDateTime,
}

/// What filing a report stores.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = message_reports)]
pub struct NewReport<'a> {
    pub room_id: i64,
    pub reporter_id: i64,
    pub message_id: &'a str,
    pub whisper: bool,
    pub author_id: i64,
    pub author_name: &'a str,
    pub text: &'a str,
    pub reason: &'a str,
    pub created_at: NaiveDateTime,
}

/// Files a report; [`DbError::Conflict`] when the member reported that message already.
pub async fn file(conn: &mut Conn<'_>, report: NewReport<'_>) -> Result<i64, DbError> {
    Ok(on_backend!(conn, c => {
        diesel::insert_into(message_reports::table)
            .values(&report)
            .returning(message_reports::id)
            .get_result(c)
            .await
    })?)
}

/// The room's reports, newest first, at most `limit`.
pub async fn of_room(conn: &mut Conn<'_>, room: i64, limit: i64) -> Result<Vec<Report>, DbError> {
    Ok(on_backend!(conn, c => {
        message_reports::table
            .filter(message_reports::room_id.eq(room))
            .order((message_reports::created_at.desc(), message_reports::id.desc()))
            .limit(limit)
            .select(Report::as_select())
            .load(c)
            .await
    })?)
}

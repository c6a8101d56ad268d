//! Member accounts.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::DbError;
use crate::connection::{Conn, on_backend};
use crate::models::{Member, MemberRow, NewMember, username_key};
use crate::schema::members;

/// Stores a new member; [`DbError::Conflict`] if the username is taken in any letter case.
pub async fn create(conn: &mut Conn<'_>, new: NewMember<'_>) -> Result<Member, DbError> {
    let row = MemberRow::new(&new, chrono::Utc::now().naive_utc());
    Ok(on_backend!(conn, c => {
        diesel::insert_into(members::table).values(&row).returning(Member::as_returning()).get_result(c).await
    })?)
}

/// Finds a member by username, ignoring case.
pub async fn by_username(conn: &mut Conn<'_>, username: &str) -> Result<Option<Member>, DbError> {
    let key = username_key(username);
    Ok(on_backend!(conn, c => {
        members::table
            .filter(members::username_key.eq(&key))
            .select(Member::as_select())
            .first(c)
            .await
            .optional()
    })?)
}

/// The member with this id.
pub async fn by_id(conn: &mut Conn<'_>, id: i64) -> Result<Option<Member>, DbError> {
    Ok(on_backend!(conn, c => members::table.find(id).select(Member::as_select()).first(c).await.optional())?)
}

/// Sets the member's display name and avatar URL (validated by the caller).
pub async fn update_profile(
    conn: &mut Conn<'_>,
    id: i64,
    display_name: &str,
    avatar_url: Option<&str>,
) -> Result<(), DbError> {
    on_backend!(conn, c => {
        diesel::update(members::table.find(id))
            .set((members::display_name.eq(display_name), members::avatar_url.eq(avatar_url)))
            .execute(c)
            .await
    })?;
    Ok(())
}

//! Provider accounts (OAuth2/OIDC) linked to members.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::connection::{Conn, on_backend};
use crate::models::{Member, NewMember};
use crate::schema::{members, oauth_identities};
use crate::{DbError, members as member_accounts};

#[derive(diesel::Insertable)]
#[diesel(table_name = oauth_identities)]
struct IdentityRow<'a> {
    provider: &'a str,
    subject: &'a str,
    member_id: i64,
    created_at: chrono::NaiveDateTime,
}

/// The member a provider account is linked to.
pub async fn member_of(
    conn: &mut Conn<'_>,
    provider: &str,
    subject: &str,
) -> Result<Option<Member>, DbError> {
    Ok(on_backend!(conn, c => {
        members::table
            .inner_join(oauth_identities::table)
            .filter(oauth_identities::provider.eq(provider))
            .filter(oauth_identities::subject.eq(subject))
            .select(Member::as_select())
            .first(c)
            .await
            .optional()
    })?)
}

/// Links a provider account to a member; [`DbError::Conflict`] if it is linked to anyone already.
pub async fn link(conn: &mut Conn<'_>, provider: &str, subject: &str, member_id: i64) -> Result<(), DbError> {
    let row = IdentityRow { provider, subject, member_id, created_at: chrono::Utc::now().naive_utc() };
    on_backend!(conn, c => diesel::insert_into(oauth_identities::table).values(&row).execute(c).await)?;
    Ok(())
}

/// Creates a member and links the provider account to it, atomically.
pub async fn create_member(
    conn: &mut Conn<'_>,
    new: NewMember<'_>,
    provider: &str,
    subject: &str,
) -> Result<Member, DbError> {
    conn.transaction(async |mut tx| {
        let member = member_accounts::create(&mut tx, new).await?;
        link(&mut tx, provider, subject, member.id).await?;
        Ok(member)
    })
    .await
}

/// Providers linked to a member, sorted.
pub async fn providers_of(conn: &mut Conn<'_>, member_id: i64) -> Result<Vec<String>, DbError> {
    Ok(on_backend!(conn, c => {
        oauth_identities::table
            .filter(oauth_identities::member_id.eq(member_id))
            .order(oauth_identities::provider.asc())
            .select(oauth_identities::provider)
            .load(c)
            .await
    })?)
}

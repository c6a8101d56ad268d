//! Refresh tokens of REST logins: stored hashed, rotated on every use, and a reused token revokes its
//! whole family.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::DbError;
use crate::connection::{Conn, on_backend};
use crate::models::{NewRefreshToken, RefreshTokenRow, Rotation, StoredRefreshToken};
use crate::schema::refresh_tokens;

/// Stores the first token of a new family (a login).
pub async fn store(conn: &mut Conn<'_>, new: NewRefreshToken<'_>) -> Result<(), DbError> {
    let row = RefreshTokenRow {
        family_id: new.family_id,
        member_id: new.member_id,
        token_hash: new.token_hash,
        created_at: chrono::Utc::now().naive_utc(),
        expires_at: new.expires_at,
    };
    on_backend!(conn, c => diesel::insert_into(refresh_tokens::table).values(&row).execute(c).await)?;
    Ok(())
}

/// Uses the token whose hash is `presented` and stores `next_hash` as the next of its family, in one
/// transaction. Of two concurrent uses of one token, one rotates and the other counts as reuse.
pub async fn rotate(
    conn: &mut Conn<'_>,
    presented: &str,
    next_hash: &str,
    next_expires_at: NaiveDateTime,
) -> Result<Rotation, DbError> {
    let now = chrono::Utc::now().naive_utc();
    conn.transaction(async |mut tx| {
        let found: Option<StoredRefreshToken> = on_backend!(&mut tx, c => {
            refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(presented))
                .select(StoredRefreshToken::as_select())
                .first(c)
                .await
                .optional()
        })?;
        let Some(token) = found else { return Ok(Rotation::Invalid) };
        if token.revoked_at.is_some() || token.expires_at <= now {
            return Ok(Rotation::Invalid);
        }
        // Claim the token; only one of concurrent users can.
        let claimed = if token.used_at.is_none() {
            on_backend!(&mut tx, c => {
                diesel::update(
                    refresh_tokens::table
                        .filter(refresh_tokens::id.eq(token.id))
                        .filter(refresh_tokens::used_at.is_null()),
                )
                .set(refresh_tokens::used_at.eq(now))
                .execute(c)
                .await
            })?
        } else {
            0
        };
        if claimed == 0 {
            on_backend!(&mut tx, c => {
                diesel::update(refresh_tokens::table.filter(refresh_tokens::family_id.eq(&token.family_id)))
                    .set(refresh_tokens::revoked_at.eq(now))
                    .execute(c)
                    .await
            })?;
            return Ok(Rotation::ReuseDetected { member_id: token.member_id });
        }
        let next = RefreshTokenRow {
            family_id: &token.family_id,
            member_id: token.member_id,
            token_hash: next_hash,
            created_at: now,
            expires_at: next_expires_at,
        };
        on_backend!(&mut tx, c => diesel::insert_into(refresh_tokens::table).values(&next).execute(c).await)?;
        Ok(Rotation::Rotated { member_id: token.member_id })
    })
    .await
}

/// Revokes the family of the token whose hash is `presented` (logout); `false` if unknown.
pub async fn revoke_family(conn: &mut Conn<'_>, presented: &str) -> Result<bool, DbError> {
    let family: Option<String> = on_backend!(conn, c => {
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(presented))
            .select(refresh_tokens::family_id)
            .first(c)
            .await
            .optional()
    })?;
    let Some(family) = family else { return Ok(false) };
    let now = chrono::Utc::now().naive_utc();
    on_backend!(conn, c => {
        diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::family_id.eq(&family))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(now))
        .execute(c)
        .await
    })?;
    Ok(true)
}

//! Refresh tokens of REST logins: stored hashed, rotated on every use, and a reused token revokes its
//! whole family. Written once for both backends, like `queries.rs`.

use async_trait::async_trait;
use chrono::NaiveDateTime;

use crate::DbError;
use crate::models::{NewRefreshToken, Rotation};

#[async_trait]
pub trait RefreshTokens: Send + Sync + 'static {
    /// Stores the first token of a new family (a login).
    async fn store_refresh_token(&self, new: NewRefreshToken<'_>) -> Result<(), DbError>;
    /// Uses the token whose hash is `presented` and stores `next_hash` as the next of its family, in one
    /// transaction. Of two concurrent uses of one token, one rotates and the other counts as reuse.
    async fn rotate_refresh_token(
        &self,
        presented: &str,
        next_hash: &str,
        next_expires_at: NaiveDateTime,
    ) -> Result<Rotation, DbError>;
    /// Revokes the family of the token whose hash is `presented` (logout); `false` if unknown.
    async fn revoke_refresh_family(&self, presented: &str) -> Result<bool, DbError>;
}

macro_rules! impl_refresh_tokens {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::refresh_tokens::RefreshTokens for $store {
            async fn store_refresh_token(
                &self,
                new: $crate::models::NewRefreshToken<'_>,
            ) -> Result<(), $crate::DbError> {
                use $crate::schema::refresh_tokens;
                let mut conn = self.conn().await?;
                diesel::insert_into(refresh_tokens::table)
                    .values(&$crate::models::RefreshTokenRow {
                        family_id: new.family_id,
                        member_id: new.member_id,
                        token_hash: new.token_hash,
                        created_at: chrono::Utc::now().naive_utc(),
                        expires_at: new.expires_at,
                    })
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            async fn rotate_refresh_token(
                &self,
                presented: &str,
                next_hash: &str,
                next_expires_at: chrono::NaiveDateTime,
            ) -> Result<$crate::models::Rotation, $crate::DbError> {
                use $crate::models::{RefreshTokenRow, Rotation, StoredRefreshToken};
                use $crate::schema::refresh_tokens;
                let mut conn = self.conn().await?;
                let now = chrono::Utc::now().naive_utc();
                let outcome = conn
                    .transaction(async |conn| {
                        let found: Option<StoredRefreshToken> = refresh_tokens::table
                            .filter(refresh_tokens::token_hash.eq(presented))
                            .select(StoredRefreshToken::as_select())
                            .first(conn)
                            .await
                            .optional()?;
                        let Some(token) = found else { return Ok(Rotation::Invalid) };
                        if token.revoked_at.is_some() || token.expires_at <= now {
                            return Ok(Rotation::Invalid);
                        }
                        // Claim the token; only one of concurrent users can.
                        let claimed = if token.used_at.is_none() {
                            diesel::update(
                                refresh_tokens::table
                                    .filter(refresh_tokens::id.eq(token.id))
                                    .filter(refresh_tokens::used_at.is_null()),
                            )
                            .set(refresh_tokens::used_at.eq(now))
                            .execute(conn)
                            .await?
                        } else {
                            0
                        };
                        if claimed == 0 {
                            diesel::update(
                                refresh_tokens::table.filter(refresh_tokens::family_id.eq(&token.family_id)),
                            )
                            .set(refresh_tokens::revoked_at.eq(now))
                            .execute(conn)
                            .await?;
                            return Ok(Rotation::ReuseDetected { member_id: token.member_id });
                        }
                        diesel::insert_into(refresh_tokens::table)
                            .values(&RefreshTokenRow {
                                family_id: &token.family_id,
                                member_id: token.member_id,
                                token_hash: next_hash,
                                created_at: now,
                                expires_at: next_expires_at,
                            })
                            .execute(conn)
                            .await?;
                        Ok::<_, diesel::result::Error>(Rotation::Rotated { member_id: token.member_id })
                    })
                    .await?;
                Ok(outcome)
            }

            async fn revoke_refresh_family(&self, presented: &str) -> Result<bool, $crate::DbError> {
                use $crate::schema::refresh_tokens;
                let mut conn = self.conn().await?;
                let family: Option<String> = refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(presented))
                    .select(refresh_tokens::family_id)
                    .first(&mut *conn)
                    .await
                    .optional()?;
                let Some(family) = family else { return Ok(false) };
                diesel::update(
                    refresh_tokens::table
                        .filter(refresh_tokens::family_id.eq(&family))
                        .filter(refresh_tokens::revoked_at.is_null()),
                )
                .set(refresh_tokens::revoked_at.eq(chrono::Utc::now().naive_utc()))
                .execute(&mut *conn)
                .await?;
                Ok(true)
            }
        }
    };
}

pub(crate) use impl_refresh_tokens;

//! Provider accounts (OAuth2/OIDC) linked to members. Written once for both backends.

use async_trait::async_trait;

use crate::{DbError, Member, NewMember};

#[async_trait]
pub trait Identities: Send + Sync + 'static {
    /// The member a provider account is linked to.
    async fn member_by_identity(&self, provider: &str, subject: &str) -> Result<Option<Member>, DbError>;
    /// Links a provider account to a member; [`DbError::Conflict`] if it is linked to anyone already.
    async fn link_identity(&self, provider: &str, subject: &str, member_id: i64) -> Result<(), DbError>;
    /// Creates a member and links the provider account to it, atomically.
    async fn create_member_with_identity(
        &self,
        new: NewMember<'_>,
        provider: &str,
        subject: &str,
    ) -> Result<Member, DbError>;
    /// Providers linked to a member, sorted.
    async fn identities_of(&self, member_id: i64) -> Result<Vec<String>, DbError>;
}

#[derive(diesel::Insertable)]
#[diesel(table_name = crate::schema::oauth_identities)]
pub(crate) struct IdentityRow<'a> {
    pub provider: &'a str,
    pub subject: &'a str,
    pub member_id: i64,
    pub created_at: chrono::NaiveDateTime,
}

macro_rules! impl_identities {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::identities::Identities for $store {
            async fn member_by_identity(
                &self,
                provider: &str,
                subject: &str,
            ) -> Result<Option<$crate::Member>, $crate::DbError> {
                use $crate::schema::{members, oauth_identities};
                let mut conn = self.conn().await?;
                Ok(members::table
                    .inner_join(oauth_identities::table)
                    .filter(oauth_identities::provider.eq(provider))
                    .filter(oauth_identities::subject.eq(subject))
                    .select($crate::Member::as_select())
                    .first(&mut *conn)
                    .await
                    .optional()?)
            }

            async fn link_identity(
                &self,
                provider: &str,
                subject: &str,
                member_id: i64,
            ) -> Result<(), $crate::DbError> {
                use $crate::schema::oauth_identities;
                let mut conn = self.conn().await?;
                let row = $crate::identities::IdentityRow {
                    provider,
                    subject,
                    member_id,
                    created_at: chrono::Utc::now().naive_utc(),
                };
                diesel::insert_into(oauth_identities::table).values(&row).execute(&mut *conn).await?;
                Ok(())
            }

            async fn create_member_with_identity(
                &self,
                new: $crate::NewMember<'_>,
                provider: &str,
                subject: &str,
            ) -> Result<$crate::Member, $crate::DbError> {
                use $crate::schema::{members, oauth_identities};
                let mut conn = self.conn().await?;
                let now = chrono::Utc::now().naive_utc();
                let row = $crate::models::MemberRow::new(&new, now);
                let member = conn
                    .transaction(async |conn| {
                        let member: $crate::Member = diesel::insert_into(members::table)
                            .values(&row)
                            .returning($crate::Member::as_returning())
                            .get_result(conn)
                            .await?;
                        diesel::insert_into(oauth_identities::table)
                            .values(&$crate::identities::IdentityRow {
                                provider,
                                subject,
                                member_id: member.id,
                                created_at: now,
                            })
                            .execute(conn)
                            .await?;
                        Ok::<_, diesel::result::Error>(member)
                    })
                    .await?;
                Ok(member)
            }

            async fn identities_of(&self, member_id: i64) -> Result<Vec<String>, $crate::DbError> {
                use $crate::schema::oauth_identities;
                let mut conn = self.conn().await?;
                Ok(oauth_identities::table
                    .filter(oauth_identities::member_id.eq(member_id))
                    .order(oauth_identities::provider.asc())
                    .select(oauth_identities::provider)
                    .load(&mut *conn)
                    .await?)
            }
        }
    };
}

pub(crate) use impl_identities;

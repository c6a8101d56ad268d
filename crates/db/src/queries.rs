//! The queries, written once for both backends. Each adapter type has an inherent `async fn conn()`
//! that yields `&mut` access to its connection; the macro expands the same bodies against each
//! concrete connection type (a generic function over both fights diesel's trait bounds).

macro_rules! impl_directory {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::Directory for $store {
            async fn create_member(
                &self,
                new: $crate::NewMember<'_>,
            ) -> Result<$crate::Member, $crate::DbError> {
                use $crate::schema::members;
                let mut conn = self.conn().await?;
                let row = $crate::models::MemberRow::new(&new, chrono::Utc::now().naive_utc());
                Ok(diesel::insert_into(members::table)
                    .values(&row)
                    .returning($crate::Member::as_returning())
                    .get_result(&mut *conn)
                    .await?)
            }

            async fn member_by_username(
                &self,
                username: &str,
            ) -> Result<Option<$crate::Member>, $crate::DbError> {
                use $crate::schema::members;
                let mut conn = self.conn().await?;
                Ok(members::table
                    .filter(members::username_key.eq($crate::models::username_key(username)))
                    .select($crate::Member::as_select())
                    .first(&mut *conn)
                    .await
                    .optional()?)
            }

            async fn member_by_id(&self, id: i64) -> Result<Option<$crate::Member>, $crate::DbError> {
                use $crate::schema::members;
                let mut conn = self.conn().await?;
                Ok(members::table
                    .find(id)
                    .select($crate::Member::as_select())
                    .first(&mut *conn)
                    .await
                    .optional()?)
            }

            async fn update_profile(
                &self,
                id: i64,
                display_name: &str,
                avatar_url: Option<&str>,
            ) -> Result<(), $crate::DbError> {
                use $crate::schema::members;
                let mut conn = self.conn().await?;
                diesel::update(members::table.find(id))
                    .set((members::display_name.eq(display_name), members::avatar_url.eq(avatar_url)))
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            async fn ping(&self) -> Result<(), $crate::DbError> {
                let mut conn = self.conn().await?;
                diesel::sql_query("SELECT 1").execute(&mut *conn).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_directory;

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

            async fn create_room(
                &self,
                name: &str,
                kind: $crate::RoomKind,
                owner: i64,
            ) -> Result<$crate::Room, $crate::DbError> {
                use $crate::schema::{room_members, rooms};
                let mut conn = self.conn().await?;
                let now = chrono::Utc::now().naive_utc();
                let room =
                    $crate::models::RoomRow { name, kind: kind.as_str(), created_by: owner, created_at: now };
                let room = conn
                    .transaction(async |conn| {
                        let room: $crate::Room = diesel::insert_into(rooms::table)
                            .values(&room)
                            .returning($crate::Room::as_returning())
                            .get_result(conn)
                            .await?;
                        diesel::insert_into(room_members::table)
                            .values(&$crate::models::RoomMemberRow {
                                room_id: room.id,
                                member_id: owner,
                                role: $crate::Role::Owner.as_str(),
                                joined_at: now,
                            })
                            .execute(conn)
                            .await?;
                        Ok::<_, diesel::result::Error>(room)
                    })
                    .await?;
                Ok(room)
            }

            async fn room(&self, id: i64) -> Result<Option<$crate::Room>, $crate::DbError> {
                use $crate::schema::rooms;
                let mut conn = self.conn().await?;
                Ok(rooms::table
                    .find(id)
                    .select($crate::Room::as_select())
                    .first(&mut *conn)
                    .await
                    .optional()?)
            }

            async fn join_room(&self, room_id: i64, member_id: i64) -> Result<(), $crate::DbError> {
                use $crate::schema::room_members;
                let mut conn = self.conn().await?;
                diesel::insert_into(room_members::table)
                    .values(&$crate::models::RoomMemberRow {
                        room_id,
                        member_id,
                        role: $crate::Role::Member.as_str(),
                        joined_at: chrono::Utc::now().naive_utc(),
                    })
                    .on_conflict_do_nothing()
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            async fn role_in_room(
                &self,
                room_id: i64,
                member_id: i64,
            ) -> Result<Option<$crate::Role>, $crate::DbError> {
                use $crate::schema::room_members;
                let mut conn = self.conn().await?;
                let role: Option<String> = room_members::table
                    .find((room_id, member_id))
                    .select(room_members::role)
                    .first(&mut *conn)
                    .await
                    .optional()?;
                Ok(role.as_deref().and_then($crate::Role::parse))
            }

            async fn rooms_of_member(&self, member_id: i64) -> Result<Vec<$crate::Room>, $crate::DbError> {
                use $crate::schema::{room_members, rooms};
                let mut conn = self.conn().await?;
                Ok(rooms::table
                    .inner_join(room_members::table)
                    .filter(room_members::member_id.eq(member_id))
                    .order(rooms::id.desc())
                    .select($crate::Room::as_select())
                    .load(&mut *conn)
                    .await?)
            }

            async fn community_rooms(&self, limit: i64) -> Result<Vec<$crate::Room>, $crate::DbError> {
                use $crate::schema::rooms;
                let mut conn = self.conn().await?;
                Ok(rooms::table
                    .filter(rooms::kind.eq($crate::RoomKind::Community.as_str()))
                    .order(rooms::id.desc())
                    .limit(limit)
                    .select($crate::Room::as_select())
                    .load(&mut *conn)
                    .await?)
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

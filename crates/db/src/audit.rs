//! Reading a room's moderation log (records are written by the operations themselves).

use async_trait::async_trait;

use crate::DbError;
use crate::models::AuditRecord;

#[async_trait]
pub trait Audit: Send + Sync + 'static {
    /// The room's newest records, newest first.
    async fn audit_log(&self, room_id: i64, limit: i64) -> Result<Vec<AuditRecord>, DbError>;
}

macro_rules! impl_audit {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::audit::Audit for $store {
            async fn audit_log(
                &self,
                room_id: i64,
                limit: i64,
            ) -> Result<Vec<$crate::models::AuditRecord>, $crate::DbError> {
                use $crate::schema::{members, room_audit};
                let mut conn = self.conn().await?;
                let rows: Vec<(i64, chrono::NaiveDateTime, i64, String, String, Option<i64>, String)> =
                    room_audit::table
                        .inner_join(members::table.on(members::id.eq(room_audit::actor_id)))
                        .filter(room_audit::room_id.eq(room_id))
                        .order(room_audit::id.desc())
                        .limit(limit)
                        .select((
                            room_audit::id,
                            room_audit::at,
                            room_audit::actor_id,
                            members::display_name,
                            room_audit::action,
                            room_audit::target_id,
                            room_audit::detail,
                        ))
                        .load(&mut *conn)
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, at, actor_id, actor_name, action, target_id, detail)| {
                        $crate::models::AuditRecord {
                            id,
                            at,
                            actor_id,
                            actor_name,
                            action,
                            target_id,
                            detail,
                        }
                    })
                    .collect())
            }
        }
    };
}

pub(crate) use impl_audit;

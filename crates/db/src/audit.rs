//! A room's moderation log: every change a moderator makes is recorded, in the change's transaction.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::DbError;
use crate::connection::{Conn, on_backend};
use crate::models::{AuditRecord, AuditRow};
use crate::schema::{members, room_audit};

/// Records that `actor` did `action` (to `target`) in the room; call it inside the change's
/// transaction.
pub async fn record(
    conn: &mut Conn<'_>,
    room_id: i64,
    actor: i64,
    action: &str,
    target: Option<i64>,
    detail: &str,
) -> Result<(), DbError> {
    let row = AuditRow {
        room_id,
        actor_id: actor,
        action,
        target_id: target,
        detail,
        at: chrono::Utc::now().naive_utc(),
    };
    on_backend!(conn, c => diesel::insert_into(room_audit::table).values(&row).execute(c).await)?;
    Ok(())
}

/// The room's newest records, newest first.
pub async fn log(conn: &mut Conn<'_>, room_id: i64, limit: i64) -> Result<Vec<AuditRecord>, DbError> {
    Ok(on_backend!(conn, c => {
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
            .load(c)
            .await
    })?)
}

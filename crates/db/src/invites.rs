//! Invitations by name and invite links.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::connection::{Conn, on_backend};
use crate::models::InviteLinkRecord;
use crate::schema::{invite_links, room_invitations};
use crate::{DbError, audit};

/// Lets `member_id` join the room once (a no-op when already invited).
pub async fn invite(conn: &mut Conn<'_>, room_id: i64, member_id: i64, actor: i64) -> Result<(), DbError> {
    let now = chrono::Utc::now().naive_utc();
    conn.transaction(async |mut tx| {
        let added = on_backend!(&mut tx, c => {
            diesel::insert_into(room_invitations::table)
                .values((
                    room_invitations::room_id.eq(room_id),
                    room_invitations::member_id.eq(member_id),
                    room_invitations::invited_by.eq(actor),
                    room_invitations::created_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(c)
                .await
        })?;
        if added > 0 {
            audit::record(&mut tx, room_id, actor, "invited", Some(member_id), "").await?;
        }
        Ok(())
    })
    .await
}

/// Whether the member has a pending invitation to the room.
pub async fn is_invited(conn: &mut Conn<'_>, room_id: i64, member_id: i64) -> Result<bool, DbError> {
    let found: Option<i64> = on_backend!(conn, c => {
        room_invitations::table
            .find((room_id, member_id))
            .select(room_invitations::member_id)
            .first(c)
            .await
            .optional()
    })?;
    Ok(found.is_some())
}

/// Stores a link by the SHA-256 (hex) of its code.
pub async fn create_link(
    conn: &mut Conn<'_>,
    room_id: i64,
    code_hash: &str,
    expires_at: NaiveDateTime,
    max_uses: Option<i32>,
    actor: i64,
) -> Result<InviteLinkRecord, DbError> {
    let now = chrono::Utc::now().naive_utc();
    conn.transaction(async |mut tx| {
        let link: InviteLinkRecord = on_backend!(&mut tx, c => {
            diesel::insert_into(invite_links::table)
                .values((
                    invite_links::room_id.eq(room_id),
                    invite_links::code_hash.eq(code_hash),
                    invite_links::created_by.eq(actor),
                    invite_links::created_at.eq(now),
                    invite_links::expires_at.eq(expires_at),
                    invite_links::max_uses.eq(max_uses),
                ))
                .returning(InviteLinkRecord::as_returning())
                .get_result(c)
                .await
        })?;
        let detail = format!("link {}", link.id);
        audit::record(&mut tx, room_id, actor, "invite_link_created", None, &detail).await?;
        Ok(link)
    })
    .await
}

/// The room's links, newest first.
pub async fn links(conn: &mut Conn<'_>, room_id: i64) -> Result<Vec<InviteLinkRecord>, DbError> {
    Ok(on_backend!(conn, c => {
        invite_links::table
            .filter(invite_links::room_id.eq(room_id))
            .order(invite_links::id.desc())
            .select(InviteLinkRecord::as_select())
            .load(c)
            .await
    })?)
}

/// Revokes a link of the room; `false` when the room has no such link.
pub async fn revoke_link(
    conn: &mut Conn<'_>,
    room_id: i64,
    link_id: i64,
    actor: i64,
) -> Result<bool, DbError> {
    let now = chrono::Utc::now().naive_utc();
    conn.transaction(async |mut tx| {
        let revoked = on_backend!(&mut tx, c => {
            diesel::update(
                invite_links::table
                    .find(link_id)
                    .filter(invite_links::room_id.eq(room_id))
                    .filter(invite_links::revoked_at.is_null()),
            )
            .set(invite_links::revoked_at.eq(now))
            .execute(c)
            .await
        })?;
        if revoked > 0 {
            let detail = format!("link {link_id}");
            audit::record(&mut tx, room_id, actor, "invite_link_revoked", None, &detail).await?;
        }
        Ok(revoked > 0)
    })
    .await
}

/// The room a link code (by hash) leads to, whether or not the link is still usable.
pub async fn room_of_link(conn: &mut Conn<'_>, code_hash: &str) -> Result<Option<i64>, DbError> {
    Ok(on_backend!(conn, c => {
        invite_links::table
            .filter(invite_links::code_hash.eq(code_hash))
            .select(invite_links::room_id)
            .first(c)
            .await
            .optional()
    })?)
}

//! Web Push subscriptions and what each member wants to be notified of per room (see the
//! migration `push_notifications`).

use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;

use crate::DbError;
use crate::connection::{Conn, on_backend};
use crate::models::{NotifyLevel, PushSubscription};
use crate::schema::{push_subscriptions, room_members};

/// Keeps a browser's subscription for `member`; the same endpoint subscribed again (new keys, or
/// another account in that browser) replaces the old one.
pub async fn subscribe(
    conn: &mut Conn<'_>,
    member_id: i64,
    endpoint: &str,
    p256dh: &str,
    auth: &str,
) -> Result<(), DbError> {
    let row = (
        push_subscriptions::member_id.eq(member_id),
        push_subscriptions::endpoint.eq(endpoint),
        push_subscriptions::p256dh.eq(p256dh),
        push_subscriptions::auth.eq(auth),
        push_subscriptions::created_at.eq(chrono::Utc::now().naive_utc()),
    );
    on_backend!(conn, c => {
        diesel::insert_into(push_subscriptions::table)
            .values(row)
            .on_conflict(push_subscriptions::endpoint)
            .do_update()
            .set((
                push_subscriptions::member_id.eq(excluded(push_subscriptions::member_id)),
                push_subscriptions::p256dh.eq(excluded(push_subscriptions::p256dh)),
                push_subscriptions::auth.eq(excluded(push_subscriptions::auth)),
            ))
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Forgets `member`'s subscription at `endpoint`; whether there was one.
pub async fn unsubscribe(conn: &mut Conn<'_>, member_id: i64, endpoint: &str) -> Result<bool, DbError> {
    let removed = on_backend!(conn, c => {
        diesel::delete(
            push_subscriptions::table
                .filter(push_subscriptions::member_id.eq(member_id))
                .filter(push_subscriptions::endpoint.eq(endpoint)),
        )
        .execute(c)
        .await
    })?;
    Ok(removed > 0)
}

/// Forgets the subscription at `endpoint`, whoever's (the push service said it is gone).
pub async fn forget(conn: &mut Conn<'_>, endpoint: &str) -> Result<(), DbError> {
    on_backend!(conn, c => {
        diesel::delete(push_subscriptions::table.filter(push_subscriptions::endpoint.eq(endpoint)))
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Every subscription of `members`.
pub async fn of_members(conn: &mut Conn<'_>, members: &[i64]) -> Result<Vec<PushSubscription>, DbError> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    Ok(on_backend!(conn, c => {
        push_subscriptions::table
            .filter(push_subscriptions::member_id.eq_any(members))
            .order(push_subscriptions::id)
            .select(PushSubscription::as_select())
            .load(c)
            .await
    })?)
}

/// Sets what `member` wants to be notified of in `room`; `false` when they are not a member.
pub async fn set_level(
    conn: &mut Conn<'_>,
    room_id: i64,
    member_id: i64,
    level: NotifyLevel,
) -> Result<bool, DbError> {
    let changed = on_backend!(conn, c => {
        diesel::update(room_members::table.find((room_id, member_id)))
            .set(room_members::notify.eq(level.as_str()))
            .execute(c)
            .await
    })?;
    Ok(changed > 0)
}

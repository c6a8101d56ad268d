//! Friends: requests between members, friendships (one row per pair, lower id first), and who may
//! start a direct chat with a member (`members.direct_from`: everyone, or friends only).

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::DbError;
use crate::connection::{Conn, on_backend};
use crate::models::Member;
use crate::schema::{friend_requests, friendships, members};

/// What a friend request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    /// Waiting for the other member's answer (also when it was waiting already).
    Sent,
    /// The other member had asked first: they are friends now.
    Befriended,
    /// They were friends already.
    AlreadyFriends,
}

/// A member's friends and the requests waiting on either side.
#[derive(Debug, Clone, Default)]
pub struct Circle {
    pub friends: Vec<Member>,
    /// Requests to the member.
    pub incoming: Vec<Member>,
    /// Requests from the member.
    pub outgoing: Vec<Member>,
}

fn pair(a: i64, b: i64) -> (i64, i64) {
    (a.min(b), a.max(b))
}

/// Whether `a` and `b` are friends.
pub async fn are_friends(conn: &mut Conn<'_>, a: i64, b: i64) -> Result<bool, DbError> {
    let found: Option<i64> = on_backend!(conn, c => {
        friendships::table.find(pair(a, b)).select(friendships::low_id).first(c).await.optional()
    })?;
    Ok(found.is_some())
}

async fn befriend(conn: &mut Conn<'_>, a: i64, b: i64) -> Result<(), DbError> {
    let (low, high) = pair(a, b);
    let now = chrono::Utc::now().naive_utc();
    on_backend!(conn, c => {
        diesel::insert_into(friendships::table)
            .values((friendships::low_id.eq(low), friendships::high_id.eq(high), friendships::since.eq(now)))
            .on_conflict_do_nothing()
            .execute(c)
            .await
    })?;
    Ok(())
}

async fn delete_request(conn: &mut Conn<'_>, from: i64, to: i64) -> Result<bool, DbError> {
    let deleted =
        on_backend!(conn, c => diesel::delete(friend_requests::table.find((from, to))).execute(c).await)?;
    Ok(deleted > 0)
}

/// `from` asks `to` to be friends. When `to` had asked `from` already, that request is the answer.
pub async fn request(conn: &mut Conn<'_>, from: i64, to: i64) -> Result<Requested, DbError> {
    if are_friends(conn, from, to).await? {
        return Ok(Requested::AlreadyFriends);
    }
    if delete_request(conn, to, from).await? {
        befriend(conn, from, to).await?;
        return Ok(Requested::Befriended);
    }
    let now = chrono::Utc::now().naive_utc();
    on_backend!(conn, c => {
        diesel::insert_into(friend_requests::table)
            .values((
                friend_requests::from_id.eq(from),
                friend_requests::to_id.eq(to),
                friend_requests::created_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(c)
            .await
    })?;
    Ok(Requested::Sent)
}

/// `to` accepts `from`'s request; `false` when there was none.
pub async fn accept(conn: &mut Conn<'_>, to: i64, from: i64) -> Result<bool, DbError> {
    if !delete_request(conn, from, to).await? {
        return Ok(false);
    }
    befriend(conn, from, to).await?;
    Ok(true)
}

/// Withdraws the request between `a` and `b`, whichever asked (declining or cancelling); `false`
/// when there was none.
pub async fn withdraw(conn: &mut Conn<'_>, a: i64, b: i64) -> Result<bool, DbError> {
    let one = delete_request(conn, a, b).await?;
    let other = delete_request(conn, b, a).await?;
    Ok(one || other)
}

/// Ends the friendship of `a` and `b`; `false` when they were not friends.
pub async fn unfriend(conn: &mut Conn<'_>, a: i64, b: i64) -> Result<bool, DbError> {
    let deleted =
        on_backend!(conn, c => diesel::delete(friendships::table.find(pair(a, b))).execute(c).await)?;
    Ok(deleted > 0)
}

/// Ends everything between `a` and `b` (a block): the friendship and any request.
pub async fn sever(conn: &mut Conn<'_>, a: i64, b: i64) -> Result<(), DbError> {
    unfriend(conn, a, b).await?;
    withdraw(conn, a, b).await?;
    Ok(())
}

/// The member's friends and pending requests, each list by display name.
pub async fn circle(conn: &mut Conn<'_>, member: i64) -> Result<Circle, DbError> {
    let pairs: Vec<(i64, i64)> = on_backend!(conn, c => {
        friendships::table
            .filter(friendships::low_id.eq(member).or(friendships::high_id.eq(member)))
            .select((friendships::low_id, friendships::high_id))
            .load(c)
            .await
    })?;
    let friend_ids: Vec<i64> =
        pairs.into_iter().map(|(low, high)| if low == member { high } else { low }).collect();
    let incoming_ids: Vec<i64> = on_backend!(conn, c => {
        friend_requests::table.filter(friend_requests::to_id.eq(member)).select(friend_requests::from_id).load(c).await
    })?;
    let outgoing_ids: Vec<i64> = on_backend!(conn, c => {
        friend_requests::table.filter(friend_requests::from_id.eq(member)).select(friend_requests::to_id).load(c).await
    })?;
    Ok(Circle {
        friends: named(conn, &friend_ids).await?,
        incoming: named(conn, &incoming_ids).await?,
        outgoing: named(conn, &outgoing_ids).await?,
    })
}

async fn named(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<Member>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: Vec<Member> = on_backend!(conn, c => {
        members::table.filter(members::id.eq_any(ids)).select(Member::as_select()).load(c).await
    })?;
    found.sort_by_key(|m| m.display_name.to_lowercase());
    Ok(found)
}

/// Who may start a direct chat with the member: "everyone" or "friends".
pub async fn direct_from(conn: &mut Conn<'_>, member: i64) -> Result<String, DbError> {
    Ok(on_backend!(conn, c => members::table.find(member).select(members::direct_from).first(c).await)?)
}

/// Sets who may start a direct chat with the member (checked by the caller: "everyone" or "friends").
pub async fn set_direct_from(conn: &mut Conn<'_>, member: i64, value: &str) -> Result<(), DbError> {
    on_backend!(conn, c => {
        diesel::update(members::table.find(member)).set(members::direct_from.eq(value)).execute(c).await
    })?;
    Ok(())
}

//! Roles, kicks, mutes and bans. Every action is recorded in the room's audit log (by the store, in
//! the same transaction) and announced to message pods.

use chrono::NaiveDateTime;
use natter_db::{Role, members, memberships};
use natter_proto::events::MembershipChange;

use super::Rules;
use super::{RoomContext, RoomError, events};

/// Milliseconds since the epoch to a stored time; must lie in the future.
fn future_time(ms: i64) -> Result<NaiveDateTime, RoomError> {
    let at = chrono::DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| RoomError::bad_request("until_ms is out of range."))?;
    if at <= chrono::Utc::now() {
        return Err(RoomError::bad_request("until_ms must be in the future."));
    }
    Ok(at.naive_utc())
}

pub(crate) async fn set_role(
    rules: &Rules<'_>,
    ctx: &RoomContext,
    target: i64,
    role: Role,
) -> Result<(), RoomError> {
    if role == Role::Owner {
        return Err(RoomError::bad_request("Use the transfer endpoint to hand over ownership."));
    }
    ctx.require_outranks(rules, target).await?;
    let mine = ctx.require_member()?;
    if role >= mine {
        return Err(RoomError::forbidden("You can only grant roles below your own."));
    }
    memberships::set_role(&mut rules.db.conn().await?, ctx.room.id, target, role, ctx.caller).await?;
    events::announce(rules, ctx.room.id, Some(target), MembershipChange::RoleChanged).await;
    Ok(())
}

pub(crate) async fn kick(rules: &Rules<'_>, ctx: &RoomContext, target: i64) -> Result<(), RoomError> {
    ctx.require_outranks(rules, target).await?;
    memberships::remove(&mut rules.db.conn().await?, ctx.room.id, target, ctx.caller, "kicked").await?;
    tracing::info!(room.id = ctx.room.id, member.id = target, by = ctx.caller, "member kicked");
    events::announce(rules, ctx.room.id, Some(target), MembershipChange::Kicked).await;
    Ok(())
}

pub(crate) async fn mute(
    rules: &Rules<'_>,
    ctx: &RoomContext,
    target: i64,
    until_ms: Option<i64>,
) -> Result<(), RoomError> {
    let until = until_ms.ok_or_else(|| RoomError::bad_request("A mute needs until_ms."))?;
    let until = future_time(until)?;
    ctx.require_outranks(rules, target).await?;
    memberships::set_muted(&mut rules.db.conn().await?, ctx.room.id, target, Some(until), ctx.caller).await?;
    events::announce(rules, ctx.room.id, Some(target), MembershipChange::Muted).await;
    Ok(())
}

pub(crate) async fn unmute(rules: &Rules<'_>, ctx: &RoomContext, target: i64) -> Result<(), RoomError> {
    ctx.require_outranks(rules, target).await?;
    memberships::set_muted(&mut rules.db.conn().await?, ctx.room.id, target, None, ctx.caller).await?;
    events::announce(rules, ctx.room.id, Some(target), MembershipChange::Unmuted).await;
    Ok(())
}

/// Bans a member (removing them if they are in the room) or a non-member (keeping them out).
pub(crate) async fn ban(
    rules: &Rules<'_>,
    ctx: &RoomContext,
    target: i64,
    until_ms: Option<i64>,
) -> Result<(), RoomError> {
    let until = until_ms.map(future_time).transpose()?;
    ctx.require_community()?;
    ctx.require_role(Role::Admin)?;
    if members::by_id(&mut rules.db.conn().await?, target).await?.is_none() {
        return Err(RoomError::NotFound("No such member.".to_owned()));
    }
    if memberships::role(&mut rules.db.conn().await?, ctx.room.id, target).await?.is_some() {
        ctx.require_outranks(rules, target).await?;
    } else if target == ctx.caller {
        return Err(RoomError::bad_request("You cannot do that to yourself."));
    }
    memberships::ban(&mut rules.db.conn().await?, ctx.room.id, target, until, ctx.caller).await?;
    tracing::info!(room.id = ctx.room.id, member.id = target, by = ctx.caller, "member banned");
    events::announce(rules, ctx.room.id, Some(target), MembershipChange::Banned).await;
    Ok(())
}

pub(crate) async fn unban(rules: &Rules<'_>, ctx: &RoomContext, target: i64) -> Result<(), RoomError> {
    ctx.require_community()?;
    ctx.require_role(Role::Admin)?;
    if !memberships::unban(&mut rules.db.conn().await?, ctx.room.id, target, ctx.caller).await? {
        return Err(RoomError::NotFound("That member is not banned here.".to_owned()));
    }
    events::announce(rules, ctx.room.id, Some(target), MembershipChange::Unbanned).await;
    Ok(())
}

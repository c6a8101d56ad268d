//! Roles, kicks, mutes and bans. Every action is checked and made in one transaction, on the
//! moderator's standing as it is then (`RoomContext::locked`), recorded in the room's audit log (by
//! the store, in the same transaction) and, once committed, announced to message pods.

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
    rules
        .transaction(async |mut tx| {
            let ctx = ctx.locked(&mut tx).await?;
            ctx.require_outranks(&mut tx, target).await?;
            let mine = ctx.require_member()?;
            if role >= mine {
                return Err(RoomError::forbidden("You can only grant roles below your own."));
            }
            memberships::set_role(&mut tx, ctx.room.id, target, role, ctx.caller).await?;
            Ok(())
        })
        .await?;
    events::announce(rules, ctx.room.id, Some(target), MembershipChange::RoleChanged).await;
    Ok(())
}

pub(crate) async fn kick(rules: &Rules<'_>, ctx: &RoomContext, target: i64) -> Result<(), RoomError> {
    rules
        .transaction(async |mut tx| {
            let ctx = ctx.locked(&mut tx).await?;
            ctx.require_outranks(&mut tx, target).await?;
            memberships::remove(&mut tx, ctx.room.id, target, ctx.caller, "kicked").await?;
            Ok(())
        })
        .await?;
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
    set_muted(rules, ctx, target, Some(until)).await?;
    events::announce(rules, ctx.room.id, Some(target), MembershipChange::Muted).await;
    Ok(())
}

pub(crate) async fn unmute(rules: &Rules<'_>, ctx: &RoomContext, target: i64) -> Result<(), RoomError> {
    set_muted(rules, ctx, target, None).await?;
    events::announce(rules, ctx.room.id, Some(target), MembershipChange::Unmuted).await;
    Ok(())
}

async fn set_muted(
    rules: &Rules<'_>,
    ctx: &RoomContext,
    target: i64,
    until: Option<NaiveDateTime>,
) -> Result<(), RoomError> {
    rules
        .transaction(async |mut tx| {
            let ctx = ctx.locked(&mut tx).await?;
            ctx.require_outranks(&mut tx, target).await?;
            memberships::set_muted(&mut tx, ctx.room.id, target, until, ctx.caller).await?;
            Ok(())
        })
        .await
}

/// Bans a member (removing them if they are in the room) or a non-member (keeping them out).
pub(crate) async fn ban(
    rules: &Rules<'_>,
    ctx: &RoomContext,
    target: i64,
    until_ms: Option<i64>,
) -> Result<(), RoomError> {
    let until = until_ms.map(future_time).transpose()?;
    rules
        .transaction(async |mut tx| {
            let ctx = ctx.locked(&mut tx).await?;
            ctx.require_community()?;
            ctx.require_role(Role::Admin)?;
            if members::by_id(&mut tx, target).await?.is_none() {
                return Err(RoomError::NotFound("No such member.".to_owned()));
            }
            if memberships::role(&mut tx, ctx.room.id, target).await?.is_some() {
                ctx.require_outranks(&mut tx, target).await?;
            } else if target == ctx.caller {
                return Err(RoomError::bad_request("You cannot do that to yourself."));
            }
            memberships::ban(&mut tx, ctx.room.id, target, until, ctx.caller).await?;
            Ok(())
        })
        .await?;
    tracing::info!(room.id = ctx.room.id, member.id = target, by = ctx.caller, "member banned");
    events::announce(rules, ctx.room.id, Some(target), MembershipChange::Banned).await;
    Ok(())
}

pub(crate) async fn unban(rules: &Rules<'_>, ctx: &RoomContext, target: i64) -> Result<(), RoomError> {
    rules
        .transaction(async |mut tx| {
            let ctx = ctx.locked(&mut tx).await?;
            ctx.require_community()?;
            ctx.require_role(Role::Admin)?;
            if !memberships::unban(&mut tx, ctx.room.id, target, ctx.caller).await? {
                return Err(RoomError::NotFound("That member is not banned here.".to_owned()));
            }
            Ok(())
        })
        .await?;
    events::announce(rules, ctx.room.id, Some(target), MembershipChange::Unbanned).await;
    Ok(())
}

//! Creating, editing, archiving, deleting rooms and handing them over.

use natter_db::{NewRoom, Role, Room, RoomChanges, Visibility, memberships, rooms};
use natter_proto::events::MembershipChange;
use natter_proto::rooms as api;

use super::Rules;
use super::{RoomContext, RoomError, events};

const NAME_MAX: usize = 80;
const TOPIC_MAX: usize = 500;
pub(crate) const DEFAULT_CAPACITY: u32 = 1000;
pub(crate) const MAX_CAPACITY: u32 = 100_000;

fn valid_name(name: &str) -> Result<&str, RoomError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(RoomError::bad_request(format!("Room names are 1 to {NAME_MAX} printable characters.")));
    }
    Ok(name)
}

fn valid_topic(topic: &str) -> Result<&str, RoomError> {
    let topic = topic.trim();
    if topic.chars().count() > TOPIC_MAX {
        return Err(RoomError::bad_request(format!("Topics are at most {TOPIC_MAX} characters.")));
    }
    Ok(topic)
}

fn valid_capacity(capacity: u32) -> Result<i32, RoomError> {
    if !(2..=MAX_CAPACITY).contains(&capacity) {
        return Err(RoomError::bad_request(format!("Capacity is between 2 and {MAX_CAPACITY}.")));
    }
    Ok(capacity as i32)
}

pub(crate) async fn create(rules: &Rules<'_>, caller: i64, new: &api::NewRoom) -> Result<Room, RoomError> {
    let room = NewRoom {
        name: valid_name(&new.name)?,
        topic: valid_topic(&new.topic)?,
        visibility: new.visibility,
        capacity: valid_capacity(new.capacity.unwrap_or(DEFAULT_CAPACITY))?,
    };
    let room = rooms::create(&mut rules.db.conn().await?, room, caller).await?;
    tracing::info!(room.id = room.id, member.id = caller, "room created");
    Ok(room)
}

pub(crate) async fn update(
    rules: &Rules<'_>,
    ctx: &RoomContext,
    update: &api::RoomUpdate,
) -> Result<Room, RoomError> {
    ctx.require_community()?;
    ctx.require_role(Role::Admin)?;
    let changes = RoomChanges {
        name: update.name.as_deref().map(valid_name).transpose()?,
        topic: update.topic.as_deref().map(valid_topic).transpose()?,
        visibility: update.visibility,
        capacity: update.capacity.map(valid_capacity).transpose()?,
    };
    let room = rules
        .transaction(async |mut tx| {
            ctx.locked(&mut tx).await?.require_role(Role::Admin)?;
            Ok(rooms::update(&mut tx, ctx.room.id, changes, ctx.caller).await?)
        })
        .await?;
    events::announce(rules, room.id, None, MembershipChange::RoomEdited).await;
    Ok(room)
}

pub(crate) async fn set_archived(
    rules: &Rules<'_>,
    ctx: &RoomContext,
    archived: bool,
) -> Result<(), RoomError> {
    ctx.require_community()?;
    rules
        .transaction(async |mut tx| {
            ctx.locked(&mut tx).await?.require_role(Role::Owner)?;
            Ok(rooms::set_archived(&mut tx, ctx.room.id, archived, ctx.caller).await?)
        })
        .await?;
    events::announce(rules, ctx.room.id, None, MembershipChange::RoomArchived).await;
    Ok(())
}

pub(crate) async fn delete(rules: &Rules<'_>, ctx: &RoomContext) -> Result<(), RoomError> {
    ctx.require_community()?;
    rules
        .transaction(async |mut tx| {
            ctx.locked(&mut tx).await?.require_role(Role::Owner)?;
            Ok(rooms::delete(&mut tx, ctx.room.id).await?)
        })
        .await?;
    tracing::info!(room.id = ctx.room.id, member.id = ctx.caller, "room deleted");
    events::announce(rules, ctx.room.id, None, MembershipChange::RoomDeleted).await;
    Ok(())
}

/// Hands the room over to `to`, the caller becoming an admin. Checked and made in one transaction on
/// the locked room: of two transfers at once, the second finds the caller no longer owns the room.
pub(crate) async fn transfer(rules: &Rules<'_>, ctx: &RoomContext, to: i64) -> Result<(), RoomError> {
    ctx.require_community()?;
    rules
        .transaction(async |mut tx| {
            ctx.locked(&mut tx).await?.require_role(Role::Owner)?;
            if to == ctx.caller {
                return Err(RoomError::bad_request("You already own this room."));
            }
            Ok(memberships::transfer_ownership(&mut tx, ctx.room.id, ctx.caller, to).await?)
        })
        .await?;
    for member in [ctx.caller, to] {
        events::announce(rules, ctx.room.id, Some(member), MembershipChange::RoleChanged).await;
    }
    Ok(())
}

/// Who may see what of a room: private room members, listed rooms everyone.
pub(crate) fn visibility_label(visibility: Visibility) -> &'static str {
    match visibility {
        Visibility::Public => "public",
        Visibility::InviteOnly => "invite only",
        Visibility::Private => "private",
    }
}

//! Direct (1:1) chats and blocking.
//!
//! A client starts a chat when its member sends the first message: it asks for the pair's room
//! (`PUT /api/v1/direct/{username}`, created on first use, never twice) and publishes to it. A
//! member who is blocked by the other may still read the room but not post (`RoomAccess::read_only`).

use natter_db::{Conn, Member, Room, direct, friends, members};
use natter_proto::events::MembershipChange;
use natter_proto::friends::DirectFrom;

use super::Rules;
use super::{RoomError, events};

/// The member named `username`, who is not `caller`.
pub(crate) async fn other_member(
    conn: &mut Conn<'_>,
    caller: i64,
    username: &str,
) -> Result<Member, RoomError> {
    let other = members::by_username(conn, username.trim())
        .await?
        .ok_or_else(|| RoomError::NotFound("No member has that username.".to_owned()))?;
    if other.id == caller {
        return Err(RoomError::bad_request("You cannot start a chat or block yourself."));
    }
    Ok(other)
}

/// The direct room of the caller and `username`, created on first use (unless they block the
/// caller: checked in the transaction that creates the room).
pub(crate) async fn start(rules: &Rules<'_>, caller: i64, username: &str) -> Result<Room, RoomError> {
    let (other, room) = rules
        .transaction(async |mut tx| {
            let other = other_member(&mut tx, caller, username).await?;
            if direct::has_blocked(&mut tx, other.id, caller).await? {
                return Err(RoomError::forbidden("You cannot send direct messages to this member."));
            }
            // Who may start a chat is their choice; a chat that exists goes on.
            if direct::find_room(&mut tx, caller, other.id).await?.is_none()
                && DirectFrom::parse(&friends::direct_from(&mut tx, other.id).await?) == DirectFrom::Friends
                && !friends::are_friends(&mut tx, caller, other.id).await?
            {
                return Err(RoomError::forbidden(format!(
                    "{} accepts direct chats from friends only: send a friend request first.",
                    other.display_name
                )));
            }
            let room = direct::find_or_create_room(&mut tx, caller, other.id).await?;
            Ok((other, room))
        })
        .await?;
    // Both room lists learn of the chat at once (the other member's without a reload). Announced on
    // every start, new room or not: a repeat only makes clients re-read a list entry they have.
    for member in [other.id, caller] {
        events::announce(rules, room.id, Some(member), MembershipChange::Joined).await;
    }
    Ok(room)
}

/// Blocks or unblocks `username`; their access to an existing direct room changes at once.
pub(crate) async fn set_blocked(
    rules: &Rules<'_>,
    caller: i64,
    username: &str,
    blocked: bool,
) -> Result<(), RoomError> {
    let (other, room) = rules
        .transaction(async |mut tx| {
            let other = other_member(&mut tx, caller, username).await?;
            let changed = if blocked {
                direct::block(&mut tx, caller, other.id).await?;
                // A block ends the friendship and any request between them.
                friends::sever(&mut tx, caller, other.id).await?;
                true
            } else {
                direct::unblock(&mut tx, caller, other.id).await?
            };
            let room = if changed { direct::find_room(&mut tx, caller, other.id).await? } else { None };
            Ok((other, room))
        })
        .await?;
    if let Some(room) = room {
        let change = if blocked { MembershipChange::Blocked } else { MembershipChange::Unblocked };
        events::announce(rules, room.id, Some(other.id), change).await;
    }
    if blocked {
        crate::friends::announce(rules, &[caller, other.id]).await;
    }
    Ok(())
}

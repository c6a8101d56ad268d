//! The caller's standing in a room, loaded once per request, and the checks every operation makes.
//!
//! Rules: private and direct rooms do not exist for outsiders (404) unless invited; listed rooms (public,
//! invite-only) can be seen by anyone logged in, but only members read their messages. Owners and
//! admins moderate, and act only on members ranked below them.

use natter_db::{Conn, Membership, Role, Room, RoomKind, Visibility, invites, memberships, rooms};

use super::RoomError;
use super::Rules;

pub(crate) struct RoomContext {
    pub(crate) room: Room,
    pub(crate) caller: i64,
    pub(crate) membership: Option<Membership>,
}

impl RoomContext {
    /// The room as `caller` may see it.
    pub(crate) async fn load(rules: &Rules<'_>, room_id: i64, caller: i64) -> Result<Self, RoomError> {
        let mut conn = rules.db.conn().await?;
        let room = rooms::by_id(&mut conn, room_id).await?.ok_or_else(RoomError::no_room)?;
        let membership = memberships::get(&mut conn, room_id, caller).await?;
        let hidden = room.kind() == RoomKind::Direct || room.visibility() == Visibility::Private;
        // An invitation reveals a private room to the invitee, so they can join it.
        if hidden && membership.is_none() && !invites::is_invited(&mut conn, room_id, caller).await? {
            return Err(RoomError::no_room());
        }
        Ok(Self { room, caller, membership })
    }

    /// The caller's standing as it is now, with the room locked until the end of the transaction
    /// `tx`: a use case that checks and then changes the room makes its checks on this, in the
    /// transaction of the change, so that concurrent changes to the room take turns.
    pub(crate) async fn locked(&self, tx: &mut Conn<'_>) -> Result<Self, RoomError> {
        let room = rooms::lock(tx, self.room.id).await?.ok_or_else(RoomError::no_room)?;
        let membership = memberships::get(tx, self.room.id, self.caller).await?;
        Ok(Self { room, caller: self.caller, membership })
    }

    pub(crate) fn role(&self) -> Option<Role> {
        self.membership.as_ref().map(Membership::role)
    }

    /// The caller is in the room (any role).
    pub(crate) fn require_member(&self) -> Result<Role, RoomError> {
        self.role().ok_or_else(|| RoomError::forbidden("You are not a member of this room."))
    }

    /// The caller's role is at least `min`.
    pub(crate) fn require_role(&self, min: Role) -> Result<Role, RoomError> {
        let role = self.require_member()?;
        if role < min {
            let who = if min == Role::Owner { "the room's owner" } else { "the room's owner and admins" };
            return Err(RoomError::forbidden(format!("Only {who} may do that.")));
        }
        Ok(role)
    }

    /// A community room (direct rooms have no settings or moderation).
    pub(crate) fn require_community(&self) -> Result<(), RoomError> {
        if self.room.kind() == RoomKind::Direct {
            return Err(RoomError::forbidden("Direct rooms have no settings or moderation."));
        }
        Ok(())
    }

    /// The caller moderates and outranks `target` (a member of the room); returns the target's role.
    pub(crate) async fn require_outranks(&self, conn: &mut Conn<'_>, target: i64) -> Result<Role, RoomError> {
        self.require_community()?;
        let role = self.require_role(Role::Admin)?;
        if target == self.caller {
            return Err(RoomError::bad_request("You cannot do that to yourself."));
        }
        let target_role = memberships::role(conn, self.room.id, target)
            .await?
            .ok_or_else(|| RoomError::NotFound("That member is not in this room.".to_owned()))?;
        if target_role >= role {
            return Err(RoomError::forbidden("You can only moderate members ranked below you."));
        }
        Ok(target_role)
    }
}

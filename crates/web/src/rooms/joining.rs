//! Joining (openly, by invitation, by invite link), leaving, and inviting.
//!
//! Invite link codes are 32 random bytes shown once; only their SHA-256 is stored, so a database
//! leak does not hand out entry to invite-only rooms.

use chrono::Duration;
use natter_db::{InviteLinkRecord, JoinBy, Joined, Role, invites, members, memberships};
use natter_proto::events::MembershipChange;
use natter_proto::rooms::{InviteLink, NewInviteLink};

use super::Rules;
use super::{RoomContext, RoomError, events};

const DEFAULT_LINK_TTL_SECS: u64 = 24 * 3600;
const MAX_LINK_TTL_SECS: u64 = 30 * 24 * 3600;

fn code_hash(code: &str) -> String {
    crate::sessions::sha256_hex(code.as_bytes())
}

fn new_code() -> Result<String, RoomError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| RoomError::Internal(e.to_string()))?;
    Ok(base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes))
}

/// Joins a room without a link: public rooms, or with a pending invitation.
pub(crate) async fn join(rules: &Rules<'_>, ctx: &RoomContext) -> Result<Joined, RoomError> {
    let joined =
        memberships::join(&mut rules.db.conn().await?, ctx.room.id, ctx.caller, JoinBy::Asking).await?;
    if joined == Joined::Joined {
        tracing::info!(room.id = ctx.room.id, member.id = ctx.caller, "member joined room");
        events::announce(rules, ctx.room.id, Some(ctx.caller), MembershipChange::Joined).await;
    }
    Ok(joined)
}

/// Joins the room an invite link leads to; returns the room id.
pub(crate) async fn accept_link(rules: &Rules<'_>, caller: i64, code: &str) -> Result<i64, RoomError> {
    let hash = code_hash(code.trim());
    let invalid =
        || RoomError::NotFound("This invite link is unknown, expired, used up or revoked.".to_owned());
    let (room_id, joined) = rules
        .transaction(async |mut tx| {
            let room_id = invites::room_of_link(&mut tx, &hash).await?.ok_or_else(invalid)?;
            let joined =
                memberships::join(&mut tx, room_id, caller, JoinBy::Link { code_hash: &hash }).await?;
            Ok((room_id, joined))
        })
        .await?;
    if joined == Joined::Joined {
        events::announce(rules, room_id, Some(caller), MembershipChange::Joined).await;
    }
    Ok(room_id)
}

/// Leaves the room; its owner hands it over first, so that a room always has one.
pub(crate) async fn leave(rules: &Rules<'_>, ctx: &RoomContext) -> Result<(), RoomError> {
    rules
        .transaction(async |mut tx| match ctx.locked(&mut tx).await?.role() {
            None => Err(RoomError::NotFound("You are not in this room.".to_owned())),
            Some(Role::Owner) => {
                Err(RoomError::Conflict("Hand the room over to another member before leaving it.".to_owned()))
            }
            Some(_) => {
                memberships::remove(&mut tx, ctx.room.id, ctx.caller, ctx.caller, "left").await?;
                Ok(())
            }
        })
        .await?;
    events::announce(rules, ctx.room.id, Some(ctx.caller), MembershipChange::Left).await;
    Ok(())
}

/// Invites a member by username, unless they are banned: checked and written in one transaction, so
/// a ban made meanwhile cannot slip between the two.
pub(crate) async fn invite(rules: &Rules<'_>, ctx: &RoomContext, username: &str) -> Result<(), RoomError> {
    rules
        .transaction(async |mut tx| {
            let ctx = ctx.locked(&mut tx).await?;
            ctx.require_community()?;
            ctx.require_role(Role::Admin)?;
            let invitee = members::by_username(&mut tx, username.trim())
                .await?
                .ok_or_else(|| RoomError::NotFound("No member has that username.".to_owned()))?;
            if memberships::active_ban(&mut tx, ctx.room.id, invitee.id).await?.is_some() {
                return Err(RoomError::Conflict(
                    "That member is banned here; lift the ban first.".to_owned(),
                ));
            }
            invites::invite(&mut tx, ctx.room.id, invitee.id, ctx.caller).await?;
            Ok(())
        })
        .await
}

pub(crate) fn link_view(record: InviteLinkRecord, code: Option<String>) -> InviteLink {
    InviteLink {
        id: record.id,
        room_id: record.room_id,
        code,
        expires_at_ms: record.expires_at.and_utc().timestamp_millis(),
        max_uses: record.max_uses.map(|n| n.max(0) as u32),
        uses: record.uses.max(0) as u32,
        revoked: record.revoked_at.is_some(),
    }
}

pub(crate) async fn create_link(
    rules: &Rules<'_>,
    ctx: &RoomContext,
    new: &NewInviteLink,
) -> Result<InviteLink, RoomError> {
    ctx.require_community()?;
    ctx.require_role(Role::Admin)?;
    let ttl = new.expires_in_s.unwrap_or(DEFAULT_LINK_TTL_SECS);
    if !(60..=MAX_LINK_TTL_SECS).contains(&ttl) {
        return Err(RoomError::bad_request(format!("expires_in_s is between 60 and {MAX_LINK_TTL_SECS}.")));
    }
    let max_uses = match new.max_uses {
        Some(n @ 1..=100_000) => Some(n as i32),
        Some(_) => return Err(RoomError::bad_request("max_uses is between 1 and 100000.")),
        None => None,
    };
    let code = new_code()?;
    let expires_at = chrono::Utc::now().naive_utc() + Duration::seconds(ttl as i64);
    let record = invites::create_link(
        &mut rules.db.conn().await?,
        ctx.room.id,
        &code_hash(&code),
        expires_at,
        max_uses,
        ctx.caller,
    )
    .await?;
    Ok(link_view(record, Some(code)))
}

pub(crate) async fn links(rules: &Rules<'_>, ctx: &RoomContext) -> Result<Vec<InviteLink>, RoomError> {
    ctx.require_community()?;
    ctx.require_role(Role::Admin)?;
    let links = invites::links(&mut rules.db.conn().await?, ctx.room.id).await?;
    Ok(links.into_iter().map(|l| link_view(l, None)).collect())
}

pub(crate) async fn revoke_link(rules: &Rules<'_>, ctx: &RoomContext, link_id: i64) -> Result<(), RoomError> {
    ctx.require_community()?;
    ctx.require_role(Role::Admin)?;
    if !invites::revoke_link(&mut rules.db.conn().await?, ctx.room.id, link_id, ctx.caller).await? {
        return Err(RoomError::NotFound("No such active invite link in this room.".to_owned()));
    }
    Ok(())
}

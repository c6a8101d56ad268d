//! The answer message pods get to "may this member use this room?".

use natter_db::{Role, RoomKind, direct, memberships, rooms};
use natter_proto::http::{ReadOnlyReason, RoomAccess};

use super::RoomError;
use super::Rules;

pub(crate) async fn room_access(
    rules: &Rules<'_>,
    room_id: i64,
    member_id: i64,
) -> Result<RoomAccess, RoomError> {
    let none =
        RoomAccess { room_id, member_id, role: None, direct: false, read_only: None, muted_until_ms: None };
    let mut conn = rules.db.conn().await?;
    let Some(room) = rooms::by_id(&mut conn, room_id).await? else { return Ok(none) };
    let Some(membership) = memberships::get(&mut conn, room_id, member_id).await? else {
        return Ok(none);
    };
    let role = membership.role();
    let direct = room.kind() == RoomKind::Direct;
    let read_only = if room.is_archived() {
        Some(ReadOnlyReason::Archived)
    } else if role == Role::Observer {
        Some(ReadOnlyReason::Observer)
    } else if let Some((a, b)) = room.direct_pair()
        && direct::has_blocked(&mut conn, if a == member_id { b } else { a }, member_id).await?
    {
        Some(ReadOnlyReason::Blocked)
    } else {
        None
    };
    let now = chrono::Utc::now().naive_utc();
    Ok(RoomAccess {
        room_id,
        member_id,
        role: Some(role),
        direct,
        read_only,
        muted_until_ms: membership.muted_until.filter(|until| *until > now).map(super::views::millis),
    })
}

//! Rooms, members and audit records as the API and the pages show them.

use chrono::NaiveDateTime;
use natter_db::{AuditRecord, MemberSummary, Membership, Role, Room, RoomKind, members};
use natter_proto::rooms::{AuditEntry, RoomMemberView, RoomView};

use super::RoomError;
use crate::app::State;

pub(crate) fn millis(at: NaiveDateTime) -> i64 {
    at.and_utc().timestamp_millis()
}

/// A room as `caller` sees it; a direct room is named after the other member.
pub(crate) async fn room_view(
    state: &State,
    room: &Room,
    caller: i64,
    role: Option<Role>,
) -> Result<RoomView, RoomError> {
    let name = match room.direct_pair() {
        Some((a, b)) => {
            let other = if a == caller { b } else { a };
            members::by_id(&mut state.db.conn().await?, other)
                .await?
                .map(|m| m.display_name)
                .unwrap_or_default()
        }
        None => room.name.clone(),
    };
    Ok(RoomView {
        id: room.id,
        kind: room.kind(),
        name,
        topic: room.topic.clone(),
        visibility: room.visibility(),
        capacity: room.capacity.max(0) as u32,
        member_count: room.member_count.max(0) as u32,
        archived: room.is_archived(),
        created_at_ms: millis(room.created_at),
        your_role: if room.kind() == RoomKind::Direct { role.map(|_| Role::Member) } else { role },
    })
}

pub(crate) fn member_view((member, membership): (MemberSummary, Membership)) -> RoomMemberView {
    RoomMemberView {
        member_id: member.id,
        username: member.username,
        display_name: member.display_name,
        role: membership.role(),
        muted_until_ms: membership
            .muted_until
            .filter(|until| *until > chrono::Utc::now().naive_utc())
            .map(millis),
        joined_at_ms: millis(membership.joined_at),
    }
}

pub(crate) fn audit_view(record: AuditRecord) -> AuditEntry {
    AuditEntry {
        id: record.id,
        at_ms: millis(record.at),
        actor_id: record.actor_id,
        actor_name: record.actor_name,
        action: record.action,
        target_id: record.target_id,
        detail: record.detail,
    }
}

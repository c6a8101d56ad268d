//! Read positions: the store keeps them (only moving forward; unread counts come from them), and
//! the room's subscribers hear of a move as `member_read` (topic `natter.presence`, event
//! [`PresenceEvent::Read`]), so read receipts show and a member's other devices clear their unread
//! marks.
//!
//! Pushes are coalesced: a member scrolling through a busy room marks many positions, but the room
//! hears at most one move per member and room per `NATTER_READ_PUSH_MS`, the furthest one. A push
//! lost to a broker failure is logged, not retried: the next mark or a page load corrects it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use natter_bus::EventBus;
use natter_db::{DbError, memberships};
use natter_proto::events::{PresenceEvent, ReadMoved};
use natter_proto::topics::{Topic, room_key};
use natter_proto::{MemberId, RoomId};

use crate::app::State;

/// Moves waiting for the next push, furthest position per member and room.
#[derive(Default)]
pub(crate) struct ReadPushes {
    pending: Mutex<HashMap<(RoomId, MemberId), i64>>,
}

impl ReadPushes {
    fn record(&self, room: RoomId, member: MemberId, position: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let furthest = pending.entry((room, member)).or_insert(position);
        *furthest = (*furthest).max(position);
    }

    fn take(&self) -> HashMap<(RoomId, MemberId), i64> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Moves `member`'s read position in `room` forward to `position` and queues the push when it moved.
/// The position after the mark; `None` when not a member.
pub(crate) async fn mark(
    state: &State,
    room: RoomId,
    member: MemberId,
    position: i64,
) -> Result<Option<i64>, DbError> {
    let after = memberships::mark_read(&mut state.db.conn().await?, room, member, position).await?;
    if after == Some(position) {
        state.read_pushes.record(room, member, position);
    }
    Ok(after)
}

/// Publishes the queued moves every `every`, forever.
pub(crate) async fn push(
    pushes: Arc<ReadPushes>,
    bus: Arc<dyn EventBus>,
    topic_prefix: String,
    every: Duration,
) {
    let topic = Topic::Presence.name(&topic_prefix);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for ((room_id, member_id), position) in pushes.take() {
            let event = PresenceEvent::Read(ReadMoved { room_id, member_id, position });
            let payload = serde_json::to_vec(&event).expect("events serialise");
            if let Err(e) = bus.publish(&topic, &room_key(room_id), payload).await {
                tracing::warn!(error = %e, room.id = room_id, member.id = member_id, "read move not pushed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_furthest_mark_of_a_window_is_pushed_once() {
        let pushes = ReadPushes::default();
        pushes.record(1, 7, 10);
        pushes.record(1, 7, 30);
        pushes.record(1, 7, 20);
        pushes.record(2, 7, 5);
        let taken = pushes.take();
        assert_eq!(taken.len(), 2);
        assert_eq!((taken[&(1, 7)], taken[&(2, 7)]), (30, 5));
        assert!(pushes.take().is_empty(), "taken once");
    }
}

//! Telling message pods that who may use a room has changed (topic `natter.rooms.membership`).
//!
//! Published after the change is committed. If the bus is down the change still stands: pods stop
//! serving a stale answer when their access cache expires (`NATTER_ACCESS_CACHE_TTL_MS`), but open
//! subscriptions of a removed member are only cut by the event, so failures are logged loudly.

use natter_proto::events::{MembershipChange, MembershipChanged};
use natter_proto::topics::{Topic, room_key};

use super::Rules;

const ATTEMPTS: u32 = 3;

pub(crate) async fn announce(
    rules: &Rules<'_>,
    room_id: i64,
    member_id: Option<i64>,
    change: MembershipChange,
) {
    let event = MembershipChanged { room_id, member_id, change };
    let payload = serde_json::to_vec(&event).expect("events serialise");
    let topic = Topic::Membership.name(rules.topic_prefix);
    for attempt in 1..=ATTEMPTS {
        match rules.bus.publish(&topic, &room_key(room_id), payload.clone()).await {
            Ok(_) => return,
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(error = %e, room.id = room_id, attempt, "membership event not published; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(attempt))).await;
            }
            Err(e) => {
                tracing::error!(error = %e, room.id = room_id, ?change, "membership event lost");
            }
        }
    }
}

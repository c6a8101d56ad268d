//! Telling co-members when a member comes online or goes offline (topic `natter.presence`, event
//! [`PresenceEvent::Member`]); message pods hand it to subscribers of the member's rooms.
//!
//! Debounced per member: a change waits `debounce` before it is published, and a change back within
//! that time cancels it, so a flapping connection (a phone switching networks, a page reload) tells
//! nobody. What is published is the member's presence when the wait ends, read from the store, so a
//! late or repeated event still says the truth. Changes come from the store's atomic updates, so each
//! is seen by exactly one presence instance; several instances need no coordination.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{StreamExt, stream};
use natter_bus::EventBus;
use natter_http::InternalClient;
use natter_proto::MemberId;
use natter_proto::events::{MemberPresenceChanged, PresenceEvent};
use natter_proto::http::MemberRooms;
use natter_proto::topics::{Topic, member_key};
use tokio::time::Instant;

use crate::store::{Change, PresenceStore};

/// Room lookups at once when many members change together (a pod crashed).
const LOOKUPS_AT_ONCE: usize = 8;

/// A member's change waiting for its debounce to end.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// Online before the first change of this wait.
    was_online: bool,
    online: bool,
    since: Instant,
}

/// Changes waiting to be published.
#[derive(Default)]
pub(crate) struct PresencePushes {
    pending: Mutex<HashMap<MemberId, Pending>>,
}

impl PresencePushes {
    /// Notes changes from a heartbeat or an expiry, in the order they happened.
    pub(crate) fn record(&self, changes: &[Change]) {
        self.record_at(changes, Instant::now());
    }

    fn record_at(&self, changes: &[Change], now: Instant) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        for change in changes {
            let entry = pending.entry(change.member_id).or_insert(Pending {
                was_online: !change.online,
                online: change.online,
                since: now,
            });
            entry.online = change.online;
        }
    }

    /// Members whose wait has ended at `now` and whose state differs from before it; flaps are dropped.
    fn due(&self, debounce: Duration, now: Instant) -> Vec<MemberId> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let mut due = Vec::new();
        pending.retain(|member, p| {
            if now.duration_since(p.since) < debounce {
                return true;
            }
            if p.online != p.was_online {
                due.push(*member);
            }
            false
        });
        due.sort_unstable();
        due
    }
}

pub(crate) struct Publisher {
    pub(crate) pushes: Arc<PresencePushes>,
    pub(crate) store: Arc<dyn PresenceStore>,
    pub(crate) bus: Arc<dyn EventBus>,
    pub(crate) web: InternalClient,
    pub(crate) topic_prefix: String,
    pub(crate) debounce: Duration,
    pub(crate) away_after_ms: i64,
}

impl Publisher {
    /// Publishes due changes every quarter of the debounce, forever.
    pub(crate) async fn run(self) {
        let mut tick = tokio::time::interval((self.debounce / 4).max(Duration::from_millis(10)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let due = self.pushes.due(self.debounce, Instant::now());
            if !due.is_empty() {
                self.publish(&due).await;
            }
        }
    }

    async fn publish(&self, members: &[MemberId]) {
        let states = match self.store.presence(members, self.away_after_ms, crate::app::now_ms()).await {
            Ok(states) => states,
            Err(e) => {
                tracing::warn!(error = %e, members = members.len(), "presence changes not pushed");
                return;
            }
        };
        let topic = Topic::Presence.name(&self.topic_prefix);
        let mut lookups = stream::iter(states)
            .map(|state| async move {
                let path = format!("/internal/members/{}/rooms", state.member_id);
                (self.web.get_json::<MemberRooms>(&path).await, state)
            })
            .buffer_unordered(LOOKUPS_AT_ONCE);
        while let Some((rooms, state)) = lookups.next().await {
            let rooms = match rooms {
                Ok(rooms) => rooms,
                Err(e) => {
                    tracing::warn!(error = %e, member.id = state.member_id, "rooms unknown; change not pushed");
                    continue;
                }
            };
            if rooms.room_ids.is_empty() {
                continue;
            }
            let event = PresenceEvent::Member(MemberPresenceChanged {
                member_id: state.member_id,
                state: state.state,
                last_seen_ms: state.last_seen_ms,
                room_ids: rooms.room_ids,
            });
            let payload = serde_json::to_vec(&event).expect("events serialise");
            if let Err(e) = self.bus.publish(&topic, &member_key(state.member_id), payload).await {
                tracing::warn!(error = %e, member.id = state.member_id, "presence change not pushed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBOUNCE: Duration = Duration::from_secs(1);

    #[test]
    fn a_change_is_due_once_its_wait_ends() {
        let pushes = PresencePushes::default();
        let t = Instant::now();
        pushes.record_at(&[Change::online(1)], t);
        assert!(pushes.due(DEBOUNCE, t + Duration::from_millis(999)).is_empty(), "still waiting");
        assert_eq!(pushes.due(DEBOUNCE, t + DEBOUNCE), [1]);
        assert!(pushes.due(DEBOUNCE, t + DEBOUNCE * 2).is_empty(), "published once");
    }

    #[test]
    fn a_flap_within_the_wait_tells_nobody() {
        let pushes = PresencePushes::default();
        let t = Instant::now();
        pushes.record_at(&[Change::offline(1), Change::online(2)], t);
        pushes.record_at(&[Change::online(1)], t + Duration::from_millis(300));
        pushes.record_at(&[Change::offline(2), Change::online(2), Change::offline(2)], t);
        assert_eq!(pushes.due(DEBOUNCE, t + DEBOUNCE), Vec::<MemberId>::new(), "1 came back, 2 never stayed");
        // Offline, online, offline: offline in the end.
        pushes.record_at(&[Change::offline(3), Change::online(3), Change::offline(3)], t);
        assert_eq!(pushes.due(DEBOUNCE, t + DEBOUNCE), [3]);
    }
}

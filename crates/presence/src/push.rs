//! Telling co-members when a member comes online or goes offline (topic `natter.presence`, event
//! [`PresenceEvent::Member`]); message pods hand it to subscribers of the member's rooms.
//!
//! Debounced per member: a change waits `debounce` before it is published, and a change back within
//! that time cancels it, so a flapping connection (a phone switching networks, a page reload) tells
//! nobody. What is published is the direction of the settled change (online or offline), with the
//! details (away, last seen) read from the store when the wait ends. The direction is not re-read:
//! a change back that lands between the end of the wait and that read starts a wait of its own, and
//! is published in turn, so co-members always end on the member's last state (re-reading it here
//! would tell them "online" twice and then swallow the final "offline" as a flap). Changes come from
//! the store's atomic updates, so each is seen by exactly one presence instance; several instances
//! need no coordination.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{StreamExt, stream};
use natter_bus::EventBus;
use natter_http::InternalClient;
use natter_proto::MemberId;
use natter_proto::events::{MemberPresenceChanged, PresenceEvent};
use natter_proto::http::{MemberPresence, MemberRooms, PresenceState};
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

    /// Members whose wait has ended at `now` and whose state differs from before it, with whether they
    /// are online now; flaps are dropped.
    fn due(&self, debounce: Duration, now: Instant) -> Vec<(MemberId, bool)> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let mut due = Vec::new();
        pending.retain(|member, p| {
            if now.duration_since(p.since) < debounce {
                return true;
            }
            if p.online != p.was_online {
                due.push((*member, p.online));
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

    async fn publish(&self, due: &[(MemberId, bool)]) {
        let members: Vec<MemberId> = due.iter().map(|(member, _)| *member).collect();
        let now_ms = crate::app::now_ms();
        let states = match self.store.presence(&members, self.away_after_ms, now_ms).await {
            Ok(states) => states,
            Err(e) => {
                tracing::warn!(error = %e, members = members.len(), "presence changes not pushed");
                return;
            }
        };
        let online: HashMap<MemberId, bool> = due.iter().copied().collect();
        let states = states.into_iter().map(|state| {
            let online = online[&state.member_id];
            settled(state, online, now_ms)
        });
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

/// The change to publish: `online` as the settled change says, with the store's details when they
/// agree (away, last seen); when the store has moved on, a newer change is waiting to be published.
fn settled(mut state: MemberPresence, online: bool, now_ms: i64) -> MemberPresence {
    match (online, state.state) {
        (true, PresenceState::Offline) => {
            state.state = PresenceState::Online;
            state.last_seen_ms = None;
        }
        (false, PresenceState::Online | PresenceState::Away) => {
            state.state = PresenceState::Offline;
            state.last_seen_ms = Some(now_ms);
        }
        _ => {}
    }
    state
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
        assert_eq!(pushes.due(DEBOUNCE, t + DEBOUNCE), [(1, true)]);
        assert!(pushes.due(DEBOUNCE, t + DEBOUNCE * 2).is_empty(), "published once");
    }

    #[test]
    fn a_flap_within_the_wait_tells_nobody() {
        let pushes = PresencePushes::default();
        let t = Instant::now();
        pushes.record_at(&[Change::offline(1), Change::online(2)], t);
        pushes.record_at(&[Change::online(1)], t + Duration::from_millis(300));
        pushes.record_at(&[Change::offline(2), Change::online(2), Change::offline(2)], t);
        assert_eq!(pushes.due(DEBOUNCE, t + DEBOUNCE), [], "1 came back, 2 never stayed");
        // Offline, online, offline: offline in the end.
        pushes.record_at(&[Change::offline(3), Change::online(3), Change::offline(3)], t);
        assert_eq!(pushes.due(DEBOUNCE, t + DEBOUNCE), [(3, false)]);
    }

    #[test]
    fn a_change_back_after_the_wait_is_published_after_it() {
        let pushes = PresencePushes::default();
        let t = Instant::now();
        pushes.record_at(&[Change::offline(1)], t);
        assert_eq!(pushes.due(DEBOUNCE, t + DEBOUNCE), [(1, false)]);
        // Back online while the offline change is being published: that is a change of its own.
        pushes.record_at(&[Change::online(1)], t + DEBOUNCE);
        assert_eq!(pushes.due(DEBOUNCE, t + DEBOUNCE * 2), [(1, true)]);
    }

    fn presence(state: PresenceState, last_seen_ms: Option<i64>) -> MemberPresence {
        MemberPresence { member_id: 1, state, connections: 0, rooms: Vec::new(), last_seen_ms }
    }

    #[test]
    fn the_settled_change_decides_online_or_offline_and_the_store_the_details() {
        let away = presence(PresenceState::Away, None);
        assert_eq!(settled(away.clone(), true, 5).state, PresenceState::Away, "away is online");
        let offline = presence(PresenceState::Offline, Some(3));
        assert_eq!(settled(offline.clone(), false, 5), offline, "agreeing: as stored");
        // The store has moved on (a newer change waits): this change still says what it was.
        let went_offline = settled(away, false, 5);
        assert_eq!((went_offline.state, went_offline.last_seen_ms), (PresenceState::Offline, Some(5)));
        let came_online = settled(offline, true, 5);
        assert_eq!((came_online.state, came_online.last_seen_ms), (PresenceState::Online, None));
    }
}

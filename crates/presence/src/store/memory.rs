//! Presence in process memory (standalone mode), with the same rules as the Redis adapter.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use natter_proto::calls::{CallSeat, CallState};
use natter_proto::http::{MemberPresence, PodHeartbeat};
use natter_proto::{MemberId, RoomId};

use super::{Applied, Change, PresenceError, PresenceStore, Sighting, next_call_version};

#[derive(Default)]
struct Pod {
    deadline_ms: i64,
    /// connection → (member, room)
    connections: HashMap<String, (MemberId, Option<RoomId>)>,
    /// connection → its seat in a call
    seats: HashMap<String, CallSeat>,
}

#[derive(Default)]
struct State {
    pods: HashMap<String, Pod>,
    /// member → (pod, connection) → room: a member's connections without walking every pod.
    members: HashMap<MemberId, HashMap<(String, String), Option<RoomId>>>,
    active: HashMap<MemberId, i64>,
    seen: HashMap<MemberId, i64>,
    /// room → version of its call's last change (kept: a version must never go back)
    call_versions: HashMap<RoomId, u64>,
}

impl State {
    fn call_changed(&mut self, room: RoomId, now_ms: i64, applied: &mut Applied) {
        let version = self.call_versions.entry(room).or_default();
        *version = next_call_version(*version, now_ms);
        applied.calls.push(room);
    }

    /// Seats `connection` of `pod` as `seat` (`None`: in no call).
    fn seat(
        &mut self,
        pod: &str,
        connection: &str,
        seat: Option<&CallSeat>,
        now_ms: i64,
        applied: &mut Applied,
    ) {
        let Some(entry) = self.pods.get_mut(pod) else { return };
        let before = match seat {
            Some(seat) => entry.seats.insert(connection.to_owned(), seat.clone()),
            None => entry.seats.remove(connection),
        };
        if before.as_ref() == seat {
            return;
        }
        let rooms: BTreeSet<RoomId> = before.iter().chain(seat).map(|s| s.room).collect();
        for room in rooms {
            self.call_changed(room, now_ms, applied);
        }
    }

    fn forget(&mut self, pod: &str, connection: &str, now_ms: i64, applied: &mut Applied) {
        self.seat(pod, connection, None, now_ms, applied);
        let Some((member, _)) = self.pods.get_mut(pod).and_then(|p| p.connections.remove(connection)) else {
            return;
        };
        let changes = &mut applied.changes;
        if let Some(connections) = self.members.get_mut(&member) {
            connections.remove(&(pod.to_owned(), connection.to_owned()));
            if connections.is_empty() {
                self.members.remove(&member);
                self.seen.insert(member, now_ms);
                changes.push(Change::offline(member));
            }
        }
    }

    fn live(&self, pod: &str, now_ms: i64) -> bool {
        self.pods.get(pod).is_some_and(|p| p.deadline_ms > now_ms)
    }
}

#[derive(Default)]
pub struct MemoryPresence {
    state: Mutex<State>,
}

impl MemoryPresence {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl PresenceStore for MemoryPresence {
    async fn heartbeat(&self, pod: &str, beat: &PodHeartbeat, now_ms: i64) -> Result<Applied, PresenceError> {
        let mut state = self.state();
        let known = state.pods.contains_key(pod);
        let entry = state.pods.entry(pod.to_owned()).or_default();
        entry.deadline_ms = now_ms.saturating_add(i64::try_from(beat.lease_ms).unwrap_or(i64::MAX));
        let mut applied = Applied { resync: !known && !beat.full, ..Applied::default() };
        for c in &beat.upserts {
            let pod_entry = state.pods.get_mut(pod).expect("inserted above");
            let before = pod_entry.connections.insert(c.connection.clone(), (c.member_id, c.room));
            if before.is_none() && state.members.get(&c.member_id).is_none_or(|c| c.is_empty()) {
                applied.changes.push(Change::online(c.member_id));
            }
            state.seat(pod, &c.connection, c.call.as_ref(), now_ms, &mut applied);
            let key = (pod.to_owned(), c.connection.clone());
            state.members.entry(c.member_id).or_default().insert(key, c.room);
            let active = state.active.entry(c.member_id).or_insert(c.active_at_ms);
            *active = (*active).max(c.active_at_ms);
        }
        if beat.full {
            let reported: BTreeSet<&str> = beat.upserts.iter().map(|c| c.connection.as_str()).collect();
            let gone: Vec<String> = state.pods[pod]
                .connections
                .keys()
                .filter(|c| !reported.contains(c.as_str()))
                .cloned()
                .collect();
            for connection in gone {
                state.forget(pod, &connection, now_ms, &mut applied);
            }
        }
        for connection in &beat.closed {
            state.forget(pod, connection, now_ms, &mut applied);
        }
        applied.calls.sort_unstable();
        applied.calls.dedup();
        Ok(applied)
    }

    async fn expire_pods(&self, now_ms: i64) -> Result<Applied, PresenceError> {
        let mut state = self.state();
        let expired: Vec<String> =
            state.pods.iter().filter(|(_, p)| p.deadline_ms <= now_ms).map(|(pod, _)| pod.clone()).collect();
        let mut applied = Applied::default();
        for pod in expired {
            let connections: Vec<String> = state.pods[&pod].connections.keys().cloned().collect();
            for connection in connections {
                state.forget(&pod, &connection, now_ms, &mut applied);
            }
            state.pods.remove(&pod);
        }
        applied.calls.sort_unstable();
        applied.calls.dedup();
        Ok(applied)
    }

    async fn presence(
        &self,
        members: &[MemberId],
        away_after_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<MemberPresence>, PresenceError> {
        let state = self.state();
        Ok(members
            .iter()
            .map(|&member| {
                let live = state.members.get(&member).map_or_else(Vec::new, |connections| {
                    connections
                        .iter()
                        .filter(|((pod, _), _)| state.live(pod, now_ms))
                        .map(|(_, room)| *room)
                        .collect()
                });
                let sighting = Sighting {
                    live,
                    active_at_ms: state.active.get(&member).copied(),
                    seen_at_ms: state.seen.get(&member).copied(),
                };
                sighting.into_presence(member, away_after_ms, now_ms)
            })
            .collect())
    }

    async fn call(&self, room: RoomId, now_ms: i64) -> Result<CallState, PresenceError> {
        let state = self.state();
        let mut participants: Vec<_> = state
            .pods
            .values()
            .filter(|p| p.deadline_ms > now_ms)
            .flat_map(|p| p.seats.values())
            .filter(|seat| seat.room == room)
            .map(|seat| seat.participant.clone())
            .collect();
        participants.sort_by(|a, b| (a.since_ms, &a.session).cmp(&(b.since_ms, &b.session)));
        let version = state.call_versions.get(&room).copied().unwrap_or_default();
        Ok(CallState { room_id: room, version, participants })
    }

    async fn room_present(&self, room: RoomId, now_ms: i64) -> Result<Vec<MemberId>, PresenceError> {
        let state = self.state();
        let members: BTreeSet<MemberId> = state
            .pods
            .values()
            .filter(|p| p.deadline_ms > now_ms)
            .flat_map(|p| p.connections.values())
            .filter(|(_, r)| *r == Some(room))
            .map(|(member, _)| *member)
            .collect();
        Ok(members.into_iter().collect())
    }

    async fn ping(&self) -> Result<(), PresenceError> {
        Ok(())
    }
}

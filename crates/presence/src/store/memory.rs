//! Presence in process memory (standalone mode), with the same rules as the Redis adapter.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use natter_proto::http::{MemberPresence, PodHeartbeat};
use natter_proto::{MemberId, RoomId};

use super::{Applied, Change, PresenceError, PresenceStore, Sighting};

#[derive(Default)]
struct Pod {
    deadline_ms: i64,
    /// connection → (member, room)
    connections: HashMap<String, (MemberId, Option<RoomId>)>,
}

#[derive(Default)]
struct State {
    pods: HashMap<String, Pod>,
    /// member → (pod, connection) → room: a member's connections without walking every pod.
    members: HashMap<MemberId, HashMap<(String, String), Option<RoomId>>>,
    active: HashMap<MemberId, i64>,
    seen: HashMap<MemberId, i64>,
}

impl State {
    fn forget(&mut self, pod: &str, connection: &str, now_ms: i64, changes: &mut Vec<Change>) {
        let Some((member, _)) = self.pods.get_mut(pod).and_then(|p| p.connections.remove(connection)) else {
            return;
        };
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
        let mut changes = Vec::new();
        for c in &beat.upserts {
            let pod_entry = state.pods.get_mut(pod).expect("inserted above");
            let before = pod_entry.connections.insert(c.connection.clone(), (c.member_id, c.room));
            if before.is_none() && state.members.get(&c.member_id).is_none_or(|c| c.is_empty()) {
                changes.push(Change::online(c.member_id));
            }
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
                state.forget(pod, &connection, now_ms, &mut changes);
            }
        }
        for connection in &beat.closed {
            state.forget(pod, connection, now_ms, &mut changes);
        }
        Ok(Applied { resync: !known && !beat.full, changes })
    }

    async fn expire_pods(&self, now_ms: i64) -> Result<Applied, PresenceError> {
        let mut state = self.state();
        let expired: Vec<String> =
            state.pods.iter().filter(|(_, p)| p.deadline_ms <= now_ms).map(|(pod, _)| pod.clone()).collect();
        let mut changes = Vec::new();
        for pod in expired {
            let connections: Vec<String> = state.pods[&pod].connections.keys().cloned().collect();
            for connection in connections {
                state.forget(&pod, &connection, now_ms, &mut changes);
            }
            state.pods.remove(&pod);
        }
        Ok(Applied { resync: false, changes })
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

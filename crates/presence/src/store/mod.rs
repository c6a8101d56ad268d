//! Where presence lives: Redis in production ([`RedisPresence`]), memory in standalone mode
//! ([`MemoryPresence`]). Both pass `tests/presence_contract.rs`.
//!
//! The model: message pods own connections and hold leases. A pod's heartbeat renews its lease and
//! reports its connection changes in one batch; a connection counts only while its pod's lease
//! runs, so the connections of a crashed pod stop counting when the lease ends, and
//! [`PresenceStore::expire_pods`] then forgets them. A member is online while at least one
//! connection counts, anywhere; away when every counting connection has been idle for the
//! configured time. A connection may hold a seat in one room's call; it leaves the call when the
//! connection closes or stops counting. Times are passed in (`now_ms`), so the rules do not depend on a store's clock.

mod memory;
mod redis;

use async_trait::async_trait;
use natter_proto::calls::CallState;
use natter_proto::http::{MemberPresence, PodHeartbeat, PresenceState};
use natter_proto::{MemberId, RoomId};

pub use self::memory::MemoryPresence;
pub use self::redis::RedisPresence;

#[derive(Debug, thiserror::Error)]
pub enum PresenceError {
    #[error("presence store unavailable: {0}")]
    Unavailable(String),
}

/// What a heartbeat or an expiry changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The pod's lease was unknown and the heartbeat was not full: ask it for a full one.
    pub resync: bool,
    /// Members who gained their first connection or lost their last one, in the order it happened
    /// (one heartbeat may open and close a member's only connection: both are listed).
    pub changes: Vec<Change>,
    /// Rooms whose call changed (someone joined, left, or changed their media), ascending.
    pub calls: Vec<RoomId>,
}

impl Applied {
    /// Adds what `other` changed.
    pub fn merge(&mut self, other: Applied) {
        self.resync |= other.resync;
        self.changes.extend(other.changes);
        self.calls.extend(other.calls);
        self.calls.sort_unstable();
        self.calls.dedup();
    }
}

/// The next version of a room's call after `previous`: at least the time of the change, so versions
/// keep growing when the store starts empty (see `CallState::version`).
pub(crate) fn next_call_version(previous: u64, now_ms: i64) -> u64 {
    (previous + 1).max(u64::try_from(now_ms).unwrap_or(0))
}

/// A member came online (`online`) or went offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub member_id: MemberId,
    pub online: bool,
}

impl Change {
    pub fn online(member_id: MemberId) -> Self {
        Self { member_id, online: true }
    }
    pub fn offline(member_id: MemberId) -> Self {
        Self { member_id, online: false }
    }
}

/// What is known of one member's connections, from which [`MemberPresence`] follows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sighting {
    /// Rooms of the member's connections on live pods (`None` = lobby).
    pub(crate) live: Vec<Option<RoomId>>,
    pub(crate) active_at_ms: Option<i64>,
    pub(crate) seen_at_ms: Option<i64>,
}

impl Sighting {
    pub(crate) fn into_presence(
        self,
        member_id: MemberId,
        away_after_ms: i64,
        now_ms: i64,
    ) -> MemberPresence {
        let connections = self.live.len() as u32;
        let mut rooms: Vec<RoomId> = self.live.into_iter().flatten().collect();
        rooms.sort_unstable();
        rooms.dedup();
        let state = if connections == 0 {
            PresenceState::Offline
        } else if self.active_at_ms.is_some_and(|at| now_ms - at > away_after_ms) {
            PresenceState::Away
        } else {
            PresenceState::Online
        };
        let last_seen_ms = if connections == 0 { self.seen_at_ms } else { None };
        MemberPresence { member_id, state, connections, rooms, last_seen_ms }
    }
}

#[async_trait]
pub trait PresenceStore: Send + Sync + 'static {
    /// Applies pod `pod`'s heartbeat received at `now_ms`: the lease runs until `now_ms +
    /// lease_ms`, the connection changes apply. Idempotent.
    async fn heartbeat(&self, pod: &str, beat: &PodHeartbeat, now_ms: i64) -> Result<Applied, PresenceError>;
    /// Forgets the connections of every pod whose lease ended before `now_ms`; their members become
    /// offline unless connected elsewhere (their "last seen" is `now_ms`).
    async fn expire_pods(&self, now_ms: i64) -> Result<Applied, PresenceError>;
    /// Presence of each member at `now_ms`, in the order asked.
    async fn presence(
        &self,
        members: &[MemberId],
        away_after_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<MemberPresence>, PresenceError>;
    /// Who is in `room`'s call at `now_ms` (seats of connections on live pods), in the order they
    /// joined, with the version of the room's last call change.
    async fn call(&self, room: RoomId, now_ms: i64) -> Result<CallState, PresenceError>;
    /// Members looking at `room` at `now_ms`, ascending.
    async fn room_present(&self, room: RoomId, now_ms: i64) -> Result<Vec<MemberId>, PresenceError>;
    async fn ping(&self) -> Result<(), PresenceError>;
}

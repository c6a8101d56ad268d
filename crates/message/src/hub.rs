//! Which of this pod's connections subscribe to which room, and delivery to them.
//!
//! Each connection has a bounded outbound queue. Delivery never waits: when a connection's queue is
//! full, a chat message is skipped (the connection later tells its client which positions to fetch),
//! an ephemeral notice is dropped, and anything else closes the connection with a code telling the
//! client to reconnect (see `outbox.rs`). So one slow client costs a bounded amount of memory and
//! never slows the room down for others, and an overloaded room degrades instead of dropping
//! everyone at once.
//!
//! The hub knows each subscription's member, so a membership change can remove one member's
//! connections from a room ([`Hub::remove`]). The notice travels through the same queue as the room's
//! messages: it arrives after every message delivered before the removal and before nothing else.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use bytestring::ByteString;
use natter_proto::{MemberId, RoomId};

use crate::outbox::{ConnectionId, Outbox, Outgoing};

/// One connection's subscription to a room.
struct Subscriber {
    member: MemberId,
    outbox: Outbox,
}

#[derive(Default)]
pub(crate) struct Hub {
    rooms: RwLock<HashMap<RoomId, HashMap<ConnectionId, Subscriber>>>,
    /// Every open connection of each member, subscribed or not: for news about the member's own
    /// room list (a room they joined elsewhere has no subscription here yet).
    members: RwLock<HashMap<MemberId, HashMap<ConnectionId, Outbox>>>,
    /// The position of the last message of each room this pod has delivered (to anyone or no one),
    /// read when a connection joins: everything up to it must come from history, everything after
    /// it arrives live. Written under the `rooms` read lock and read under its write lock, so a join
    /// sees exactly what was delivered before it.
    delivered: Mutex<HashMap<RoomId, i64>>,
    next_id: AtomicU64,
}

/// Rooms whose last delivered position the hub remembers; beyond it the oldest half is forgotten
/// (a resume in a forgotten room then waits for nothing and relies on the connection's skip).
const REMEMBERED_ROOMS: usize = 200_000;

impl Hub {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn next_connection_id(&self) -> ConnectionId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers an open connection of `member` (see [`Hub::deliver_to_member`]).
    pub(crate) fn connected(&self, member: MemberId, connection: ConnectionId, outbox: Outbox) {
        let mut members = self.members.write().unwrap_or_else(|e| e.into_inner());
        members.entry(member).or_default().insert(connection, outbox);
    }

    /// Forgets a closed connection of `member`.
    pub(crate) fn disconnected(&self, member: MemberId, connection: ConnectionId) {
        let mut members = self.members.write().unwrap_or_else(|e| e.into_inner());
        if let Some(connections) = members.get_mut(&member) {
            connections.remove(&connection);
            if connections.is_empty() {
                members.remove(&member);
            }
        }
    }

    /// Queues `frame` for every open connection of `member` on this pod; returns how many got it.
    pub(crate) fn deliver_to_member(&self, member: MemberId, room: RoomId, frame: &ByteString) -> usize {
        let members = self.members.read().unwrap_or_else(|e| e.into_inner());
        members.get(&member).map_or(0, |connections| {
            connections
                .iter()
                .filter(|(connection, outbox)| {
                    outbox.offer(Outgoing::Frame(frame.clone()), **connection, room)
                })
                .count()
        })
    }

    /// Adds the subscription; returns the position of the room's last message delivered before it
    /// (`None` if this pod has delivered none since it started).
    pub(crate) fn join(
        &self,
        room: RoomId,
        connection: ConnectionId,
        member: MemberId,
        outbox: Outbox,
    ) -> Option<i64> {
        let mut rooms = self.rooms.write().unwrap_or_else(|e| e.into_inner());
        rooms.entry(room).or_default().insert(connection, Subscriber { member, outbox });
        self.delivered.lock().unwrap_or_else(|e| e.into_inner()).get(&room).copied()
    }

    pub(crate) fn leave(&self, room: RoomId, connection: ConnectionId) {
        let mut rooms = self.rooms.write().unwrap_or_else(|e| e.into_inner());
        if let Some(members) = rooms.get_mut(&room) {
            members.remove(&connection);
            if members.is_empty() {
                rooms.remove(&room);
            }
        }
    }

    /// Whether the connection is subscribed to the room.
    pub(crate) fn is_subscribed(&self, room: RoomId, connection: ConnectionId) -> bool {
        let rooms = self.rooms.read().unwrap_or_else(|e| e.into_inner());
        rooms.get(&room).is_some_and(|subscribers| subscribers.contains_key(&connection))
    }

    /// Queues `frame` for every subscriber of `room` on this pod except `member`'s connections (the
    /// typist knows they are typing); returns how many got it. For ephemeral frames such as typing:
    /// a full queue drops it.
    pub(crate) fn deliver_ephemeral_except(
        &self,
        room: RoomId,
        member: MemberId,
        frame: &ByteString,
    ) -> usize {
        let rooms = self.rooms.read().unwrap_or_else(|e| e.into_inner());
        let Some(subscribers) = rooms.get(&room) else {
            return 0;
        };
        subscribers
            .iter()
            .filter(|(_, s)| s.member != member && s.outbox.offer_ephemeral(frame.clone()))
            .count()
    }

    /// Queues an ephemeral `frame` (a read mark) for every subscriber of `room` on this pod; a full
    /// queue drops it. Returns how many got it.
    pub(crate) fn deliver_ephemeral(&self, room: RoomId, frame: &ByteString) -> usize {
        let rooms = self.rooms.read().unwrap_or_else(|e| e.into_inner());
        rooms.get(&room).map_or(0, |subscribers| {
            subscribers.values().filter(|s| s.outbox.offer_ephemeral(frame.clone())).count()
        })
    }

    /// Queues `frame` for the subscribers of `room` on this pod who are one of `members` (a whisper's
    /// two parties); returns how many got it.
    pub(crate) fn deliver_to_members_in(
        &self,
        room: RoomId,
        members: &[MemberId],
        frame: &ByteString,
    ) -> usize {
        let rooms = self.rooms.read().unwrap_or_else(|e| e.into_inner());
        let Some(subscribers) = rooms.get(&room) else {
            return 0;
        };
        subscribers
            .iter()
            .filter(|(_, s)| members.contains(&s.member))
            .filter(|(connection, s)| s.outbox.offer(Outgoing::Frame(frame.clone()), **connection, room))
            .count()
    }

    /// Queues `frame` for every subscriber of `room` on this pod; returns how many got it. For notices
    /// everyone needs, the member who caused them too (edits, deletions).
    pub(crate) fn deliver(&self, room: RoomId, frame: &ByteString) -> usize {
        let rooms = self.rooms.read().unwrap_or_else(|e| e.into_inner());
        let Some(subscribers) = rooms.get(&room) else {
            return 0;
        };
        subscribers
            .iter()
            .filter(|(connection, s)| s.outbox.offer(Outgoing::Frame(frame.clone()), **connection, room))
            .count()
    }

    /// The position of the last message of `room` this pod delivered, if it remembers one.
    pub(crate) fn last_delivered(&self, room: RoomId) -> Option<i64> {
        self.delivered.lock().unwrap_or_else(|e| e.into_inner()).get(&room).copied()
    }

    /// Queues the chat message at `position` for every subscriber of `room` on this pod and
    /// remembers the position; returns how many got it.
    pub(crate) fn deliver_message(&self, room: RoomId, position: i64, frame: &ByteString) -> usize {
        let rooms = self.rooms.read().unwrap_or_else(|e| e.into_inner());
        {
            let mut delivered = self.delivered.lock().unwrap_or_else(|e| e.into_inner());
            if delivered.len() >= REMEMBERED_ROOMS && !delivered.contains_key(&room) {
                let mut oldest: Vec<i64> = delivered.values().copied().collect();
                oldest.sort_unstable();
                let cutoff = oldest[oldest.len() / 2];
                delivered.retain(|_, position| *position > cutoff);
            }
            delivered.insert(room, position);
        }
        let Some(subscribers) = rooms.get(&room) else {
            return 0;
        };
        subscribers.values().filter(|s| s.outbox.offer_message(room, position, frame.clone())).count()
    }

    /// Removes `member`'s connections (every connection when `None`) from `room` and queues `frame`
    /// for each of them, so they forget the room; returns how many were removed.
    pub(crate) fn remove(&self, room: RoomId, member: Option<MemberId>, frame: &ByteString) -> usize {
        let mut rooms = self.rooms.write().unwrap_or_else(|e| e.into_inner());
        let Some(subscribers) = rooms.get_mut(&room) else {
            return 0;
        };
        let mut removed = 0;
        // Queued under the lock, so nothing delivered to the room can follow the notice.
        for (connection, subscriber) in subscribers.extract_if(|_, s| member.is_none_or(|m| m == s.member)) {
            let notice = Outgoing::Removed { room, frame: frame.clone() };
            subscriber.outbox.offer(notice, connection, room);
            removed += 1;
        }
        if subscribers.is_empty() {
            rooms.remove(&room);
        }
        removed
    }

    /// Connection `id` of `member` joins `room` with a small queue; its receiving end (for tests of
    /// the fan-out consumers).
    #[cfg(test)]
    pub(crate) fn join_for_test(
        &self,
        id: ConnectionId,
        member: MemberId,
        room: RoomId,
    ) -> tokio::sync::mpsc::Receiver<Outgoing> {
        let (frames, receiver) = tokio::sync::mpsc::channel(8);
        let _ = self.join(room, id, member, Outbox::new(frames));
        receiver
    }

    /// Subscribers of `room` on this pod.
    #[cfg(test)]
    pub(crate) fn subscribers(&self, room: RoomId) -> usize {
        self.rooms.read().unwrap_or_else(|e| e.into_inner()).get(&room).map_or(0, HashMap::len)
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;

    use super::*;

    fn outbox(capacity: usize) -> (Outbox, mpsc::Receiver<Outgoing>) {
        let (frames, receiver) = mpsc::channel(capacity);
        (Outbox::new(frames), receiver)
    }

    fn frame(text: &'static str) -> Outgoing {
        Outgoing::Frame(text.into())
    }

    #[tokio::test]
    async fn a_full_queue_marks_only_that_connection() {
        let hub = Hub::new();
        let (fast, mut fast_rx) = outbox(8);
        let (slow, _slow_rx) = outbox(1);
        hub.join(1, 10, 100, fast.clone());
        hub.join(1, 11, 101, slow.clone());
        assert_eq!(hub.deliver(1, &"a".into()), 2);
        assert_eq!(hub.deliver(1, &"b".into()), 1);
        assert!(slow.overflowed.is_cancelled());
        assert!(!fast.overflowed.is_cancelled());
        assert_eq!(fast_rx.recv().await, Some(frame("a")));
        assert_eq!(fast_rx.recv().await, Some(frame("b")));
        assert_eq!(hub.deliver(2, &"c".into()), 0, "nobody in room 2");
        hub.leave(1, 10);
        hub.leave(1, 11);
        assert_eq!(hub.subscribers(1), 0);
    }

    #[tokio::test]
    async fn removing_a_member_hits_only_their_connections_in_that_room() {
        let hub = Hub::new();
        // Member 100 has two connections (10, 11) in rooms 1 and 2; member 101 has one (12) in room 1.
        let (first, mut first_rx) = outbox(8);
        let (second, mut second_rx) = outbox(8);
        let (other, mut other_rx) = outbox(8);
        for room in [1, 2] {
            hub.join(room, 10, 100, first.clone());
            hub.join(room, 11, 100, second.clone());
        }
        hub.join(1, 12, 101, other.clone());
        hub.deliver(1, &"before".into());

        assert_eq!(hub.remove(1, Some(100), &"removed".into()), 2);
        assert_eq!(hub.deliver(1, &"after".into()), 1, "only member 101 still gets room 1");
        assert_eq!(hub.deliver(2, &"room 2".into()), 2, "member 100 keeps room 2");
        assert!(!hub.is_subscribed(1, 10) && !hub.is_subscribed(1, 11));
        assert!(hub.is_subscribed(2, 10) && hub.is_subscribed(1, 12));

        let removed = Outgoing::Removed { room: 1, frame: "removed".into() };
        for rx in [&mut first_rx, &mut second_rx] {
            assert_eq!(rx.recv().await, Some(frame("before")));
            assert_eq!(rx.recv().await, Some(removed.clone()), "the notice follows the last message");
            assert_eq!(rx.recv().await, Some(frame("room 2")));
        }
        assert_eq!(other_rx.recv().await, Some(frame("before")));
        assert_eq!(other_rx.recv().await, Some(frame("after")));
        assert_eq!(hub.remove(1, Some(100), &"again".into()), 0, "nothing left to remove");
    }

    #[tokio::test]
    async fn removing_everyone_empties_the_room() {
        let hub = Hub::new();
        let (a, mut a_rx) = outbox(8);
        let (b, mut b_rx) = outbox(8);
        hub.join(1, 10, 100, a.clone());
        hub.join(1, 11, 101, b.clone());
        hub.join(2, 11, 101, b.clone());
        assert_eq!(hub.remove(1, None, &"deleted".into()), 2);
        assert_eq!(hub.subscribers(1), 0);
        assert_eq!(hub.subscribers(2), 1);
        let removed = Some(Outgoing::Removed { room: 1, frame: "deleted".into() });
        assert_eq!(a_rx.recv().await, removed);
        assert_eq!(b_rx.recv().await, removed);
    }

    #[test]
    fn a_removal_that_finds_the_queue_full_closes_the_connection() {
        let hub = Hub::new();
        let (slow, _slow_rx) = outbox(1);
        hub.join(1, 10, 100, slow.clone());
        hub.deliver(1, &"fills the queue".into());
        assert_eq!(hub.remove(1, Some(100), &"removed".into()), 1);
        assert!(slow.overflowed.is_cancelled(), "it reconnects and is checked again");
        assert_eq!(hub.subscribers(1), 0);
    }
}

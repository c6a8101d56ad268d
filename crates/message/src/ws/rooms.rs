//! The rooms one connection subscribes to, and the replays it is sending: which live messages it
//! holds back while a room's replay is read, and which it skips because the replay covered them.

use std::collections::{HashMap, HashSet};

use bytestring::ByteString;
use natter_proto::RoomId;
use natter_proto::frames::ErrorCode;

use super::refusal::Refusal;

#[derive(Default)]
pub(super) struct Rooms {
    subscribed: HashSet<RoomId>,
    /// The last replayed position per room, while live messages may still overlap the replay.
    replayed: HashMap<RoomId, i64>,
    /// Rooms whose replay is being read, with their live messages held until it is sent.
    replaying: HashMap<RoomId, Vec<(i64, ByteString)>>,
    /// Live messages held in `replaying`, all rooms together.
    held: usize,
}

impl Rooms {
    pub(super) fn contains(&self, room: RoomId) -> bool {
        self.subscribed.contains(&room)
    }

    pub(super) fn len(&self) -> usize {
        self.subscribed.len()
    }

    /// Refuses a request about `room` unless the connection is subscribed to it; `before` says what
    /// the request does ("publishing to it").
    pub(super) fn require_subscribed(&self, room: RoomId, before: &str) -> Result<(), Refusal> {
        if self.contains(room) {
            return Ok(());
        }
        Err(Refusal::new(ErrorCode::NotSubscribed, format!("subscribe to room {room} before {before}")))
    }

    /// The connection is in `room`; with `replaying`, its live messages are held until the replay
    /// has been sent.
    pub(super) fn subscribed(&mut self, room: RoomId, replaying: bool) {
        self.subscribed.insert(room);
        if replaying {
            self.replaying.insert(room, Vec::new());
        }
    }

    /// A subscribe was refused and the hub no longer has the connection in `room`.
    pub(super) fn refused(&mut self, room: RoomId) {
        self.subscribed.remove(&room);
    }

    /// The client unsubscribed: forgets everything about `room`.
    pub(super) fn forget(&mut self, room: RoomId) {
        self.subscribed.remove(&room);
        self.replayed.remove(&room);
        self.drop_held(room);
    }

    /// The hub removed the connection from `room`; whether the client is to be told (not when it
    /// has unsubscribed since).
    pub(super) fn removed(&mut self, room: RoomId) -> bool {
        if !self.subscribed.remove(&room) {
            return false;
        }
        self.drop_held(room);
        true
    }

    /// Every room, emptying the set (the connection closes).
    pub(super) fn drain(&mut self) -> impl Iterator<Item = RoomId> + '_ {
        self.subscribed.drain()
    }

    /// Holds a live message of a room being replayed; gives it back when the room is not.
    pub(super) fn hold(&mut self, room: RoomId, position: i64, frame: ByteString) -> Option<ByteString> {
        let Some(held) = self.replaying.get_mut(&room) else { return Some(frame) };
        held.push((position, frame));
        self.held += 1;
        None
    }

    /// Whether the replay of `room` is still being read.
    pub(super) fn is_replaying(&self, room: RoomId) -> bool {
        self.replaying.contains_key(&room)
    }

    /// Live messages held, all rooms together.
    pub(super) fn held(&self) -> usize {
        self.held
    }

    /// The replay of `room` has arrived: the live messages held meanwhile, or `None` when the room
    /// is no longer being replayed (unsubscribed or removed meanwhile).
    pub(super) fn replay_arrived(&mut self, room: RoomId) -> Option<Vec<(i64, ByteString)>> {
        let held = self.replaying.remove(&room)?;
        self.held -= held.len();
        Some(held)
    }

    /// The replay of `room` covered positions up to `last`.
    pub(super) fn replayed_up_to(&mut self, room: RoomId, last: i64) {
        self.replayed.insert(room, last);
    }

    /// Whether a live message at `position` of `room` is new to the client (not already replayed).
    pub(super) fn fresh(&mut self, room: RoomId, position: i64) -> bool {
        match self.replayed.get(&room) {
            Some(&last) if position <= last => false,
            Some(_) => {
                self.replayed.remove(&room);
                true
            }
            None => true,
        }
    }

    /// Forgets a replay in progress for `room` and the live messages held for it.
    fn drop_held(&mut self, room: RoomId) {
        if let Some(held) = self.replaying.remove(&room) {
            self.held -= held.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_about_a_room_need_a_subscription() {
        let mut rooms = Rooms::default();
        let refusal = rooms.require_subscribed(5, "publishing to it").unwrap_err();
        assert_eq!(refusal.code, ErrorCode::NotSubscribed);
        assert_eq!(refusal.detail, "subscribe to room 5 before publishing to it");
        rooms.subscribed(5, false);
        assert_eq!(rooms.require_subscribed(5, "publishing to it"), Ok(()));
        rooms.forget(5);
        assert!(rooms.require_subscribed(5, "publishing to it").is_err());
    }

    #[test]
    fn live_messages_wait_for_the_replay_and_skip_what_it_covered() {
        let mut rooms = Rooms::default();
        rooms.subscribed(5, true);
        assert_eq!(rooms.hold(5, 3, "m3".into()), None);
        assert_eq!(rooms.hold(5, 4, "m4".into()), None);
        assert_eq!(rooms.hold(6, 1, "other".into()), Some("other".into()), "other rooms flow");
        assert_eq!(rooms.held(), 2);
        let held = rooms.replay_arrived(5).unwrap();
        assert_eq!((held.len(), rooms.held()), (2, 0));
        rooms.replayed_up_to(5, 3);
        let fresh: Vec<i64> = held.iter().map(|(p, _)| *p).filter(|&p| rooms.fresh(5, p)).collect();
        assert_eq!(fresh, [4]);
        assert!(rooms.fresh(5, 3), "past the replay, everything is fresh again");
    }

    #[test]
    fn an_unsubscribe_drops_the_replay_in_progress() {
        let mut rooms = Rooms::default();
        rooms.subscribed(5, true);
        rooms.hold(5, 3, "m3".into());
        rooms.forget(5);
        assert_eq!(rooms.held(), 0);
        assert_eq!(rooms.replay_arrived(5), None);
        assert!(!rooms.removed(5), "nothing to tell: unsubscribed already");
    }
}

//! Which of this pod's connections subscribe to which room, and delivery to them.
//!
//! Each connection has a bounded outbound queue. Delivery never waits: when a connection's queue is
//! full, the connection is marked as overflowed and leaves every room; its task then closes it with
//! a close code telling the client to reconnect. So one slow client costs a bounded amount of memory
//! and never slows the room down for others.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use bytestring::ByteString;
use natter_proto::RoomId;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_util::sync::CancellationToken;

pub(crate) type ConnectionId = u64;

/// The sending side of one connection's outbound queue.
#[derive(Clone)]
pub(crate) struct Outbox {
    pub(crate) frames: mpsc::Sender<ByteString>,
    pub(crate) overflowed: CancellationToken,
}

#[derive(Default)]
pub(crate) struct Hub {
    rooms: RwLock<HashMap<RoomId, HashMap<ConnectionId, Outbox>>>,
    next_id: AtomicU64,
}

impl Hub {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn next_connection_id(&self) -> ConnectionId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn join(&self, room: RoomId, connection: ConnectionId, outbox: Outbox) {
        let mut rooms = self.rooms.write().unwrap_or_else(|e| e.into_inner());
        rooms.entry(room).or_default().insert(connection, outbox);
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

    /// Queues `frame` for every subscriber of `room` on this pod; returns how many got it.
    pub(crate) fn deliver(&self, room: RoomId, frame: &ByteString) -> usize {
        let rooms = self.rooms.read().unwrap_or_else(|e| e.into_inner());
        let Some(subscribers) = rooms.get(&room) else {
            return 0;
        };
        let mut delivered = 0;
        for (connection, outbox) in subscribers {
            match outbox.frames.try_send(frame.clone()) {
                Ok(()) => delivered += 1,
                Err(TrySendError::Full(_)) => {
                    if !outbox.overflowed.is_cancelled() {
                        tracing::warn!(
                            connection.id = connection,
                            room.id = room,
                            "outbound queue full; closing slow connection"
                        );
                        outbox.overflowed.cancel();
                    }
                }
                // The connection is closing; it removes itself.
                Err(TrySendError::Closed(_)) => {}
            }
        }
        delivered
    }

    /// Subscribers of `room` on this pod.
    #[cfg(test)]
    pub(crate) fn subscribers(&self, room: RoomId) -> usize {
        self.rooms.read().unwrap_or_else(|e| e.into_inner()).get(&room).map_or(0, HashMap::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_marks_only_that_connection() {
        let hub = Hub::new();
        let (fast_tx, mut fast_rx) = mpsc::channel(8);
        let (slow_tx, _slow_rx) = mpsc::channel(1);
        let fast = Outbox { frames: fast_tx, overflowed: CancellationToken::new() };
        let slow = Outbox { frames: slow_tx, overflowed: CancellationToken::new() };
        hub.join(1, 10, fast.clone());
        hub.join(1, 11, slow.clone());
        assert_eq!(hub.deliver(1, &"a".into()), 2);
        assert_eq!(hub.deliver(1, &"b".into()), 1);
        assert!(slow.overflowed.is_cancelled());
        assert!(!fast.overflowed.is_cancelled());
        assert_eq!(fast_rx.recv().await.as_deref(), Some("a"));
        assert_eq!(fast_rx.recv().await.as_deref(), Some("b"));
        assert_eq!(hub.deliver(2, &"c".into()), 0, "nobody in room 2");
        hub.leave(1, 10);
        hub.leave(1, 11);
        assert_eq!(hub.subscribers(1), 0);
    }
}

//! A connection's outbound queue: what the hub, the consumers and the connection's own tasks queue
//! for it, and the sending side they hold. The connection's task is the only reader.
//!
//! # When the queue is full
//! Delivery never waits for a connection (one slow reader must not slow the room for everyone), so
//! a full queue has to give something up. What it gives up depends on what was offered:
//! - **A chat message**: the connection *skips ahead*. The message is not queued, and neither is any
//!   later message of that room, until the connection's task has sent everything queued before; then
//!   it sends one `reload_history { after, up_to }` naming the skipped positions (fetched from history
//!   by the client) and the room's live messages follow again. So a room that is merely busier than
//!   one connection can take costs that connection a history fetch, never its connection: a burst
//!   that fills every queue of a room at once (overload) makes everyone skip, not everyone reconnect
//!   at the same moment. The gaps per connection are bounded by its rooms.
//! - **An ephemeral notice** (typing, presence dots, read marks): dropped; the next one supersedes it.
//! - **Anything else** (edits, deletions, removals, room-list news): the connection is marked as
//!   overflowed and closed with 1013; the client reconnects and resumes, so it misses nothing.
//!
//! A client that stops reading altogether is cut off by the connection's write deadline
//! (`NATTER_WRITE_STALL_MS`): memory stays bounded by the queue, the WebSocket layer's channel and
//! the socket's buffers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytestring::ByteString;
use natter_proto::RoomId;
use natter_proto::events::StoredMessage;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_util::sync::CancellationToken;

pub(crate) type ConnectionId = u64;

/// What a connection's outbound queue carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// A serialised frame to send as it is.
    Frame(ByteString),
    /// A chat message at `position` of `room`; a connection that has just replayed the room up to
    /// some position skips what it already sent.
    Message { room: RoomId, position: i64, frame: ByteString },
    /// The hub has removed the connection from `room`; `frame` tells the client. The connection
    /// forgets the room before sending it.
    Removed { room: RoomId, frame: ByteString },
    /// The replay of `room` after `since` for a resuming subscribe, read off the connection's task;
    /// the connection sends it, then the room's live messages it held meanwhile.
    Replayed { room: RoomId, since: i64, replay: Replay },
}

/// Messages of a room a connection skipped: positions `after + 1 ..= up_to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gap {
    pub(crate) after: i64,
    pub(crate) up_to: i64,
}

/// The sending side of one connection's outbound queue.
#[derive(Clone)]
pub(crate) struct Outbox {
    pub(crate) frames: mpsc::Sender<Outgoing>,
    pub(crate) overflowed: CancellationToken,
    /// Rooms whose messages this connection is skipping (see the module documentation).
    gaps: Arc<Mutex<HashMap<RoomId, Gap>>>,
}

impl Outbox {
    pub(crate) fn new(frames: mpsc::Sender<Outgoing>) -> Self {
        Self { frames, overflowed: CancellationToken::new(), gaps: Arc::default() }
    }

    /// Queues without waiting; a full queue marks the connection as overflowed. Whether it was queued.
    pub(crate) fn offer(&self, item: Outgoing, connection: ConnectionId, room: RoomId) -> bool {
        match self.frames.try_send(item) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                if !self.overflowed.is_cancelled() {
                    tracing::warn!(
                        connection.id = connection,
                        room.id = room,
                        "outbound queue full; closing slow connection"
                    );
                    self.overflowed.cancel();
                    metrics::counter!("natter_outbound_queue_overflows_total").increment(1);
                }
                false
            }
            // The connection is closing; it removes itself.
            Err(TrySendError::Closed(_)) => false,
        }
    }

    /// Queues a notice that the next one supersedes (typing, presence, read marks); dropped when the
    /// queue is full. Whether it was queued.
    pub(crate) fn offer_ephemeral(&self, frame: ByteString) -> bool {
        match self.frames.try_send(Outgoing::Frame(frame)) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                metrics::counter!("natter_ephemeral_frames_dropped_total").increment(1);
                false
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }

    /// Queues the chat message at `position` of `room`, or skips it (and every later one of the
    /// room) when the queue is full, until the connection has caught up. Whether it was queued.
    pub(crate) fn offer_message(&self, room: RoomId, position: i64, frame: ByteString) -> bool {
        let mut gaps = self.gaps.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(gap) = gaps.get_mut(&room) {
            gap.up_to = position;
            return false;
        }
        match self.frames.try_send(Outgoing::Message { room, position, frame }) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                gaps.insert(room, Gap { after: position - 1, up_to: position });
                metrics::counter!("natter_skips_total").increment(1);
                false
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }

    /// Whether some room's messages are being skipped.
    pub(crate) fn has_gaps(&self) -> bool {
        !self.gaps.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
    }

    /// Ends the skipping of the rooms `ready` accepts and gives their skipped positions, but only if
    /// `queue_is_empty` says everything queued before the gaps has been sent. Checked under the same
    /// lock the hub queues messages under, so no message can slip into the queue between the check
    /// and the end of its room's gap (it would be sent after the notice and then taken as covered).
    pub(crate) fn take_gaps(
        &self,
        queue_is_empty: impl FnOnce() -> bool,
        ready: impl Fn(RoomId) -> bool,
    ) -> Vec<(RoomId, Gap)> {
        let mut gaps = self.gaps.lock().unwrap_or_else(|e| e.into_inner());
        if !queue_is_empty() {
            return Vec::new();
        }
        let rooms: Vec<RoomId> = gaps.keys().copied().filter(|room| ready(*room)).collect();
        rooms.into_iter().filter_map(|room| gaps.remove(&room).map(|gap| (room, gap))).collect()
    }

    /// Forgets the skipping of `room` (the connection left it).
    pub(crate) fn forget_gap(&self, room: RoomId) {
        self.gaps.lock().unwrap_or_else(|e| e.into_inner()).remove(&room);
    }
}

/// What a resuming client gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Replay {
    /// These messages, oldest first (possibly none).
    Messages(Vec<StoredMessage>),
    /// Too many, or history could not be read: fetch positions `after + 1 ..= up_to` instead.
    Reload { after: i64, up_to: i64 },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(position: i64) -> Outgoing {
        Outgoing::Message { room: 1, position, frame: format!("m{position}").into() }
    }

    #[tokio::test]
    async fn a_full_queue_skips_the_rest_of_the_room_until_caught_up() {
        let (frames, mut queued) = mpsc::channel(2);
        let outbox = Outbox::new(frames);
        for position in 1..=5 {
            outbox.offer_message(1, position, format!("m{position}").into());
        }
        assert!(!outbox.overflowed.is_cancelled(), "a busy room does not close the connection");
        assert_eq!(queued.recv().await, Some(message(1)));
        // Space in the queue again, but the room is skipped until the gap is reported.
        assert!(!outbox.offer_message(1, 6, "m6".into()));
        assert_eq!(outbox.take_gaps(|| queued.is_empty(), |_| true), [], "m2 is still queued");
        assert_eq!(queued.recv().await, Some(message(2)));
        assert_eq!(outbox.take_gaps(|| queued.is_empty(), |_| true), [(1, Gap { after: 2, up_to: 6 })]);
        assert!(outbox.offer_message(1, 7, "m7".into()), "live again after the gap");
        assert_eq!(queued.recv().await, Some(message(7)));
        assert!(!outbox.has_gaps());
    }

    #[tokio::test]
    async fn ephemeral_notices_are_dropped_when_full_and_others_close() {
        let (frames, _queued) = mpsc::channel(1);
        let outbox = Outbox::new(frames);
        assert!(outbox.offer_ephemeral("typing".into()));
        assert!(!outbox.offer_ephemeral("typing again".into()));
        assert!(!outbox.overflowed.is_cancelled());
        assert!(!outbox.offer(Outgoing::Frame("edited".into()), 1, 1));
        assert!(outbox.overflowed.is_cancelled());
    }
}

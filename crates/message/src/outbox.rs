//! A connection's outbound queue: what the hub, the consumers and the connection's own tasks queue
//! for it, and the sending side they hold. The connection's task is the only reader.

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

/// The sending side of one connection's outbound queue.
#[derive(Clone)]
pub(crate) struct Outbox {
    pub(crate) frames: mpsc::Sender<Outgoing>,
    pub(crate) overflowed: CancellationToken,
}

impl Outbox {
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
}

/// What a resuming client gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Replay {
    /// These messages, oldest first (possibly none).
    Messages(Vec<StoredMessage>),
    /// Too many, or history could not be read: fetch positions `after + 1 ..= up_to` instead.
    Reload { after: i64, up_to: i64 },
}

//! Every pod reads every sequenced message (fan-out subscription of `natter.chat.sequenced`) and
//! hands it to its own subscribers, each room's messages exactly once and in position order:
//! - a position at or below the last one delivered is a message announced again (the sequencer
//!   repeats its announcement after a crash): dropped;
//! - a position beyond the next one means announcements were missed (a topic lost and created
//!   again, for instance): the missing ones are read from history first, which holds every message
//!   before it is announced.
//!
//! It also tells publishes of this pod waiting for their message's position (see `pending_acks.rs`).

use std::sync::Arc;
use std::time::Duration;

use bytestring::ByteString;
use natter_bus::BusStream;
use natter_history::HistoryStore;
use natter_proto::events::StoredMessage;
use natter_proto::frames::ServerFrame;
use tracing::Instrument;

use crate::hub::Hub;
use crate::pending_acks::PendingAcks;

/// How long a gap is looked for in history before the fan-out goes on without it (history down).
const GAP_PATIENCE: Duration = Duration::from_secs(10);

pub(crate) struct FanOut {
    pub(crate) hub: Arc<Hub>,
    pub(crate) history: Arc<dyn HistoryStore>,
    pub(crate) acks: Arc<PendingAcks>,
    pub(crate) lag: Arc<crate::delivery_lag::DeliveryLag>,
}

pub(crate) async fn run(mut stream: Box<dyn BusStream>, fan_out: FanOut) {
    loop {
        let record = match stream.next().await {
            Ok(record) => record,
            Err(e) => {
                tracing::warn!(error = %e, consumer = "fan-out", "consumer error; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let message = match serde_json::from_slice::<StoredMessage>(&record.payload) {
            Ok(message) => message,
            Err(e) => {
                tracing::error!(error = %e, offset = record.offset, "undecodable sequenced message skipped");
                continue;
            }
        };
        fan_out.acks.placed(message.posted.message_id, message.position);
        fan_out.deliver_in_order(message).instrument(record.consumer_span("fan-out")).await;
    }
}

impl FanOut {
    async fn deliver_in_order(&self, message: StoredMessage) {
        let room = message.posted.room_id;
        match self.hub.last_delivered(room) {
            Some(last) if message.position <= last => return,
            Some(last) if message.position > last + 1 => {
                for missed in self.missed(room, last, message.position).await {
                    self.deliver(missed);
                }
            }
            _ => {}
        }
        self.deliver(message);
    }

    /// The messages of `room` after `last` and before `next`, from history.
    async fn missed(&self, room: natter_proto::RoomId, last: i64, next: i64) -> Vec<StoredMessage> {
        let want = u32::try_from(next - last - 1).unwrap_or(u32::MAX);
        let deadline = tokio::time::Instant::now() + GAP_PATIENCE;
        loop {
            match self.history.after(room, last, want).await {
                Ok(messages) => return messages.into_iter().filter(|m| m.position < next).collect(),
                Err(e) if tokio::time::Instant::now() < deadline => {
                    tracing::warn!(error = %e, room.id = room, "reading missed messages failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => {
                    // Clients see the gap in positions and fetch it themselves.
                    tracing::error!(error = %e, room.id = room, from = last + 1, to = next - 1, "missed messages not delivered");
                    return Vec::new();
                }
            }
        }
    }

    fn deliver(&self, message: StoredMessage) {
        let (room, position) = (message.posted.room_id, message.position);
        self.lag.delivering(message.posted.sent_at_ms);
        // Serialised once, shared by every subscriber.
        let frame = ServerFrame::Message { message };
        let frame = ByteString::from(serde_json::to_string(&frame).expect("frames serialise"));
        let delivered = self.hub.deliver_message(room, position, &frame);
        metrics::counter!("natter_messages_delivered_total").increment(delivered as u64);
    }
}

#[cfg(test)]
mod tests {
    use natter_history::MemoryHistory;
    use natter_proto::events::MessagePosted;

    use super::*;
    use crate::outbox::Outgoing;

    fn message(position: i64) -> StoredMessage {
        StoredMessage::new(
            MessagePosted {
                message_id: uuid::Uuid::now_v7(),
                room_id: 1,
                sender_id: 1,
                sender_name: "a".into(),
                text: format!("m{position}"),
                client_msg_id: None,
                sent_at_ms: 0,
                reply_to: None,
                file: None,
                mentions: Vec::new(),
                mentions_room: false,
            },
            position,
        )
    }

    fn position(item: Outgoing) -> i64 {
        match item {
            Outgoing::Message { position, .. } => position,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn repeats_are_dropped_and_gaps_filled_from_history() {
        let history = Arc::new(MemoryHistory::new());
        let all: Vec<StoredMessage> = (1..=5).map(message).collect();
        for m in &all {
            history.store(m).await.unwrap();
        }
        let hub = Arc::new(Hub::new());
        let mut rx = hub.join_for_test(1, 100, 1);
        let fan_out = FanOut { hub, history, acks: Arc::default(), lag: Arc::default() };
        for m in [&all[0], &all[1], &all[0], &all[4], &all[3]] {
            fan_out.deliver_in_order((*m).clone()).await;
        }
        let mut got = Vec::new();
        while let Ok(item) = rx.try_recv() {
            got.push(position(item));
        }
        assert_eq!(got, [1, 2, 3, 4, 5], "once each, in order, the gap read from history");
    }
}

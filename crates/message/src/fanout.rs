//! Every pod reads every room event (fan-out subscription) and hands it to its own subscribers.

use std::sync::Arc;
use std::time::Duration;

use bytestring::ByteString;
use natter_bus::BusStream;
use natter_proto::events::{MessagePosted, StoredMessage};
use natter_proto::frames::ServerFrame;

use crate::hub::Hub;

pub(crate) async fn run(mut stream: Box<dyn BusStream>, hub: Arc<Hub>) {
    loop {
        let record = match stream.next().await {
            Ok(record) => record,
            Err(e) => {
                tracing::warn!(error = %e, "fan-out consumer error; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let posted: MessagePosted = match serde_json::from_slice(&record.payload) {
            Ok(posted) => posted,
            Err(e) => {
                tracing::error!(error = %e, topic = %record.topic, offset = record.offset, "undecodable event skipped");
                continue;
            }
        };
        let room = posted.room_id;
        let frame = ServerFrame::Message { message: StoredMessage::new(posted, record.offset) };
        // Serialised once, shared by every subscriber.
        let frame = ByteString::from(serde_json::to_string(&frame).expect("frames serialise"));
        hub.deliver_message(room, record.offset, &frame);
    }
}

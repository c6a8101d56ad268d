//! Every pod reads every room event (fan-out subscription) and hands it to its own subscribers.

use std::sync::Arc;

use bytestring::ByteString;
use natter_bus::BusStream;
use natter_proto::events::{MessagePosted, StoredMessage};
use natter_proto::frames::ServerFrame;

use crate::hub::Hub;

pub(crate) async fn run(stream: Box<dyn BusStream>, hub: Arc<Hub>) {
    crate::consume::each_event(stream, "fan-out", |posted: MessagePosted, record| {
        let room = posted.room_id;
        let frame = ServerFrame::Message { message: StoredMessage::new(posted, record.offset) };
        // Serialised once, shared by every subscriber.
        let frame = ByteString::from(serde_json::to_string(&frame).expect("frames serialise"));
        let delivered = hub.deliver_message(room, record.offset, &frame);
        metrics::counter!("natter_messages_delivered_total").increment(delivered as u64);
    })
    .await;
}

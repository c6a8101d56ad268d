//! Every pod reads every whisper (fan-out subscription to `Topic::Whispers`, from the end of the
//! topic) and hands it to its connections of the whisper's sender and recipient subscribed to the
//! room; nobody else's. The pod that accepted it stored it first, so a connection that missed it
//! reads it on resume (`ws/subscribe.rs`) or from `GET /api/v1/rooms/{room}/whispers`.

use std::sync::Arc;

use bytestring::ByteString;
use natter_bus::BusStream;
use natter_proto::events::WhisperPosted;
use natter_proto::frames::ServerFrame;

use crate::hub::Hub;

pub(crate) async fn run(stream: Box<dyn BusStream>, hub: Arc<Hub>) {
    super::each_event::each_event(stream, "whispers", |whisper: WhisperPosted, _| {
        deliver(whisper, &hub);
    })
    .await;
}

/// Queues the whisper for its two parties' connections here; returns how many got it.
fn deliver(whisper: WhisperPosted, hub: &Hub) -> usize {
    let (room, parties) = (whisper.room_id, [whisper.sender_id, whisper.to_id]);
    let frame =
        ByteString::from(serde_json::to_string(&ServerFrame::Whisper { whisper }).expect("frames serialise"));
    hub.deliver_to_members_in(room, &parties, &frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::Outgoing;

    #[test]
    fn a_whisper_reaches_its_two_parties_only() {
        let hub = Hub::new();
        let mut sender = hub.join_for_test(1, 7, 5);
        let mut recipient = hub.join_for_test(2, 8, 5);
        let mut bystander = hub.join_for_test(3, 9, 5);
        let mut recipient_elsewhere = hub.join_for_test(4, 8, 6);
        let whisper = WhisperPosted {
            message_id: uuid::Uuid::now_v7(),
            room_id: 5,
            sender_id: 7,
            sender_name: "Ann".into(),
            to_id: 8,
            to_name: "Ben".into(),
            text: "psst".into(),
            client_msg_id: None,
            sent_at_ms: 1,
            after: 3,
        };
        assert_eq!(deliver(whisper.clone(), &hub), 2);
        for party in [&mut sender, &mut recipient] {
            let Ok(Outgoing::Frame(text)) = party.try_recv() else { panic!("a frame") };
            let frame: ServerFrame = serde_json::from_str(&text).unwrap();
            assert_eq!(frame, ServerFrame::Whisper { whisper: whisper.clone() });
        }
        assert!(bystander.try_recv().is_err(), "another member of the room gets nothing");
        assert!(recipient_elsewhere.try_recv().is_err(), "only connections subscribed to the room");
    }
}

//! Every pod reads every typing event (fan-out subscription to `Topic::Typing`, starting at the end of
//! the topic) and hands it to its own subscribers of the room, except the typist's connections.
//!
//! Typing is ephemeral: no history writer reads this topic, so it is never stored; and since fan-out
//! starts at the end, a pod (re)starting does not replay old indicators either.

use std::sync::Arc;

use bytestring::ByteString;
use natter_bus::BusStream;
use natter_proto::events::TypingChanged;
use natter_proto::frames::ServerFrame;

use crate::hub::Hub;

pub(crate) async fn run(stream: Box<dyn BusStream>, hub: Arc<Hub>) {
    super::each_event::each_event(stream, "typing", |event: TypingChanged, _| {
        deliver(&event, &hub);
    })
    .await;
}

/// Queues the `typing` frame for the room's subscribers on this pod; returns how many got it.
fn deliver(event: &TypingChanged, hub: &Hub) -> usize {
    let frame = ServerFrame::Typing {
        room: event.room_id,
        member_id: event.member_id,
        member_name: event.member_name.clone(),
        typing: event.typing,
    };
    // Serialised once, shared by every subscriber.
    let frame = ByteString::from(serde_json::to_string(&frame).expect("frames serialise"));
    hub.deliver_ephemeral_except(event.room_id, event.member_id, &frame)
}

#[cfg(test)]
mod tests {
    use natter_bus::{EventBus, MemoryBus};
    use natter_proto::topics::{Topic, room_key};
    use natter_proto::{MemberId, RoomId};

    use std::time::Duration;

    use super::*;
    use crate::outbox::Outgoing;

    fn typing(room: RoomId, member: MemberId, typing: bool) -> TypingChanged {
        TypingChanged { room_id: room, member_id: member, member_name: format!("m{member}"), typing }
    }

    #[tokio::test]
    async fn typing_reaches_the_room_except_the_typist_s_own_connections() {
        let bus = MemoryBus::new(100);
        let topic = Topic::Typing.name("test.");
        bus.ensure_topics(std::slice::from_ref(&topic)).await.unwrap();
        let stream = bus.subscribe_all(std::slice::from_ref(&topic)).await.unwrap();
        let hub = Arc::new(Hub::new());
        // Member 7 types with two connections open; member 8 watches room 5; member 9 is elsewhere.
        let mut typist = [hub.join_for_test(1, 7, 5), hub.join_for_test(2, 7, 5)];
        let mut watcher = hub.join_for_test(3, 8, 5);
        let mut elsewhere = hub.join_for_test(4, 9, 6);
        let consumer = tokio::spawn(run(stream, Arc::clone(&hub)));

        bus.publish(&topic, &room_key(5), b"not json".to_vec()).await.unwrap();
        for state in [true, false] {
            bus.publish(&topic, &room_key(5), serde_json::to_vec(&typing(5, 7, state)).unwrap())
                .await
                .unwrap();
        }

        for state in [true, false] {
            let got = tokio::time::timeout(Duration::from_secs(1), watcher.recv()).await.unwrap();
            let Some(Outgoing::Frame(text)) = got else { panic!("{got:?}") };
            let frame: ServerFrame = serde_json::from_str(&text).unwrap();
            let expected =
                ServerFrame::Typing { room: 5, member_id: 7, member_name: "m7".into(), typing: state };
            assert_eq!(frame, expected);
        }
        for rx in typist.iter_mut().chain([&mut elsewhere]) {
            assert!(rx.try_recv().is_err(), "no echo to the typist, nothing to other rooms");
        }
        consumer.abort();
    }

    #[test]
    fn nobody_subscribed_means_nobody_gets_it() {
        assert_eq!(deliver(&typing(5, 7, true), &Hub::new()), 0);
    }
}

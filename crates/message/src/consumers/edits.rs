//! Every pod reads every edit and deletion (fan-out subscription to `Topic::Edits`) and tells its own
//! subscribers of the room with an `edited` or `deleted` frame, the member who made the change too
//! (their other connections need it, and the requester learns the change is live). Reactions are
//! told once the history writer has counted them (`reaction_counted` → `reaction_changed`); the
//! request itself (`reacted`) is not.

use std::sync::Arc;

use bytestring::ByteString;
use natter_bus::BusStream;
use natter_proto::events::MessageChanged;
use natter_proto::frames::ServerFrame;

use crate::hub::Hub;

pub(crate) async fn run(stream: Box<dyn BusStream>, hub: Arc<Hub>) {
    super::each_event::each_event(stream, "edits", |change: MessageChanged, _| {
        deliver(&change, &hub);
    })
    .await;
}

/// The frame that tells subscribers about `change`, if they are told.
pub(crate) fn frame(change: &MessageChanged) -> Option<ServerFrame> {
    Some(match change {
        MessageChanged::Edited(e) => ServerFrame::Edited {
            room: e.room_id,
            message_id: e.message_id,
            position: e.position,
            text: e.text.clone(),
            edited_at_ms: e.edited_at_ms,
        },
        MessageChanged::Deleted(d) => {
            ServerFrame::Deleted { room: d.room_id, message_id: d.message_id, position: d.position }
        }
        MessageChanged::Reacted(_) => return None,
        MessageChanged::ReactionCounted(c) => ServerFrame::ReactionChanged {
            room: c.room_id,
            message_id: c.message_id,
            position: c.position,
            emoji: c.emoji.clone(),
            count: c.count,
            reactors: c.reactors.clone(),
            member_id: c.member_id,
            added: c.added,
        },
    })
}

/// Queues the frame for the room's subscribers on this pod; returns how many got it.
fn deliver(change: &MessageChanged, hub: &Hub) -> usize {
    let Some(frame) = frame(change) else { return 0 };
    // Serialised once, shared by every subscriber.
    let frame = ByteString::from(serde_json::to_string(&frame).expect("frames serialise"));
    hub.deliver(change.room_id(), &frame)
}

#[cfg(test)]
mod tests {
    use natter_bus::{EventBus, MemoryBus};
    use natter_proto::events::{MessageDeleted, MessageEdited};
    use natter_proto::topics::{Topic, room_key};
    use uuid::Uuid;

    use std::time::Duration;

    use super::*;
    use crate::outbox::Outgoing;

    #[tokio::test]
    async fn changes_reach_every_subscriber_of_the_room_the_author_too() {
        let bus = MemoryBus::new(100);
        let topic = Topic::Edits.name("test.");
        bus.ensure_topics(std::slice::from_ref(&topic)).await.unwrap();
        let stream = bus.subscribe_all(std::slice::from_ref(&topic)).await.unwrap();
        let hub = Arc::new(Hub::new());
        let mut author = hub.join_for_test(1, 7, 5);
        let mut reader = hub.join_for_test(2, 8, 5);
        let mut elsewhere = hub.join_for_test(3, 9, 6);
        let consumer = tokio::spawn(run(stream, Arc::clone(&hub)));

        let message_id = Uuid::now_v7();
        let edited = MessageChanged::Edited(MessageEdited {
            room_id: 5,
            message_id,
            editor_id: 7,
            text: "fixed".into(),
            edited_at_ms: 1_000,
            position: 12,
        });
        let deleted =
            MessageChanged::Deleted(MessageDeleted { room_id: 5, message_id, deleted_by: 8, position: 12 });
        bus.publish(&topic, &room_key(5), b"not json".to_vec()).await.unwrap();
        for change in [&edited, &deleted] {
            bus.publish(&topic, &room_key(5), serde_json::to_vec(change).unwrap()).await.unwrap();
        }

        for rx in [&mut author, &mut reader] {
            for change in [&edited, &deleted] {
                let got = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await.unwrap();
                let Some(Outgoing::Frame(text)) = got else { panic!("{got:?}") };
                assert_eq!(Some(serde_json::from_str::<ServerFrame>(&text).unwrap()), frame(change));
            }
        }
        assert!(elsewhere.try_recv().is_err(), "nothing to other rooms");
        consumer.abort();
    }
}

//! Every pod reads every presence event (fan-out subscription to `Topic::Presence`, from the end of
//! the topic) and tells its own subscribers: `presence` to the subscribers of each of the member's
//! rooms except the member's own connections, `member_read` to the room's subscribers (the member's
//! other devices too), `friends_changed` to every connection of the members concerned. Ephemeral
//! like typing: never stored, never replayed.

use std::sync::Arc;

use bytestring::ByteString;
use natter_bus::BusStream;
use natter_proto::events::PresenceEvent;
use natter_proto::frames::ServerFrame;

use crate::hub::Hub;

pub(crate) async fn run(stream: Box<dyn BusStream>, hub: Arc<Hub>) {
    super::each_event::each_event(stream, "presence", |event: PresenceEvent, _| {
        deliver(&event, &hub);
    })
    .await;
}

/// Queues the frames for this pod's subscribers; returns how many got one.
fn deliver(event: &PresenceEvent, hub: &Hub) -> usize {
    let serialise =
        |frame: &ServerFrame| ByteString::from(serde_json::to_string(frame).expect("frames serialise"));
    match event {
        PresenceEvent::Member(change) => change
            .room_ids
            .iter()
            .map(|&room| {
                let frame = serialise(&ServerFrame::Presence {
                    room,
                    member_id: change.member_id,
                    state: change.state,
                    last_seen_ms: change.last_seen_ms,
                });
                hub.deliver_ephemeral_except(room, change.member_id, &frame)
            })
            .sum(),
        PresenceEvent::Friends(change) => {
            let frame = serialise(&ServerFrame::FriendsChanged);
            change.member_ids.iter().map(|&member| hub.deliver_to_member(member, 0, &frame)).sum()
        }
        PresenceEvent::Read(read) => {
            let frame = serialise(&ServerFrame::MemberRead {
                room: read.room_id,
                member_id: read.member_id,
                position: read.position,
            });
            hub.deliver_ephemeral(read.room_id, &frame)
        }
    }
}

#[cfg(test)]
mod tests {
    use natter_proto::events::{MemberPresenceChanged, ReadMoved};
    use natter_proto::http::PresenceState;

    use super::*;
    use crate::outbox::Outgoing;

    fn frame_of(rx: &mut tokio::sync::mpsc::Receiver<Outgoing>) -> ServerFrame {
        let Ok(Outgoing::Frame(text)) = rx.try_recv() else { panic!("a frame") };
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn presence_reaches_watchers_of_the_member_s_rooms_only() {
        let hub = Hub::new();
        // Member 7 (rooms 5 and 6) watches room 5; 8 watches room 5; 9 watches room 6; 10
        // watches room 99, which 7 is not in.
        let mut own = hub.join_for_test(1, 7, 5);
        let mut in_five = hub.join_for_test(2, 8, 5);
        let mut in_six = hub.join_for_test(3, 9, 6);
        let mut stranger = hub.join_for_test(4, 10, 99);
        let change = MemberPresenceChanged {
            member_id: 7,
            state: PresenceState::Offline,
            last_seen_ms: Some(1_000),
            room_ids: vec![5, 6],
        };
        assert_eq!(deliver(&PresenceEvent::Member(change), &hub), 2);
        let expected = |room| ServerFrame::Presence {
            room,
            member_id: 7,
            state: PresenceState::Offline,
            last_seen_ms: Some(1_000),
        };
        assert_eq!(frame_of(&mut in_five), expected(5));
        assert_eq!(frame_of(&mut in_six), expected(6));
        assert!(own.try_recv().is_err(), "not told about oneself");
        assert!(stranger.try_recv().is_err(), "strangers hear nothing");
    }

    #[test]
    fn read_moves_reach_the_room_the_reader_s_devices_too() {
        let hub = Hub::new();
        let mut other_device = hub.join_for_test(1, 7, 5);
        let mut co_member = hub.join_for_test(2, 8, 5);
        let mut elsewhere = hub.join_for_test(3, 8, 6);
        let read = PresenceEvent::Read(ReadMoved { room_id: 5, member_id: 7, position: 41 });
        assert_eq!(deliver(&read, &hub), 2);
        let expected = ServerFrame::MemberRead { room: 5, member_id: 7, position: 41 };
        assert_eq!(frame_of(&mut other_device), expected);
        assert_eq!(frame_of(&mut co_member), expected);
        assert!(elsewhere.try_recv().is_err());
    }
}

//! Every pod reads every call event (fan-out subscription to `Topic::Calls`, from the end of the
//! topic): a room's call state goes to the room's subscribers here, a signal to the connection
//! seated as its receiver, if it is here (see `seats.rs`). Never stored, never replayed.

use std::sync::Arc;

use bytestring::ByteString;
use natter_bus::BusStream;
use natter_proto::events::CallEvent;
use natter_proto::frames::ServerFrame;

use crate::hub::Hub;
use crate::seats::Seats;

pub(crate) async fn run(stream: Box<dyn BusStream>, hub: Arc<Hub>, seats: Arc<Seats>) {
    super::each_event::each_event(stream, "calls", |event: CallEvent, _| {
        deliver(event, &hub, &seats);
    })
    .await;
}

/// Queues the frame for this pod's connections; returns how many got one.
fn deliver(event: CallEvent, hub: &Hub, seats: &Seats) -> usize {
    match event {
        CallEvent::State(state) => {
            let frame = ServerFrame::CallState {
                room: state.room_id,
                version: state.version,
                participants: state.participants,
            };
            let frame = ByteString::from(serde_json::to_string(&frame).expect("frames serialise"));
            hub.deliver(state.room_id, &frame)
        }
        CallEvent::Signal(signal) => usize::from(seats.deliver(&signal)),
    }
}

#[cfg(test)]
mod tests {
    use natter_proto::calls::{CallMedia, CallParticipant, CallState};
    use natter_proto::events::SignalRelayed;

    use super::*;
    use crate::outbox::Outgoing;

    fn frame_of(rx: &mut tokio::sync::mpsc::Receiver<Outgoing>) -> ServerFrame {
        let Ok(Outgoing::Frame(text)) = rx.try_recv() else { panic!("a frame") };
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn a_call_state_reaches_the_room_s_subscribers_only() {
        let hub = Hub::new();
        let seats = Seats::for_test();
        let mut watcher = hub.join_for_test(1, 7, 5);
        let mut elsewhere = hub.join_for_test(2, 8, 6);
        let participant = CallParticipant {
            session: "s1".into(),
            member_id: 9,
            name: "Ann".into(),
            media: CallMedia::default(),
            since_ms: 1,
        };
        let state = CallState { room_id: 5, version: 3, participants: vec![participant.clone()] };
        assert_eq!(deliver(CallEvent::State(state), &hub, &seats), 1);
        assert_eq!(
            frame_of(&mut watcher),
            ServerFrame::CallState { room: 5, version: 3, participants: vec![participant] }
        );
        assert!(elsewhere.try_recv().is_err());
        let signal = SignalRelayed {
            room_id: 5,
            from: "s1".into(),
            from_member: 9,
            to: "nobody-here".into(),
            data: serde_json::json!({}),
        };
        assert_eq!(deliver(CallEvent::Signal(signal), &hub, &seats), 0, "no such seat on this pod");
    }
}

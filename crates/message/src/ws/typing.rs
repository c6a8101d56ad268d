//! `typing` frames: a member started or stopped typing in a room the connection is subscribed to.
//!
//! Typing is ephemeral and best effort: the event goes to the typing topic in a task of its own (fire
//! and forget; a failure is logged, never retried, since a stale indicator is worse than a lost one)
//! and is never stored. Accepted frames get no answer; refused ones get an error frame, so clients
//! learn to subscribe first or to slow down.

use std::sync::Arc;

use natter_bus::EventBus;
use natter_proto::events::TypingChanged;
use natter_proto::frames::{ErrorCode, ServerFrame};
use natter_proto::topics::{Topic, room_key};
use natter_proto::{MemberId, RoomId};

use crate::rate_limit::{self, Bucket};

/// Who sends the frame, as the connection knows them.
pub(super) struct Typist<'a> {
    pub(super) member: MemberId,
    pub(super) name: &'a str,
    /// Whether the connection is subscribed to the frame's room.
    pub(super) subscribed: bool,
    /// The connection's typing bucket.
    pub(super) bucket: &'a Bucket,
}

/// Handles request `id`: publishes the change to `room` on `bus` (topics prefixed `topic_prefix`), or
/// returns the error frame that refuses it.
pub(super) fn handle(
    bus: &Arc<dyn EventBus>,
    topic_prefix: &str,
    typist: Typist<'_>,
    id: String,
    room: RoomId,
    typing: bool,
) -> Option<ServerFrame> {
    if !typist.subscribed {
        let detail = format!("subscribe to room {room} before sending typing to it");
        return Some(ServerFrame::error(Some(id), ErrorCode::NotSubscribed, detail));
    }
    if let Err(wait) = typist.bucket.take() {
        let detail = format!("at most {} typing frames a second per connection", typist.bucket.rate());
        return Some(rate_limit::refusal(id, detail, wait));
    }
    let event = TypingChanged {
        room_id: room,
        member_id: typist.member,
        member_name: typist.name.to_owned(),
        typing,
    };
    let payload = serde_json::to_vec(&event).expect("events serialise");
    let topic = Topic::Typing.name(topic_prefix);
    let bus = Arc::clone(bus);
    tokio::spawn(async move {
        if let Err(e) = bus.publish(&topic, &room_key(room), payload).await {
            tracing::warn!(error = %e, room.id = room, "typing event not published; dropped");
        }
    });
    None
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use natter_bus::MemoryBus;

    use super::*;

    async fn bus() -> (Arc<dyn EventBus>, Box<dyn natter_bus::BusStream>) {
        let bus = MemoryBus::new(100);
        let topic = Topic::Typing.name("t.");
        bus.ensure_topics(std::slice::from_ref(&topic)).await.unwrap();
        let stream = bus.subscribe_all(std::slice::from_ref(&topic)).await.unwrap();
        (Arc::new(bus), stream)
    }

    fn refused(frame: Option<ServerFrame>) -> (ErrorCode, String, Option<u64>) {
        match frame {
            Some(ServerFrame::Error { id, code, detail, retry_after_ms }) => {
                assert!(id.is_some(), "the refusal names the request");
                (code, detail, retry_after_ms)
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn accepted_typing_is_published_with_no_answer() {
        let (bus, mut stream) = bus().await;
        let bucket = Bucket::per_second(2);
        let typist = Typist { member: 7, name: "Ann", subscribed: true, bucket: &bucket };
        assert_eq!(handle(&bus, "t.", typist, "r1".into(), 5, true), None);
        let record = tokio::time::timeout(Duration::from_secs(1), stream.next()).await.unwrap().unwrap();
        assert_eq!(record.key, Some(room_key(5)));
        let event: TypingChanged = serde_json::from_slice(&record.payload).unwrap();
        let expected = TypingChanged { room_id: 5, member_id: 7, member_name: "Ann".into(), typing: true };
        assert_eq!(event, expected);
    }

    #[tokio::test]
    async fn typing_needs_a_subscription_and_is_rate_limited() {
        let (bus, _stream) = bus().await;
        let bucket = Bucket::per_second(2);
        let typist = |subscribed| Typist { member: 7, name: "Ann", subscribed, bucket: &bucket };
        let (code, detail, retry) = refused(handle(&bus, "t.", typist(false), "r1".into(), 5, true));
        assert_eq!((code, retry), (ErrorCode::NotSubscribed, None));
        assert!(detail.contains("room 5"), "{detail}");
        assert_eq!(handle(&bus, "t.", typist(true), "r2".into(), 5, true), None);
        assert_eq!(handle(&bus, "t.", typist(true), "r3".into(), 5, false), None);
        let (code, _, retry) = refused(handle(&bus, "t.", typist(true), "r4".into(), 5, true));
        assert_eq!(code, ErrorCode::RateLimited);
        assert!(retry.is_some_and(|ms| (1..=500).contains(&ms)), "{retry:?}");
    }
}

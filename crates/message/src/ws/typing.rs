//! `typing` frames: a member started or stopped typing in a room the connection is subscribed to.
//!
//! Typing is ephemeral and best effort: the event goes to the typing topic in a task of its own (fire
//! and forget; a failure is logged, never retried, since a stale indicator is worse than a lost one)
//! and is never stored. Accepted frames get no answer; refused ones get an error frame, so clients
//! learn to subscribe first or to slow down.

use std::future::Future;
use std::sync::Arc;

use natter_bus::EventBus;
use natter_proto::RoomId;
use natter_proto::events::TypingChanged;
use natter_proto::topics::{Topic, room_key};

use super::ctx::Ctx;
use super::refusal::Refusal;
use crate::rate_limit::Bucket;

/// One `typing` request.
#[derive(Debug)]
pub(super) struct Typing {
    pub(super) id: String,
    pub(super) room: RoomId,
    pub(super) typing: bool,
}

/// The one request with no answer when accepted: the event is published off the connection's task
/// and nothing is queued for the client. Refused when the connection's typing bucket is empty.
pub(super) fn accept(ctx: &Ctx, request: Typing) -> Result<(), Refusal> {
    let event = TypingChanged {
        room_id: request.room,
        member_id: ctx.member,
        member_name: ctx.name.to_string(),
        typing: request.typing,
    };
    let node = &ctx.node;
    let publish = limited(&ctx.limits.typing, &node.backends.bus, &node.settings.topic_prefix, event)?;
    node.drain.spawn(publish);
    Ok(())
}

/// The publication of `event` on `bus` (topics prefixed `topic_prefix`), once `bucket` allows it.
fn limited(
    bucket: &Bucket,
    bus: &Arc<dyn EventBus>,
    topic_prefix: &str,
    event: TypingChanged,
) -> Result<impl Future<Output = ()> + Send + 'static, Refusal> {
    if let Err(wait) = bucket.take() {
        let detail = format!("at most {} typing frames a second per connection", bucket.rate());
        return Err(Refusal::rate_limited(detail, wait));
    }
    let payload = serde_json::to_vec(&event).expect("events serialise");
    let topic = Topic::Typing.name(topic_prefix);
    let (bus, room) = (Arc::clone(bus), event.room_id);
    Ok(async move {
        if let Err(e) = bus.publish(&topic, &room_key(room), payload).await {
            tracing::warn!(error = %e, room.id = room, "typing event not published; dropped");
        }
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use natter_bus::MemoryBus;
    use natter_proto::frames::ErrorCode;

    use super::*;

    async fn bus() -> (Arc<dyn EventBus>, Box<dyn natter_bus::BusStream>) {
        let bus = MemoryBus::new(100);
        let topic = Topic::Typing.name("t.");
        bus.ensure_topics(std::slice::from_ref(&topic)).await.unwrap();
        let stream = bus.subscribe_all(std::slice::from_ref(&topic)).await.unwrap();
        (Arc::new(bus), stream)
    }

    fn typing(typing: bool) -> TypingChanged {
        TypingChanged { room_id: 5, member_id: 7, member_name: "Ann".into(), typing }
    }

    #[tokio::test]
    async fn accepted_typing_is_published() {
        let (bus, mut stream) = bus().await;
        let bucket = Bucket::per_second(2);
        let publish = limited(&bucket, &bus, "t.", typing(true)).expect("accepted");
        publish.await;
        let record = tokio::time::timeout(Duration::from_secs(1), stream.next()).await.unwrap().unwrap();
        assert_eq!(record.key, Some(room_key(5)));
        let event: TypingChanged = serde_json::from_slice(&record.payload).unwrap();
        assert_eq!(event, typing(true));
    }

    #[tokio::test]
    async fn typing_is_rate_limited() {
        let (bus, _stream) = bus().await;
        let bucket = Bucket::per_second(2);
        assert!(limited(&bucket, &bus, "t.", typing(true)).is_ok());
        assert!(limited(&bucket, &bus, "t.", typing(false)).is_ok());
        let Err(refusal) = limited(&bucket, &bus, "t.", typing(true)) else { panic!("a third is refused") };
        assert_eq!(refusal.code, ErrorCode::RateLimited);
        let wait = refusal.retry_after.expect("says when to retry");
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(500), "{wait:?}");
    }
}

//! Publishing one message, off the connection's task. Access is checked again for every message (the
//! cache makes that cheap), so a mute, a read-only room or a block applies to the next message; the
//! message goes to the topic of its kind of room, and the answer is queued for the client.

use std::sync::Arc;

use bytestring::ByteString;
use natter_proto::events::MessagePosted;
use natter_proto::frames::{ErrorCode, ServerFrame};
use natter_proto::topics::{Topic, room_key};
use tokio::sync::mpsc;

use crate::app::Shared;
use crate::hub::Outgoing;

/// Publishes `posted` for request `id` and queues the answer on `frames`.
pub(super) async fn run(
    shared: Arc<Shared>,
    id: String,
    posted: MessagePosted,
    frames: mpsc::Sender<Outgoing>,
) {
    let answer = answer(&shared, id, posted).await;
    let answer = ByteString::from(serde_json::to_string(&answer).expect("frames serialise"));
    // The connection may be gone by now; then nobody needs the answer.
    let _ = frames.send(Outgoing::Frame(answer)).await;
}

async fn answer(shared: &Shared, id: String, posted: MessagePosted) -> ServerFrame {
    let room = posted.room_id;
    let error = |code, detail: String| ServerFrame::Error { id: Some(id.clone()), code, detail };
    let access = match shared.access.check(room, posted.sender_id).await {
        Ok(checked) => checked.access,
        Err(e) => {
            tracing::warn!(error = %e, room.id = room, "room access check failed");
            return error(ErrorCode::Unavailable, "cannot check room access right now; retry".to_owned());
        }
    };
    if let Err(reason) = access.may_post(posted.sent_at_ms) {
        return error(ErrorCode::Forbidden, reason);
    }
    let topic = if access.direct { Topic::DirectMessages } else { Topic::CommunityMessages };
    let topic = topic.name(&shared.settings.topic_prefix);
    let payload = serde_json::to_vec(&posted).expect("events serialise");
    match shared.bus.publish(&topic, &room_key(room), payload).await {
        Ok(stored) => ServerFrame::Ack { id, room, message_id: posted.message_id, position: stored.offset },
        Err(e) => {
            tracing::warn!(error = %e, room.id = room, "publish failed");
            error(
                ErrorCode::Unavailable,
                "the message could not be stored; retry with the same client_msg_id".to_owned(),
            )
        }
    }
}

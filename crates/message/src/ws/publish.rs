//! Publishing one message, off the connection's task. Access is checked again for every message (the
//! cache makes that cheap), so a mute, a read-only room or a block applies to the next message; the
//! message goes to the topic of its kind of room (the publish log), in the connection's order (see
//! `publish_order.rs`); once the broker stored it and the sequencer placed it, the `ack` with its
//! position is queued for the client.

use std::sync::Arc;
use std::time::Duration;

use bytestring::ByteString;
use natter_http::InternalCallError;
use natter_proto::events::{FileRef, MessagePosted, ReplyTo};
use natter_proto::frames::{ErrorCode, ServerFrame};
use natter_proto::http::AttachFile;
use natter_proto::topics::{Topic, room_key};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::change;
use super::idempotency::{self, Claim};
use super::publish_order::Turn;
use crate::node::Node;
use crate::outbox::Outgoing;

/// What a published message refers to besides its text.
pub(super) struct Shares {
    /// The message of the same room it answers.
    pub(super) reply_to: Option<Uuid>,
    /// The uploaded file it shares.
    pub(super) file: Option<Uuid>,
}

/// How long a stored message may wait for its position before the publish is answered `unavailable`
/// (the sequencer's partitions move to another pod within the group's session timeout).
const POSITION_PATIENCE: Duration = Duration::from_secs(30);
/// How often history is asked for a message's position while waiting (a second copy of a message
/// is dropped by the sequencer, so only history knows the first one's place).
const POSITION_POLL: Duration = Duration::from_secs(1);

/// Publishes `posted` (with what it `shares`) for request `id`, in `turn`, and queues the answer on
/// `frames`.
pub(super) async fn run(
    node: Arc<Node>,
    id: String,
    posted: MessagePosted,
    shares: Shares,
    turn: Turn,
    frames: mpsc::Sender<Outgoing>,
) {
    let answer = match replying(&node, posted, shares.reply_to).await {
        Ok(posted) => answer(&node, id, posted, shares.file, turn).await,
        Err(refusal) => refusal.answering(id),
    };
    let answer = ByteString::from(serde_json::to_string(&answer).expect("frames serialise"));
    // The connection may be gone by now; then nobody needs the answer.
    let _ = frames.send(Outgoing::Frame(answer)).await;
}

async fn answer(
    node: &Node,
    id: String,
    posted: MessagePosted,
    file: Option<Uuid>,
    turn: Turn,
) -> ServerFrame {
    let room = posted.room_id;
    let error = |code, detail: String| ServerFrame::error(Some(id.clone()), code, detail);
    let access = match node.upstream.access.check(room, posted.sender_id).await {
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
    let topic = topic.name(&node.settings.topic_prefix);
    let Some(client_msg_id) = posted.client_msg_id.clone() else {
        let sent = match sharing(node, posted, file).await {
            Ok(posted) => {
                send(node, &topic, &posted, turn).await.map(|position| (posted.message_id, position))
            }
            Err(refusal) => Err(refusal),
        };
        return match sent {
            Ok((message_id, position)) => {
                metrics::counter!("natter_messages_published_total").increment(1);
                ServerFrame::Ack { id, room, message_id, position }
            }
            Err(frame) => frame.answering(id),
        };
    };
    let kv = node.backends.kv.as_ref();
    let member = posted.sender_id;
    let message_id = match idempotency::claim(kv, member, &client_msg_id, posted.message_id).await {
        Ok(Claim::Publish { message_id, earlier_attempt: false }) => message_id,
        // An earlier attempt chose this id and may have been stored (its pod died before recording
        // the ack): then that is the message. If not, it is published again under the same id; the
        // sequencer drops a second copy should the first still arrive.
        Ok(Claim::Publish { message_id, earlier_attempt: true }) => {
            match node.backends.history.message(room, message_id).await {
                Ok(Some(stored)) => {
                    let position = stored.position;
                    if let Err(e) = idempotency::acked(kv, member, &client_msg_id, message_id, position).await
                    {
                        tracing::warn!(error = %e, "ack not recorded; a retry looks it up again");
                    }
                    return ServerFrame::Ack { id, room, message_id, position };
                }
                Ok(None) => message_id,
                Err(e) => {
                    tracing::warn!(error = %e, "history unavailable to check an earlier attempt");
                    return error(ErrorCode::Unavailable, "cannot check history right now; retry".to_owned());
                }
            }
        }
        Ok(Claim::Acked { message_id, position }) => {
            return ServerFrame::Ack { id, room, message_id, position };
        }
        Err(e) => {
            tracing::warn!(error = %e, "idempotency store unavailable");
            return error(ErrorCode::Unavailable, "cannot store messages right now; retry".to_owned());
        }
    };
    let sent = match sharing(node, MessagePosted { message_id, ..posted }, file).await {
        Ok(posted) => send(node, &topic, &posted, turn).await,
        Err(refusal) => Err(refusal),
    };
    match sent {
        Ok(position) => {
            metrics::counter!("natter_messages_published_total").increment(1);
            if let Err(e) = idempotency::acked(kv, member, &client_msg_id, message_id, position).await {
                tracing::warn!(error = %e, "ack not recorded; a retry looks the message up again");
            }
            ServerFrame::Ack { id, room, message_id, position }
        }
        // A retry publishes again under the same message id (see `idempotency.rs`).
        Err(frame) => frame.answering(id),
    }
}

/// `posted` naming the message it answers: one of the same room, not deleted. The message may have
/// been acked a moment ago and not be in history yet, so it is looked for a while (as for edits).
async fn replying(
    node: &Node,
    posted: MessagePosted,
    reply_to: Option<Uuid>,
) -> Result<MessagePosted, Refusal> {
    let Some(message_id) = reply_to else {
        return Ok(posted);
    };
    let room = posted.room_id;
    let original = change::find(node.backends.history.as_ref(), room, message_id, change::LOOKUP_PATIENCE)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, room.id = room, "reading history failed");
            Refusal(ErrorCode::Unavailable, "cannot read history right now; retry".to_owned())
        })?
        .ok_or_else(|| {
            let change::Refusal(code, detail) = change::missing(message_id, room);
            Refusal(code, format!("reply_to: {detail}"))
        })?;
    if original.deleted {
        return Err(Refusal(
            ErrorCode::InvalidRequest,
            format!("reply_to: message {message_id} was deleted"),
        ));
    }
    let reply_to = ReplyTo {
        message_id,
        position: original.position,
        sender_id: original.posted.sender_id,
        sender_name: original.posted.sender_name,
    };
    Ok(MessagePosted { reply_to: Some(reply_to), ..posted })
}

/// `posted` carrying the uploaded `file`, attached to it by web (which checks that the sender
/// uploaded it to this room and that no other message shares it; a retry of the same message may).
async fn sharing(node: &Node, posted: MessagePosted, file: Option<Uuid>) -> Result<MessagePosted, Refusal> {
    let Some(file_id) = file else {
        return Ok(posted);
    };
    let request =
        AttachFile { room_id: posted.room_id, member_id: posted.sender_id, message_id: posted.message_id };
    let path = format!("/internal/files/{file_id}/attachment");
    match node.upstream.web.put_json_answer::<_, FileRef>(&path, &request).await {
        Ok(file) => Ok(MessagePosted { file: Some(file), ..posted }),
        Err(InternalCallError::Status { status, .. }) if status == reqwest::StatusCode::NOT_FOUND => {
            Err(Refusal(
                ErrorCode::InvalidRequest,
                format!("file: no file {file_id} uploaded by you to room {}", posted.room_id),
            ))
        }
        Err(InternalCallError::Status { status, .. }) if status == reqwest::StatusCode::CONFLICT => {
            Err(Refusal(
                ErrorCode::InvalidRequest,
                format!("file: {file_id} is already shared by another message"),
            ))
        }
        Err(e) => {
            tracing::warn!(error = %e, room.id = posted.room_id, "attaching a file failed");
            Err(Refusal(ErrorCode::Unavailable, "cannot attach the file right now; retry".to_owned()))
        }
    }
}

/// A refusal not yet tied to a request id.
struct Refusal(ErrorCode, String);

impl Refusal {
    fn answering(self, id: String) -> ServerFrame {
        ServerFrame::error(Some(id), self.0, self.1)
    }
}

/// Publishes to the broker when it is `turn`; the message's position once it is stored durably and
/// placed by the sequencer.
async fn send(node: &Node, topic: &str, posted: &MessagePosted, turn: Turn) -> Result<i64, Refusal> {
    let payload = serde_json::to_vec(posted).expect("events serialise");
    // Registered before publishing, so the placement cannot be missed.
    let awaited = node.acks.wait_for(posted.message_id);
    turn.wait().await;
    let stored = node.backends.bus.enqueue(topic, &room_key(posted.room_id), payload);
    drop(turn);
    if let Err(e) = stored.await {
        tracing::warn!(error = %e, room.id = posted.room_id, "publish failed");
        return Err(Refusal(
            ErrorCode::Unavailable,
            "the message could not be stored; retry with the same client_msg_id".to_owned(),
        ));
    }
    position_of(node, posted.room_id, posted.message_id, awaited).await
}

/// Waits for the sequencer to place a stored message: the pod's fan-out tells at once, history is
/// asked now and then (see [`POSITION_POLL`]).
async fn position_of(
    node: &Node,
    room: natter_proto::RoomId,
    message_id: Uuid,
    mut awaited: crate::pending_acks::AwaitedPosition,
) -> Result<i64, Refusal> {
    let deadline = tokio::time::Instant::now() + POSITION_PATIENCE;
    let mut listening = true;
    loop {
        tokio::select! {
            placed = &mut awaited.position, if listening => match placed {
                Ok(position) => return Ok(position),
                Err(_) => listening = false,
            },
            () = tokio::time::sleep(POSITION_POLL) => {
                if let Ok(Some(stored)) = node.backends.history.message(room, message_id).await {
                    return Ok(stored.position);
                }
            }
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(room.id = room, message.id = %message_id, "stored message not placed in time");
            return Err(Refusal(
                ErrorCode::Unavailable,
                "the message is stored but not yet ordered; retry with the same client_msg_id".to_owned(),
            ));
        }
    }
}

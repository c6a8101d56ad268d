//! Publishing one message, off the connection's task. Access is checked again for every message (the
//! cache makes that cheap), so a mute, a read-only room or a block applies to the next message; the
//! message goes to the topic of its kind of room (the publish log), in the connection's order (see
//! `publish_order.rs`); once the broker stored it and the sequencer placed it, the `ack` with its
//! position is queued for the client.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use natter_http::InternalCallError;
use natter_proto::RoomId;
use natter_proto::events::{FileRef, MessagePosted, ReplyTo};
use natter_proto::frames::ServerFrame;
use natter_proto::http::AttachFile;
use natter_proto::topics::{Topic, room_key};
use uuid::Uuid;

use super::ctx::Ctx;
use super::idempotency::{self, Claim};
use super::publish_order::{PublishOrder, Turn};
use super::refusal::Refusal;
use super::{change, mentions};
use crate::node::Node;
use crate::rate_limit::{self, Limited};

/// One `publish` request.
#[derive(Debug)]
pub(super) struct Publish {
    pub(super) id: String,
    pub(super) room: RoomId,
    pub(super) text: String,
    /// The client's id of the message, for retries.
    pub(super) client_msg_id: Option<String>,
    pub(super) shares: Shares,
}

/// What a published message refers to besides its text.
#[derive(Debug)]
pub(super) struct Shares {
    /// The message of the same room it answers.
    pub(super) reply_to: Option<Uuid>,
    /// The uploaded file it shares.
    pub(super) file: Option<Uuid>,
}

/// A publish the connection accepted: its message, what it shares, and its turn in the
/// connection's order.
pub(super) struct Accepted {
    pub(super) id: String,
    pub(super) posted: MessagePosted,
    pub(super) shares: Shares,
    pub(super) turn: Turn,
}

/// How long a stored message may wait for its position before the publish is answered `unavailable`
/// (the sequencer's partitions move to another pod within the group's session timeout).
const POSITION_PATIENCE: Duration = Duration::from_secs(30);
/// How often history is asked for a message's position while waiting (a second copy of a message
/// is dropped by the sequencer, so only history knows the first one's place).
const POSITION_POLL: Duration = Duration::from_secs(1);

/// On the connection's task, before its next frame is read: checks the connection's and the
/// member's publish limits, mints the message, and takes its turn in `order`.
pub(super) async fn accept(
    ctx: &Ctx,
    request: Publish,
    order: &Arc<PublishOrder>,
) -> Result<Accepted, Refusal> {
    let Publish { id, room, text, client_msg_id, shares } = request;
    if let Some(retry_after) = ctx.node.delivery_lag.refuse(ctx.node.settings.publish_admission_lag) {
        metrics::counter!("natter_publishes_refused_overload_total").increment(1);
        return Err(Refusal::overloaded(
            "the server is behind delivering messages; retry shortly",
            retry_after,
        ));
    }
    rate_limit::check_publish(&ctx.limits.publish, &ctx.node.member_limit, ctx.member)
        .await
        .map_err(|Limited { detail, retry_after }| Refusal::rate_limited(detail, retry_after))?;
    let posted = MessagePosted {
        message_id: Uuid::now_v7(),
        room_id: room,
        sender_id: ctx.member,
        sender_name: ctx.name.to_string(),
        text,
        client_msg_id,
        sent_at_ms: SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64,
        reply_to: None,
        file: None,
        mentions: Vec::new(),
        mentions_room: false,
    };
    Ok(Accepted { id, posted, shares, turn: order.take_turn() })
}

/// The root of an accepted message's trace: the broker, every pod's fan-out and the history writer
/// continue it through the record's headers.
pub(super) fn span(accepted: &Accepted) -> tracing::Span {
    let posted = &accepted.posted;
    let span = tracing::info_span!(
        "publish frame",
        otel.name = "publish message",
        otel.kind = "server",
        room.id = posted.room_id,
        member.id = posted.sender_id,
        message.id = %posted.message_id,
        trace_id = tracing::field::Empty,
    );
    natter_runtime::trace_context::record_trace_id(&span);
    span
}

/// Publishes the accepted message (with what it shares), in its turn; the `ack` with its position.
pub(super) async fn handle(ctx: &Ctx, accepted: Accepted) -> Result<ServerFrame, Refusal> {
    let Accepted { id, posted, shares, turn } = accepted;
    let node = ctx.node.as_ref();
    let posted = replying(node, posted, shares.reply_to).await?;
    let room = posted.room_id;
    let access = match node.upstream.access.check(room, posted.sender_id).await {
        Ok(checked) => checked.access,
        Err(e) => {
            tracing::warn!(error = %e, room.id = room, "room access check failed");
            return Err(Refusal::unavailable("cannot check room access right now; retry"));
        }
    };
    access.may_post(posted.sent_at_ms).map_err(Refusal::forbidden)?;
    let posted = mentions::mentioning(node, posted, &access).await?;
    let topic = if access.direct { Topic::DirectMessages } else { Topic::CommunityMessages };
    let topic = topic.name(&node.settings.topic_prefix);
    let Some(client_msg_id) = posted.client_msg_id.clone() else {
        let posted = sharing(node, posted, shares.file).await?;
        let position = send(node, &topic, &posted, turn).await?;
        metrics::counter!("natter_messages_published_total").increment(1);
        return Ok(ServerFrame::Ack { id, room, message_id: posted.message_id, position });
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
                    return Ok(ServerFrame::Ack { id, room, message_id, position });
                }
                Ok(None) => message_id,
                Err(e) => {
                    tracing::warn!(error = %e, "history unavailable to check an earlier attempt");
                    return Err(Refusal::unavailable("cannot check history right now; retry"));
                }
            }
        }
        Ok(Claim::Acked { message_id, position }) => {
            return Ok(ServerFrame::Ack { id, room, message_id, position });
        }
        Err(e) => {
            tracing::warn!(error = %e, "idempotency store unavailable");
            return Err(Refusal::unavailable("cannot store messages right now; retry"));
        }
    };
    // On a refusal from here on, a retry publishes again under the same message id (see
    // `idempotency.rs`).
    let posted = sharing(node, MessagePosted { message_id, ..posted }, shares.file).await?;
    let position = send(node, &topic, &posted, turn).await?;
    metrics::counter!("natter_messages_published_total").increment(1);
    if let Err(e) = idempotency::acked(kv, member, &client_msg_id, message_id, position).await {
        tracing::warn!(error = %e, "ack not recorded; a retry looks the message up again");
    }
    Ok(ServerFrame::Ack { id, room, message_id, position })
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
            Refusal::unavailable("cannot read history right now; retry")
        })?
        .ok_or_else(|| {
            let missing = change::missing(message_id, room);
            Refusal { detail: format!("reply_to: {}", missing.detail), ..missing }
        })?;
    if original.deleted {
        return Err(Refusal::invalid(format!("reply_to: message {message_id} was deleted")));
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
        Err(InternalCallError::Status { status, .. }) if status == reqwest::StatusCode::NOT_FOUND => Err(
            Refusal::invalid(format!("file: no file {file_id} uploaded by you to room {}", posted.room_id)),
        ),
        Err(InternalCallError::Status { status, .. }) if status == reqwest::StatusCode::CONFLICT => {
            Err(Refusal::invalid(format!("file: {file_id} is already shared by another message")))
        }
        Err(e) => {
            tracing::warn!(error = %e, room.id = posted.room_id, "attaching a file failed");
            Err(Refusal::unavailable("cannot attach the file right now; retry"))
        }
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
    let producing = std::time::Instant::now();
    let stored = stored.await;
    metrics::histogram!("natter_publish_produce_seconds").record(producing.elapsed().as_secs_f64());
    if let Err(e) = stored {
        tracing::warn!(error = %e, room.id = posted.room_id, "publish failed");
        return Err(Refusal::unavailable(
            "the message could not be stored; retry with the same client_msg_id",
        ));
    }
    position_of(node, posted.room_id, posted.message_id, awaited).await
}

/// Waits for the sequencer to place a stored message: the pod's fan-out tells at once, history is
/// asked now and then (see [`POSITION_POLL`]).
async fn position_of(
    node: &Node,
    room: RoomId,
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
            return Err(Refusal::unavailable(
                "the message is stored but not yet ordered; retry with the same client_msg_id",
            ));
        }
    }
}

//! Whispers: a `publish` with `whisper_to`, for one member of a community room and the sender only.
//!
//! Why outside the room's sequence: a position is public (every member sees positions 1, 2, 3, ...
//! with no holes), so a whisper holding one would tell everyone else that something was said, and
//! when. A whisper instead records `after`, the room's last position when it was sent, and is stored
//! here, by the pod that accepted it, before it is published on the whispers topic; every pod then
//! hands it to the two members' connections subscribed to the room, and nobody else's. It is covered
//! by the publish limits like any message, and a retry with the same `client_msg_id` stores it once.

use std::time::{SystemTime, UNIX_EPOCH};

use natter_proto::events::WhisperPosted;
use natter_proto::frames::ServerFrame;
use natter_proto::http::WhisperTarget;
use natter_proto::topics::{Topic, room_key};
use natter_proto::{MemberId, RoomId};
use uuid::Uuid;

use super::ctx::Ctx;
use super::idempotency::{self, Claim};
use super::refusal::Refusal;
use crate::rate_limit::{self, Limited};

/// One whisper request.
#[derive(Debug)]
pub(super) struct Whisper {
    pub(super) id: String,
    pub(super) room: RoomId,
    pub(super) text: String,
    pub(super) client_msg_id: Option<String>,
    pub(super) to: MemberId,
}

fn unavailable(what: &str, e: &dyn std::fmt::Display) -> Refusal {
    tracing::warn!(error = %e, "{what} failed");
    Refusal::unavailable(format!("cannot {what} right now; retry"))
}

/// On the connection's task: the publish limits, as for any message.
pub(super) async fn accept(ctx: &Ctx) -> Result<(), Refusal> {
    rate_limit::check_publish(&ctx.limits.publish, &ctx.node.member_limit, ctx.member)
        .await
        .map_err(|Limited { detail, retry_after }| Refusal::rate_limited(detail, retry_after))
}

/// Checks who may whisper to whom, stores the whisper and publishes it; answers `whispered`.
pub(super) async fn handle(ctx: &Ctx, request: Whisper) -> Result<ServerFrame, Refusal> {
    let Whisper { id, room, text, client_msg_id, to } = request;
    let node = ctx.node.as_ref();
    let sender = ctx.member;
    let sent_at_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64;
    let access = node
        .upstream
        .access
        .check(room, sender)
        .await
        .map_err(|e| unavailable("check room access", &e))?
        .access;
    if access.direct {
        return Err(Refusal::invalid("whispers are for community rooms; a direct chat is private already"));
    }
    access.may_post(sent_at_ms).map_err(Refusal::forbidden)?;
    if to == sender {
        return Err(Refusal::invalid("a whisper goes to someone else"));
    }
    let path = format!("/internal/rooms/{room}/whisper-targets/{to}?from={sender}");
    let target: WhisperTarget =
        node.upstream.web.get_json(&path).await.map_err(|e| unavailable("check the recipient", &e))?;
    if !target.member {
        return Err(Refusal::forbidden(format!("member {to} is not in this room")));
    }
    if target.blocked {
        return Err(Refusal::forbidden("you cannot whisper to this member"));
    }
    let history = node.backends.history.as_ref();
    let mut message_id = Uuid::now_v7();
    if let Some(client_msg_id) = &client_msg_id {
        match idempotency::claim(node.backends.kv.as_ref(), sender, client_msg_id, message_id).await {
            Ok(Claim::Publish { message_id: claimed, .. }) => message_id = claimed,
            Ok(Claim::Acked { message_id, position }) => {
                return Ok(ServerFrame::Whispered { id, room, message_id, after: position });
            }
            Err(e) => return Err(unavailable("store messages", &e)),
        }
    }
    let after = history.last_position(room).await.map_err(|e| unavailable("read history", &e))?;
    let whisper = WhisperPosted {
        message_id,
        room_id: room,
        sender_id: sender,
        sender_name: ctx.name.to_string(),
        to_id: to,
        to_name: target.name,
        text,
        client_msg_id: client_msg_id.clone(),
        sent_at_ms,
        after,
    };
    history.store_whisper(&whisper).await.map_err(|e| unavailable("store the whisper", &e))?;
    let payload = serde_json::to_vec(&whisper).expect("events serialise");
    let topic = Topic::Whispers.name(&node.settings.topic_prefix);
    node.backends
        .bus
        .publish(&topic, &room_key(room), payload)
        .await
        .map_err(|e| unavailable("send the whisper", &e))?;
    metrics::counter!("natter_whispers_total").increment(1);
    if let Some(client_msg_id) = &client_msg_id
        && let Err(e) =
            idempotency::acked(node.backends.kv.as_ref(), sender, client_msg_id, message_id, after).await
    {
        tracing::warn!(error = %e, "whisper ack not recorded; a retry stores it once anyway");
    }
    Ok(ServerFrame::Whispered { id, room, message_id, after })
}

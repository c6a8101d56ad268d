//! `call_join`, `call_leave` and `signal` frames, and the call state a subscriber is told.
//!
//! Joining asks web (through the access cache) whether the member may be in the call with the media
//! they send (`RoomAccess::may_call`), then seats the connection (see `seats.rs`); presence hears of
//! it with the next heartbeat and tells every pod. A signal is relayed only from a connection seated
//! in the room's call, over the calls topic keyed by sender and receiver, published before the next
//! frame is read so one connection's signals keep their order; it is never stored.

use natter_proto::RoomId;
use natter_proto::calls::{CallMedia, CallState};
use natter_proto::events::{CallEvent, SignalRelayed};
use natter_proto::frames::ServerFrame;
use natter_proto::topics::{Topic, signal_key};

use super::ctx::Ctx;
use super::refusal::Refusal;
use crate::delivery_lag::now_ms;
use crate::outbox::Outgoing;
use crate::seats::Sitter;

#[derive(Debug)]
pub(super) struct CallJoin {
    pub(super) id: String,
    pub(super) room: RoomId,
    pub(super) media: CallMedia,
}

#[derive(Debug)]
pub(super) struct Signal {
    pub(super) id: String,
    pub(super) room: RoomId,
    pub(super) to: String,
    pub(super) data: serde_json::Value,
}

/// Seats the connection in the room's call when the member may be there with `media`.
pub(super) async fn join(ctx: &Ctx, request: CallJoin) -> Result<ServerFrame, Refusal> {
    let CallJoin { id, room, media } = request;
    let checked = ctx.node.upstream.access.check(room, ctx.member).await.map_err(|e| {
        tracing::warn!(error = %e, room.id = room, "room access check failed");
        Refusal::unavailable("cannot check room access right now; retry")
    })?;
    checked.access.may_call(media, now_ms()).map_err(Refusal::forbidden)?;
    let sitter = Sitter {
        member: ctx.member,
        name: &ctx.name,
        connection: ctx.connection,
        presence_key: &ctx.presence_key,
        outbox: &ctx.outbox,
    };
    let taken = ctx.node.seats.take(sitter, room, media);
    tracing::debug!(room.id = room, left = ?taken.left, "joined a call");
    Ok(ServerFrame::CallJoined { id, room, session: taken.session })
}

/// Leaves the room's call (nothing to do when not in it).
pub(super) fn leave(ctx: &Ctx, id: String, room: RoomId) -> ServerFrame {
    ctx.node.seats.leave(ctx.connection, Some(room));
    ServerFrame::CallLeft { id, room }
}

/// Relays `request` to its receiver, wherever it is connected. Refused when this connection is not
/// in the room's call, or sends too many.
pub(super) async fn signal(ctx: &Ctx, request: Signal) -> Result<(), Refusal> {
    let Signal { room, to, data, .. } = request;
    let bucket = &ctx.limits.signals;
    bucket.take().map_err(|wait| {
        let detail = format!("at most {} signals a second per connection", bucket.rate());
        Refusal::rate_limited(detail, wait)
    })?;
    let Some(from) = ctx.node.seats.session_in(ctx.connection, room) else {
        return Err(Refusal::forbidden("join the room's call before signalling in it"));
    };
    if from == to {
        return Err(Refusal::invalid("a signal goes to another participant, not to oneself"));
    }
    let key = signal_key(&from, &to);
    let event = CallEvent::Signal(SignalRelayed { room_id: room, from, from_member: ctx.member, to, data });
    let payload = serde_json::to_vec(&event).expect("events serialise");
    let topic = Topic::Calls.name(&ctx.node.settings.topic_prefix);
    ctx.node.backends.bus.publish(&topic, &key, payload).await.map_err(|e| {
        tracing::warn!(error = %e, room.id = room, "signal not relayed");
        Refusal::unavailable("cannot relay signals right now; retry")
    })?;
    Ok(())
}

/// Tells a new subscriber of `room` who is in its call, when someone is (read from presence off the
/// connection's task; presence being away only means the call shows with its next change).
pub(super) fn tell_call(ctx: &Ctx, room: RoomId) {
    let (presence, frames) = (ctx.node.upstream.presence_api.clone(), ctx.outbox.frames.clone());
    ctx.node.drain.spawn(async move {
        let state = match presence.get_json::<CallState>(&format!("/internal/rooms/{room}/call")).await {
            Ok(state) => state,
            Err(e) => {
                tracing::warn!(error = %e, room.id = room, "call state unknown; not told to the subscriber");
                return;
            }
        };
        if state.participants.is_empty() {
            return;
        }
        let frame = ServerFrame::CallState { room, version: state.version, participants: state.participants };
        let text = serde_json::to_string(&frame).expect("frames serialise");
        // The connection may be gone by now.
        let _ = frames.send(Outgoing::Frame(text.into())).await;
    });
}

//! `mark_read` frames: the member has read a room up to a position. Read positions are kept by web
//! (with the membership, in PostgreSQL, only moving forward) because the room list's unread counts
//! come from them; the pod forwards the mark off the connection's task and queues the answer.

use natter_proto::RoomId;
use natter_proto::frames::ServerFrame;
use natter_proto::rooms::{MarkRead as Mark, ReadPosition};

use super::ctx::Ctx;
use super::refusal::Refusal;

/// One `mark_read` request.
#[derive(Debug)]
pub(super) struct MarkRead {
    pub(super) id: String,
    pub(super) room: RoomId,
    pub(super) position: i64,
}

/// Forwards the mark to web; the member's read position after it.
pub(super) async fn handle(ctx: &Ctx, request: MarkRead) -> Result<ServerFrame, Refusal> {
    let MarkRead { id, room, position } = request;
    if position < 0 {
        return Err(Refusal::invalid("position is not negative"));
    }
    let path = format!("/internal/rooms/{room}/members/{}/read", ctx.member);
    match ctx.node.upstream.web.put_json_answer::<_, ReadPosition>(&path, &Mark { position }).await {
        Ok(ReadPosition { position: Some(position), .. }) => {
            Ok(ServerFrame::ReadPosition { id, room, position })
        }
        Ok(ReadPosition { position: None, .. }) => {
            Err(Refusal::forbidden(format!("you are not a member of room {room}")))
        }
        Err(e) => {
            tracing::warn!(error = %e, room.id = room, "read position not stored");
            Err(Refusal::unavailable("cannot store the read position right now; retry"))
        }
    }
}

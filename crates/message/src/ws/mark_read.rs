//! `mark_read` frames: the member has read a room up to a position. Read positions are kept by web
//! (with the membership, in PostgreSQL, only moving forward) because the room list's unread counts
//! come from them; the pod forwards the mark in a task of its own and queues the answer.

use std::sync::Arc;

use bytestring::ByteString;
use natter_http::InternalClient;
use natter_proto::frames::{ErrorCode, ServerFrame};
use natter_proto::rooms::{MarkRead, ReadPosition};
use natter_proto::{MemberId, RoomId};
use tokio::sync::mpsc;

use crate::outbox::Outgoing;

/// Forwards the mark of request `id` to web and queues the answer on `frames`.
pub(super) async fn run(
    web: Arc<InternalClient>,
    member: MemberId,
    id: String,
    room: RoomId,
    position: i64,
    frames: mpsc::Sender<Outgoing>,
) {
    let answer = answer(&web, member, id, room, position).await;
    let answer = ByteString::from(serde_json::to_string(&answer).expect("frames serialise"));
    // The connection may be gone by now; then nobody needs the answer.
    let _ = frames.send(Outgoing::Frame(answer)).await;
}

async fn answer(
    web: &InternalClient,
    member: MemberId,
    id: String,
    room: RoomId,
    position: i64,
) -> ServerFrame {
    if position < 0 {
        return ServerFrame::error(Some(id), ErrorCode::InvalidRequest, "position is not negative");
    }
    let path = format!("/internal/rooms/{room}/members/{member}/read");
    match web.put_json_answer::<_, ReadPosition>(&path, &MarkRead { position }).await {
        Ok(ReadPosition { position: Some(position), .. }) => ServerFrame::ReadPosition { id, room, position },
        Ok(ReadPosition { position: None, .. }) => {
            ServerFrame::error(Some(id), ErrorCode::Forbidden, format!("you are not a member of room {room}"))
        }
        Err(e) => {
            tracing::warn!(error = %e, room.id = room, "read position not stored");
            ServerFrame::error(
                Some(id),
                ErrorCode::Unavailable,
                "cannot store the read position right now; retry",
            )
        }
    }
}

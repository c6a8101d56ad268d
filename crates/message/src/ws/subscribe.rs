//! `subscribe` frames: web's access check (see `admission.rs`), then, for a resuming client, the
//! replay of what it missed, read off the connection's task (see `resume.rs`), then the member's
//! whispers in the room since then.

use std::sync::Arc;

use natter_proto::RoomId;
use natter_proto::frames::ServerFrame;

use super::admission::{self, Applicant};
use super::ctx::Ctx;
use super::refusal::Refusal;
use super::resume;
use crate::outbox::Outgoing;

/// One `subscribe` request.
#[derive(Debug)]
pub(super) struct Subscribe {
    pub(super) id: String,
    pub(super) room: RoomId,
    /// The last position the client has: the messages after it are replayed. The connection drops
    /// it when already subscribed (everything since then is in its queue).
    pub(super) since: Option<i64>,
}

/// Joins the room when the member may read it, and starts the replay after `since`; its result
/// arrives in the connection's queue as [`Outgoing::Replayed`], after the `subscribed` answer.
pub(super) async fn handle(ctx: &Ctx, request: Subscribe) -> Result<ServerFrame, Refusal> {
    let Subscribe { id, room, since } = request;
    let applicant = Applicant { room, member: ctx.member, connection: ctx.connection, outbox: &ctx.outbox };
    match admission::join(&ctx.node.upstream.access, &ctx.node.hub, applicant).await {
        Ok(Some(admitted)) => {
            ctx.node.upstream.presence.looking_at(&ctx.presence_key, Some(room));
            if let Some(since) = since {
                start_replay(ctx, room, since, admitted.delivered_before);
            }
            Ok(ServerFrame::Subscribed { id, room })
        }
        Ok(None) => Err(Refusal::forbidden(format!("you are not a member of room {room}"))),
        Err(e) => {
            tracing::warn!(error = %e, room.id = room, "room access check failed");
            Err(Refusal::unavailable("cannot check room access right now; retry"))
        }
    }
}

/// Reads the replay of `room` after `since` off the connection's task.
fn start_replay(ctx: &Ctx, room: RoomId, since: i64, delivered_before: Option<i64>) {
    let history = Arc::clone(&ctx.node.backends.history);
    let (frames, reader) = (ctx.outbox.frames.clone(), ctx.member);
    ctx.node.drain.spawn(async move {
        let replay = resume::replay(history.as_ref(), room, since, delivered_before).await;
        let replay = resume::with_reactions(history.as_ref(), replay, reader).await;
        // The connection may be gone by now.
        if frames.send(Outgoing::Replayed { room, since, replay }).await.is_err() {
            return;
        }
        // The reader's whispers since then (the client drops one it has already, by its id).
        match history.whispers(room, reader, since, None, MAX_WHISPERS_REPLAYED).await {
            Ok(whispers) => {
                for whisper in whispers {
                    let frame = serde_json::to_string(&ServerFrame::Whisper { whisper }).expect("frames serialise");
                    if frames.send(Outgoing::Frame(frame.into())).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, room.id = room, "whispers not replayed; the client reads them over REST"),
        }
    });
}

/// Most whispers sent after a resume's replay (more are read with `GET .../whispers`).
const MAX_WHISPERS_REPLAYED: u32 = 200;

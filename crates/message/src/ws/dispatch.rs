//! Serving a request on its connection: the checks that need the connection's state (a
//! subscription, a publishing slot), then its handler, inline or off the connection's task.
//!
//! What runs where: `ping`, `subscribe` and `unsubscribe` are answered at once (a subscribe waits
//! for web's access check, and the client for its answer). `publish`, `edit`, `delete` and
//! `mark_read` are served by [`Ctx::spawn_reply`] and answered later through the connection's
//! queue; publishes and changes hold one of the connection's publishing slots meanwhile, so a client
//! with too many in flight is not read from until one is answered. `typing` is published off the
//! task and never answered when accepted. `call_join` waits for the access check and `signal` for
//! the bus (so one connection's signals keep their order), then are answered at once (`signal`:
//! only when refused).

use natter_proto::frames::ServerFrame;
use tracing::Instrument;

use super::connection::Connection;
use super::refusal::Refusal;
use super::request::Request;
use super::{calls, change, mark_read, publish, subscribe, typing, whisper};

/// Rooms one connection may subscribe to.
const MAX_SUBSCRIPTIONS: usize = 200;

impl Connection {
    /// Serves `request`: its answer when it has one now, `None` when it comes later (or never).
    pub(super) async fn dispatch(&mut self, request: Request) -> Result<Option<ServerFrame>, Refusal> {
        match request {
            Request::Ping { id } => Ok(Some(ServerFrame::Pong { id })),
            Request::Subscribe(mut request) => {
                let room = request.room;
                let already = self.rooms.contains(room);
                if !already && self.rooms.len() >= MAX_SUBSCRIPTIONS {
                    return Err(Refusal::invalid(format!(
                        "at most {MAX_SUBSCRIPTIONS} rooms per connection"
                    )));
                }
                // Already subscribed: everything since then is in the queue; nothing to replay.
                if already {
                    request.since = None;
                }
                let replaying = request.since.is_some();
                let answer = subscribe::handle(&self.ctx, request).await;
                match &answer {
                    Ok(_) => {
                        self.rooms.subscribed(room, replaying);
                        calls::tell_call(&self.ctx, room);
                    }
                    Err(_) if !self.ctx.node.hub.is_subscribed(room, self.ctx.connection) => {
                        self.rooms.refused(room)
                    }
                    Err(_) => {}
                }
                answer.map(Some)
            }
            Request::Unsubscribe { id, room } => {
                self.forget(room);
                Ok(Some(ServerFrame::Unsubscribed { id, room }))
            }
            Request::Publish(request) => {
                self.rooms.require_subscribed(request.room, "publishing to it")?;
                // Waiting here for the member's limit stops reading from this client meanwhile.
                let accepted = publish::accept(&self.ctx, request, &self.publish_order).await?;
                let (id, span, slot) = (accepted.id.clone(), publish::span(&accepted), self.take_slot());
                let ctx = self.ctx.clone();
                let answer = async move { publish::handle(&ctx, accepted).await };
                self.ctx.spawn_reply(id, Some(slot), answer.instrument(span));
                Ok(None)
            }
            Request::Whisper(request) => {
                self.rooms.require_subscribed(request.room, "whispering in it")?;
                whisper::accept(&self.ctx).await?;
                let (id, ctx, slot) = (request.id.clone(), self.ctx.clone(), self.take_slot());
                let answer = async move { whisper::handle(&ctx, request).await };
                self.ctx.spawn_reply(id, Some(slot), answer);
                Ok(None)
            }
            Request::Change(mut request) => {
                self.rooms.require_subscribed(request.room, "changing its messages")?;
                if let change::Change::React { at_ms, .. } = &mut request.change {
                    let bucket = &self.ctx.limits.reactions;
                    bucket.take().map_err(|wait| {
                        let detail = format!("at most {} reactions a second per connection", bucket.rate());
                        Refusal::rate_limited(detail, wait)
                    })?;
                    // Given here, in the order the frames came (they are then served concurrently):
                    // the wall clock, but never the same or earlier than this connection's last, so
                    // the last click wins even within one millisecond.
                    let now_ms = change::now_ms();
                    self.last_reaction_ms = now_ms.max(self.last_reaction_ms + 1);
                    *at_ms = self.last_reaction_ms;
                }
                let (id, ctx, slot) = (request.id.clone(), self.ctx.clone(), self.take_slot());
                let answer = async move { change::handle(&ctx, request).await };
                self.ctx.spawn_reply(id, Some(slot), answer);
                Ok(None)
            }
            Request::MarkRead(request) => {
                self.rooms.require_subscribed(request.room, "marking it read")?;
                let (id, ctx) = (request.id.clone(), self.ctx.clone());
                let answer = async move { mark_read::handle(&ctx, request).await };
                self.ctx.spawn_reply(id, None, answer);
                Ok(None)
            }
            Request::Typing(request) => {
                self.rooms.require_subscribed(request.room, "sending typing to it")?;
                typing::accept(&self.ctx, request).map(|()| None)
            }
            Request::CallJoin(request) => {
                self.rooms.require_subscribed(request.room, "joining its call")?;
                calls::join(&self.ctx, request).await.map(Some)
            }
            Request::CallLeave { id, room } => Ok(Some(calls::leave(&self.ctx, id, room))),
            Request::Signal(request) => {
                self.rooms.require_subscribed(request.room, "signalling in its call")?;
                calls::signal(&self.ctx, request).await.map(|()| None)
            }
        }
    }
}

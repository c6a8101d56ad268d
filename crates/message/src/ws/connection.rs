//! One WebSocket connection: one task that reads client frames, writes queued frames, and checks the
//! client's heartbeat. Requests are parsed once into a [`Request`] and dispatched to their handlers
//! (`subscribe.rs`, `publish.rs`, `change.rs`, `mark_read.rs`, `typing.rs`); an answer is sent at
//! once or queued later by [`Ctx::spawn_reply`], a [`Refusal`] becomes an error frame naming the
//! request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use natter_proto::frames::{ErrorCode, ServerFrame};
use natter_proto::{MemberId, RoomId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::ctx::Ctx;
use super::publish_order::PublishOrder;
use super::request::Request;
use super::rooms::Rooms;
use crate::node::Node;
use crate::outbox::{Outbox, Outgoing, Replay};
use crate::rate_limit::ConnectionLimits;
use crate::settings::HARD_FRAME_LIMIT;

/// How often the server pings.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);
/// A client that sends nothing (not even a pong) for this long is gone.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(45);
/// Publishes of one connection waiting for the broker; more make the connection stop reading.
const MAX_PUBLISHES_IN_FLIGHT: usize = 32;
/// Live messages of rooms being replayed that a connection holds (outside its outbound queue) until
/// the replays are sent; beyond this the client is closed as too slow.
const MAX_HELD_WHILE_REPLAYING: usize = 10_000;

pub(super) struct Connection {
    pub(super) ctx: Ctx,
    session: Session,
    pub(super) rooms: Rooms,
    publishing: Arc<Semaphore>,
    /// A publishing slot taken before reading the next client frame (see the read loop).
    slot: Option<OwnedSemaphorePermit>,
    /// Keeps this connection's publishes in the order they were sent.
    pub(super) publish_order: Arc<PublishOrder>,
}

pub(crate) async fn run(
    node: Arc<Node>,
    member: MemberId,
    name: String,
    session: Session,
    stream: actix_ws::MessageStream,
) {
    let mut stream = stream
        .max_frame_size(HARD_FRAME_LIMIT)
        .aggregate_continuations()
        .max_continuation_size(HARD_FRAME_LIMIT);
    let (frames_tx, mut frames_rx) = mpsc::channel(node.settings.outbound_queue);
    let overflowed = CancellationToken::new();
    let id = node.hub.next_connection_id();
    let ctx = Ctx {
        member,
        name: name.into(),
        connection: id,
        outbox: Outbox { frames: frames_tx, overflowed: overflowed.clone() },
        presence_key: format!("c{id}").into(),
        limits: Arc::new(ConnectionLimits::new(&node.settings)),
        node,
    };
    let mut conn = Connection {
        ctx,
        session,
        rooms: Rooms::default(),
        publishing: Arc::new(Semaphore::new(MAX_PUBLISHES_IN_FLIGHT)),
        slot: None,
        publish_order: Arc::default(),
    };
    let node = Arc::clone(&conn.ctx.node);
    let presence_key = Arc::clone(&conn.ctx.presence_key);
    node.hub.connected(member, id, conn.ctx.outbox.clone());
    metrics::gauge!("natter_ws_connections").increment(1.0);
    let draining = node.drain.signal();
    node.upstream.presence.opened(&presence_key, member);
    tracing::debug!(member.id = member, connection.id = id, "connection open");

    let publishing = Arc::clone(&conn.publishing);
    let mut heartbeat = tokio::time::interval(HEARTBEAT_INTERVAL);
    let mut last_heard = Instant::now();
    let close: Option<CloseReason> = loop {
        tokio::select! {
            biased;
            () = overflowed.cancelled() => break Some(CloseReason {
                code: CloseCode::Again,
                description: Some("too slow: outbound queue full; reconnect".to_owned()),
            }),
            () = draining.cancelled() => break conn.drain(&mut frames_rx).await,
            Some(outgoing) = frames_rx.recv() => {
                if conn.forward(outgoing).await.is_err() { break None; }
            }
            // The next frame is read only with a publishing slot in hand: with every slot taken the
            // connection stops reading from the client, but keeps sending (answers of the publishes
            // in flight wait in the same queue, so it must keep moving).
            slot = Arc::clone(&publishing).acquire_owned(), if conn.slot.is_none() => {
                conn.slot = Some(slot.expect("the semaphore is never closed"));
            }
            incoming = stream.recv(), if conn.slot.is_some() => match incoming {
                None => break None,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, connection.id = id, "protocol error");
                    break Some(CloseReason { code: CloseCode::Size, description: Some(format!("{e}")) });
                }
                Some(Ok(message)) => {
                    last_heard = Instant::now();
                    match message {
                        AggregatedMessage::Text(text) => {
                            metrics::counter!("natter_ws_frames_in_total").increment(1);
                            if conn.on_text(&text).await.is_err() { break None; }
                        }
                        AggregatedMessage::Binary(_) => {
                            let error = ServerFrame::error(
                                None,
                                ErrorCode::MalformedFrame,
                                "binary frames are not supported; send JSON text frames",
                            );
                            if conn.reply(&error).await.is_err() { break None; }
                        }
                        AggregatedMessage::Ping(bytes) => {
                            if conn.session.pong(&bytes).await.is_err() { break None; }
                        }
                        AggregatedMessage::Pong(_) => {}
                        AggregatedMessage::Close(reason) => break reason,
                    }
                }
            },
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > CLIENT_TIMEOUT {
                    break Some(CloseReason { code: CloseCode::Away, description: Some("heartbeat timeout".to_owned()) });
                }
                if conn.session.ping(b"").await.is_err() { break None; }
            }
        }
    };

    for room in conn.rooms.drain() {
        node.hub.leave(room, id);
    }
    node.hub.disconnected(member, id);
    node.upstream.presence.closed(&presence_key);
    tracing::debug!(member.id = member, connection.id = id, "connection closed");
    let _ = conn.session.close(close).await;
    metrics::gauge!("natter_ws_connections").decrement(1.0);
}

/// The session is gone; the connection ends.
pub(super) struct Gone;

impl Connection {
    /// Sends a queued item, unless the connection has moved on (see [`Outgoing`]).
    async fn forward(&mut self, outgoing: Outgoing) -> Result<(), Gone> {
        let text = match outgoing {
            Outgoing::Frame(text) => Some(text),
            Outgoing::Removed { room, frame } => self.removed(room).then_some(frame),
            Outgoing::Message { room, position, frame } => match self.rooms.hold(room, position, frame) {
                None => {
                    if self.rooms.held() > MAX_HELD_WHILE_REPLAYING {
                        self.ctx.outbox.overflowed.cancel();
                    }
                    return Ok(());
                }
                Some(frame) => self.rooms.fresh(room, position).then_some(frame),
            },
            Outgoing::Replayed { room, since, replay } => return self.send_replay(room, since, replay).await,
        };
        match text {
            Some(text) => {
                metrics::counter!("natter_ws_frames_out_total").increment(1);
                self.session.text(text).await.map_err(|_| Gone)
            }
            None => Ok(()),
        }
    }

    /// The pod is shutting down: stops reading requests, sends the answers of those in flight (and
    /// whatever else is queued), then a `reconnect` frame; the close reason to end with.
    async fn drain(&mut self, queued: &mut mpsc::Receiver<Outgoing>) -> Option<CloseReason> {
        let all = u32::try_from(MAX_PUBLISHES_IN_FLIGHT).expect("a small number");
        self.slot = None;
        let answered = Arc::clone(&self.publishing).acquire_many_owned(all);
        let deadline = tokio::time::sleep(self.ctx.node.settings.drain_timeout);
        tokio::pin!(answered, deadline);
        loop {
            tokio::select! {
                biased;
                _ = &mut answered => break,
                () = &mut deadline => break,
                // Answers wait in the queue; keep it moving so they can be queued at all.
                Some(outgoing) = queued.recv() => if self.forward(outgoing).await.is_err() { return None },
            }
        }
        while let Ok(outgoing) = queued.try_recv() {
            if self.forward(outgoing).await.is_err() {
                return None;
            }
        }
        // Spread the reconnects over two seconds so clients do not all arrive at once elsewhere.
        let retry_after_ms = self.ctx.connection.wrapping_mul(7919) % 2000;
        let reason = "this server is shutting down; reconnect and resume with since".to_owned();
        self.reply(&ServerFrame::Reconnect { reason, retry_after_ms }).await.ok()?;
        Some(CloseReason { code: CloseCode::Restart, description: Some("server shutting down".to_owned()) })
    }

    pub(super) async fn reply(&mut self, frame: &ServerFrame) -> Result<(), Gone> {
        let text = serde_json::to_string(frame).expect("frames serialise");
        metrics::counter!("natter_ws_frames_out_total").increment(1);
        self.session.text(text).await.map_err(|_| Gone)
    }

    /// Reads a text frame as a request, serves it, and sends its answer or refusal, if it has one
    /// now.
    async fn on_text(&mut self, text: &str) -> Result<(), Gone> {
        let request = match Request::read(text, self.ctx.node.settings.max_frame_bytes) {
            Ok(request) => request,
            Err(unreadable) => return self.reply(&unreadable.refusal.answering(unreadable.id)).await,
        };
        if request.is_activity() {
            self.ctx.node.upstream.presence.active(&self.ctx.presence_key);
        }
        let id = request.id().to_owned();
        match self.dispatch(request).await {
            Ok(Some(answer)) => self.reply(&answer).await,
            Ok(None) => Ok(()),
            Err(refusal) => self.reply(&refusal.answering(Some(id))).await,
        }
    }

    /// The publishing slot taken before this frame was read (see the read loop).
    pub(super) fn take_slot(&mut self) -> OwnedSemaphorePermit {
        self.slot.take().expect("a frame is read only with a slot in hand")
    }

    /// Sends the replay of `room`, then the live messages held meanwhile that it did not cover.
    async fn send_replay(&mut self, room: RoomId, since: i64, replay: Replay) -> Result<(), Gone> {
        // Unsubscribed (or removed) meanwhile: nothing to send.
        let Some(held) = self.rooms.replay_arrived(room) else { return Ok(()) };
        let covered = match replay {
            Replay::Messages(messages) => {
                let last = messages.last().map_or(since, |m| m.position.max(since));
                for message in messages {
                    self.reply(&ServerFrame::Message { message }).await?;
                }
                last
            }
            Replay::Reload { after, up_to } => {
                self.reply(&ServerFrame::ReloadHistory { room, after, up_to }).await?;
                up_to
            }
        };
        self.rooms.replayed_up_to(room, covered);
        for (position, frame) in held {
            if self.rooms.fresh(room, position) {
                metrics::counter!("natter_ws_frames_out_total").increment(1);
                self.session.text(frame).await.map_err(|_| Gone)?;
            }
        }
        Ok(())
    }

    /// Ends the subscription to the room, if any.
    pub(super) fn forget(&mut self, room: RoomId) {
        self.rooms.forget(room);
        self.ctx.node.hub.leave(room, self.ctx.connection);
        self.ctx.node.upstream.presence.left(&self.ctx.presence_key, room);
    }

    /// The hub has removed this connection from `room` (see [`Outgoing::Removed`]); whether to tell the
    /// client. Not when it has unsubscribed since, nor when it has subscribed again (web allowed it).
    fn removed(&mut self, room: RoomId) -> bool {
        if self.ctx.node.hub.is_subscribed(room, self.ctx.connection) || !self.rooms.removed(room) {
            return false;
        }
        self.ctx.node.upstream.presence.left(&self.ctx.presence_key, room);
        true
    }
}

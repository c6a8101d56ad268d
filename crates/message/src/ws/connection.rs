//! One WebSocket connection: one task that reads client frames, writes queued frames, and checks the
//! client's heartbeat. Requests are parsed once into a [`Request`] and dispatched to their handlers
//! (`subscribe.rs`, `publish.rs`, `change.rs`, `mark_read.rs`, `typing.rs`); an answer is sent at
//! once or queued later by [`Ctx::spawn_reply`], a [`Refusal`] becomes an error frame naming the
//! request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use bytestring::ByteString;
use natter_proto::frames::{ErrorCode, ServerFrame};
use natter_proto::{MemberId, RoomId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

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
/// Queued items sent in one turn of the connection's loop at most (see `forward_batch`).
const FORWARD_BATCH: usize = 32;

pub(super) struct Connection {
    pub(super) ctx: Ctx,
    session: Session,
    /// A write that does not complete within this means the client stopped reading.
    write_stall: Duration,
    /// A write missed `write_stall`: the connection is cut off.
    stalled: bool,
    pub(super) rooms: Rooms,
    publishing: Arc<Semaphore>,
    /// A publishing slot taken before reading the next client frame (see the read loop).
    slot: Option<OwnedSemaphorePermit>,
    /// Keeps this connection's publishes in the order they were sent.
    pub(super) publish_order: Arc<PublishOrder>,
    /// `natter_ws_frames_out_total`, looked up once (`counter!` looks the name up on every call).
    frames_out: metrics::Counter,
    /// The time given to this connection's last reaction change (see `dispatch`).
    pub(super) last_reaction_ms: i64,
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
    let outbox = Outbox::new(frames_tx);
    let overflowed = outbox.overflowed.clone();
    let id = node.hub.next_connection_id();
    let ctx = Ctx {
        member,
        name: name.into(),
        connection: id,
        outbox,
        presence_key: format!("c{id}").into(),
        limits: Arc::new(ConnectionLimits::new(&node.settings)),
        node,
    };
    let mut conn = Connection {
        write_stall: ctx.node.settings.write_stall,
        stalled: false,
        ctx,
        session,
        rooms: Rooms::default(),
        publishing: Arc::new(Semaphore::new(MAX_PUBLISHES_IN_FLIGHT)),
        slot: None,
        publish_order: Arc::default(),
        frames_out: metrics::counter!("natter_ws_frames_out_total"),
        last_reaction_ms: 0,
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
    // Made once: a `cancelled()` made anew on every turn of the loop registers and unregisters a
    // waiter under the token's lock each time, which a busy room paid per delivered frame.
    let overflow_signal = overflowed.cancelled_owned();
    let drain_signal = draining.cancelled_owned();
    tokio::pin!(overflow_signal, drain_signal);
    let close: Option<CloseReason> = loop {
        tokio::select! {
            biased;
            () = &mut overflow_signal => break Some(CloseReason {
                code: CloseCode::Again,
                description: Some("too slow: outbound queue full; reconnect".to_owned()),
            }),
            () = &mut drain_signal => break conn.drain(&mut frames_rx).await,
            Some(outgoing) = frames_rx.recv() => {
                if conn.forward_batch(outgoing, &mut frames_rx).await.is_err() { break conn.stall_reason(); }
                // Caught up with everything queued before a gap: tell the client what it skipped.
                if conn.ctx.outbox.has_gaps() && conn.report_gaps(&frames_rx).await.is_err() {
                    break conn.stall_reason();
                }
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
                            if conn.on_text(&text).await.is_err() { break conn.stall_reason(); }
                        }
                        AggregatedMessage::Binary(_) => {
                            let error = ServerFrame::error(
                                None,
                                ErrorCode::MalformedFrame,
                                "binary frames are not supported; send JSON text frames",
                            );
                            if conn.reply(&error).await.is_err() { break conn.stall_reason(); }
                        }
                        AggregatedMessage::Ping(bytes) => {
                            if conn.pong(&bytes).await.is_err() { break conn.stall_reason(); }
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
                if conn.ping().await.is_err() { break conn.stall_reason(); }
            }
        }
    };

    for room in conn.rooms.drain() {
        node.hub.leave(room, id);
    }
    node.hub.disconnected(member, id);
    node.seats.closed(id);
    node.upstream.presence.closed(&presence_key);
    tracing::debug!(member.id = member, connection.id = id, "connection closed");
    if conn.stalled {
        metrics::counter!("natter_stalled_connections_closed_total").increment(1);
    }
    // A client that stopped reading may never take the close frame either.
    let _ = tokio::time::timeout(conn.write_stall, conn.session.close(close)).await;
    metrics::gauge!("natter_ws_connections").decrement(1.0);
}

/// The session is gone; the connection ends.
pub(super) struct Gone;

impl Connection {
    /// Sends `first` and up to [`FORWARD_BATCH`] - 1 more items already queued, without going back
    /// to the read loop in between: under load, one turn of the loop (and one wake-up of the
    /// WebSocket writer, which then writes them together) serves several frames.
    async fn forward_batch(
        &mut self,
        first: Outgoing,
        queued: &mut mpsc::Receiver<Outgoing>,
    ) -> Result<(), Gone> {
        self.forward(first).await?;
        // An overflow is noticed at the next turn of the loop, at most this many frames later.
        for _ in 1..FORWARD_BATCH {
            match queued.try_recv() {
                Ok(outgoing) => self.forward(outgoing).await?,
                Err(_) => break,
            }
        }
        Ok(())
    }

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
            Some(text) => self.send_text(text).await,
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
        self.send_text(serde_json::to_string(frame).expect("frames serialise").into()).await
    }

    /// Sends a text frame, within the write deadline.
    async fn send_text(&mut self, text: ByteString) -> Result<(), Gone> {
        self.frames_out.increment(1);
        let written = tokio::time::timeout(self.write_stall, self.session.text(text)).await;
        self.settle(written)
    }

    async fn ping(&mut self) -> Result<(), Gone> {
        let written = tokio::time::timeout(self.write_stall, self.session.ping(b"")).await;
        self.settle(written)
    }

    async fn pong(&mut self, bytes: &[u8]) -> Result<(), Gone> {
        let written = tokio::time::timeout(self.write_stall, self.session.pong(bytes)).await;
        self.settle(written)
    }

    /// The outcome of a write under the deadline; one that timed out marks the connection as stalled
    /// (its client stopped reading).
    fn settle(
        &mut self,
        written: Result<Result<(), actix_ws::Closed>, tokio::time::error::Elapsed>,
    ) -> Result<(), Gone> {
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Gone),
            Err(_) => {
                self.stalled = true;
                Err(Gone)
            }
        }
    }

    /// Why the connection ends after a failed write: the client stopped reading, or it is gone.
    fn stall_reason(&self) -> Option<CloseReason> {
        self.stalled.then(|| CloseReason {
            code: CloseCode::Again,
            description: Some("not reading: a write waited too long; reconnect".to_owned()),
        })
    }

    /// Tells the client which messages it skipped while it could not keep up (see `outbox.rs`), once
    /// everything queued before has been sent, for each room whose replay is not still being read
    /// (those follow their replay).
    async fn report_gaps(&mut self, queued: &mpsc::Receiver<Outgoing>) -> Result<(), Gone> {
        let rooms = &self.rooms;
        let gaps = self.ctx.outbox.take_gaps(|| queued.is_empty(), |room| !rooms.is_replaying(room));
        for (room, gap) in gaps {
            if !self.rooms.contains(room) {
                continue;
            }
            self.rooms.replayed_up_to(room, gap.up_to);
            tracing::debug!(
                connection.id = self.ctx.connection,
                room.id = room,
                skipped = gap.up_to - gap.after,
                "connection skipped ahead"
            );
            self.reply(&ServerFrame::ReloadHistory { room, after: gap.after, up_to: gap.up_to }).await?;
        }
        Ok(())
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
                self.send_text(frame).await?;
            }
        }
        Ok(())
    }

    /// Ends the subscription to the room, if any.
    pub(super) fn forget(&mut self, room: RoomId) {
        self.rooms.forget(room);
        self.ctx.outbox.forget_gap(room);
        self.ctx.node.hub.leave(room, self.ctx.connection);
        self.ctx.node.seats.leave(self.ctx.connection, Some(room));
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

//! One WebSocket connection: one task that reads client frames, writes queued frames, and checks the
//! client's heartbeat.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use bytestring::ByteString;
use natter_proto::events::MessagePosted;
use natter_proto::frames::{ClientFrame, ErrorCode, ServerFrame};
use natter_proto::{MemberId, RoomId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::admission::{self, Applicant};
use super::publish_order::PublishOrder;
use super::resume;
use super::{change, frames, publish};
use crate::node::Node;
use crate::outbox::{ConnectionId, Outbox, Outgoing, Replay};
use crate::settings::HARD_FRAME_LIMIT;

/// How often the server pings.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);
/// A client that sends nothing (not even a pong) for this long is gone.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(45);
/// Rooms one connection may subscribe to.
const MAX_SUBSCRIPTIONS: usize = 200;
/// Publishes of one connection waiting for the broker; more make the connection stop reading.
const MAX_PUBLISHES_IN_FLIGHT: usize = 32;
/// Live messages of rooms being replayed that a connection holds (outside its outbound queue) until
/// the replays are sent; beyond this the client is closed as too slow.
const MAX_HELD_WHILE_REPLAYING: usize = 10_000;

struct Connection {
    node: Arc<Node>,
    member: MemberId,
    name: String,
    id: ConnectionId,
    session: Session,
    outbox: Outbox,
    subscriptions: HashSet<RoomId>,
    /// The last replayed position per room, while live messages may still overlap the replay.
    replayed: HashMap<RoomId, i64>,
    /// Rooms whose replay is being read, with their live messages held until it is sent.
    replaying: HashMap<RoomId, Vec<(i64, ByteString)>>,
    /// Live messages held in `replaying`, all rooms together.
    held: usize,
    publishing: Arc<Semaphore>,
    /// A publishing slot taken before reading the next client frame (see the read loop).
    slot: Option<OwnedSemaphorePermit>,
    /// Keeps this connection's publishes in the order they were sent.
    publish_order: Arc<PublishOrder>,
    limits: crate::rate_limit::ConnectionLimits,
    /// This connection's id in presence heartbeats.
    presence_key: String,
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
    let mut conn = Connection {
        member,
        name,
        id,
        session,
        outbox: Outbox { frames: frames_tx, overflowed: overflowed.clone() },
        subscriptions: HashSet::new(),
        replayed: HashMap::new(),
        replaying: HashMap::new(),
        held: 0,
        publishing: Arc::new(Semaphore::new(MAX_PUBLISHES_IN_FLIGHT)),
        slot: None,
        publish_order: Arc::default(),
        limits: crate::rate_limit::ConnectionLimits::new(&node.settings),
        presence_key: format!("c{id}"),
        node,
    };
    conn.node.hub.connected(member, id, conn.outbox.clone());
    conn.node.drain.connection_opened();
    metrics::gauge!("natter_ws_connections").increment(1.0);
    let draining = conn.node.drain.signal();
    conn.node.upstream.presence.opened(&conn.presence_key, member);
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

    for room in conn.subscriptions.drain() {
        conn.node.hub.leave(room, id);
    }
    conn.node.hub.disconnected(member, id);
    conn.node.upstream.presence.closed(&conn.presence_key);
    tracing::debug!(member.id = member, connection.id = id, "connection closed");
    let _ = conn.session.close(close).await;
    conn.node.drain.connection_closed();
    metrics::gauge!("natter_ws_connections").decrement(1.0);
}

/// The session is gone; the connection ends.
struct Gone;

impl Connection {
    /// Sends a queued item, unless the connection has moved on (see [`Outgoing`]).
    async fn forward(&mut self, outgoing: Outgoing) -> Result<(), Gone> {
        let text = match outgoing {
            Outgoing::Frame(text) => Some(text),
            Outgoing::Removed { room, frame } => self.removed(room).then_some(frame),
            Outgoing::Message { room, position, frame } => {
                if let Some(held) = self.replaying.get_mut(&room) {
                    held.push((position, frame));
                    self.held += 1;
                    if self.held > MAX_HELD_WHILE_REPLAYING {
                        self.outbox.overflowed.cancel();
                    }
                    return Ok(());
                }
                self.fresh(room, position).then_some(frame)
            }
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
        let deadline = tokio::time::sleep(self.node.settings.drain_timeout);
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
        let retry_after_ms = self.id.wrapping_mul(7919) % 2000;
        let reason = "this server is shutting down; reconnect and resume with since".to_owned();
        self.reply(&ServerFrame::Reconnect { reason, retry_after_ms }).await.ok()?;
        Some(CloseReason { code: CloseCode::Restart, description: Some("server shutting down".to_owned()) })
    }

    async fn reply(&mut self, frame: &ServerFrame) -> Result<(), Gone> {
        let text = serde_json::to_string(frame).expect("frames serialise");
        metrics::counter!("natter_ws_frames_out_total").increment(1);
        self.session.text(text).await.map_err(|_| Gone)
    }

    async fn on_text(&mut self, text: &str) -> Result<(), Gone> {
        let frame = match frames::read(text, self.node.settings.max_frame_bytes) {
            Ok(frame) => frame,
            Err(error) => return self.reply(&error.into_frame()).await,
        };
        if !matches!(frame, ClientFrame::Ping { .. }) {
            self.node.upstream.presence.active(&self.presence_key);
        }
        match frame {
            ClientFrame::Ping { id } => self.reply(&ServerFrame::Pong { id }).await,
            ClientFrame::Subscribe { id, room, since } => self.subscribe(id, room, since).await,
            ClientFrame::Unsubscribe { id, room } => {
                self.forget(room);
                self.reply(&ServerFrame::Unsubscribed { id, room }).await
            }
            ClientFrame::Publish { id, room, text, client_msg_id, reply_to, file } => {
                self.publish(id, room, text, client_msg_id, publish::Shares { reply_to, file }).await
            }
            ClientFrame::MarkRead { id, room, position } => {
                if !self.subscriptions.contains(&room) {
                    let detail = format!("subscribe to room {room} before marking it read");
                    return self.reply(&ServerFrame::error(Some(id), ErrorCode::NotSubscribed, detail)).await;
                }
                let web = Arc::clone(&self.node.upstream.web);
                let frames = self.outbox.frames.clone();
                tokio::spawn(super::mark_read::run(web, self.member, id, room, position, frames));
                Ok(())
            }
            ClientFrame::Edit { id, room, message_id, text } => {
                self.change(id, room, message_id, change::Change::Edit { text }).await
            }
            ClientFrame::Delete { id, room, message_id } => {
                self.change(id, room, message_id, change::Change::Delete).await
            }
            ClientFrame::Typing { id, room, typing } => {
                let typist = super::typing::Typist {
                    member: self.member,
                    name: &self.name,
                    subscribed: self.subscriptions.contains(&room),
                    bucket: &self.limits.typing,
                };
                let prefix = &self.node.settings.topic_prefix;
                match super::typing::handle(&self.node.backends.bus, prefix, typist, id, room, typing) {
                    Some(refusal) => self.reply(&refusal).await,
                    None => Ok(()),
                }
            }
        }
    }

    async fn subscribe(&mut self, id: String, room: RoomId, since: Option<i64>) -> Result<(), Gone> {
        let error = |code, detail: String| ServerFrame::error(Some(id.clone()), code, detail);
        if !self.subscriptions.contains(&room) && self.subscriptions.len() >= MAX_SUBSCRIPTIONS {
            let frame =
                error(ErrorCode::InvalidRequest, format!("at most {MAX_SUBSCRIPTIONS} rooms per connection"));
            return self.reply(&frame).await;
        }
        let already = self.subscriptions.contains(&room);
        let applicant = Applicant { room, member: self.member, connection: self.id, outbox: &self.outbox };
        let admitted = admission::join(&self.node.upstream.access, &self.node.hub, applicant).await;
        if !matches!(admitted, Ok(Some(_))) && !self.node.hub.is_subscribed(room, self.id) {
            self.subscriptions.remove(&room);
        }
        let refusal = match admitted {
            Ok(Some(admitted)) => {
                self.subscriptions.insert(room);
                self.node.upstream.presence.looking_at(&self.presence_key, Some(room));
                self.reply(&ServerFrame::Subscribed { id, room }).await?;
                // Already subscribed: everything since then is in the queue; nothing to replay.
                if let Some(since) = since.filter(|_| !already) {
                    self.start_replay(room, since, admitted.delivered_before);
                }
                return Ok(());
            }
            Ok(None) => error(ErrorCode::Forbidden, format!("you are not a member of room {room}")),
            Err(e) => {
                tracing::warn!(error = %e, room.id = room, "room access check failed");
                error(ErrorCode::Unavailable, "cannot check room access right now; retry".to_owned())
            }
        };
        self.reply(&refusal).await
    }

    /// Reads the replay of `room` after `since` off this task (see `resume.rs`); the room's live
    /// messages are held until it arrives as [`Outgoing::Replayed`].
    fn start_replay(&mut self, room: RoomId, since: i64, delivered_before: Option<i64>) {
        self.replaying.insert(room, Vec::new());
        let history = Arc::clone(&self.node.backends.history);
        let frames = self.outbox.frames.clone();
        tokio::spawn(async move {
            let replay = resume::replay(history.as_ref(), room, since, delivered_before).await;
            // The connection may be gone by now.
            let _ = frames.send(Outgoing::Replayed { room, since, replay }).await;
        });
    }

    /// Sends the replay of `room`, then the live messages held meanwhile that it did not cover.
    async fn send_replay(&mut self, room: RoomId, since: i64, replay: Replay) -> Result<(), Gone> {
        // Unsubscribed (or removed) meanwhile: nothing to send.
        let Some(held) = self.replaying.remove(&room) else { return Ok(()) };
        self.held -= held.len();
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
        self.replayed.insert(room, covered);
        for (position, frame) in held {
            if self.fresh(room, position) {
                metrics::counter!("natter_ws_frames_out_total").increment(1);
                self.session.text(frame).await.map_err(|_| Gone)?;
            }
        }
        Ok(())
    }

    /// Whether a live message at `position` of `room` is new to the client (not already replayed).
    fn fresh(&mut self, room: RoomId, position: i64) -> bool {
        match self.replayed.get(&room) {
            Some(&last) if position <= last => false,
            Some(_) => {
                self.replayed.remove(&room);
                true
            }
            None => true,
        }
    }

    /// Ends the subscription to the room, if any.
    fn forget(&mut self, room: RoomId) {
        self.subscriptions.remove(&room);
        self.replayed.remove(&room);
        self.drop_held(room);
        self.node.hub.leave(room, self.id);
        self.node.upstream.presence.left(&self.presence_key, room);
    }

    /// The hub has removed this connection from `room` (see [`Outgoing::Removed`]); whether to tell the
    /// client. Not when it has unsubscribed since, nor when it has subscribed again (web allowed it).
    fn removed(&mut self, room: RoomId) -> bool {
        if !self.subscriptions.contains(&room) || self.node.hub.is_subscribed(room, self.id) {
            return false;
        }
        self.subscriptions.remove(&room);
        self.drop_held(room);
        self.node.upstream.presence.left(&self.presence_key, room);
        true
    }

    /// Forgets a replay in progress for `room` and the live messages held for it.
    fn drop_held(&mut self, room: RoomId) {
        if let Some(held) = self.replaying.remove(&room) {
            self.held -= held.len();
        }
    }

    /// Edits or deletes a message of a subscribed room, in a task of its own (see `change.rs`); shares
    /// the publishes' in-flight limit.
    async fn change(
        &mut self,
        id: String,
        room: RoomId,
        message_id: uuid::Uuid,
        change: change::Change,
    ) -> Result<(), Gone> {
        if !self.subscriptions.contains(&room) {
            let detail = format!("subscribe to room {room} before changing its messages");
            return self.reply(&ServerFrame::error(Some(id), ErrorCode::NotSubscribed, detail)).await;
        }
        let request = change::Request { id, room, member: self.member, message_id, change };
        let permit = self.slot.take().expect("a frame is read only with a slot in hand");
        let node = Arc::clone(&self.node);
        let frames = self.outbox.frames.clone();
        tokio::spawn(async move {
            change::run(node, request, frames).await;
            drop(permit);
        });
        Ok(())
    }

    async fn publish(
        &mut self,
        id: String,
        room: RoomId,
        text: String,
        client_msg_id: Option<String>,
        shares: publish::Shares,
    ) -> Result<(), Gone> {
        if !self.subscriptions.contains(&room) {
            let frame = ServerFrame::error(
                Some(id),
                ErrorCode::NotSubscribed,
                format!("subscribe to room {room} before publishing to it"),
            );
            return self.reply(&frame).await;
        }
        let limits =
            crate::rate_limit::check_publish(&self.limits.publish, &self.node.member_limit, self.member, &id);
        if let Some(refusal) = limits.await {
            return self.reply(&refusal).await;
        }
        let posted = MessagePosted {
            message_id: uuid::Uuid::now_v7(),
            room_id: room,
            sender_id: self.member,
            sender_name: self.name.clone(),
            text,
            client_msg_id,
            sent_at_ms: SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64,
            reply_to: None,
            file: None,
        };
        // Waiting here when too many publishes are in flight stops reading from this client.
        let permit = self.slot.take().expect("a frame is read only with a slot in hand");
        let turn = self.publish_order.take_turn();
        let node = Arc::clone(&self.node);
        let frames = self.outbox.frames.clone();
        // The root of the message's trace: the broker, every pod's fan-out and the history writer
        // continue it through the record's headers.
        let span = tracing::info_span!(
            "publish frame",
            otel.name = "publish message",
            otel.kind = "server",
            room.id = room,
            member.id = self.member,
            message.id = %posted.message_id,
            trace_id = tracing::field::Empty,
        );
        natter_runtime::trace_context::record_trace_id(&span);
        tokio::spawn(
            async move {
                publish::run(node, id, posted, shares, turn, frames).await;
                drop(permit);
            }
            .instrument(span),
        );
        Ok(())
    }
}

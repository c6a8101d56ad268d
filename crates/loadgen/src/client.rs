//! One connection: connect, subscribe to its room, then read deliveries (checking order and
//! duplicates, recording latency) and, for a publisher, publish on schedule until the run stops.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Semaphore, watch};
use tokio::time::{Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

use crate::bitmap::Bitmap;
use crate::clock::now_ns;
use crate::connect::{self, Socket, SourcePorts, Target};
use crate::phase::Phase;
use crate::stats::Stats;
use crate::wire::{self, Incoming};

/// Longest wait for connecting and subscribing.
const SETUP_TIMEOUT: Duration = Duration::from_secs(60);
/// Subscribe attempts when the pod answers `unavailable`, and the pause after the first.
const SUBSCRIBE_ATTEMPTS: u32 = 5;
const SUBSCRIBE_BACKOFF: Duration = Duration::from_millis(250);
/// Most messages one publisher sends at one tick when it is behind schedule.
const MAX_BURST: u64 = 64;

/// What one connection does.
pub struct Plan {
    pub index: usize,
    /// Index of its room in [`Stats::rooms`].
    pub room: usize,
    /// The source address and its number.
    pub source: (usize, Ipv4Addr),
    pub ports: Arc<SourcePorts>,
    pub token: Arc<str>,
    pub target: Arc<Target>,
    pub publish: Option<Schedule>,
    pub message_bytes: usize,
    /// Tells this run's messages apart from earlier runs' in `client_msg_id`.
    pub run: u64,
}

/// When a publisher publishes.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Messages per second of this publisher.
    pub rate: f64,
    /// Delay of its first message after the start, spreading publishers over the period.
    pub offset_ns: u64,
    /// A later change of rate (`--then-rate`).
    pub change: Option<RateChange>,
}

/// From `after_ns` of publishing on, a publisher publishes `rate` messages a second.
#[derive(Debug, Clone, Copy)]
pub struct RateChange {
    pub after_ns: u64,
    pub rate: f64,
}

impl Schedule {
    /// How many messages are due `elapsed_ns` after this publisher's start.
    fn due(&self, elapsed_ns: u64) -> u64 {
        let count = |rate: f64, ns: u64| ns as f64 * rate / 1e9;
        let due = match self.change {
            Some(change) if elapsed_ns > change.after_ns => {
                count(self.rate, change.after_ns) + count(change.rate, elapsed_ns - change.after_ns)
            }
            _ => count(self.rate, elapsed_ns),
        };
        due as u64 + 1
    }

    /// The fastest rate of the schedule.
    fn peak_rate(&self) -> f64 {
        self.change.map_or(self.rate, |change| self.rate.max(change.rate))
    }
}

/// What one connection saw, for the loss count.
pub struct Outcome {
    pub room: usize,
    /// Sequence numbers of our messages delivered to it.
    pub received: Bitmap,
    /// Whether it was still open when the run stopped.
    pub open_at_end: bool,
    /// Whether it subscribed.
    pub subscribed: bool,
    /// Positions the pod told it to read from history (`reload_history`), as `(after, up_to)`.
    pub reloaded: Vec<(i64, i64)>,
}

/// Runs one connection to the end of the run.
pub async fn run(
    plan: Plan,
    stats: Arc<Stats>,
    gate: Arc<Semaphore>,
    phase: watch::Receiver<Phase>,
) -> Outcome {
    let mut connection = Connection {
        stats,
        received: Bitmap::default(),
        last_position: i64::MIN,
        subscribed: false,
        sent: 0,
        reloaded: Vec::new(),
        plan,
    };
    let setup = {
        let _permit = gate.acquire().await;
        tokio::time::timeout(SETUP_TIMEOUT, connection.setup()).await
    };
    let c = &connection.stats.counters;
    Stats::bump(&c.settled);
    let open_at_end = match setup {
        Ok(Some(socket)) => connection.serve(socket, phase).await,
        Ok(None) => false,
        Err(_) => {
            connection.stats.tally("setup timed out");
            Stats::bump(if connection.subscribed { &c.ended_early } else { &c.subscribe_failed });
            false
        }
    };
    Outcome {
        room: connection.plan.room,
        received: connection.received,
        open_at_end,
        subscribed: connection.subscribed,
        reloaded: connection.reloaded,
    }
}

struct Connection {
    plan: Plan,
    stats: Arc<Stats>,
    received: Bitmap,
    last_position: i64,
    subscribed: bool,
    /// Messages this publisher sent.
    sent: u64,
    reloaded: Vec<(i64, i64)>,
}

impl Connection {
    /// Connects and subscribes; `None` (counted) on failure.
    async fn setup(&mut self) -> Option<Socket> {
        let c = &self.stats.counters;
        let mut socket = match connect::open(
            &self.plan.target,
            &self.plan.ports,
            self.plan.source,
            &self.plan.token,
        )
        .await
        {
            Ok(socket) => socket,
            Err(e) => {
                Stats::bump(&c.connect_failed);
                self.stats.tally(format!("connect failed: {}", error_chain(&e)));
                return None;
            }
        };
        Stats::bump(&c.connected);
        let room_id = self.stats.rooms[self.plan.room].id;
        if socket.send(Message::text(wire::subscribe(room_id))).await.is_err() {
            Stats::bump(&c.subscribe_failed);
            return None;
        }
        let mut attempt = 1;
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => match wire::parse(&text) {
                    Incoming::Subscribed { .. } => {
                        self.subscribed = true;
                        Stats::bump(&c.subscribed);
                        self.stats.rooms[self.plan.room]
                            .subscribers
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        return Some(socket);
                    }
                    Incoming::Error { code, detail }
                        if code == "unavailable" && attempt < SUBSCRIBE_ATTEMPTS =>
                    {
                        // "retry", says the protocol: web did not answer the pod's access check.
                        self.stats.tally(format!("subscribe retried: {code}: {detail}"));
                        tokio::time::sleep(SUBSCRIBE_BACKOFF * attempt).await;
                        attempt += 1;
                        if socket.send(Message::text(wire::subscribe(room_id))).await.is_err() {
                            Stats::bump(&c.subscribe_failed);
                            return None;
                        }
                    }
                    Incoming::Error { code, detail } => {
                        Stats::bump(&c.subscribe_failed);
                        self.stats.tally(format!("subscribe refused: {code}: {detail}"));
                        return None;
                    }
                    _ => {}
                },
                Some(Ok(Message::Close(close))) => {
                    Stats::bump(&c.subscribe_failed);
                    self.stats.tally(format!("closed before subscribing: {close:?}"));
                    return None;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    Stats::bump(&c.subscribe_failed);
                    self.stats.tally(format!("error before subscribing: {e}"));
                    return None;
                }
                None => {
                    Stats::bump(&c.subscribe_failed);
                    self.stats.tally("ended before subscribing");
                    return None;
                }
            }
        }
    }

    /// Reads and publishes until the run stops; `true` when the connection lasted that long.
    async fn serve(&mut self, mut socket: Socket, mut phase: watch::Receiver<Phase>) -> bool {
        let mut ticker: Option<(Interval, u64)> = None;
        loop {
            tokio::select! {
                // Phase changes first: no publish after the order to drain.
                biased;
                changed = phase.changed() => {
                    let current = *phase.borrow_and_update();
                    match (changed, current) {
                        (Err(_), _) | (_, Phase::Stop) => return true,
                        (_, Phase::Publish { start_ns }) => ticker = self.ticker(start_ns),
                        (_, Phase::Drain) => ticker = None,
                        (_, Phase::Setup) => {}
                    }
                }
                _ = async { ticker.as_mut().expect("guarded").0.tick().await }, if ticker.is_some() => {
                    let start_ns = ticker.as_ref().expect("guarded").1;
                    if self.publish_due(&mut socket, start_ns).await.is_err() {
                        return self.ended("publish failed: connection broken");
                    }
                }
                frame = socket.next() => match frame {
                    Some(Ok(Message::Text(text))) => self.on_frame(&text),
                    Some(Ok(Message::Close(close))) => {
                        let why = close.map_or_else(|| "none".to_owned(), |f| format!("{} {}", f.code, f.reason));
                        return self.ended(&format!("closed by the pod: {why}"));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return self.ended(&format!("connection error: {e}")),
                    None => return self.ended("connection ended"),
                },
            }
        }
    }

    /// Counts a connection lost during the run.
    fn ended(&self, why: &str) -> bool {
        Stats::bump(&self.stats.counters.ended_early);
        self.stats.tally(why);
        false
    }

    /// The publishing clock of a publisher (`None` for a mere subscriber).
    fn ticker(&self, start_ns: u64) -> Option<(Interval, u64)> {
        let schedule = self.plan.publish?;
        let period = Duration::from_secs_f64(1.0 / schedule.peak_rate()).max(Duration::from_millis(1));
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Some((interval, start_ns + schedule.offset_ns))
    }

    /// Sends the messages the schedule says are due by now (at most [`MAX_BURST`]).
    async fn publish_due(&mut self, socket: &mut Socket, start_ns: u64) -> anyhow::Result<()> {
        let Some(schedule) = self.plan.publish else { return Ok(()) };
        let now = now_ns();
        if now < start_ns {
            return Ok(());
        }
        let due = schedule.due(now - start_ns);
        let room = &self.stats.rooms[self.plan.room];
        for _ in 0..due.saturating_sub(self.sent).min(MAX_BURST) {
            let seq = room.next_seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let frame = wire::publish(room.id, seq, now_ns(), self.plan.message_bytes, self.plan.run);
            socket.feed(Message::text(frame)).await?;
            self.sent += 1;
            Stats::bump(&self.stats.counters.published);
        }
        socket.flush().await?;
        Ok(())
    }

    fn on_frame(&mut self, text: &str) {
        let c = &self.stats.counters;
        match wire::parse(text) {
            Incoming::Delivery { room, position, ours } => {
                let my_room = self.stats.rooms[self.plan.room].id;
                let Some((seq, sent_ns)) = ours.filter(|_| room == my_room) else {
                    Stats::bump(&c.foreign);
                    return;
                };
                if !self.received.insert(seq) {
                    Stats::bump(&c.duplicates);
                    return;
                }
                if position <= self.last_position {
                    Stats::bump(&c.order_violations);
                }
                self.last_position = self.last_position.max(position);
                Stats::bump(&c.delivered);
                self.stats.record_delivery(self.plan.index, now_ns().saturating_sub(sent_ns));
            }
            Incoming::Ack { seq, sent_ns, position, .. } => {
                self.stats.record_ack(self.plan.room, seq, position, now_ns().saturating_sub(sent_ns));
            }
            Incoming::ReloadHistory { after, up_to, .. } => {
                Stats::bump(&c.skip_notices);
                self.reloaded.push((after, up_to));
                self.last_position = self.last_position.max(up_to);
            }
            Incoming::Error { code, detail } => {
                if code == "rate_limited" {
                    Stats::bump(&c.rate_limited);
                } else {
                    Stats::bump(&c.publish_refused);
                    self.stats.tally(format!("error frame: {code}: {detail}"));
                }
            }
            Incoming::Removed { reason, .. } => self.stats.tally(format!("removed: {reason}")),
            Incoming::Subscribed { .. } => {}
            Incoming::Other(kind) => self.stats.tally(format!("other frame: {kind}")),
            Incoming::Unreadable(frame) => self.stats.tally(format!("unreadable frame: {frame}")),
        }
    }
}

/// An error and its causes on one line.
fn error_chain(e: &anyhow::Error) -> String {
    e.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ")
}

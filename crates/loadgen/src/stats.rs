//! What the connections observe, shared between them and the report: counters, per-room state,
//! latency histograms and tallies of errors and closes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use hdrhistogram::Histogram;

use crate::bitmap::Bitmap;

/// Latency histograms are split so that connections on different threads rarely meet on a lock.
const SHARDS: usize = 16;
/// Largest latency recorded, in microseconds (larger ones are clamped).
const MAX_LATENCY_US: u64 = 120_000_000;

/// A room of the run, by index.
#[derive(Debug, Default)]
pub struct Room {
    pub id: i64,
    /// Connections subscribed to it.
    pub subscribers: AtomicU64,
    /// The next sequence number a publisher gives a message of this room.
    pub next_seq: AtomicU32,
    /// Sequence numbers the pod acknowledged.
    pub acked: Mutex<Bitmap>,
    /// The room position of each acknowledged sequence number.
    pub positions: Mutex<HashMap<u32, i64>>,
}

/// Counters of the whole run.
#[derive(Debug, Default)]
pub struct Counters {
    pub connected: AtomicU64,
    pub connect_failed: AtomicU64,
    pub subscribed: AtomicU64,
    pub subscribe_failed: AtomicU64,
    /// Connections that ended before the run did (closed by the server or failed).
    pub ended_early: AtomicU64,
    /// Connections done with setup (subscribed or failed).
    pub settled: AtomicU64,
    pub published: AtomicU64,
    pub acked: AtomicU64,
    pub rate_limited: AtomicU64,
    pub publish_refused: AtomicU64,
    /// Deliveries of our messages, first copies only.
    pub delivered: AtomicU64,
    pub duplicates: AtomicU64,
    pub order_violations: AtomicU64,
    /// Deliveries of messages not published by this run, or of another room.
    pub foreign: AtomicU64,
    /// `reload_history` notices: the pod skipped a connection ahead.
    pub skip_notices: AtomicU64,
    /// Deliveries expected so far: for each ack, the room's subscribers.
    pub expected: AtomicU64,
}

/// Everything shared.
pub struct Stats {
    pub counters: Counters,
    pub rooms: Vec<Room>,
    latency: Vec<Mutex<Histogram<u64>>>,
    /// The same since the monitor last took them (one second's worth).
    recent: Vec<Mutex<Histogram<u64>>>,
    ack_latency: Mutex<Histogram<u64>>,
    tallies: Mutex<BTreeMap<String, u64>>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds")
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Stats {
    pub fn new(room_ids: &[i64]) -> Self {
        Self {
            counters: Counters::default(),
            rooms: room_ids.iter().map(|&id| Room { id, ..Room::default() }).collect(),
            latency: (0..SHARDS).map(|_| Mutex::new(histogram())).collect(),
            recent: (0..SHARDS).map(|_| Mutex::new(histogram())).collect(),
            ack_latency: Mutex::new(histogram()),
            tallies: Mutex::new(BTreeMap::new()),
        }
    }

    /// Adds one to a counter.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Records a publish-to-deliver latency seen by connection `connection`.
    pub fn record_delivery(&self, connection: usize, latency_ns: u64) {
        let us = (latency_ns / 1000).clamp(1, MAX_LATENCY_US);
        lock(&self.latency[connection % SHARDS]).saturating_record(us);
        lock(&self.recent[connection % SHARDS]).saturating_record(us);
    }

    /// The delivery latencies recorded since the last call, merged; starts the next period.
    pub fn take_recent_latency(&self) -> Histogram<u64> {
        let mut all = histogram();
        for shard in &self.recent {
            let mut shard = lock(shard);
            all.add(&*shard).expect("same bounds");
            shard.reset();
        }
        all
    }

    /// Records an ack of message `seq` of room `room`.
    pub fn record_ack(&self, room: usize, seq: u32, position: i64, latency_ns: u64) {
        let room = &self.rooms[room];
        if lock(&room.acked).insert(seq) {
            lock(&room.positions).insert(seq, position);
            Self::bump(&self.counters.acked);
            let subscribers = room.subscribers.load(Ordering::Relaxed);
            self.counters.expected.fetch_add(subscribers, Ordering::Relaxed);
        }
        lock(&self.ack_latency).saturating_record((latency_ns / 1000).clamp(1, MAX_LATENCY_US));
    }

    /// Counts one occurrence of something worth reporting by name (an error code, a close reason).
    pub fn tally(&self, what: impl Into<String>) {
        *lock(&self.tallies).entry(what.into()).or_default() += 1;
    }

    /// The delivery latencies of all connections, merged.
    pub fn delivery_latency(&self) -> Histogram<u64> {
        let mut all = histogram();
        for shard in &self.latency {
            all.add(&*lock(shard)).expect("same bounds");
        }
        all
    }

    pub fn ack_latency(&self) -> Histogram<u64> {
        lock(&self.ack_latency).clone()
    }

    pub fn tallies(&self) -> BTreeMap<String, u64> {
        lock(&self.tallies).clone()
    }

    /// A snapshot of the acked set of a room.
    pub fn acked(&self, room: usize) -> Bitmap {
        lock(&self.rooms[room].acked).clone()
    }

    /// The room position of an acknowledged message.
    pub fn position_of(&self, room: usize, seq: u32) -> Option<i64> {
        lock(&self.rooms[room].positions).get(&seq).copied()
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

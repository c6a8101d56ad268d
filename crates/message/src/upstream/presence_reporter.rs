//! Telling presence about this pod's connections, in batches: connections record what happens to
//! them here (no I/O on their path), and one task sends a heartbeat with the changes shortly after
//! a change ([`DEBOUNCE`]) and at least every `NATTER_PRESENCE_HEARTBEAT_MS`. Each heartbeat renews
//! the pod's lease for three intervals, so if this pod dies its members go offline within that time
//! unless connected elsewhere. The first heartbeat, and the next after a failure or when presence
//! asks (it lost its data, or the lease ran out), is full: every connection of the pod.
//!
//! Presence is soft state: a failed heartbeat is logged and nothing waits for it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use natter_http::InternalClient;
use natter_proto::calls::CallSeat;
use natter_proto::http::{ConnectionState, HeartbeatAnswer, PodHeartbeat};
use natter_proto::{MemberId, RoomId};
use tokio::sync::Notify;

/// How long changes gather before they are sent.
const DEBOUNCE: Duration = Duration::from_millis(200);
/// Activity is reported at most this often per connection (away is a matter of minutes).
const ACTIVITY_GRANULARITY_MS: i64 = 15_000;

/// What happened since the last heartbeat.
#[derive(Default)]
struct Batch {
    /// Every open connection of the pod, as presence should know it.
    connections: HashMap<String, ConnectionState>,
    /// Connections opened or changed since the last heartbeat.
    upserts: HashSet<String>,
    closed: Vec<String>,
}

struct Inner {
    batch: Mutex<Batch>,
    changed: Notify,
    presence: InternalClient,
    pod_id: String,
    interval: Duration,
}

#[derive(Clone)]
pub(crate) struct PresenceReporter {
    inner: Arc<Inner>,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64
}

impl PresenceReporter {
    /// The reporter; nothing is sent until [`PresenceReporter::heartbeat`] runs (as one of the pod's
    /// tracked workers).
    pub(crate) fn new(presence: InternalClient, pod_id: String, interval: Duration) -> Self {
        let inner = Arc::new(Inner {
            batch: Mutex::new(Batch::default()),
            changed: Notify::new(),
            presence,
            pod_id,
            interval,
        });
        Self { inner }
    }

    /// The heartbeat loop: runs for as long as the pod does.
    pub(crate) fn heartbeat(&self) -> impl Future<Output = ()> + Send + 'static {
        beat_forever(Arc::clone(&self.inner))
    }

    fn change(&self, apply: impl FnOnce(&mut Batch)) {
        apply(&mut self.inner.batch.lock().unwrap_or_else(|e| e.into_inner()));
        self.inner.changed.notify_one();
    }

    pub(crate) fn opened(&self, connection: &str, member: MemberId) {
        let state = ConnectionState {
            connection: connection.to_owned(),
            member_id: member,
            room: None,
            active_at_ms: now_ms(),
            call: None,
        };
        self.change(|b| {
            b.connections.insert(connection.to_owned(), state);
            b.upserts.insert(connection.to_owned());
        });
    }

    /// The member now looks at `room` on this connection (`None`: the lobby).
    pub(crate) fn looking_at(&self, connection: &str, room: Option<RoomId>) {
        self.change(|b| {
            if let Some(state) = b.connections.get_mut(connection) {
                state.room = room;
                state.active_at_ms = now_ms();
                b.upserts.insert(connection.to_owned());
            }
        });
    }

    /// The connection left `room`; if the member was looking at it, they are back in the lobby.
    pub(crate) fn left(&self, connection: &str, room: RoomId) {
        self.change(|b| {
            if let Some(state) = b.connections.get_mut(connection)
                && state.room == Some(room)
            {
                state.room = None;
                b.upserts.insert(connection.to_owned());
            }
        });
    }

    /// The connection took a seat in a call, changed its media, or left the call (`None`).
    pub(crate) fn seated(&self, connection: &str, call: Option<CallSeat>) {
        self.change(|b| {
            if let Some(state) = b.connections.get_mut(connection) {
                state.call = call;
                state.active_at_ms = now_ms();
                b.upserts.insert(connection.to_owned());
            }
        });
    }

    /// The member did something on the connection (published, typed, read).
    pub(crate) fn active(&self, connection: &str) {
        let now = now_ms();
        let mut batch = self.inner.batch.lock().unwrap_or_else(|e| e.into_inner());
        let Some(state) = batch.connections.get_mut(connection) else { return };
        if now - state.active_at_ms < ACTIVITY_GRANULARITY_MS {
            return;
        }
        state.active_at_ms = now;
        batch.upserts.insert(connection.to_owned());
        drop(batch);
        self.inner.changed.notify_one();
    }

    pub(crate) fn closed(&self, connection: &str) {
        self.change(|b| {
            b.connections.remove(connection);
            b.upserts.remove(connection);
            b.closed.push(connection.to_owned());
        });
    }

    /// Sends what is pending now (on shutdown, after the connections closed).
    pub(crate) async fn flush(&self) {
        let beat = self.inner.take(false);
        let _ = self.inner.send(&beat).await;
    }
}

impl Inner {
    fn lease(&self) -> Duration {
        self.interval * 3
    }

    /// The next heartbeat's content: every connection when `full`, else the changes.
    fn take(&self, full: bool) -> PodHeartbeat {
        let mut batch = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        let upserts: Vec<ConnectionState> = if full {
            batch.connections.values().cloned().collect()
        } else {
            batch.upserts.iter().filter_map(|c| batch.connections.get(c).cloned()).collect()
        };
        batch.upserts.clear();
        let closed = std::mem::take(&mut batch.closed);
        PodHeartbeat { lease_ms: self.lease().as_millis() as u64, full, upserts, closed }
    }

    /// Sends a heartbeat; whether presence wants a full one next.
    async fn send(&self, beat: &PodHeartbeat) -> Result<bool, ()> {
        let path = format!("/internal/pods/{}/heartbeat", self.pod_id);
        match self.presence.put_json_answer::<_, HeartbeatAnswer>(&path, beat).await {
            Ok(answer) => Ok(answer.resync),
            Err(e) => {
                tracing::warn!(error = %e, connections = beat.upserts.len(), "presence heartbeat failed");
                Err(())
            }
        }
    }
}

async fn beat_forever(inner: Arc<Inner>) {
    let mut full = true;
    let mut tick = tokio::time::interval(inner.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = inner.changed.notified() => tokio::time::sleep(DEBOUNCE).await,
        }
        let beat = inner.take(full);
        match inner.send(&beat).await {
            Ok(false) => full = false,
            // Presence lost track of this pod: everything, now.
            Ok(true) => {
                full = true;
                inner.changed.notify_one();
            }
            // The next heartbeat (at the next tick, not sooner) is full: it repeats what this one carried.
            Err(()) => full = true,
        }
    }
}

//! Shutting a pod down without losing answers: the signal connections watch and how many are still
//! open (see `Application::run_until_stopped`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

#[derive(Default)]
pub(crate) struct Drain {
    /// Cancelled when the pod starts shutting down.
    started: CancellationToken,
    /// Open WebSocket connections.
    connections: AtomicUsize,
}

impl Drain {
    /// Whether the pod is shutting down.
    pub(crate) fn is_started(&self) -> bool {
        self.started.is_cancelled()
    }

    /// A token cancelled when the pod starts shutting down.
    pub(crate) fn signal(&self) -> CancellationToken {
        self.started.clone()
    }

    pub(crate) fn connection_opened(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn connection_closed(&self) {
        self.connections.fetch_sub(1, Ordering::Relaxed);
    }

    /// Starts the drain (connections send what is pending, a `reconnect` frame, and close) and waits
    /// until they closed, for at most `timeout`.
    pub(crate) async fn run(&self, timeout: Duration) {
        let open = self.connections.load(Ordering::Relaxed);
        tracing::info!(connections = open, "shutting down: draining connections");
        self.started.cancel();
        let deadline = tokio::time::Instant::now() + timeout;
        while self.connections.load(Ordering::Relaxed) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let left = self.connections.load(Ordering::Relaxed);
        tracing::info!(connections_left = left, "drained; stopping");
    }
}

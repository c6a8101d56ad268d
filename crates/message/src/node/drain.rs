//! Shutting a pod down without losing answers: the signal connections watch, how many are still
//! open, and the requests they serve off their own tasks (see `Application::run_until_stopped`).

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Default)]
pub(crate) struct Drain {
    /// Cancelled when the pod starts shutting down.
    started: CancellationToken,
    /// Open WebSocket connections, one task each.
    connections: TaskTracker,
    /// Requests served off their connection's task (publishes, changes, read marks, replays,
    /// typing events).
    requests: TaskTracker,
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

    /// Runs a WebSocket connection on the current worker's thread (its stream is not `Send`),
    /// tracked so the drain waits for it to close.
    pub(crate) fn spawn_connection<F>(&self, connection: F)
    where
        F: Future<Output = ()> + 'static,
    {
        self.connections.spawn_local(connection);
    }

    /// Runs a request's work off its connection's task, tracked so the drain waits for it.
    pub(crate) fn spawn<F>(&self, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.requests.spawn(work);
    }

    /// Starts the drain (connections send what is pending, a `reconnect` frame, and close) and waits
    /// until they closed and their requests are answered, for at most `timeout`.
    pub(crate) async fn run(&self, timeout: Duration) {
        tracing::info!(connections = self.connections.len(), "shutting down: draining connections");
        self.started.cancel();
        let deadline = tokio::time::Instant::now() + timeout;
        self.connections.close();
        self.requests.close();
        let closed = async {
            self.connections.wait().await;
            self.requests.wait().await;
        };
        if tokio::time::timeout_at(deadline, closed).await.is_err() {
            tracing::warn!(requests = self.requests.len(), "requests still running when the pod stops");
        }
        tracing::info!(connections_left = self.connections.len(), "drained; stopping");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_drain_waits_for_requests_in_flight_but_not_forever() {
        let drain = Drain::default();
        let (done_tx, done) = tokio::sync::oneshot::channel();
        drain.spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let _ = done_tx.send(());
        });
        drain.spawn(std::future::pending());
        let started = tokio::time::Instant::now();
        drain.run(Duration::from_secs(1)).await;
        assert!(drain.is_started());
        assert!(done.await.is_ok(), "the short request finished first");
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(1) && waited < Duration::from_secs(3), "{waited:?}");
    }
}

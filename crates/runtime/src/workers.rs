//! A service's long-running background tasks (bus consumers, writers, heartbeats, sweepers), run as
//! tracked tasks: one [`JoinSet`], watched by one task that records which worker ended and why.
//!
//! A worker loop ends only when something is wrong: it returned, or it panicked. A service without,
//! say, its fan-out or its presence heartbeat would stay up and quietly do less, which is worse than
//! a restart. So when any worker ends, the service stops being ready (its `/readyz` answers 503 and
//! names it), and its `run_until_stopped` returns an error, so the process exits with a non-zero
//! status and its orchestrator (or the operator) starts it again.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// A worker's loop, boxed.
pub type Worker = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The workers of a service, named; [`Workers::start`] runs them.
#[derive(Default)]
pub struct WorkerSet(Vec<(&'static str, Worker)>);

impl WorkerSet {
    /// Adds a worker under `name` (which readiness and logs show when it ends).
    pub fn add(&mut self, name: &'static str, worker: impl Future<Output = ()> + Send + 'static) {
        self.0.push((name, Box::pin(worker)));
    }
}

/// The running workers, and which of them ended.
pub struct Workers {
    ended: Arc<Mutex<Vec<String>>>,
    any_ended: CancellationToken,
    /// Each worker's task, by name: tests kill one to see the service react.
    tasks: HashMap<&'static str, tokio::task::AbortHandle>,
}

impl Workers {
    /// Starts each named worker and watches them all. Needs a Tokio runtime.
    pub fn start(set: WorkerSet) -> Self {
        let mut tasks = JoinSet::new();
        let mut names = HashMap::new();
        let mut handles = HashMap::new();
        for (name, worker) in set.0 {
            let handle = tasks.spawn(worker);
            names.insert(handle.id(), name);
            handles.insert(name, handle);
        }
        let ended = Arc::new(Mutex::new(Vec::new()));
        let any_ended = CancellationToken::new();
        let (record, signal) = (Arc::clone(&ended), any_ended.clone());
        tokio::spawn(async move {
            while let Some(outcome) = tasks.join_next_with_id().await {
                let (id, why) = match outcome {
                    Ok((id, ())) => (id, "its loop returned".to_owned()),
                    Err(e) => (e.id(), e.to_string()),
                };
                let name = names.get(&id).copied().unwrap_or("a worker");
                tracing::error!(worker = name, why, "background worker ended; not ready, will exit");
                record.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{name} ({why})"));
                signal.cancel();
            }
        });
        Self { ended, any_ended, tasks: handles }
    }

    /// Kills worker `name`, as a crash would (tests).
    pub fn kill(&self, name: &str) {
        self.tasks.get(name).expect("a worker of that name").abort();
    }

    /// `Err` naming the workers that ended, when any did.
    pub fn check(&self) -> Result<(), String> {
        let ended = self.ended.lock().unwrap_or_else(|e| e.into_inner());
        if ended.is_empty() { Ok(()) } else { Err(format!("workers ended: {}", ended.join(", "))) }
    }

    /// Completes when a worker ends.
    pub async fn ended(&self) {
        self.any_ended.cancelled().await;
    }

    /// The error a service's `run_until_stopped` returns when a worker ended.
    pub fn exit_error(&self) -> std::io::Error {
        let problem = self.check().err().unwrap_or_default();
        std::io::Error::other(format!("{problem}; exiting so the service is restarted"))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn set(workers: Vec<(&'static str, Worker)>) -> WorkerSet {
        WorkerSet(workers)
    }

    fn forever() -> Worker {
        Box::pin(std::future::pending())
    }

    #[tokio::test]
    async fn a_panicking_worker_makes_the_service_unready_and_is_named() {
        let workers = Workers::start(set(vec![
            ("fan-out", forever()),
            ("sequencer", Box::pin(async { panic!("lost the plot") })),
        ]));
        tokio::time::timeout(Duration::from_secs(1), workers.ended()).await.expect("the end is noticed");
        let problem = workers.check().unwrap_err();
        assert!(problem.contains("sequencer") && problem.contains("panicked"), "{problem}");
        assert!(!problem.contains("fan-out"), "{problem}");
    }

    #[tokio::test]
    async fn a_worker_whose_loop_returns_counts_as_ended() {
        let workers = Workers::start(set(vec![("typing", Box::pin(async {})), ("fan-out", forever())]));
        tokio::time::timeout(Duration::from_secs(1), workers.ended()).await.expect("the end is noticed");
        assert_eq!(workers.check().unwrap_err(), "workers ended: typing (its loop returned)");
    }

    #[tokio::test]
    async fn running_workers_are_ready_until_one_is_killed() {
        let workers = Workers::start(set(vec![("fan-out", forever()), ("sequencer", forever())]));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(workers.check(), Ok(()));
        workers.kill("sequencer");
        tokio::time::timeout(Duration::from_secs(1), workers.ended()).await.expect("the end is noticed");
        assert!(workers.check().unwrap_err().contains("sequencer"));
        assert!(workers.exit_error().to_string().contains("sequencer"));
    }
}

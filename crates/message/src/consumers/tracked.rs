//! The pod's bus consumers (fan-out readers, the sequencer, the edit writers) run as tracked tasks:
//! one [`JoinSet`], watched by one task that records which consumer ended and why.
//!
//! A consumer loop ends only when something is wrong: it returned, or it panicked. A pod without,
//! say, its fan-out would stay up and deliver nothing, which is worse than a restart. So when any
//! consumer ends, the pod stops being ready (`/readyz` answers 503 and names it), and
//! `Application::run_until_stopped` returns an error, so the process exits with a non-zero status
//! and its orchestrator (or the operator) starts it again.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub(super) type Consumer = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The running consumers, and which of them ended.
pub(crate) struct Consumers {
    ended: Arc<Mutex<Vec<String>>>,
    any_ended: CancellationToken,
    /// Each consumer's task, by name: tests kill one to see the pod react.
    #[cfg(test)]
    tasks: HashMap<&'static str, tokio::task::AbortHandle>,
}

impl Consumers {
    /// Starts each named consumer and watches them all.
    pub(crate) fn start(consumers: Vec<(&'static str, Consumer)>) -> Self {
        let mut tasks = JoinSet::new();
        let mut names = HashMap::new();
        #[cfg(test)]
        let mut handles = HashMap::new();
        for (name, consumer) in consumers {
            let handle = tasks.spawn(consumer);
            names.insert(handle.id(), name);
            #[cfg(test)]
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
                let name = names.get(&id).copied().unwrap_or("a consumer");
                tracing::error!(
                    consumer = name,
                    why,
                    "bus consumer ended; the pod is not ready and will exit"
                );
                record.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{name} ({why})"));
                signal.cancel();
            }
        });
        Self {
            ended,
            any_ended,
            #[cfg(test)]
            tasks: handles,
        }
    }

    /// Kills consumer `name`, as a crash would.
    #[cfg(test)]
    pub(crate) fn kill(&self, name: &str) {
        self.tasks.get(name).expect("a consumer of that name").abort();
    }

    /// `Err` naming the consumers that ended, when any did.
    pub(crate) fn check(&self) -> Result<(), String> {
        let ended = self.ended.lock().unwrap_or_else(|e| e.into_inner());
        if ended.is_empty() { Ok(()) } else { Err(format!("bus consumers ended: {}", ended.join(", "))) }
    }

    /// Completes when a consumer ends.
    pub(crate) async fn ended(&self) {
        self.any_ended.cancelled().await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn forever() -> Consumer {
        Box::pin(std::future::pending())
    }

    #[tokio::test]
    async fn a_panicking_consumer_makes_the_pod_unready_and_is_named() {
        let consumers = Consumers::start(vec![
            ("fan-out", forever()),
            ("sequencer", Box::pin(async { panic!("lost the plot") })),
        ]);
        tokio::time::timeout(Duration::from_secs(1), consumers.ended()).await.expect("the end is noticed");
        let problem = consumers.check().unwrap_err();
        assert!(problem.contains("sequencer") && problem.contains("panicked"), "{problem}");
        assert!(!problem.contains("fan-out"), "{problem}");
    }

    #[tokio::test]
    async fn a_consumer_whose_loop_returns_counts_as_ended() {
        let consumers = Consumers::start(vec![("typing", Box::pin(async {})), ("fan-out", forever())]);
        tokio::time::timeout(Duration::from_secs(1), consumers.ended()).await.expect("the end is noticed");
        assert_eq!(consumers.check().unwrap_err(), "bus consumers ended: typing (its loop returned)");
    }

    #[tokio::test]
    async fn running_consumers_are_ready() {
        let consumers = Consumers::start(vec![("fan-out", forever()), ("sequencer", forever())]);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(consumers.check(), Ok(()));
    }
}

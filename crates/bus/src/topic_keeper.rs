//! Topics that heal: a broker that lost its topics (restarted without persistence, or an operator
//! deleted them) leaves producers and consumers failing with "unknown topic or partition" forever,
//! since only start-up created them. Each service keeps the topics it needs: it creates the missing
//! ones again every few seconds (an idempotent admin create), and is not ready while any was missing
//! or the broker did not answer. Producers keep their queued records until the topic is back, and
//! consumers pick the new partitions up (fan-out readers from the start of each: see `kafka.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::EventBus;

/// Keeps a set of topics in existence; see the module docs.
#[derive(Clone)]
pub struct TopicKeeper {
    healthy: Arc<AtomicBool>,
}

impl TopicKeeper {
    /// Checks `topics` every `every`, creating those that are missing, until the process ends.
    pub fn start(bus: Arc<dyn EventBus>, topics: Vec<String>, every: Duration) -> Self {
        let healthy = Arc::new(AtomicBool::new(true));
        let flag = Arc::clone(&healthy);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match bus.ensure_topics(&topics).await {
                    Ok(created) if created.is_empty() => flag.store(true, Ordering::Relaxed),
                    Ok(created) => {
                        tracing::warn!(topics = ?created, "bus topics were missing; created them again");
                        flag.store(false, Ordering::Relaxed);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot check the bus topics");
                        flag.store(false, Ordering::Relaxed);
                    }
                }
            }
        });
        Self { healthy }
    }

    /// Whether the last check found every topic (readiness).
    pub fn ready(&self) -> Result<(), String> {
        if self.healthy.load(Ordering::Relaxed) {
            Ok(())
        } else {
            Err("bus topics were missing or could not be checked; recreating them".to_owned())
        }
    }
}

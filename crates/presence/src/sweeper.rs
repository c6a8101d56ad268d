//! Forgets the connections of pods whose lease ended (crashed or cut off), so their members' "last
//! seen" is set, their calls are told, and their keys do not linger. Every presence instance runs it; the store makes each
//! expiry happen once.

use std::sync::Arc;
use std::time::Duration;

use crate::calls::CallAnnouncer;
use crate::push::PresencePushes;
use crate::store::PresenceStore;

pub(crate) async fn run(
    store: Arc<dyn PresenceStore>,
    pushes: Arc<PresencePushes>,
    calls: CallAnnouncer,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match store.expire_pods(crate::app::now_ms()).await {
            Ok(applied) if !applied.changes.is_empty() || !applied.calls.is_empty() => {
                tracing::info!(
                    members = applied.changes.len(),
                    calls = applied.calls.len(),
                    "expired pod leases: their members went offline and left their calls"
                );
                pushes.record(&applied.changes);
                calls.announce(&applied.calls).await;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "expiring pod leases failed; retrying"),
        }
    }
}

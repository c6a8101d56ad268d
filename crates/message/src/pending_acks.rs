//! Publishes waiting to learn their message's position. The broker's acknowledgement makes a
//! message durable, but its position in the room is given later by the sequencer; the pod's own
//! fan-out sees every sequenced message and hands the position to whoever waits for that message id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use uuid::Uuid;

#[derive(Default)]
pub(crate) struct PendingAcks {
    waiting: Mutex<HashMap<Uuid, oneshot::Sender<i64>>>,
}

/// A registered wait; dropping it stops waiting.
pub(crate) struct AwaitedPosition {
    acks: Arc<PendingAcks>,
    message_id: Uuid,
    pub(crate) position: oneshot::Receiver<i64>,
}

impl Drop for AwaitedPosition {
    fn drop(&mut self) {
        self.acks.lock().remove(&self.message_id);
    }
}

impl PendingAcks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, oneshot::Sender<i64>>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the position of `message_id` (register before publishing, so it cannot be missed).
    pub(crate) fn wait_for(self: &Arc<Self>, message_id: Uuid) -> AwaitedPosition {
        let (tell, position) = oneshot::channel();
        self.lock().insert(message_id, tell);
        AwaitedPosition { acks: Arc::clone(self), message_id, position }
    }

    /// The sequencer placed `message_id` at `position`.
    pub(crate) fn placed(&self, message_id: Uuid, position: i64) {
        let waiting = {
            let mut waiting = self.lock();
            if waiting.is_empty() {
                return;
            }
            waiting.remove(&message_id)
        };
        if let Some(tell) = waiting {
            let _ = tell.send(position);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_waiter_learns_the_position_of_its_message_only() {
        let acks = Arc::new(PendingAcks::default());
        let (mine, other) = (Uuid::now_v7(), Uuid::now_v7());
        let mut awaited = acks.wait_for(mine);
        acks.placed(other, 3);
        assert!(awaited.position.try_recv().is_err(), "not told about another message");
        acks.placed(mine, 4);
        assert_eq!((&mut awaited.position).await.unwrap(), 4);
        drop(awaited);
        assert!(acks.lock().is_empty(), "a finished wait is forgotten");
    }
}

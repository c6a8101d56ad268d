//! Publishes of one connection reach the broker in the order the client sent them, so they get
//! positions in that order, while their broker round trips overlap.
//!
//! Each publish takes a [`Turn`] when its frame is read. The slow parts before the broker (access
//! check, idempotency claim, reply lookup, file attachment) run concurrently; a publish then waits
//! for its turn only to put its record in the producer's queue (which keeps the order), and lets
//! the next one go. A publish refused early gives up its turn when it is dropped.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

#[derive(Default)]
pub(crate) struct PublishOrder {
    state: Mutex<State>,
    turn_changed: Notify,
}

#[derive(Default)]
struct State {
    /// Tickets handed out so far.
    issued: u64,
    /// The ticket whose turn it is.
    next: u64,
    /// Tickets done out of turn (refused before enqueueing).
    done: BTreeSet<u64>,
}

/// One publish's place in its connection's order; giving it up (drop) lets the next one go.
pub(crate) struct Turn {
    order: Arc<PublishOrder>,
    ticket: u64,
}

impl PublishOrder {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next place in line (call in the order the frames were read).
    pub(crate) fn take_turn(self: &Arc<Self>) -> Turn {
        let mut state = self.lock();
        let ticket = state.issued;
        state.issued += 1;
        Turn { order: Arc::clone(self), ticket }
    }
}

impl Turn {
    /// Waits until every earlier publish of the connection has been enqueued or refused.
    pub(crate) async fn wait(&self) {
        loop {
            let notified = self.order.turn_changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.order.lock().next == self.ticket {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        {
            let mut state = self.order.lock();
            state.done.insert(self.ticket);
            loop {
                let next = state.next;
                if !state.done.remove(&next) {
                    break;
                }
                state.next += 1;
            }
        }
        self.order.turn_changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn turns_come_in_ticket_order_whoever_is_ready_first() {
        let order = Arc::new(PublishOrder::default());
        let turns: Vec<Turn> = (0..4).map(|_| order.take_turn()).collect();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        // Later publishes are ready first; ticket 2 is refused without waiting.
        for (index, turn) in turns.into_iter().enumerate().rev() {
            let tx = tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(10 * (4 - index as u64))).await;
                if index == 2 {
                    return;
                }
                turn.wait().await;
                tx.send(index).unwrap();
            });
        }
        drop(tx);
        let mut got = Vec::new();
        while let Some(index) = rx.recv().await {
            got.push(index);
        }
        assert_eq!(got, [0, 1, 3]);
    }
}

//! Applies edits and deletions to history. All pods share one consumer group of their own
//! (`<prefix>natter-history-edits`, apart from the message writers, so waiting for a message here
//! never holds up storing messages); the offset is committed after the change is applied, and a
//! replay is harmless because changes are idempotent.
//!
//! Reactions are applied here too, one room's at a time (the topic is keyed by room), and each one
//! that changed something is announced on the same topic as `reaction_counted` with the count read
//! right after it: since a room's changes are applied in order, the last count announced for a
//! message and emoji is the stored one, whichever pods the reactions came through. (If a pod dies
//! between storing a reaction and announcing it, the count shows on the next change or reload.)
//!
//! A change can overtake its message: both are published by pods, and the message's history writer
//! may lag. So a change whose message is not stored yet is retried for [`GIVE_UP_AFTER`], then logged
//! and dropped (the message may never arrive, for instance when it was an earlier, failed publish).

use std::sync::Arc;
use std::time::Duration;

use natter_bus::BusStream;
use natter_history::{HistoryError, HistoryStore};
use natter_proto::events::{MessageChanged, MessageReacted, ReactionCounted};
use natter_proto::topics::room_key;

use super::Announcer;
use tokio::time::Instant;

const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long a change waits for its message to be stored.
const GIVE_UP_AFTER: Duration = Duration::from_secs(30);

pub(crate) async fn run(
    mut stream: Box<dyn BusStream>,
    history: Arc<dyn HistoryStore>,
    announcer: Announcer,
) {
    loop {
        let record = match stream.next().await {
            Ok(record) => record,
            Err(e) => {
                tracing::warn!(error = %e, "history edits consumer error; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        match serde_json::from_slice::<MessageChanged>(&record.payload) {
            Ok(MessageChanged::Reacted(reacted)) => react(history.as_ref(), &reacted, &announcer).await,
            // Announced by this writer; nothing to store.
            Ok(MessageChanged::ReactionCounted(_)) => {}
            Ok(change) => apply_patiently(history.as_ref(), &change, GIVE_UP_AFTER).await,
            Err(e) => {
                tracing::error!(error = %e, topic = %record.topic, offset = record.offset, "undecodable event skipped");
            }
        }
        if let Err(e) = stream.commit(&record) {
            tracing::warn!(error = %e, "history edits offset not committed; the change may be applied again");
        }
    }
}

/// Applies `change`, retrying while the store is down (forever: never skip a change because of an
/// outage) or while its message is missing (for at most `patience`).
async fn apply_patiently(history: &dyn HistoryStore, change: &MessageChanged, patience: Duration) {
    let deadline = Instant::now() + patience;
    let mut backoff = Duration::from_millis(100);
    loop {
        match apply(history, change).await {
            Ok(true) => return,
            Ok(false) if Instant::now() >= deadline => {
                tracing::error!(
                    room.id = change.room_id(),
                    message.id = %change.message_id(),
                    "message never stored; its edit or deletion is dropped"
                );
                return;
            }
            Ok(false) => {
                tracing::debug!(message.id = %change.message_id(), "message not stored yet; waiting")
            }
            Err(e) => tracing::warn!(error = %e, "history change failed; retrying"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn apply(history: &dyn HistoryStore, change: &MessageChanged) -> Result<bool, HistoryError> {
    match change {
        MessageChanged::Edited(e) => history.edit(e.room_id, e.message_id, &e.text, e.edited_at_ms).await,
        MessageChanged::Deleted(d) => history.delete(d.room_id, d.message_id).await,
        MessageChanged::Reacted(_) | MessageChanged::ReactionCounted(_) => Ok(true),
    }
}

/// Stores a reaction change and, when it changed the count, announces the count; both retried until
/// they succeed (a reaction does not wait for its message: the pod found it before publishing).
async fn react(history: &dyn HistoryStore, reacted: &MessageReacted, announcer: &Announcer) {
    let mut backoff = Duration::from_millis(100);
    let tally = loop {
        match history.react(reacted).await {
            Ok(tally) => break tally,
            Err(e) => tracing::warn!(error = %e, "storing a reaction failed; retrying"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    };
    let Some(tally) = tally else { return };
    let counted = MessageChanged::ReactionCounted(ReactionCounted {
        room_id: reacted.room_id,
        message_id: reacted.message_id,
        position: reacted.position,
        emoji: reacted.emoji.clone(),
        member_id: reacted.member_id,
        added: reacted.added,
        count: tally.count,
        reactors: tally.reactors,
    });
    let payload = serde_json::to_vec(&counted).expect("events serialise");
    let mut backoff = Duration::from_millis(100);
    while let Err(e) =
        announcer.bus.publish(&announcer.topic, &room_key(reacted.room_id), payload.clone()).await
    {
        tracing::warn!(error = %e, "announcing a reaction count failed; retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use natter_history::MemoryHistory;
    use natter_proto::events::{MessageDeleted, MessageEdited, MessagePosted, StoredMessage};
    use uuid::Uuid;

    use super::*;

    fn posted(message_id: Uuid) -> StoredMessage {
        StoredMessage::new(
            MessagePosted {
                message_id,
                room_id: 5,
                sender_id: 7,
                sender_name: "ann".into(),
                text: "typo".into(),
                client_msg_id: None,
                sent_at_ms: 0,
                reply_to: None,
                file: None,
                mentions: Vec::new(),
                mentions_room: false,
            },
            3,
        )
    }

    fn edit(message_id: Uuid) -> MessageChanged {
        MessageChanged::Edited(MessageEdited {
            room_id: 5,
            message_id,
            editor_id: 7,
            text: "fixed".into(),
            edited_at_ms: 1_000,
            position: 3,
        })
    }

    #[tokio::test]
    async fn a_change_that_overtakes_its_message_waits_for_it() {
        let history = Arc::new(MemoryHistory::new());
        let id = Uuid::now_v7();
        let late = {
            let history = Arc::clone(&history);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                history.store(&posted(id)).await.unwrap();
            })
        };
        apply_patiently(history.as_ref(), &edit(id), Duration::from_secs(10)).await;
        late.await.unwrap();
        assert_eq!(history.message(5, id).await.unwrap().unwrap().posted.text, "fixed");
        let delete = MessageChanged::Deleted(MessageDeleted {
            room_id: 5,
            message_id: id,
            deleted_by: 7,
            position: 3,
        });
        apply_patiently(history.as_ref(), &delete, GIVE_UP_AFTER).await;
        assert!(history.message(5, id).await.unwrap().unwrap().deleted);
    }

    #[tokio::test]
    async fn a_change_whose_message_never_comes_is_dropped_in_the_end() {
        let history = MemoryHistory::new();
        let started = Instant::now();
        let patience = Duration::from_millis(500);
        apply_patiently(&history, &edit(Uuid::now_v7()), patience).await;
        assert!(started.elapsed() >= patience);
        assert!(started.elapsed() < patience + Duration::from_secs(2), "{:?}", started.elapsed());
    }
}

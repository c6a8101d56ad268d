//! The sequencer: gives every message its place in its room (1, 2, 3, ... with no holes), stores it,
//! then announces it to every pod.
//!
//! Why a sequencer, and why here. Broker offsets are shared by the rooms of a partition, so a room's
//! offsets have holes and a client cannot tell a gap from a neighbour room's message; and a message
//! retried after a crash can be in the log twice. A consecutive per-room number needs one writer per
//! room that reads the room's records in log order and knows every message id already placed. The
//! history writers' consumer group is exactly that: each partition (so each room) is read by one
//! member at a time, in offset order, with committed progress; and the history store knows every
//! stored id.
//!
//! For each batch of records from the publish log (the room message topics), in order:
//! 1. look the batch's message ids up in history. A stored id read back from the same log offset is
//!    a replay of a record already sequenced (a crash came before the commit): announce it again
//!    with its stored position. A stored id from another offset is a second copy of one message (a
//!    publish retried after its pod died): dropped, so clients and history see it once.
//! 2. give each new message the room's next position (the room's last stored position + 1, cached),
//!    and store the batch in order. A position or id that turns out to be taken means another member
//!    (a zombie that lost the partition, or the new owner) got there first: forget the cache and
//!    start the batch again from step 1; the unique indexes make the two agree.
//! 3. publish the placed messages to `natter.chat.sequenced`; every pod's fan-out delivers from
//!    there (and fills any gap from history, which already holds everything announced).
//! 4. commit the records.
//!
//! So a message is in history before any client sees it: whatever a client was shown it can read
//! again, a room's history is always a whole prefix of its sequence, and a resume never waits for
//! the writers. A crash anywhere repeats steps, never skips or doubles a message.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use natter_bus::{BusRecord, BusStream};
use natter_history::{HistoryError, HistoryStore, Sequenced};
use natter_proto::RoomId;
use natter_proto::events::{MessagePosted, StoredMessage};
use natter_proto::topics::room_key;

use super::Announcer;

const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Records handled in one batch at most.
const MAX_BATCH: usize = 256;

pub(crate) async fn run(
    mut stream: Box<dyn BusStream>,
    history: Arc<dyn HistoryStore>,
    announcer: Announcer,
) {
    let mut last_positions: HashMap<RoomId, i64> = HashMap::new();
    loop {
        let records = next_batch(stream.as_mut()).await;
        // Each traced message's trace shows the batch that placed it (a span lasts until its drop),
        // and continues through its announcement to every pod's fan-out.
        let mut batch: Vec<(i64, MessagePosted)> = Vec::with_capacity(records.len());
        let mut spans: HashMap<uuid::Uuid, tracing::Span> = HashMap::new();
        for record in &records {
            if let Some(posted) = decode(record) {
                spans.insert(posted.message_id, record.consumer_span("sequencer"));
                batch.push((record.offset, posted));
            }
        }
        let read_at = crate::delivery_lag::now_ms();
        for (_, posted) in &batch {
            let age_ms = (read_at - posted.sent_at_ms).max(0);
            metrics::histogram!("natter_sequencer_read_age_seconds").record(age_ms as f64 / 1000.0);
        }
        let storing = std::time::Instant::now();
        let placed = place_and_store(history.as_ref(), &mut last_positions, &batch).await;
        metrics::histogram!("natter_sequencer_store_seconds").record(storing.elapsed().as_secs_f64());
        announce(&announcer, &placed, &spans).await;
        for record in &records {
            if let Err(e) = stream.commit(record) {
                tracing::warn!(error = %e, "sequencer offset not committed; the record is placed again (harmless)");
            }
        }
    }
}

/// Places and stores `batch`, retrying until the store has it; the messages to announce, in order.
async fn place_and_store(
    history: &dyn HistoryStore,
    last_positions: &mut HashMap<RoomId, i64>,
    batch: &[(i64, MessagePosted)],
) -> Vec<StoredMessage> {
    let mut backoff = Duration::from_millis(100);
    loop {
        match place(history, last_positions, batch).await {
            Ok(Some(placed)) => return placed,
            Ok(None) => {
                tracing::info!("another sequencer stored some of these messages first; placing them again");
                last_positions.clear();
            }
            // Never skip a message because the store is down: wait for it.
            Err(e) => {
                tracing::warn!(error = %e, records = batch.len(), "history store failed; retrying");
                last_positions.clear();
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// One attempt of steps 1 and 2; `None` when another writer took a position or id first.
async fn place(
    history: &dyn HistoryStore,
    last_positions: &mut HashMap<RoomId, i64>,
    batch: &[(i64, MessagePosted)],
) -> Result<Option<Vec<StoredMessage>>, HistoryError> {
    let ids: Vec<uuid::Uuid> = batch.iter().map(|(_, posted)| posted.message_id).collect();
    let stored = history.stored(&ids).await?;
    let mut seen = HashSet::new();
    let mut new = Vec::new();
    let mut placed = Vec::new();
    for (log_offset, posted) in batch {
        let room = posted.room_id;
        if !seen.insert(posted.message_id) {
            tracing::info!(message.id = %posted.message_id, room.id = room, "duplicate message dropped");
            continue;
        }
        if let Some(known) = stored.get(&posted.message_id) {
            if known.log_offset == *log_offset {
                placed.push(known.message.clone());
            } else {
                tracing::info!(message.id = %posted.message_id, room.id = room, "duplicate message dropped");
            }
            continue;
        }
        let last = match last_positions.get(&room) {
            Some(last) => *last,
            None => history.last_position(room).await?,
        };
        let message = StoredMessage::new(posted.clone(), last + 1);
        last_positions.insert(room, last + 1);
        new.push(Sequenced { message: message.clone(), log_offset: *log_offset });
        placed.push(message);
    }
    let stored_now = history.store_sequenced(&new).await?;
    Ok((stored_now == new.len()).then_some(placed))
}

/// Publishes the placed messages to the sequenced topic, in order, retrying until the broker has
/// them all (announcing one twice is harmless: fan-out drops a position it has delivered).
async fn announce(
    announcer: &Announcer,
    placed: &[StoredMessage],
    spans: &HashMap<uuid::Uuid, tracing::Span>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let pending: Vec<_> = placed
            .iter()
            .map(|message| {
                let payload = serde_json::to_vec(message).expect("messages serialise");
                // The record carries the trace context of the span entered while enqueueing it.
                let span = spans.get(&message.posted.message_id).cloned().unwrap_or_else(tracing::Span::none);
                let _entered = span.enter();
                announcer.bus.enqueue(&announcer.topic, &room_key(message.posted.room_id), payload)
            })
            .collect();
        let failed = futures_util::future::join_all(pending).await.into_iter().find_map(Result::err);
        let Some(e) = failed else { return };
        tracing::warn!(error = %e, messages = placed.len(), "announcing sequenced messages failed; retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// The next record (waiting for it), then every record the bus has ready, up to [`MAX_BATCH`].
async fn next_batch(stream: &mut dyn BusStream) -> Vec<BusRecord> {
    let mut records = Vec::new();
    while records.is_empty() {
        match stream.next().await {
            Ok(record) => records.push(record),
            Err(e) => {
                tracing::warn!(error = %e, "sequencer consumer error; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    // `next` is cancellation safe: a zero timeout takes a ready record or nothing.
    while records.len() < MAX_BATCH {
        match tokio::time::timeout(Duration::ZERO, stream.next()).await {
            Ok(Ok(record)) => records.push(record),
            Ok(Err(_)) | Err(_) => break,
        }
    }
    records
}

fn decode(record: &BusRecord) -> Option<MessagePosted> {
    match serde_json::from_slice::<MessagePosted>(&record.payload) {
        Ok(posted) => Some(posted),
        Err(e) => {
            tracing::error!(error = %e, topic = %record.topic, offset = record.offset, "undecodable event skipped");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use natter_history::MemoryHistory;

    use super::*;

    fn posted(room: RoomId) -> MessagePosted {
        MessagePosted {
            message_id: uuid::Uuid::now_v7(),
            room_id: room,
            sender_id: 1,
            sender_name: "a".into(),
            text: "hi".into(),
            client_msg_id: None,
            sent_at_ms: 0,
            reply_to: None,
            file: None,
            mentions: Vec::new(),
            mentions_room: false,
        }
    }

    fn positions(placed: &[StoredMessage]) -> Vec<(RoomId, i64)> {
        placed.iter().map(|m| (m.posted.room_id, m.position)).collect()
    }

    #[tokio::test]
    async fn rooms_get_consecutive_positions_in_log_order() {
        let history = MemoryHistory::new();
        let mut cache = HashMap::new();
        let batch: Vec<(i64, MessagePosted)> =
            [1, 2, 1, 1, 2].into_iter().enumerate().map(|(i, room)| (i as i64 * 3, posted(room))).collect();
        let placed = place_and_store(&history, &mut cache, &batch).await;
        assert_eq!(positions(&placed), [(1, 1), (2, 1), (1, 2), (1, 3), (2, 2)]);
        // A new writer (empty cache) continues from what history holds.
        let more = vec![(20, posted(1))];
        assert_eq!(positions(&place_and_store(&history, &mut HashMap::new(), &more).await), [(1, 4)]);
    }

    #[tokio::test]
    async fn a_second_copy_of_a_message_is_dropped_and_a_replay_announced_again() {
        let history = MemoryHistory::new();
        let original = posted(1);
        let first = vec![(5, original.clone()), (6, posted(1))];
        place_and_store(&history, &mut HashMap::new(), &first).await;
        // The same records again (a crash before the commit) are announced again, unchanged;
        // the same message at another offset (a retry after its pod died) is dropped.
        let again =
            vec![(5, original.clone()), (6, first[1].1.clone()), (9, original.clone()), (10, posted(1))];
        let placed = place_and_store(&history, &mut HashMap::new(), &again).await;
        assert_eq!(positions(&placed), [(1, 1), (1, 2), (1, 3)]);
        assert_eq!(placed[0].posted.message_id, original.message_id);
        assert_eq!(history.last_position(1).await.unwrap(), 3, "stored once each");
    }

    #[tokio::test]
    async fn a_stale_cache_loses_to_the_store_and_places_again() {
        let history = MemoryHistory::new();
        place_and_store(&history, &mut HashMap::new(), &[(1, posted(1)), (2, posted(1))]).await;
        // This writer last saw room 1 at position 0; another one placed two messages since.
        let mut stale = HashMap::from([(1, 0)]);
        let placed = place_and_store(&history, &mut stale, &[(3, posted(1))]).await;
        assert_eq!(positions(&placed), [(1, 3)]);
    }
}

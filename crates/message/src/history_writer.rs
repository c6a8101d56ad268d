//! Writes every message to history. All pods share one consumer group, so each event is written by
//! one pod; offsets are committed only after the write, so a crash means a replay, and a replay is
//! harmless because storing is idempotent by message id.
//!
//! Writes are batched without waiting: after the first record, the writer takes whatever else the
//! bus already holds (up to [`MAX_BATCH`]) and stores it in one call. An idle room's message is
//! written at once; under load, one store round-trip covers many messages.

use std::sync::Arc;
use std::time::Duration;

use natter_bus::{BusRecord, BusStream};
use natter_history::HistoryStore;
use natter_proto::events::{MessagePosted, StoredMessage};

const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Messages stored in one call at most.
const MAX_BATCH: usize = 256;

pub(crate) async fn run(mut stream: Box<dyn BusStream>, history: Arc<dyn HistoryStore>) {
    loop {
        let records = next_batch(stream.as_mut()).await;
        let messages: Vec<StoredMessage> = records.iter().filter_map(decode).collect();
        // Each traced message's trace shows the batch write that stored it (a span lasts from its
        // creation to its drop, after the commit).
        let _spans: Vec<tracing::Span> = records.iter().map(|r| r.consumer_span("history")).collect();
        let mut backoff = Duration::from_millis(100);
        // Never skip a message because the store is down: wait for it.
        while let Err(e) = history.store_batch(&messages).await {
            tracing::warn!(error = %e, messages = messages.len(), "history store failed; retrying");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        for record in &records {
            if let Err(e) = stream.commit(record) {
                tracing::warn!(error = %e, "history offset not committed; the event may be stored again");
            }
        }
    }
}

/// The next record (waiting for it), then every record the bus has ready, up to [`MAX_BATCH`].
async fn next_batch(stream: &mut dyn BusStream) -> Vec<BusRecord> {
    let mut records = Vec::new();
    while records.is_empty() {
        match stream.next().await {
            Ok(record) => records.push(record),
            Err(e) => {
                tracing::warn!(error = %e, "history consumer error; retrying");
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

fn decode(record: &BusRecord) -> Option<StoredMessage> {
    match serde_json::from_slice::<MessagePosted>(&record.payload) {
        Ok(posted) => Some(StoredMessage::new(posted, record.offset)),
        Err(e) => {
            tracing::error!(error = %e, topic = %record.topic, offset = record.offset, "undecodable event skipped");
            None
        }
    }
}

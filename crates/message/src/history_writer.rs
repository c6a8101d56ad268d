//! Writes every message to history. All pods share one consumer group, so each event is written by
//! one pod; the offset is committed only after the write, so a crash means a replay, and a replay is
//! harmless because storing is idempotent by message id.

use std::sync::Arc;
use std::time::Duration;

use natter_bus::BusStream;
use natter_history::HistoryStore;
use natter_proto::events::{MessagePosted, StoredMessage};

const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub(crate) async fn run(mut stream: Box<dyn BusStream>, history: Arc<dyn HistoryStore>) {
    loop {
        let record = match stream.next().await {
            Ok(record) => record,
            Err(e) => {
                tracing::warn!(error = %e, "history consumer error; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        match serde_json::from_slice::<MessagePosted>(&record.payload) {
            Ok(posted) => {
                let message = StoredMessage::new(posted, record.offset);
                let mut backoff = Duration::from_millis(100);
                // Never skip a message because the store is down: wait for it.
                while let Err(e) = history.store(&message).await {
                    tracing::warn!(error = %e, "history store failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, topic = %record.topic, offset = record.offset, "undecodable event skipped");
            }
        }
        if let Err(e) = stream.commit(&record) {
            tracing::warn!(error = %e, "history offset not committed; the event may be stored again");
        }
    }
}

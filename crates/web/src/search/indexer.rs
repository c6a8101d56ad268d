//! Keeps the search index in step with history: every sequenced message is indexed, every edit and
//! deletion applied. Web pods read the sequenced and edits topics in one shared group, so each record
//! is handled once and the index resumes after a crash where it left off; publishing never waits for
//! it. The index tolerates any order and repeats (see `natter_db::search`), so a record handled twice
//! or an edit read before its message changes nothing it should not.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use natter_bus::{BusRecord, EventBus};
use natter_db::search::{self, Indexed};
use natter_db::{Db, DbError};
use natter_proto::events::{MessageChanged, StoredMessage};
use natter_proto::topics::Topic;

/// Wait after a failure before trying again.
const BACK_OFF: Duration = Duration::from_secs(1);

/// Indexes until the bus fails for good.
pub(crate) async fn consume(bus: Arc<dyn EventBus>, db: Db, topic_prefix: String) {
    let sequenced = Topic::Sequenced.name(&topic_prefix);
    let topics = [sequenced.clone(), Topic::Edits.name(&topic_prefix)];
    let group = format!("{topic_prefix}natter-search");
    crate::shared_consumer::run(bus, &topics, &group, "search indexer", |record| {
        let (db, is_message) = (db.clone(), record.topic == sequenced);
        async move { index_record(&record, is_message, &db).await }
    })
    .await;
}

/// Applies one record, retrying until the index has it (only then is the record committed).
async fn index_record(record: &BusRecord, is_message: bool, db: &Db) {
    let sent_at_ms = loop {
        match handle(record, is_message, db).await {
            Ok(sent_at_ms) => break sent_at_ms,
            Err(e) => {
                tracing::warn!(error = %e, offset = record.offset, "indexing failed; retrying");
                tokio::time::sleep(BACK_OFF).await;
            }
        }
    };
    if let Some(sent_at_ms) = sent_at_ms {
        let lag = (now_ms() - sent_at_ms).max(0) as f64 / 1000.0;
        metrics::gauge!("natter_search_index_lag_seconds").set(lag);
    }
}

/// Applies one record to the index; for a message, when it was sent (for the lag metric).
async fn handle(record: &BusRecord, is_message: bool, db: &Db) -> Result<Option<i64>, DbError> {
    let conn = &mut db.conn().await?;
    if is_message {
        let Ok(message) = serde_json::from_slice::<StoredMessage>(&record.payload) else {
            tracing::error!(offset = record.offset, "unreadable sequenced message skipped");
            return Ok(None);
        };
        let id = message.posted.message_id.to_string();
        if message.deleted {
            search::remove(conn, &id, now_ms()).await?;
            return Ok(None);
        }
        let indexed = Indexed {
            message_id: &id,
            room_id: message.posted.room_id,
            sender_id: message.posted.sender_id,
            position: message.position,
            sent_at_ms: message.posted.sent_at_ms,
            has_file: message.posted.file.is_some(),
            text: &message.posted.text,
        };
        search::index(conn, &indexed).await?;
        return Ok(Some(message.posted.sent_at_ms));
    }
    match serde_json::from_slice::<MessageChanged>(&record.payload) {
        Ok(MessageChanged::Edited(edited)) => {
            search::edit(conn, &edited.message_id.to_string(), &edited.text, edited.edited_at_ms).await?;
        }
        Ok(MessageChanged::Deleted(deleted)) => {
            search::remove(conn, &deleted.message_id.to_string(), now_ms()).await?;
        }
        // Reactions do not change what a message is found by.
        Ok(MessageChanged::Reacted(_) | MessageChanged::ReactionCounted(_)) => {}
        Err(e) => tracing::error!(error = %e, offset = record.offset, "unreadable message change skipped"),
    }
    Ok(None)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64
}

//! Removing files nobody may read any more: those whose message was deleted (a `removed` event on
//! the files topic, read by every web pod in one shared group, so each event is handled once and
//! resumed after a crash) and, by a periodic sweep, uploads never shared and files of deleted rooms.

use std::sync::Arc;
use std::time::Duration;

use natter_bus::EventBus;
use natter_db::{Db, files};
use natter_proto::events::FileEvent;
use natter_proto::topics::Topic;
use object_store::ObjectStore;

use super::upload::forget;

/// How often the sweep looks for abandoned files.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// Files removed per sweep round.
const SWEEP_BATCH: i64 = 100;
/// Wait after a failure before trying again.
const BACK_OFF: Duration = Duration::from_secs(1);

/// Removes file `id`'s content and record; a file already gone is fine.
pub(crate) async fn remove(db: &Db, store: &dyn ObjectStore, id: &str) -> Result<(), natter_db::DbError> {
    let Some(file) = files::by_id(&mut db.conn().await?, id).await? else { return Ok(()) };
    forget(store, &file.storage_key).await;
    files::delete(&mut db.conn().await?, id).await?;
    metrics::counter!("natter_files_removed_total").increment(1);
    Ok(())
}

/// Handles `removed` events of the files topic until the bus fails for good.
pub(crate) async fn consume(
    bus: Arc<dyn EventBus>,
    db: Db,
    store: Arc<dyn ObjectStore>,
    topic_prefix: String,
) {
    let topics = [Topic::Files.name(&topic_prefix)];
    let group = format!("{topic_prefix}natter-files");
    crate::shared_consumer::run(bus, &topics, &group, "file janitor", |record| {
        let (db, store) = (db.clone(), Arc::clone(&store));
        async move { handle(&record.payload, record.offset, &db, store.as_ref()).await }
    })
    .await;
}

/// Handles one record of the files topic; returns once it is done (retrying while it fails).
async fn handle(payload: &[u8], offset: i64, db: &Db, store: &dyn ObjectStore) {
    match serde_json::from_slice::<FileEvent>(payload) {
        Ok(FileEvent::Removed(removed)) => {
            // Until it works: a record is committed only once its file is gone.
            let id = removed.file_id.to_string();
            while let Err(e) = remove(db, store, &id).await {
                tracing::warn!(error = %e, file.id = %id, "removing a file failed; retrying");
                tokio::time::sleep(BACK_OFF).await;
            }
        }
        Ok(FileEvent::Uploaded(_)) => {}
        Err(e) => tracing::error!(error = %e, offset, "unreadable file event skipped"),
    }
}

/// Every [`SWEEP_EVERY`], removes uploads not shared within `unshared_ttl` and files of deleted rooms.
pub(crate) async fn sweep(db: Db, store: Arc<dyn ObjectStore>, unshared_ttl: Duration) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    loop {
        tick.tick().await;
        let ttl = chrono::Duration::from_std(unshared_ttl).unwrap_or(chrono::Duration::MAX);
        let cutoff = (chrono::Utc::now() - ttl).naive_utc();
        let abandoned = match list_abandoned(&db, cutoff).await {
            Ok(files) => files,
            Err(e) => {
                tracing::warn!(error = %e, "file sweep could not list abandoned files");
                continue;
            }
        };
        for file in abandoned {
            if let Err(e) = remove(&db, store.as_ref(), &file.id).await {
                tracing::warn!(error = %e, file.id = %file.id, "file sweep could not remove a file");
            }
        }
    }
}

async fn list_abandoned(
    db: &Db,
    cutoff: chrono::NaiveDateTime,
) -> Result<Vec<natter_db::RoomFile>, natter_db::DbError> {
    files::abandoned(&mut db.conn().await?, cutoff, SWEEP_BATCH).await
}

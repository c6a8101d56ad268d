//! MongoDB only: the `room_latest` summary is repaired by a replayed store, because the history writer
//! may crash (or the summary write fail) after the message was inserted and before the summary moved.

use std::time::Duration;

use mongodb::bson::{Document, doc};
use natter_history::{HistoryStore, MongoHistory};
use natter_proto::events::{MessagePosted, StoredMessage};

fn message(room: i64, position: i64) -> StoredMessage {
    StoredMessage::new(
        MessagePosted {
            message_id: uuid::Uuid::now_v7(),
            room_id: room,
            sender_id: 1,
            sender_name: "alice".into(),
            text: format!("p{position}"),
            client_msg_id: None,
            sent_at_ms: 1_700_000_000_000 + position,
            reply_to: None,
            file: None,
            mentions: Vec::new(),
            mentions_room: false,
        },
        position,
    )
}

#[tokio::test]
async fn a_replayed_store_repairs_a_missing_or_stale_summary() {
    let url = natter_test_support::mongodb_url();
    let addr = natter_test_support::host_port(&url);
    natter_test_support::require_listening("MongoDB-protocol server", &addr, Duration::from_secs(5)).await;
    let database = format!("natter_t_{}", natter_test_support::unique_suffix());
    let store = MongoHistory::connect(&url, &database).await.expect("connect");
    let summaries = mongodb::Client::with_uri_str(&url)
        .await
        .expect("client")
        .database(&database)
        .collection::<Document>("room_latest");

    let (older, newer) = (message(41, 5), message(41, 9));
    store.store(&older).await.unwrap();
    store.store(&newer).await.unwrap();

    // As if the process died after inserting `newer` but before its summary write.
    summaries.delete_one(doc! { "_id": 41_i64 }).await.unwrap();
    assert!(store.latest(&[41]).await.unwrap().is_empty(), "the summary is gone");
    assert!(!store.store(&newer).await.unwrap(), "the replay is a duplicate");
    assert_eq!(store.latest(&[41]).await.unwrap().get(&41), Some(&newer), "and repairs the summary");

    // As if only the older message's summary write had happened.
    summaries.delete_one(doc! { "_id": 41_i64 }).await.unwrap();
    assert!(!store.store(&older).await.unwrap());
    assert_eq!(store.latest(&[41]).await.unwrap().get(&41), Some(&older), "stale summary");
    assert!(!store.store(&newer).await.unwrap());
    assert_eq!(store.latest(&[41]).await.unwrap().get(&41), Some(&newer), "moved forward by the replay");
}

//! The contract every `HistoryStore` adapter meets, against a MongoDB-protocol server and in memory.

use std::sync::Arc;
use std::time::Duration;

use natter_history::{HistoryStore, MemoryHistory, MongoHistory};
use natter_proto::events::{MessagePosted, StoredMessage};

async fn mongo() -> Arc<dyn HistoryStore> {
    let url = natter_test_support::mongodb_url();
    let addr = natter_test_support::host_port(&url);
    natter_test_support::require_listening("MongoDB-protocol server", &addr, Duration::from_secs(5)).await;
    let database = format!("natter_t_{}", natter_test_support::unique_suffix());
    Arc::new(MongoHistory::connect(&url, &database).await.expect("connect"))
}

fn memory() -> Arc<dyn HistoryStore> {
    Arc::new(MemoryHistory::new())
}

fn message(room: i64, position: i64, text: &str) -> StoredMessage {
    StoredMessage {
        posted: MessagePosted {
            message_id: uuid::Uuid::now_v7(),
            room_id: room,
            sender_id: 1,
            sender_name: "alice".into(),
            text: text.into(),
            client_msg_id: Some(format!("c-{position}")),
            sent_at_ms: 1_700_000_000_000 + position,
        },
        position,
    }
}

async fn storing_twice_keeps_one(store: Arc<dyn HistoryStore>) {
    let m = message(1, 10, "hello");
    assert!(store.store(&m).await.unwrap(), "first store is new");
    assert!(!store.store(&m).await.unwrap(), "replay is not new");
    let stored = store.recent(1, None, 10).await.unwrap();
    assert_eq!(stored, vec![m], "one copy, every field kept");
}

async fn recent_is_ordered_paged_and_per_room(store: Arc<dyn HistoryStore>) {
    // Stored out of order, as partitions may interleave.
    for position in [5, 1, 9, 3, 7] {
        store.store(&message(2, position, &format!("p{position}"))).await.unwrap();
    }
    store.store(&message(3, 2, "other room")).await.unwrap();
    let texts = |v: Vec<StoredMessage>| v.into_iter().map(|m| m.posted.text).collect::<Vec<_>>();
    assert_eq!(texts(store.recent(2, None, 3).await.unwrap()), ["p5", "p7", "p9"]);
    assert_eq!(texts(store.recent(2, Some(5), 10).await.unwrap()), ["p1", "p3"]);
    assert_eq!(texts(store.recent(3, None, 10).await.unwrap()), ["other room"]);
    assert!(store.recent(4, None, 10).await.unwrap().is_empty());
    store.ping().await.unwrap();
}

async fn text_is_stored_verbatim(store: Arc<dyn HistoryStore>) {
    let m = message(5, 1, "<script>alert('x')</script> ünïcödé 🎉 \"quotes\"");
    store.store(&m).await.unwrap();
    assert_eq!(store.recent(5, None, 1).await.unwrap()[0].posted.text, m.posted.text);
}

macro_rules! contract {
    ($($case:ident),*) => {
        mod on_mongodb {
            $(#[tokio::test]
            async fn $case() { super::$case(super::mongo().await).await })*
        }
        mod in_memory {
            $(#[tokio::test]
            async fn $case() { super::$case(super::memory()).await })*
        }
    };
}

contract!(storing_twice_keeps_one, recent_is_ordered_paged_and_per_room, text_is_stored_verbatim);

//! The contract every `PresenceStore` adapter meets, against real Redis and in memory.

use std::sync::Arc;

use natter_presence::store::{MemoryPresence, PresenceStore, RedisPresence};

async fn redis() -> Arc<dyn PresenceStore> {
    let (url, prefix) = natter_test_support::redis_with_prefix().await;
    Arc::new(RedisPresence::connect(&url, &prefix).expect("redis pool"))
}

fn memory() -> Arc<dyn PresenceStore> {
    Arc::new(MemoryPresence::new())
}

async fn online_while_any_connection_remains(store: Arc<dyn PresenceStore>) {
    store.connection_opened(1, "phone", "pod-a").await.unwrap();
    store.connection_opened(1, "laptop", "pod-b").await.unwrap();
    store.connection_opened(1, "laptop", "pod-b").await.unwrap();
    let p = &store.presence(&[1]).await.unwrap()[0];
    assert!(p.online);
    assert_eq!(p.connections, 2, "reopening a connection does not count it twice");

    store.connection_closed(1, "phone").await.unwrap();
    assert!(store.presence(&[1]).await.unwrap()[0].online, "still online on the laptop");
    store.connection_closed(1, "laptop").await.unwrap();
    store.connection_closed(1, "laptop").await.unwrap();
    let p = &store.presence(&[1]).await.unwrap()[0];
    assert!(!p.online);
    assert_eq!(p.connections, 0);
}

async fn answers_in_the_order_asked(store: Arc<dyn PresenceStore>) {
    store.connection_opened(3, "c", "pod").await.unwrap();
    let answer = store.presence(&[2, 3, 4]).await.unwrap();
    let got: Vec<(i64, bool)> = answer.iter().map(|p| (p.member_id, p.online)).collect();
    assert_eq!(got, [(2, false), (3, true), (4, false)]);
    assert!(store.presence(&[]).await.unwrap().is_empty());
    store.ping().await.unwrap();
}

macro_rules! contract {
    ($($case:ident),*) => {
        mod on_redis {
            $(#[tokio::test]
            async fn $case() { super::$case(super::redis().await).await })*
        }
        mod in_memory {
            $(#[tokio::test]
            async fn $case() { super::$case(super::memory()).await })*
        }
    };
}

contract!(online_while_any_connection_remains, answers_in_the_order_asked);

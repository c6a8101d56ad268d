//! The contract every `KeyValue` adapter meets, against real Redis and in memory.

use std::sync::Arc;
use std::time::Duration;

use natter_kv::{KeyValue, MemoryKeyValue, RedisKeyValue};

async fn redis() -> Arc<dyn KeyValue> {
    let (url, prefix) = natter_test_support::redis_with_prefix().await;
    Arc::new(RedisKeyValue::connect(&url, &prefix).unwrap())
}

fn memory() -> Arc<dyn KeyValue> {
    Arc::new(MemoryKeyValue::new())
}

async fn values_expire(kv: Arc<dyn KeyValue>) {
    kv.set("a", "1", Duration::from_millis(300)).await.unwrap();
    assert_eq!(kv.get("a").await.unwrap().as_deref(), Some("1"));
    assert!(kv.expire("a", Duration::from_secs(5)).await.unwrap(), "extended");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(kv.get("a").await.unwrap().as_deref(), Some("1"), "the new TTL holds");
    kv.delete("a").await.unwrap();
    assert_eq!(kv.get("a").await.unwrap(), None);
    assert!(!kv.expire("a", Duration::from_secs(5)).await.unwrap(), "no such key");
    kv.set("b", "2", Duration::from_millis(100)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(kv.get("b").await.unwrap(), None, "expired");
    kv.ping().await.unwrap();
}

async fn window_counts_every_concurrent_hit(kv: Arc<dyn KeyValue>) {
    assert_eq!(kv.peek("w").await.unwrap().count, 0);
    let hits = (0..50).map(|_| {
        let kv = Arc::clone(&kv);
        tokio::spawn(async move { kv.hit("w", Duration::from_secs(30)).await.unwrap().count })
    });
    let mut counts = Vec::new();
    for hit in hits {
        counts.push(hit.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=50).collect::<Vec<u64>>(), "each hit counted once");
    let window = kv.peek("w").await.unwrap();
    assert_eq!(window.count, 50);
    assert!(window.resets_in > Duration::from_secs(25) && window.resets_in <= Duration::from_secs(30));
}

async fn window_restarts_after_it_ends(kv: Arc<dyn KeyValue>) {
    kv.hit("r", Duration::from_millis(200)).await.unwrap();
    assert_eq!(kv.hit("r", Duration::from_millis(200)).await.unwrap().count, 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(kv.hit("r", Duration::from_millis(200)).await.unwrap().count, 1);
}

macro_rules! contract {
    ($($case:ident),*) => {
        mod on_redis {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $case() { super::$case(super::redis().await).await })*
        }
        mod in_memory {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $case() { super::$case(super::memory()).await })*
        }
    };
}

async fn set_if_absent_lets_exactly_one_claim(kv: Arc<dyn KeyValue>) {
    let claims = (0..8).map(|i| {
        let kv = Arc::clone(&kv);
        tokio::spawn(async move {
            kv.set_if_absent("claim", &format!("v{i}"), Duration::from_secs(5)).await.unwrap()
        })
    });
    let mut won = Vec::new();
    for (i, claim) in claims.enumerate() {
        if claim.await.unwrap() {
            won.push(format!("v{i}"));
        }
    }
    assert_eq!(won.len(), 1, "exactly one claim: {won:?}");
    assert_eq!(kv.get("claim").await.unwrap(), Some(won[0].clone()));
    assert!(kv.set_if_absent("short", "a", Duration::from_millis(100)).await.unwrap());
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(
        kv.set_if_absent("short", "b", Duration::from_secs(5)).await.unwrap(),
        "expired keys can be claimed"
    );
    assert_eq!(kv.get("short").await.unwrap().as_deref(), Some("b"));
}

contract!(
    set_if_absent_lets_exactly_one_claim,
    values_expire,
    window_counts_every_concurrent_hit,
    window_restarts_after_it_ends
);

//! Short-lived state that every web pod must share: sessions and rate-limit counters.
//!
//! [`KeyValue`] is the interface; [`RedisKeyValue`] the production adapter (every key gets a TTL, so
//! nothing is orphaned) and [`MemoryKeyValue`] the embedded one for standalone mode. Both pass
//! `tests/kv_contract.rs`.

mod memory;
mod redis;

use std::time::Duration;

use async_trait::async_trait;

pub use self::memory::MemoryKeyValue;
pub use self::redis::{RedisKeyValue, redis_pool};

#[derive(Debug, thiserror::Error)]
pub enum KvError {
    #[error("key-value store unavailable: {0}")]
    Unavailable(String),
}

/// A fixed-window counter's state after a hit or a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Hits in the current window.
    pub count: u64,
    /// Time until the window ends and the count starts again from zero.
    pub resets_in: Duration,
}

#[async_trait]
pub trait KeyValue: Send + Sync + 'static {
    async fn get(&self, key: &str) -> Result<Option<String>, KvError>;
    /// Stores `value` for `ttl`.
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), KvError>;
    /// Stores `value` for `ttl` only if the key does not exist; whether it was stored. Atomic: of
    /// concurrent callers on any pod, exactly one stores.
    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, KvError>;
    /// Gives an existing key a new TTL; `false` if there is no such key.
    async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, KvError>;
    async fn delete(&self, key: &str) -> Result<(), KvError>;
    /// Counts one hit in a fixed window of `window` that starts at the first hit. Atomic: concurrent
    /// hits from many pods are all counted.
    async fn hit(&self, key: &str, window: Duration) -> Result<Window, KvError>;
    /// The window's state without counting a hit.
    async fn peek(&self, key: &str) -> Result<Window, KvError>;
    async fn ping(&self) -> Result<(), KvError>;
}

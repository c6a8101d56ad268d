//! Key-value state in process memory (standalone mode). Expired entries are dropped when touched and
//! swept every so often, so memory stays bounded by what is live.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::{KeyValue, KvError, Window};

/// Sweep expired entries every this many writes.
const SWEEP_EVERY: u64 = 1024;

#[derive(Default)]
struct Entries {
    values: HashMap<String, (String, Instant)>,
    writes: u64,
}

impl Entries {
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut (String, Instant)> {
        if self.values.get(key).is_some_and(|(_, expires)| *expires <= now) {
            self.values.remove(key);
        }
        self.values.get_mut(key)
    }

    fn wrote(&mut self, now: Instant) {
        self.writes += 1;
        if self.writes.is_multiple_of(SWEEP_EVERY) {
            self.values.retain(|_, (_, expires)| *expires > now);
        }
    }
}

#[derive(Default)]
pub struct MemoryKeyValue {
    entries: Mutex<Entries>,
}

impl MemoryKeyValue {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl KeyValue for MemoryKeyValue {
    async fn get(&self, key: &str) -> Result<Option<String>, KvError> {
        Ok(self.lock().live(key, Instant::now()).map(|(value, _)| value.clone()))
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), KvError> {
        let now = Instant::now();
        let mut entries = self.lock();
        entries.values.insert(key.to_owned(), (value.to_owned(), now + ttl));
        entries.wrote(now);
        Ok(())
    }

    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, KvError> {
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.live(key, now).is_some() {
            return Ok(false);
        }
        entries.values.insert(key.to_owned(), (value.to_owned(), now + ttl));
        entries.wrote(now);
        Ok(true)
    }

    async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, KvError> {
        let now = Instant::now();
        Ok(self.lock().live(key, now).map(|entry| entry.1 = now + ttl).is_some())
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        self.lock().values.remove(key);
        Ok(())
    }

    async fn hit(&self, key: &str, window: Duration) -> Result<Window, KvError> {
        let now = Instant::now();
        let mut entries = self.lock();
        let state = match entries.live(key, now) {
            Some((count, expires)) => {
                let hits = count.parse::<u64>().unwrap_or(0) + 1;
                *count = hits.to_string();
                Window { count: hits, resets_in: expires.saturating_duration_since(now) }
            }
            None => {
                entries.values.insert(key.to_owned(), ("1".to_owned(), now + window));
                Window { count: 1, resets_in: window }
            }
        };
        entries.wrote(now);
        Ok(state)
    }

    async fn peek(&self, key: &str) -> Result<Window, KvError> {
        let now = Instant::now();
        Ok(match self.lock().live(key, now) {
            Some((count, expires)) => Window {
                count: count.parse().unwrap_or(0),
                resets_in: expires.saturating_duration_since(now),
            },
            None => Window { count: 0, resets_in: Duration::ZERO },
        })
    }

    async fn ping(&self) -> Result<(), KvError> {
        Ok(())
    }
}

//! Server-side sessions in the shared key-value store (Redis in production), so any web pod serves
//! any member, restarting a pod logs nobody out, and logging out deletes the session for every copy
//! of the cookie. The cookie carries only the session key (encrypted); the store keeps the state
//! under a SHA-256 of that key, so a copy of the store's keys cannot be replayed as cookies.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration as CookieDuration;
use natter_kv::KeyValue;
use sha2::{Digest, Sha256};

/// Session keys are 64 characters from this alphabet (what actix-session accepts).
const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

type State = HashMap<String, String>;

pub(crate) struct KvSessionStore {
    kv: Arc<dyn KeyValue>,
}

impl KvSessionStore {
    pub(crate) fn new(kv: Arc<dyn KeyValue>) -> Self {
        Self { kv }
    }
}

pub(crate) fn sha256_hex(input: &[u8]) -> String {
    Sha256::digest(input).iter().map(|b| format!("{b:02x}")).collect()
}

fn storage_key(key: &SessionKey) -> String {
    format!("session:{}", sha256_hex(key.as_ref().as_bytes()))
}

fn ttl(ttl: &CookieDuration) -> Duration {
    Duration::from_secs(u64::try_from(ttl.whole_seconds()).unwrap_or(0).max(1))
}

fn new_session_key() -> SessionKey {
    let mut key = String::with_capacity(64);
    while key.len() < 64 {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes).expect("OS randomness");
        // Rejection sampling keeps every character equally likely.
        let limit = (256 / KEY_ALPHABET.len() * KEY_ALPHABET.len()) as u8;
        key.extend(
            bytes
                .iter()
                .filter(|&&b| b < limit)
                .map(|&b| KEY_ALPHABET[b as usize % KEY_ALPHABET.len()] as char),
        );
    }
    key.truncate(64);
    SessionKey::try_from(key).expect("64 alphanumeric characters are a valid session key")
}

impl SessionStore for KvSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<State>, LoadError> {
        let Some(raw) =
            self.kv.get(&storage_key(session_key)).await.map_err(|e| LoadError::Other(e.into()))?
        else {
            return Ok(None);
        };
        serde_json::from_str(&raw).map(Some).map_err(|e| LoadError::Deserialization(e.into()))
    }

    async fn save(&self, state: State, lifetime: &CookieDuration) -> Result<SessionKey, SaveError> {
        let raw = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let key = new_session_key();
        self.kv.set(&storage_key(&key), &raw, ttl(lifetime)).await.map_err(|e| SaveError::Other(e.into()))?;
        Ok(key)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        state: State,
        lifetime: &CookieDuration,
    ) -> Result<SessionKey, UpdateError> {
        let raw = serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let stored = storage_key(&session_key);
        // A session that is gone (logged out elsewhere, expired) is not brought back under its old key.
        if self.kv.expire(&stored, ttl(lifetime)).await.map_err(|e| UpdateError::Other(e.into()))? {
            self.kv.set(&stored, &raw, ttl(lifetime)).await.map_err(|e| UpdateError::Other(e.into()))?;
            Ok(session_key)
        } else {
            self.save(state, lifetime).await.map_err(|e| match e {
                SaveError::Serialization(e) => UpdateError::Serialization(e),
                SaveError::Other(e) => UpdateError::Other(e),
            })
        }
    }

    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        lifetime: &CookieDuration,
    ) -> Result<(), anyhow::Error> {
        self.kv.expire(&storage_key(session_key), ttl(lifetime)).await?;
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        Ok(self.kv.delete(&storage_key(session_key)).await?)
    }
}

//! Key-value state in Redis. Every key is written with a TTL. A window hit is one Lua script (INCR,
//! set the expiry on the first hit, read the remaining time), so it is atomic across pods and works
//! on any Redis version with scripting.

use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::redis::{self, AsyncCommands};
use deadpool_redis::{Connection, Pool};

use crate::{KeyValue, KvError, Window};

const HIT: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
";

fn unavailable(e: impl std::fmt::Display) -> KvError {
    KvError::Unavailable(e.to_string())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// How long one Redis command may take before it fails. The client library's default (500 ms) is
/// too short for a busy 2-core machine where the caller's task may wait for CPU; presence and
/// counters fail open or retry anyway.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(3);

/// A connection pool to `url`, with Natter's timeouts (shared by every Redis user).
pub fn redis_pool(url: &str) -> Result<Pool, String> {
    let config = deadpool_redis::redis::AsyncConnectionConfig::new()
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_connection_timeout(Some(CONNECTION_TIMEOUT));
    let manager = deadpool_redis::Manager::new_with_config(url, config).map_err(|e| e.to_string())?;
    let pool = Pool::builder(manager)
        .runtime(deadpool_redis::Runtime::Tokio1)
        .wait_timeout(Some(CONNECTION_TIMEOUT))
        .create_timeout(Some(CONNECTION_TIMEOUT))
        .build()
        .map_err(|e| e.to_string())?;
    let watched = pool.clone();
    natter_runtime::metrics::watch_pool("redis", move || watched.status().into());
    Ok(pool)
}

pub struct RedisKeyValue {
    pool: Pool,
    prefix: String,
}

impl RedisKeyValue {
    /// A pool to `url`; every key starts with `prefix`.
    pub fn connect(url: &str, prefix: &str) -> Result<Self, KvError> {
        let pool = redis_pool(url).map_err(unavailable)?;
        Ok(Self { pool, prefix: prefix.to_owned() })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn conn(&self) -> Result<Connection, KvError> {
        self.pool.get().await.map_err(unavailable)
    }
}

#[async_trait]
impl KeyValue for RedisKeyValue {
    async fn get(&self, key: &str) -> Result<Option<String>, KvError> {
        self.conn().await?.get(self.key(key)).await.map_err(unavailable)
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), KvError> {
        let mut conn = self.conn().await?;
        redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl))
            .query_async::<()>(&mut *conn)
            .await
            .map_err(unavailable)
    }

    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, KvError> {
        let mut conn = self.conn().await?;
        let stored: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut *conn)
            .await
            .map_err(unavailable)?;
        Ok(stored.is_some())
    }

    async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, KvError> {
        let mut conn = self.conn().await?;
        let millis = i64::try_from(millis(ttl)).unwrap_or(i64::MAX);
        conn.pexpire(self.key(key), millis).await.map_err(unavailable)
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        self.conn().await?.del::<_, ()>(self.key(key)).await.map_err(unavailable)
    }

    async fn hit(&self, key: &str, window: Duration) -> Result<Window, KvError> {
        let mut conn = self.conn().await?;
        let (count, ttl): (u64, i64) = redis::cmd("EVAL")
            .arg(HIT)
            .arg(1)
            .arg(self.key(key))
            .arg(millis(window))
            .query_async(&mut *conn)
            .await
            .map_err(unavailable)?;
        Ok(Window { count, resets_in: Duration::from_millis(ttl.max(0) as u64) })
    }

    async fn peek(&self, key: &str) -> Result<Window, KvError> {
        let mut conn = self.conn().await?;
        let (count, ttl): (Option<u64>, i64) = redis::pipe()
            .get(self.key(key))
            .pttl(self.key(key))
            .query_async(&mut *conn)
            .await
            .map_err(unavailable)?;
        Ok(Window { count: count.unwrap_or(0), resets_in: Duration::from_millis(ttl.max(0) as u64) })
    }

    async fn ping(&self) -> Result<(), KvError> {
        let mut conn = self.conn().await?;
        redis::cmd("PING").query_async::<String>(&mut *conn).await.map(|_| ()).map_err(unavailable)
    }
}

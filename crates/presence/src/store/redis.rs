//! Presence in Redis.
//!
//! Key layout: `{prefix}presence:member:{id}` is a hash of connection id → pod id; a member is online
//! while it has a field. Each update is one atomic command plus a TTL refresh in the same MULTI, so the
//! key of a member whose pod vanished without closing expires instead of staying forever. Reads are
//! one pipelined `HLEN` per member: no `KEYS` or `SCAN`.

use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::redis::{self, AsyncCommands};
use deadpool_redis::{Config, Pool, Runtime};
use natter_proto::MemberId;
use natter_proto::http::MemberPresence;

use super::{PresenceError, PresenceStore};

/// How long a member's connection set survives without any update.
const MEMBER_KEY_TTL: Duration = Duration::from_secs(24 * 3600);

fn unavailable(e: impl std::fmt::Display) -> PresenceError {
    PresenceError::Unavailable(e.to_string())
}

pub struct RedisPresence {
    pool: Pool,
    prefix: String,
}

impl RedisPresence {
    /// A pool to `url`; every key starts with `prefix`.
    pub fn connect(url: &str, prefix: &str) -> Result<Self, PresenceError> {
        let pool = Config::from_url(url).create_pool(Some(Runtime::Tokio1)).map_err(unavailable)?;
        Ok(Self { pool, prefix: prefix.to_owned() })
    }

    fn member_key(&self, member: MemberId) -> String {
        format!("{}presence:member:{member}", self.prefix)
    }
}

#[async_trait]
impl PresenceStore for RedisPresence {
    async fn connection_opened(
        &self,
        member: MemberId,
        connection: &str,
        pod: &str,
    ) -> Result<(), PresenceError> {
        let mut conn = self.pool.get().await.map_err(unavailable)?;
        let key = self.member_key(member);
        let _: () = redis::pipe()
            .atomic()
            .hset(&key, connection, pod)
            .ignore()
            .expire(&key, MEMBER_KEY_TTL.as_secs() as i64)
            .ignore()
            .query_async(&mut *conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn connection_closed(&self, member: MemberId, connection: &str) -> Result<(), PresenceError> {
        let mut conn = self.pool.get().await.map_err(unavailable)?;
        let _: () = conn.hdel(self.member_key(member), connection).await.map_err(unavailable)?;
        Ok(())
    }

    async fn presence(&self, members: &[MemberId]) -> Result<Vec<MemberPresence>, PresenceError> {
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.get().await.map_err(unavailable)?;
        let mut pipe = redis::pipe();
        for &member in members {
            pipe.hlen(self.member_key(member));
        }
        let counts: Vec<u32> = pipe.query_async(&mut *conn).await.map_err(unavailable)?;
        Ok(members
            .iter()
            .zip(counts)
            .map(|(&member_id, connections)| MemberPresence {
                member_id,
                online: connections > 0,
                connections,
            })
            .collect())
    }

    async fn ping(&self) -> Result<(), PresenceError> {
        let mut conn = self.pool.get().await.map_err(unavailable)?;
        let _: String = redis::cmd("PING").query_async(&mut *conn).await.map_err(unavailable)?;
        Ok(())
    }
}

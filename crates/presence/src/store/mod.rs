//! Where presence lives: Redis in production ([`RedisPresence`]), memory in standalone mode
//! ([`MemoryPresence`]). Both pass `tests/presence_contract.rs`.

mod memory;
mod redis;

use async_trait::async_trait;
use natter_proto::MemberId;
use natter_proto::http::MemberPresence;

pub use self::memory::MemoryPresence;
pub use self::redis::RedisPresence;

#[derive(Debug, thiserror::Error)]
pub enum PresenceError {
    #[error("presence store unavailable: {0}")]
    Unavailable(String),
}

/// Connections per member.
#[async_trait]
pub trait PresenceStore: Send + Sync + 'static {
    /// Records an open connection. Idempotent.
    async fn connection_opened(
        &self,
        member: MemberId,
        connection: &str,
        pod: &str,
    ) -> Result<(), PresenceError>;
    /// Forgets a connection. Idempotent.
    async fn connection_closed(&self, member: MemberId, connection: &str) -> Result<(), PresenceError>;
    /// Presence of each member, in the order asked.
    async fn presence(&self, members: &[MemberId]) -> Result<Vec<MemberPresence>, PresenceError>;
    async fn ping(&self) -> Result<(), PresenceError>;
}

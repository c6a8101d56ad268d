//! Presence in process memory (standalone mode).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use natter_proto::MemberId;
use natter_proto::http::MemberPresence;

use super::{PresenceError, PresenceStore};

/// member → connection id → pod id.
#[derive(Default)]
pub struct MemoryPresence {
    members: Mutex<HashMap<MemberId, HashMap<String, String>>>,
}

impl MemoryPresence {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl PresenceStore for MemoryPresence {
    async fn connection_opened(
        &self,
        member: MemberId,
        connection: &str,
        pod: &str,
    ) -> Result<(), PresenceError> {
        let mut members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        members.entry(member).or_default().insert(connection.to_owned(), pod.to_owned());
        Ok(())
    }

    async fn connection_closed(&self, member: MemberId, connection: &str) -> Result<(), PresenceError> {
        let mut members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(connections) = members.get_mut(&member) {
            connections.remove(connection);
            if connections.is_empty() {
                members.remove(&member);
            }
        }
        Ok(())
    }

    async fn presence(&self, asked: &[MemberId]) -> Result<Vec<MemberPresence>, PresenceError> {
        let members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        Ok(asked
            .iter()
            .map(|&member_id| {
                let connections = members.get(&member_id).map_or(0, |c| c.len() as u32);
                MemberPresence { member_id, online: connections > 0, connections }
            })
            .collect())
    }

    async fn ping(&self) -> Result<(), PresenceError> {
        Ok(())
    }
}

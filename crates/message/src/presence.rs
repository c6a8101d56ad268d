//! Telling the presence service about connections. Presence is soft state: a failed report is logged
//! and the connection carries on.

use natter_http::InternalClient;
use natter_proto::MemberId;
use natter_proto::http::ConnectionOpened;

pub(crate) struct PresenceReporter {
    presence: InternalClient,
    pod_id: String,
}

impl PresenceReporter {
    pub(crate) fn new(presence: InternalClient, pod_id: String) -> Self {
        Self { presence, pod_id }
    }

    pub(crate) async fn opened(&self, member: MemberId, connection: &str) {
        let body = ConnectionOpened { member_id: member, pod_id: self.pod_id.clone() };
        let path = format!("/internal/members/{member}/connections/{connection}");
        if let Err(e) = self.presence.put_json(&path, &body).await {
            tracing::warn!(error = %e, member.id = member, "presence not told about a new connection");
        }
    }

    pub(crate) async fn closed(&self, member: MemberId, connection: &str) {
        let path = format!("/internal/members/{member}/connections/{connection}");
        if let Err(e) = self.presence.delete(&path).await {
            tracing::warn!(error = %e, member.id = member, "presence not told about a closed connection");
        }
    }
}

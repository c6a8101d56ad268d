//! Asking web whether a member may use a room.

use natter_http::{InternalCallError, InternalClient};
use natter_proto::http::{RoomAccess, RoomRole};
use natter_proto::{MemberId, RoomId};

pub(crate) struct RoomAccessClient {
    web: InternalClient,
}

impl RoomAccessClient {
    pub(crate) fn new(web: InternalClient) -> Self {
        Self { web }
    }

    /// The member's role in the room, or `None` when they are not in it.
    pub(crate) async fn role(
        &self,
        room: RoomId,
        member: MemberId,
    ) -> Result<Option<RoomRole>, InternalCallError> {
        let access: RoomAccess =
            self.web.get_json(&format!("/internal/rooms/{room}/members/{member}")).await?;
        Ok(access.role)
    }
}

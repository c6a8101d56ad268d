//! Web's internal API, for message pods (service credentials required, see `natter_http`).

use actix_web::{HttpResponse, web};
use natter_http::ApiError;
use natter_proto::http::{RoomAccess, RoomRole};

use crate::app::State;

/// `GET /internal/rooms/{room}/members/{member}`: the member's role in the room, if any.
pub(crate) async fn room_access(
    state: web::Data<State>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (room_id, member_id) = path.into_inner();
    let role = state.directory.role_in_room(room_id, member_id).await.map_err(ApiError::unavailable)?;
    let role = role.map(|role| match role {
        natter_db::Role::Owner => RoomRole::Owner,
        natter_db::Role::Member => RoomRole::Member,
    });
    Ok(HttpResponse::Ok().json(RoomAccess {
        room_id,
        member_id,
        role,
        direct: false,
        read_only: None,
        muted_until_ms: None,
    }))
}

//! Web's internal API, for message pods (service credentials required, see `natter_http`).

use actix_web::{HttpResponse, web};
use natter_http::ApiError;

use crate::app::State;

/// `GET /internal/rooms/{room}/members/{member}`: whether and how the member may use the room.
pub(crate) async fn room_access(
    state: web::Data<State>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (room_id, member_id) = path.into_inner();
    let access = crate::rooms::room_access(&state, room_id, member_id).await?;
    Ok(HttpResponse::Ok().json(access))
}

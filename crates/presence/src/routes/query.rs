use actix_web::{HttpResponse, web};
use natter_http::ApiError;
use natter_proto::http::RoomPresent;
use natter_proto::{MemberId, RoomId};
use serde::Deserialize;

use crate::app::{State, now_ms};

/// Most members one query may ask about.
const MAX_MEMBERS_PER_QUERY: usize = 1000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PresenceQuery {
    /// Comma-separated member ids.
    members: String,
}

/// `GET /internal/presence?members=1,2,3`: presence of each member, in the order asked.
#[utoipa::path(get, path = "/internal/presence", params(PresenceQuery), responses((status = 200, description = "OK", body = Vec<natter_proto::http::MemberPresence>), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("internal" = [])), tag = "presence")]
pub(crate) async fn presence(
    state: web::Data<State>,
    query: web::Query<PresenceQuery>,
) -> Result<HttpResponse, ApiError> {
    let members: Vec<MemberId> = query
        .members
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::bad_request("members must be comma-separated integers"))?;
    if members.len() > MAX_MEMBERS_PER_QUERY {
        return Err(ApiError::bad_request(format!("at most {MAX_MEMBERS_PER_QUERY} members per query")));
    }
    let presence =
        state.store.presence(&members, state.away_after_ms, now_ms()).await.map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().json(presence))
}

/// `GET /internal/rooms/{room}/present`: members looking at the room now.
#[utoipa::path(get, path = "/internal/rooms/{room}/present", params(("room" = i64, Path, description = "the room id")), responses((status = 200, description = "OK", body = natter_proto::http::RoomPresent), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("internal" = [])), tag = "presence")]
pub(crate) async fn room_present(
    state: web::Data<State>,
    room: web::Path<RoomId>,
) -> Result<HttpResponse, ApiError> {
    let room_id = room.into_inner();
    let members = state.store.room_present(room_id, now_ms()).await.map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().json(RoomPresent { room_id, members }))
}

/// `GET /internal/rooms/{room}/call`: who is in the room's call now (message pods ask when a client
/// subscribes, so a member sees the call before joining it).
#[utoipa::path(get, path = "/internal/rooms/{room}/call", params(("room" = i64, Path, description = "the room id")), responses((status = 200, description = "OK", body = natter_proto::calls::CallState), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("internal" = [])), tag = "presence")]
pub(crate) async fn room_call(
    state: web::Data<State>,
    room: web::Path<RoomId>,
) -> Result<HttpResponse, ApiError> {
    let call = state.store.call(room.into_inner(), now_ms()).await.map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().json(call))
}

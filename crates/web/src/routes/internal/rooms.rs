//! Web's internal API, for message pods (service credentials required, see `natter_http`).

use std::collections::HashSet;

use actix_web::{HttpResponse, web};
use natter_db::{direct, members, memberships, rooms};
use natter_http::ApiError;
use natter_proto::http::{MentionTargets, MentionedMember, WhisperTarget};
use serde::Deserialize;

use crate::app::State;

/// `GET /internal/rooms/{room}/members/{member}`: whether and how the member may use the room.
#[utoipa::path(get, path = "/internal/rooms/{room}/members/{member}", params(("room" = i64, Path, description = "the room id"), ("member" = i64, Path, description = "a member id")), responses((status = 200, description = "OK", body = natter_proto::http::RoomAccess), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("internal" = [])), tag = "internal")]
pub(crate) async fn room_access(
    state: web::Data<State>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (room_id, member_id) = path.into_inner();
    let access = crate::rooms::room_access(&state.rules(), room_id, member_id).await?;
    Ok(HttpResponse::Ok().json(access))
}

/// `PUT /internal/rooms/{room}/members/{member}/read`: moves the member's read position forward (a
/// `mark_read` frame on a message pod); answers the position after, absent when not a member.
#[utoipa::path(put, path = "/internal/rooms/{room}/members/{member}/read", operation_id = "internal_mark_read", params(("room" = i64, Path, description = "the room id"), ("member" = i64, Path, description = "a member id")), request_body = natter_proto::rooms::MarkRead, responses((status = 200, description = "OK", body = natter_proto::rooms::ReadPosition), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("internal" = [])), tag = "internal")]
pub(crate) async fn mark_read(
    state: web::Data<State>,
    path: web::Path<(i64, i64)>,
    body: web::Json<natter_proto::rooms::MarkRead>,
) -> Result<HttpResponse, ApiError> {
    let (room_id, member_id) = path.into_inner();
    if body.position < 0 {
        return Err(ApiError::bad_request("position is not negative"));
    }
    let position = crate::rooms::reads::mark(&state, room_id, member_id, body.position)
        .await
        .map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().json(natter_proto::rooms::ReadPosition { room_id, position }))
}

/// `GET /internal/members/{member}/rooms`: the rooms the member belongs to, for presence to know whom
/// to tell when the member comes online or goes offline.
#[utoipa::path(get, path = "/internal/members/{member}/rooms", params(("member" = i64, Path, description = "a member id")), responses((status = 200, description = "OK", body = natter_proto::http::MemberRooms), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("internal" = [])), tag = "internal")]
pub(crate) async fn member_rooms(
    state: web::Data<State>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let member_id = path.into_inner();
    let mut conn = state.db.conn().await.map_err(ApiError::unavailable)?;
    let rooms = rooms::of_member(&mut conn, member_id).await.map_err(ApiError::unavailable)?;
    let room_ids = rooms.into_iter().map(|(room, _)| room.id).collect();
    Ok(HttpResponse::Ok().json(natter_proto::http::MemberRooms { member_id, room_ids }))
}

/// Names asked about at most (a message mentions few people; more are ignored).
const MAX_MENTION_NAMES: usize = 20;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MentionNames {
    /// Usernames, comma-separated, any case.
    #[serde(default)]
    names: String,
}

/// `GET /internal/rooms/{room}/mentions?names=`: which names are current members of the room, and
/// its member count (a message pod resolving `@name` and `@room`).
#[utoipa::path(get, path = "/internal/rooms/{room}/mentions", params(("room" = i64, Path, description = "the room id"), MentionNames), responses((status = 200, description = "OK", body = natter_proto::http::MentionTargets), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("internal" = [])), tag = "internal")]
pub(crate) async fn mentions(
    state: web::Data<State>,
    path: web::Path<i64>,
    query: web::Query<MentionNames>,
) -> Result<HttpResponse, ApiError> {
    let room_id = path.into_inner();
    let names: HashSet<String> = query
        .names
        .split(',')
        .map(|name| name.trim().to_lowercase())
        .filter(|name| !name.is_empty())
        .take(MAX_MENTION_NAMES)
        .collect();
    let mut conn = state.db.conn().await.map_err(ApiError::unavailable)?;
    let room = rooms::by_id(&mut conn, room_id)
        .await
        .map_err(ApiError::unavailable)?
        .ok_or_else(|| ApiError::not_found(format!("no room {room_id}")))?;
    let members = if names.is_empty() {
        Vec::new()
    } else {
        memberships::members_of(&mut conn, room_id)
            .await
            .map_err(ApiError::unavailable)?
            .into_iter()
            .map(|(member, _)| (member.username.to_lowercase(), member.id))
            .filter(|(username, _)| names.contains(username))
            .map(|(username, member_id)| MentionedMember { username, member_id })
            .collect()
    };
    Ok(HttpResponse::Ok().json(MentionTargets { members, member_count: room.member_count.max(0) as u32 }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct WhisperFrom {
    /// The member who whispers.
    from: i64,
}

/// `GET /internal/rooms/{room}/whisper-targets/{member}?from=`: whether `member` is in the room and
/// has not blocked `from`, and their name (a message pod checking a whisper).
#[utoipa::path(get, path = "/internal/rooms/{room}/whisper-targets/{member}", params(("room" = i64, Path, description = "the room id"), ("member" = i64, Path, description = "the member whispered to"), WhisperFrom), responses((status = 200, description = "OK", body = natter_proto::http::WhisperTarget), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("internal" = [])), tag = "internal")]
pub(crate) async fn whisper_target(
    state: web::Data<State>,
    path: web::Path<(i64, i64)>,
    query: web::Query<WhisperFrom>,
) -> Result<HttpResponse, ApiError> {
    let (room_id, member_id) = path.into_inner();
    let access = crate::rooms::room_access(&state.rules(), room_id, member_id).await?;
    let mut conn = state.db.conn().await.map_err(ApiError::unavailable)?;
    let name = match members::by_id(&mut conn, member_id).await.map_err(ApiError::unavailable)? {
        Some(member) if access.may_read() => member.display_name,
        _ => String::new(),
    };
    let blocked =
        direct::has_blocked(&mut conn, member_id, query.from).await.map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().json(WhisperTarget { room_id, member_id, member: !name.is_empty(), name, blocked }))
}

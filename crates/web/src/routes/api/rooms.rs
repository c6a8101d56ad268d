//! The room REST API (`/api/v1/rooms/...`), for holders of an access token. The rules live in
//! `crate::rooms`; these handlers only read requests and write answers.

use actix_web::{HttpResponse, web};
use natter_http::ApiError;
use natter_proto::rooms::{
    AcceptInvite, Invitation, MarkRead, NewInviteLink, NewRoom, ReadPosition, RoleChange, RoomUpdate,
    TransferOwnership, Until,
};
use serde::Deserialize;

use crate::app::State;
use crate::extract::{ApiCaller, ApiRoom};
use crate::rooms::{RoomContext, RoomError, direct, joining, list, manage, moderation, reads, views};
use natter_db::{audit, memberships};

type Answer = Result<HttpResponse, ApiError>;

fn done() -> Answer {
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: u32,
}

/// `GET /api/v1/rooms?q=&page=`.
#[utoipa::path(get, path = "/api/v1/rooms", params(SearchQuery), responses((status = 200, description = "OK", body = natter_proto::rooms::RoomSearchPage), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn search(
    state: web::Data<State>,
    query: web::Query<SearchQuery>,
    ApiCaller(member): ApiCaller,
) -> Answer {
    Ok(HttpResponse::Ok().json(list::search(&state, member.id, &query.q, query.page).await?))
}

/// `POST /api/v1/rooms`.
#[utoipa::path(post, path = "/api/v1/rooms", request_body = natter_proto::rooms::NewRoom, responses((status = 201, description = "created", body = natter_proto::rooms::RoomView), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn create(
    state: web::Data<State>,
    body: web::Json<NewRoom>,
    ApiCaller(member): ApiCaller,
) -> Answer {
    let room = manage::create(&state.rules(), member.id, &body).await?;
    let view = views::room_view(&state, &room, member.id, Some(natter_db::Role::Owner)).await?;
    Ok(HttpResponse::Created().insert_header(("Location", format!("/api/v1/rooms/{}", room.id))).json(view))
}

/// `GET /api/v1/rooms/{room}`.
#[utoipa::path(get, path = "/api/v1/rooms/{room}", params(("room" = i64, Path, description = "the room id")), responses((status = 200, description = "OK", body = natter_proto::rooms::RoomView), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn show(state: web::Data<State>, ctx: ApiRoom) -> Answer {
    Ok(HttpResponse::Ok().json(views::room_view(&state, &ctx.room, ctx.caller, ctx.role()).await?))
}

/// `PATCH /api/v1/rooms/{room}`.
#[utoipa::path(patch, path = "/api/v1/rooms/{room}", params(("room" = i64, Path, description = "the room id")), request_body = natter_proto::rooms::RoomUpdate, responses((status = 200, description = "OK", body = natter_proto::rooms::RoomView), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn update(state: web::Data<State>, body: web::Json<RoomUpdate>, ctx: ApiRoom) -> Answer {
    let room = manage::update(&state.rules(), &ctx, &body).await?;
    Ok(HttpResponse::Ok().json(views::room_view(&state, &room, ctx.caller, ctx.role()).await?))
}

/// `DELETE /api/v1/rooms/{room}`.
#[utoipa::path(delete, path = "/api/v1/rooms/{room}", params(("room" = i64, Path, description = "the room id")), responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn delete(state: web::Data<State>, ctx: ApiRoom) -> Answer {
    manage::delete(&state.rules(), &ctx).await?;
    done()
}

/// `POST /api/v1/rooms/{room}/archive`.
#[utoipa::path(post, path = "/api/v1/rooms/{room}/archive", params(("room" = i64, Path, description = "the room id")), responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn archive(state: web::Data<State>, ctx: ApiRoom) -> Answer {
    manage::set_archived(&state.rules(), &ctx, true).await?;
    done()
}

/// `DELETE /api/v1/rooms/{room}/archive`.
#[utoipa::path(delete, path = "/api/v1/rooms/{room}/archive", params(("room" = i64, Path, description = "the room id")), responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn unarchive(state: web::Data<State>, ctx: ApiRoom) -> Answer {
    manage::set_archived(&state.rules(), &ctx, false).await?;
    done()
}

/// `POST /api/v1/rooms/{room}/transfer`.
#[utoipa::path(post, path = "/api/v1/rooms/{room}/transfer", params(("room" = i64, Path, description = "the room id")), request_body = natter_proto::rooms::TransferOwnership, responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn transfer(
    state: web::Data<State>,
    body: web::Json<TransferOwnership>,
    ctx: ApiRoom,
) -> Answer {
    manage::transfer(&state.rules(), &ctx, body.member_id).await?;
    done()
}

/// `POST /api/v1/rooms/{room}/join`.
#[utoipa::path(post, path = "/api/v1/rooms/{room}/join", params(("room" = i64, Path, description = "the room id")), responses((status = 200, description = "OK", body = natter_proto::rooms::RoomView), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn join(state: web::Data<State>, ctx: ApiRoom) -> Answer {
    joining::join(&state.rules(), &ctx).await?;
    let ctx = RoomContext::load(&state.rules(), ctx.room.id, ctx.caller).await?;
    Ok(HttpResponse::Ok().json(views::room_view(&state, &ctx.room, ctx.caller, ctx.role()).await?))
}

/// `POST /api/v1/rooms/{room}/leave`.
#[utoipa::path(post, path = "/api/v1/rooms/{room}/leave", params(("room" = i64, Path, description = "the room id")), responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn leave(state: web::Data<State>, ctx: ApiRoom) -> Answer {
    joining::leave(&state.rules(), &ctx).await?;
    done()
}

/// `GET /api/v1/rooms/{room}/members`.
#[utoipa::path(get, path = "/api/v1/rooms/{room}/members", params(("room" = i64, Path, description = "the room id")), responses((status = 200, description = "OK", body = Vec<natter_proto::rooms::RoomMemberView>), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn members(state: web::Data<State>, ctx: ApiRoom) -> Answer {
    ctx.require_member()?;
    let mut conn = state.db.conn().await.map_err(RoomError::from)?;
    let members = memberships::members_of(&mut conn, ctx.room.id).await.map_err(RoomError::from)?;
    Ok(HttpResponse::Ok().json(members.into_iter().map(views::member_view).collect::<Vec<_>>()))
}

/// `PUT /api/v1/rooms/{room}/members/{member}/role`.
#[utoipa::path(put, path = "/api/v1/rooms/{room}/members/{member}/role", params(("room" = i64, Path, description = "the room id"), ("member" = i64, Path, description = "a member id")), request_body = natter_proto::rooms::RoleChange, responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn set_role(
    state: web::Data<State>,
    path: web::Path<(i64, i64)>,
    body: web::Json<RoleChange>,
    ctx: ApiRoom,
) -> Answer {
    let (_, target) = path.into_inner();
    moderation::set_role(&state.rules(), &ctx, target, body.role).await?;
    done()
}

/// `POST /api/v1/rooms/{room}/members/{member}/kick`.
#[utoipa::path(post, path = "/api/v1/rooms/{room}/members/{member}/kick", params(("room" = i64, Path, description = "the room id"), ("member" = i64, Path, description = "a member id")), responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn kick(state: web::Data<State>, path: web::Path<(i64, i64)>, ctx: ApiRoom) -> Answer {
    let (_, target) = path.into_inner();
    moderation::kick(&state.rules(), &ctx, target).await?;
    done()
}

/// `PUT /api/v1/rooms/{room}/members/{member}/mute`.
#[utoipa::path(put, path = "/api/v1/rooms/{room}/members/{member}/mute", params(("room" = i64, Path, description = "the room id"), ("member" = i64, Path, description = "a member id")), request_body = natter_proto::rooms::Until, responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn mute(
    state: web::Data<State>,
    path: web::Path<(i64, i64)>,
    body: web::Json<Until>,
    ctx: ApiRoom,
) -> Answer {
    let (_, target) = path.into_inner();
    moderation::mute(&state.rules(), &ctx, target, body.until_ms).await?;
    done()
}

/// `DELETE /api/v1/rooms/{room}/members/{member}/mute`.
#[utoipa::path(delete, path = "/api/v1/rooms/{room}/members/{member}/mute", params(("room" = i64, Path, description = "the room id"), ("member" = i64, Path, description = "a member id")), responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn unmute(state: web::Data<State>, path: web::Path<(i64, i64)>, ctx: ApiRoom) -> Answer {
    let (_, target) = path.into_inner();
    moderation::unmute(&state.rules(), &ctx, target).await?;
    done()
}

/// `PUT /api/v1/rooms/{room}/bans/{member}`.
#[utoipa::path(put, path = "/api/v1/rooms/{room}/bans/{member}", params(("room" = i64, Path, description = "the room id"), ("member" = i64, Path, description = "a member id")), request_body = natter_proto::rooms::Until, responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn ban(
    state: web::Data<State>,
    path: web::Path<(i64, i64)>,
    body: web::Json<Until>,
    ctx: ApiRoom,
) -> Answer {
    let (_, target) = path.into_inner();
    moderation::ban(&state.rules(), &ctx, target, body.until_ms).await?;
    done()
}

/// `DELETE /api/v1/rooms/{room}/bans/{member}`.
#[utoipa::path(delete, path = "/api/v1/rooms/{room}/bans/{member}", params(("room" = i64, Path, description = "the room id"), ("member" = i64, Path, description = "a member id")), responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn unban(state: web::Data<State>, path: web::Path<(i64, i64)>, ctx: ApiRoom) -> Answer {
    let (_, target) = path.into_inner();
    moderation::unban(&state.rules(), &ctx, target).await?;
    done()
}

/// `POST /api/v1/rooms/{room}/invitations`.
#[utoipa::path(post, path = "/api/v1/rooms/{room}/invitations", params(("room" = i64, Path, description = "the room id")), request_body = natter_proto::rooms::Invitation, responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn invite(state: web::Data<State>, body: web::Json<Invitation>, ctx: ApiRoom) -> Answer {
    joining::invite(&state.rules(), &ctx, &body.username).await?;
    done()
}

/// `POST /api/v1/rooms/{room}/invite-links`.
#[utoipa::path(post, path = "/api/v1/rooms/{room}/invite-links", params(("room" = i64, Path, description = "the room id")), request_body = natter_proto::rooms::NewInviteLink, responses((status = 201, description = "created", body = natter_proto::rooms::InviteLink), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn create_link(
    state: web::Data<State>,
    body: web::Json<NewInviteLink>,
    ctx: ApiRoom,
) -> Answer {
    let link = joining::create_link(&state.rules(), &ctx, &body).await?;
    Ok(HttpResponse::Created().insert_header(("Cache-Control", "no-store")).json(link))
}

/// `GET /api/v1/rooms/{room}/invite-links`.
#[utoipa::path(get, path = "/api/v1/rooms/{room}/invite-links", params(("room" = i64, Path, description = "the room id")), responses((status = 200, description = "OK", body = Vec<natter_proto::rooms::InviteLink>), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn links(state: web::Data<State>, ctx: ApiRoom) -> Answer {
    Ok(HttpResponse::Ok().json(joining::links(&state.rules(), &ctx).await?))
}

/// `DELETE /api/v1/rooms/{room}/invite-links/{link}`.
#[utoipa::path(delete, path = "/api/v1/rooms/{room}/invite-links/{link}", params(("room" = i64, Path, description = "the room id"), ("link" = i64, Path, description = "the invite link id")), responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn revoke_link(
    state: web::Data<State>,
    path: web::Path<(i64, i64)>,
    ctx: ApiRoom,
) -> Answer {
    let (_, link) = path.into_inner();
    joining::revoke_link(&state.rules(), &ctx, link).await?;
    done()
}

/// `GET /api/v1/rooms/{room}/audit`.
#[utoipa::path(get, path = "/api/v1/rooms/{room}/audit", params(("room" = i64, Path, description = "the room id")), responses((status = 200, description = "OK", body = Vec<natter_proto::rooms::AuditEntry>), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn audit(state: web::Data<State>, ctx: ApiRoom) -> Answer {
    ctx.require_community()?;
    ctx.require_role(natter_db::Role::Admin)?;
    let mut conn = state.db.conn().await.map_err(RoomError::from)?;
    let log = audit::log(&mut conn, ctx.room.id, 200).await.map_err(RoomError::from)?;
    Ok(HttpResponse::Ok().json(log.into_iter().map(views::audit_view).collect::<Vec<_>>()))
}

/// `PUT /api/v1/rooms/{room}/read`.
#[utoipa::path(put, path = "/api/v1/rooms/{room}/read", params(("room" = i64, Path, description = "the room id")), request_body = natter_proto::rooms::MarkRead, responses((status = 200, description = "OK", body = natter_proto::rooms::ReadPosition), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn mark_read(state: web::Data<State>, body: web::Json<MarkRead>, ctx: ApiRoom) -> Answer {
    ctx.require_member()?;
    if body.position < 0 {
        return Err(ApiError::bad_request("position is not negative"));
    }
    let position =
        reads::mark(&state, ctx.room.id, ctx.caller, body.position).await.map_err(RoomError::from)?;
    Ok(HttpResponse::Ok().json(ReadPosition { room_id: ctx.room.id, position }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MessagesQuery {
    before: Option<i64>,
    after: Option<i64>,
    up_to: Option<i64>,
    #[serde(default = "default_limit")]
    limit: u32,
}

/// When a client asked for a range history does not hold yet should ask again.
const RANGE_RETRY_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

fn default_limit() -> u32 {
    50
}

/// `GET /api/v1/rooms/{room}/messages?before=&limit=`: history, oldest first: the newest `limit`
/// messages below `before`. Or `?after=&up_to=&limit=`: the messages with positions `after + 1`
/// onwards (at most `limit`, never beyond `up_to`), with no position missing; when history does not
/// hold them all yet, 503 with `retry_after_ms`, never a silently short page. A page shorter than the
/// range asked for is a page: ask again after its last position.
#[utoipa::path(get, path = "/api/v1/rooms/{room}/messages", params(("room" = i64, Path, description = "the room id"), MessagesQuery), responses((status = 200, description = "OK", body = Vec<natter_proto::events::StoredMessage>), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn messages(
    state: web::Data<State>,
    query: web::Query<MessagesQuery>,
    ctx: ApiRoom,
) -> Answer {
    ctx.require_member()?;
    if !(1..=200).contains(&query.limit) {
        return Err(ApiError::bad_request("limit is between 1 and 200"));
    }
    let Some(after) = query.after else {
        if query.up_to.is_some() {
            return Err(ApiError::bad_request("up_to goes with after"));
        }
        let messages = state
            .history
            .recent(ctx.room.id, query.before, query.limit)
            .await
            .map_err(ApiError::unavailable)?;
        return Ok(HttpResponse::Ok().json(with_reactions(&state, messages, ctx.caller).await?));
    };
    if query.before.is_some() {
        return Err(ApiError::bad_request("before and after do not go together"));
    }
    if after < 0 || query.up_to.is_some_and(|up_to| up_to < after) {
        return Err(ApiError::bad_request("after is 0 or more, and up_to is not below it"));
    }
    let mut messages =
        state.history.after(ctx.room.id, after, query.limit).await.map_err(ApiError::unavailable)?;
    if let Some(up_to) = query.up_to {
        messages.retain(|m| m.position <= up_to);
        let wanted = (up_to - after).min(i64::from(query.limit));
        if (messages.len() as i64) < wanted {
            return Err(ApiError::not_yet(
                format!("messages {} to {up_to} are not all stored yet; retry", after + 1),
                RANGE_RETRY_AFTER,
            ));
        }
    }
    // Positions have no holes: a page with one is not served (it would hide a message).
    let whole = messages.iter().zip(after + 1..).all(|(m, expected)| m.position == expected);
    if !whole {
        return Err(ApiError::not_yet("history has a hole here; retry", RANGE_RETRY_AFTER));
    }
    Ok(HttpResponse::Ok().json(with_reactions(&state, messages, ctx.caller).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct WhispersQuery {
    /// Whispers shown after this position or later (default 0: from the room's start).
    #[serde(default)]
    after: i64,
    /// ... and not after this position.
    up_to: Option<i64>,
    #[serde(default = "default_limit")]
    limit: u32,
}

/// `GET /api/v1/rooms/{room}/whispers?after=&up_to=&limit=`: the whispers the caller sent or received
/// in the room (nobody else's, moderators' neither), each shown after position `after` of the room,
/// oldest first. Whispers hold no position of the room: `messages` never carries them.
#[utoipa::path(get, path = "/api/v1/rooms/{room}/whispers", params(("room" = i64, Path, description = "the room id"), WhispersQuery), responses((status = 200, description = "OK", body = Vec<natter_proto::events::WhisperPosted>), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn whispers(
    state: web::Data<State>,
    query: web::Query<WhispersQuery>,
    ctx: ApiRoom,
) -> Answer {
    ctx.require_member()?;
    if !(1..=200).contains(&query.limit) {
        return Err(ApiError::bad_request("limit is between 1 and 200"));
    }
    if query.after < 0 || query.up_to.is_some_and(|up_to| up_to < query.after) {
        return Err(ApiError::bad_request("after is 0 or more, and up_to is not below it"));
    }
    let whispers = state
        .history
        .whispers(ctx.room.id, ctx.caller, query.after, query.up_to, query.limit)
        .await
        .map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().json(whispers))
}

/// `POST /api/v1/rooms/{room}/reports`: reports a message of the room, or a whisper the caller
/// received, to its owners and admins (once per message), with the text as it is now.
#[utoipa::path(post, path = "/api/v1/rooms/{room}/reports", params(("room" = i64, Path, description = "the room id")), request_body = natter_proto::reports::NewReport, responses((status = 201, description = "filed", body = natter_proto::reports::ReportFiled), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn report(
    state: web::Data<State>,
    body: web::Json<natter_proto::reports::NewReport>,
    ctx: ApiRoom,
) -> Answer {
    ctx.require_member()?;
    let id = crate::reports::file(&state, ctx.room.id, ctx.caller, &body).await?;
    Ok(HttpResponse::Created().json(natter_proto::reports::ReportFiled { id }))
}

/// `GET /api/v1/rooms/{room}/reports`: the room's reports, newest first (owners and admins).
#[utoipa::path(get, path = "/api/v1/rooms/{room}/reports", params(("room" = i64, Path, description = "the room id")), responses((status = 200, description = "OK", body = Vec<natter_proto::reports::ReportView>), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn reports(state: web::Data<State>, ctx: ApiRoom) -> Answer {
    ctx.require_role(natter_db::Role::Admin)?;
    Ok(HttpResponse::Ok().json(crate::reports::list(&state, ctx.room.id).await?))
}

/// `messages` with their reactions as `reader` sees them (deleted messages show none).
async fn with_reactions(
    state: &State,
    mut messages: Vec<natter_proto::events::StoredMessage>,
    reader: i64,
) -> Result<Vec<natter_proto::events::StoredMessage>, ApiError> {
    let ids: Vec<uuid::Uuid> = messages.iter().filter(|m| !m.deleted).map(|m| m.posted.message_id).collect();
    let mut reactions = state.history.reactions(&ids, reader).await.map_err(ApiError::unavailable)?;
    for message in &mut messages {
        message.reactions = reactions.remove(&message.posted.message_id).unwrap_or_default();
    }
    Ok(messages)
}

/// `POST /api/v1/invites/accept`.
#[utoipa::path(post, path = "/api/v1/invites/accept", request_body = natter_proto::rooms::AcceptInvite, responses((status = 200, description = "OK", body = natter_proto::rooms::RoomView), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn accept_invite(
    state: web::Data<State>,
    body: web::Json<AcceptInvite>,
    ApiCaller(member): ApiCaller,
) -> Answer {
    let room = joining::accept_link(&state.rules(), member.id, &body.code).await?;
    let ctx = RoomContext::load(&state.rules(), room, member.id).await?;
    Ok(HttpResponse::Ok().json(views::room_view(&state, &ctx.room, ctx.caller, ctx.role()).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    #[serde(default)]
    page: u32,
}

/// `GET /api/v1/me/rooms?page=`.
#[utoipa::path(get, path = "/api/v1/me/rooms", params(PageQuery), responses((status = 200, description = "OK", body = natter_proto::rooms::RoomListPage), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn my_rooms(
    state: web::Data<State>,
    query: web::Query<PageQuery>,
    ApiCaller(member): ApiCaller,
) -> Answer {
    Ok(HttpResponse::Ok().json(list::room_list(&state, member.id, query.page).await?))
}

/// `PUT /api/v1/direct/{username}`: the caller's direct room with that member, created on first use.
#[utoipa::path(put, path = "/api/v1/direct/{username}", params(("username" = String, Path, description = "the other member's username")), responses((status = 200, description = "OK", body = natter_proto::rooms::RoomView), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn start_direct(
    state: web::Data<State>,
    path: web::Path<String>,
    ApiCaller(member): ApiCaller,
) -> Answer {
    let room = direct::start(&state.rules(), member.id, &path).await?;
    Ok(HttpResponse::Ok()
        .json(views::room_view(&state, &room, member.id, Some(natter_db::Role::Member)).await?))
}

/// `PUT /api/v1/blocks/{username}`.
#[utoipa::path(put, path = "/api/v1/blocks/{username}", params(("username" = String, Path, description = "the other member's username")), responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn block(
    state: web::Data<State>,
    path: web::Path<String>,
    ApiCaller(member): ApiCaller,
) -> Answer {
    direct::set_blocked(&state.rules(), member.id, &path, true).await?;
    done()
}

/// `DELETE /api/v1/blocks/{username}`.
#[utoipa::path(delete, path = "/api/v1/blocks/{username}", params(("username" = String, Path, description = "the other member's username")), responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "rooms")]
pub(crate) async fn unblock(
    state: web::Data<State>,
    path: web::Path<String>,
    ApiCaller(member): ApiCaller,
) -> Answer {
    direct::set_blocked(&state.rules(), member.id, &path, false).await?;
    done()
}

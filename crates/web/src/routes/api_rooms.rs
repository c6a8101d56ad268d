//! The room REST API (`/api/v1/rooms/...`), for holders of an access token. The rules live in
//! `crate::rooms`; these handlers only read requests and write answers.

use actix_web::{HttpRequest, HttpResponse, web};
use natter_http::ApiError;
use natter_proto::rooms::{
    AcceptInvite, Invitation, MarkRead, NewInviteLink, NewRoom, ReadPosition, RoleChange, RoomUpdate,
    TransferOwnership, Until,
};
use serde::Deserialize;

use super::api_me::bearer_member;
use crate::app::State;
use crate::rooms::{RoomContext, RoomError, direct, joining, list, manage, moderation, reads, views};

type Answer = Result<HttpResponse, ApiError>;

/// The caller and their standing in the room of the path.
async fn context(state: &State, request: &HttpRequest, room: i64) -> Result<RoomContext, ApiError> {
    let member = bearer_member(state, request).await?;
    Ok(RoomContext::load(state, room, member.id).await?)
}

fn done() -> Answer {
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: u32,
}

/// `GET /api/v1/rooms?q=&page=`.
pub(crate) async fn search(
    state: web::Data<State>,
    request: HttpRequest,
    query: web::Query<SearchQuery>,
) -> Answer {
    let member = bearer_member(&state, &request).await?;
    Ok(HttpResponse::Ok().json(list::search(&state, member.id, &query.q, query.page).await?))
}

/// `POST /api/v1/rooms`.
pub(crate) async fn create(
    state: web::Data<State>,
    request: HttpRequest,
    body: web::Json<NewRoom>,
) -> Answer {
    let member = bearer_member(&state, &request).await?;
    let room = manage::create(&state, member.id, &body).await?;
    let view = views::room_view(&state, &room, member.id, Some(natter_db::Role::Owner)).await?;
    Ok(HttpResponse::Created().insert_header(("Location", format!("/api/v1/rooms/{}", room.id))).json(view))
}

/// `GET /api/v1/rooms/{room}`.
pub(crate) async fn show(state: web::Data<State>, request: HttpRequest, path: web::Path<i64>) -> Answer {
    let ctx = context(&state, &request, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::room_view(&state, &ctx.room, ctx.caller, ctx.role()).await?))
}

/// `PATCH /api/v1/rooms/{room}`.
pub(crate) async fn update(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<RoomUpdate>,
) -> Answer {
    let ctx = context(&state, &request, path.into_inner()).await?;
    let room = manage::update(&state, &ctx, &body).await?;
    Ok(HttpResponse::Ok().json(views::room_view(&state, &room, ctx.caller, ctx.role()).await?))
}

/// `DELETE /api/v1/rooms/{room}`.
pub(crate) async fn delete(state: web::Data<State>, request: HttpRequest, path: web::Path<i64>) -> Answer {
    let ctx = context(&state, &request, path.into_inner()).await?;
    manage::delete(&state, &ctx).await?;
    done()
}

/// `POST /api/v1/rooms/{room}/archive`.
pub(crate) async fn archive(state: web::Data<State>, request: HttpRequest, path: web::Path<i64>) -> Answer {
    let ctx = context(&state, &request, path.into_inner()).await?;
    manage::set_archived(&state, &ctx, true).await?;
    done()
}

/// `DELETE /api/v1/rooms/{room}/archive`.
pub(crate) async fn unarchive(state: web::Data<State>, request: HttpRequest, path: web::Path<i64>) -> Answer {
    let ctx = context(&state, &request, path.into_inner()).await?;
    manage::set_archived(&state, &ctx, false).await?;
    done()
}

/// `POST /api/v1/rooms/{room}/transfer`.
pub(crate) async fn transfer(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<TransferOwnership>,
) -> Answer {
    let ctx = context(&state, &request, path.into_inner()).await?;
    manage::transfer(&state, &ctx, body.member_id).await?;
    done()
}

/// `POST /api/v1/rooms/{room}/join`.
pub(crate) async fn join(state: web::Data<State>, request: HttpRequest, path: web::Path<i64>) -> Answer {
    let ctx = context(&state, &request, path.into_inner()).await?;
    joining::join(&state, &ctx).await?;
    let ctx = RoomContext::load(&state, ctx.room.id, ctx.caller).await?;
    Ok(HttpResponse::Ok().json(views::room_view(&state, &ctx.room, ctx.caller, ctx.role()).await?))
}

/// `POST /api/v1/rooms/{room}/leave`.
pub(crate) async fn leave(state: web::Data<State>, request: HttpRequest, path: web::Path<i64>) -> Answer {
    let ctx = context(&state, &request, path.into_inner()).await?;
    joining::leave(&state, &ctx).await?;
    done()
}

/// `GET /api/v1/rooms/{room}/members`.
pub(crate) async fn members(state: web::Data<State>, request: HttpRequest, path: web::Path<i64>) -> Answer {
    let ctx = context(&state, &request, path.into_inner()).await?;
    ctx.require_member()?;
    let members = state.directory.room_members(ctx.room.id).await.map_err(RoomError::from)?;
    Ok(HttpResponse::Ok().json(members.into_iter().map(views::member_view).collect::<Vec<_>>()))
}

/// `PUT /api/v1/rooms/{room}/members/{member}/role`.
pub(crate) async fn set_role(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<(i64, i64)>,
    body: web::Json<RoleChange>,
) -> Answer {
    let (room, target) = path.into_inner();
    let ctx = context(&state, &request, room).await?;
    moderation::set_role(&state, &ctx, target, body.role).await?;
    done()
}

/// `POST /api/v1/rooms/{room}/members/{member}/kick`.
pub(crate) async fn kick(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<(i64, i64)>,
) -> Answer {
    let (room, target) = path.into_inner();
    let ctx = context(&state, &request, room).await?;
    moderation::kick(&state, &ctx, target).await?;
    done()
}

/// `PUT /api/v1/rooms/{room}/members/{member}/mute`.
pub(crate) async fn mute(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<(i64, i64)>,
    body: web::Json<Until>,
) -> Answer {
    let (room, target) = path.into_inner();
    let ctx = context(&state, &request, room).await?;
    moderation::mute(&state, &ctx, target, body.until_ms).await?;
    done()
}

/// `DELETE /api/v1/rooms/{room}/members/{member}/mute`.
pub(crate) async fn unmute(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<(i64, i64)>,
) -> Answer {
    let (room, target) = path.into_inner();
    let ctx = context(&state, &request, room).await?;
    moderation::unmute(&state, &ctx, target).await?;
    done()
}

/// `PUT /api/v1/rooms/{room}/bans/{member}`.
pub(crate) async fn ban(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<(i64, i64)>,
    body: web::Json<Until>,
) -> Answer {
    let (room, target) = path.into_inner();
    let ctx = context(&state, &request, room).await?;
    moderation::ban(&state, &ctx, target, body.until_ms).await?;
    done()
}

/// `DELETE /api/v1/rooms/{room}/bans/{member}`.
pub(crate) async fn unban(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<(i64, i64)>,
) -> Answer {
    let (room, target) = path.into_inner();
    let ctx = context(&state, &request, room).await?;
    moderation::unban(&state, &ctx, target).await?;
    done()
}

/// `POST /api/v1/rooms/{room}/invitations`.
pub(crate) async fn invite(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<Invitation>,
) -> Answer {
    let ctx = context(&state, &request, path.into_inner()).await?;
    joining::invite(&state, &ctx, &body.username).await?;
    done()
}

/// `POST /api/v1/rooms/{room}/invite-links`.
pub(crate) async fn create_link(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<NewInviteLink>,
) -> Answer {
    let ctx = context(&state, &request, path.into_inner()).await?;
    let link = joining::create_link(&state, &ctx, &body).await?;
    Ok(HttpResponse::Created().insert_header(("Cache-Control", "no-store")).json(link))
}

/// `GET /api/v1/rooms/{room}/invite-links`.
pub(crate) async fn links(state: web::Data<State>, request: HttpRequest, path: web::Path<i64>) -> Answer {
    let ctx = context(&state, &request, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(joining::links(&state, &ctx).await?))
}

/// `DELETE /api/v1/rooms/{room}/invite-links/{link}`.
pub(crate) async fn revoke_link(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<(i64, i64)>,
) -> Answer {
    let (room, link) = path.into_inner();
    let ctx = context(&state, &request, room).await?;
    joining::revoke_link(&state, &ctx, link).await?;
    done()
}

/// `GET /api/v1/rooms/{room}/audit`.
pub(crate) async fn audit(state: web::Data<State>, request: HttpRequest, path: web::Path<i64>) -> Answer {
    let ctx = context(&state, &request, path.into_inner()).await?;
    ctx.require_community()?;
    ctx.require_role(natter_db::Role::Admin)?;
    let log = state.directory.audit_log(ctx.room.id, 200).await.map_err(RoomError::from)?;
    Ok(HttpResponse::Ok().json(log.into_iter().map(views::audit_view).collect::<Vec<_>>()))
}

/// `PUT /api/v1/rooms/{room}/read`.
pub(crate) async fn mark_read(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<MarkRead>,
) -> Answer {
    let ctx = context(&state, &request, path.into_inner()).await?;
    ctx.require_member()?;
    if body.position < 0 {
        return Err(ApiError::bad_request("position is not negative"));
    }
    let position =
        reads::mark(&state, ctx.room.id, ctx.caller, body.position).await.map_err(RoomError::from)?;
    Ok(HttpResponse::Ok().json(ReadPosition { room_id: ctx.room.id, position }))
}

#[derive(Deserialize)]
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
pub(crate) async fn messages(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<i64>,
    query: web::Query<MessagesQuery>,
) -> Answer {
    let ctx = context(&state, &request, path.into_inner()).await?;
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
        return Ok(HttpResponse::Ok().json(messages));
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
    Ok(HttpResponse::Ok().json(messages))
}

/// `POST /api/v1/invites/accept`.
pub(crate) async fn accept_invite(
    state: web::Data<State>,
    request: HttpRequest,
    body: web::Json<AcceptInvite>,
) -> Answer {
    let member = bearer_member(&state, &request).await?;
    let room = joining::accept_link(&state, member.id, &body.code).await?;
    let ctx = RoomContext::load(&state, room, member.id).await?;
    Ok(HttpResponse::Ok().json(views::room_view(&state, &ctx.room, ctx.caller, ctx.role()).await?))
}

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    #[serde(default)]
    page: u32,
}

/// `GET /api/v1/me/rooms?page=`.
pub(crate) async fn my_rooms(
    state: web::Data<State>,
    request: HttpRequest,
    query: web::Query<PageQuery>,
) -> Answer {
    let member = bearer_member(&state, &request).await?;
    Ok(HttpResponse::Ok().json(list::room_list(&state, member.id, query.page).await?))
}

/// `PUT /api/v1/direct/{username}`: the caller's direct room with that member, created on first use.
pub(crate) async fn start_direct(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Answer {
    let member = bearer_member(&state, &request).await?;
    let room = direct::start(&state, member.id, &path).await?;
    Ok(HttpResponse::Ok()
        .json(views::room_view(&state, &room, member.id, Some(natter_db::Role::Member)).await?))
}

/// `PUT /api/v1/blocks/{username}`.
pub(crate) async fn block(state: web::Data<State>, request: HttpRequest, path: web::Path<String>) -> Answer {
    let member = bearer_member(&state, &request).await?;
    direct::set_blocked(&state, member.id, &path, true).await?;
    done()
}

/// `DELETE /api/v1/blocks/{username}`.
pub(crate) async fn unblock(
    state: web::Data<State>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Answer {
    let member = bearer_member(&state, &request).await?;
    direct::set_blocked(&state, member.id, &path, false).await?;
    done()
}

//! `/api/v1/friends` and `/api/v1/me/privacy` (see `crate::friends`).

use actix_web::{HttpResponse, web};
use natter_http::ApiError;
use natter_proto::friends::Privacy;

use crate::app::State;
use crate::extract::ApiCaller;
use crate::friends::{self, Answer};

type Reply = Result<HttpResponse, ApiError>;

/// `GET /api/v1/friends`: the caller's friends (online first) and the requests waiting either way.
#[utoipa::path(get, path = "/api/v1/friends", responses((status = 200, description = "OK", body = natter_proto::friends::FriendsView), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "friends")]
pub(crate) async fn list(state: web::Data<State>, ApiCaller(member): ApiCaller) -> Reply {
    Ok(HttpResponse::Ok().json(friends::view(&state, member.id).await?))
}

/// `PUT /api/v1/friends/requests/{username}`: asks them to be friends (when they had asked the
/// caller, that is the answer: friends at once).
#[utoipa::path(put, path = "/api/v1/friends/requests/{username}", params(("username" = String, Path, description = "the other member's username")), responses((status = 200, description = "OK", body = natter_proto::friends::FriendRequestOutcome), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "friends")]
pub(crate) async fn request(
    state: web::Data<State>,
    path: web::Path<String>,
    ApiCaller(member): ApiCaller,
) -> Reply {
    Ok(HttpResponse::Ok().json(friends::request(&state, member.id, &path).await?))
}

async fn answering(state: &State, caller: i64, username: &str, answer: Answer) -> Reply {
    friends::answer(state, caller, username, answer).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/friends/requests/{username}/accept`.
#[utoipa::path(post, path = "/api/v1/friends/requests/{username}/accept", params(("username" = String, Path, description = "the member who asked")), responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "friends")]
pub(crate) async fn accept(
    state: web::Data<State>,
    path: web::Path<String>,
    ApiCaller(member): ApiCaller,
) -> Reply {
    answering(&state, member.id, &path, Answer::Accept).await
}

/// `DELETE /api/v1/friends/requests/{username}`: declines their request, or cancels the caller's.
#[utoipa::path(delete, path = "/api/v1/friends/requests/{username}", params(("username" = String, Path, description = "the other member's username")), responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "friends")]
pub(crate) async fn withdraw(
    state: web::Data<State>,
    path: web::Path<String>,
    ApiCaller(member): ApiCaller,
) -> Reply {
    answering(&state, member.id, &path, Answer::Withdraw).await
}

/// `DELETE /api/v1/friends/{username}`: ends the friendship.
#[utoipa::path(delete, path = "/api/v1/friends/{username}", params(("username" = String, Path, description = "the friend's username")), responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 409, description = "conflicts with the current state (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "friends")]
pub(crate) async fn unfriend(
    state: web::Data<State>,
    path: web::Path<String>,
    ApiCaller(member): ApiCaller,
) -> Reply {
    answering(&state, member.id, &path, Answer::Unfriend).await
}

/// `PUT /api/v1/me/privacy`: who may start a direct chat with the caller.
#[utoipa::path(put, path = "/api/v1/me/privacy", request_body = natter_proto::friends::Privacy, responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "friends")]
pub(crate) async fn privacy(
    state: web::Data<State>,
    body: web::Json<Privacy>,
    ApiCaller(member): ApiCaller,
) -> Reply {
    friends::set_direct_from(&state, member.id, body.direct_from).await?;
    Ok(HttpResponse::NoContent().finish())
}

//! REST endpoints for a member holding an access token.

use actix_web::{HttpRequest, HttpResponse, web};
use natter_http::ApiError;
use natter_proto::http::{Me, WsToken};
use natter_proto::token::API_TOKEN_AUDIENCE;

use crate::app::State;

/// The member of the request's `Authorization: Bearer` access token.
pub(crate) async fn bearer_member(
    state: &State,
    request: &HttpRequest,
) -> Result<natter_db::Member, ApiError> {
    let token = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthorized("an access token is required (Authorization: Bearer)"))?;
    let claims = state
        .api_verifier
        .verify_for(token, API_TOKEN_AUDIENCE)
        .map_err(|e| ApiError::unauthorized(e.to_string()))?;
    let member_id = claims.member_id().ok_or_else(|| ApiError::unauthorized("the token names no member"))?;
    state
        .directory
        .member_by_id(member_id)
        .await
        .map_err(ApiError::unavailable)?
        .ok_or_else(|| ApiError::unauthorized("the member no longer exists"))
}

/// `GET /api/v1/me`.
pub(crate) async fn api_me(state: web::Data<State>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let member = bearer_member(&state, &request).await?;
    Ok(HttpResponse::Ok().json(Me {
        id: member.id,
        username: member.username,
        display_name: member.display_name,
    }))
}

/// `GET /api/v1/ws-token`: a message-host token for an API client.
pub(crate) async fn api_ws_token(
    state: web::Data<State>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let member = bearer_member(&state, &request).await?;
    let token = state.signer.issue(member.id, &member.display_name);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(WsToken { token, expires_in: state.signer.ttl().as_secs() }))
}

//! The token hand-off to the message host and the public keys that verify it.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use natter_proto::http::WsToken;
use natter_proto::token::API_TOKEN_AUDIENCE;

use crate::app::State;
use crate::auth;
use crate::pages::PageError;

/// `GET /ws-token`: a short-lived token for the logged-in member to open a WebSocket on the message
/// host. Same-origin only (the session cookie is `SameSite=Lax` and the answer is JSON, not CORS-enabled).
pub(crate) async fn ws_token(state: web::Data<State>, session: Session) -> Result<HttpResponse, PageError> {
    let member_id = auth::require_member(&session)?;
    let member = state.directory.member_by_id(member_id).await?.ok_or(PageError::LoginRequired)?;
    let token = state.signer.issue(member.id, &member.display_name);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(WsToken { token, expires_in: state.signer.ttl().as_secs() }))
}

/// `GET /api-token`: a short-lived REST access token (audience `natter-api`) for the logged-in member's
/// own page, which reads history and uploads files through `/api/v1` like any other client. Same-origin
/// only, as `/ws-token`.
pub(crate) async fn api_token(state: web::Data<State>, session: Session) -> Result<HttpResponse, PageError> {
    let member_id = auth::require_member(&session)?;
    let member = state.directory.member_by_id(member_id).await?.ok_or(PageError::LoginRequired)?;
    let ttl = state.access_token_ttl;
    let token = state.signer.issue_for(API_TOKEN_AUDIENCE, ttl, member.id, &member.display_name);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(WsToken { token, expires_in: ttl.as_secs() }))
}

/// `GET /.well-known/jwks.json`: the public keys of message-host tokens.
pub(crate) async fn jwks(state: web::Data<State>) -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=60")).json(state.signer.jwks())
}

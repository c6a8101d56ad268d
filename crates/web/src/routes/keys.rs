//! The token hand-off to the message host and the public keys that verify it.

use actix_web::{HttpResponse, web};
use natter_db::members;
use natter_proto::http::WsToken;
use natter_proto::token::API_TOKEN_AUDIENCE;

use crate::app::State;
use crate::error::PageError;
use crate::extract::SignedIn;

/// `GET /ws-token`: a short-lived token for the logged-in member to open a WebSocket on the message
/// host. Same-origin only (the session cookie is `SameSite=Lax` and the answer is JSON, not CORS-enabled).
#[utoipa::path(get, path = "/ws-token", responses((status = 200, description = "OK", body = natter_proto::http::WsToken), (status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("session" = [])), tag = "pages")]
pub(crate) async fn ws_token(
    state: web::Data<State>,
    SignedIn { member_id, .. }: SignedIn,
) -> Result<HttpResponse, PageError> {
    let member =
        members::by_id(&mut state.db.conn().await?, member_id).await?.ok_or(PageError::LoginRequired)?;
    let token = state.signer.issue(member.id, &member.display_name);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(WsToken { token, expires_in: state.signer.ttl().as_secs() }))
}

/// `GET /api-token`: a short-lived REST access token (audience `natter-api`) for the logged-in member's
/// own page, which reads history and uploads files through `/api/v1` like any other client. Same-origin
/// only, as `/ws-token`.
#[utoipa::path(get, path = "/api-token", responses((status = 200, description = "OK", body = natter_proto::http::WsToken), (status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("session" = [])), tag = "pages")]
pub(crate) async fn api_token(
    state: web::Data<State>,
    SignedIn { member_id, .. }: SignedIn,
) -> Result<HttpResponse, PageError> {
    let member =
        members::by_id(&mut state.db.conn().await?, member_id).await?.ok_or(PageError::LoginRequired)?;
    let ttl = state.access_token_ttl;
    let token = state.signer.issue_for(API_TOKEN_AUDIENCE, ttl, member.id, &member.display_name);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(WsToken { token, expires_in: ttl.as_secs() }))
}

/// `GET /.well-known/jwks.json`: the public keys of message-host tokens.
#[utoipa::path(get, path = "/.well-known/jwks.json", responses((status = 200, description = "OK", content_type = "application/json")), tag = "operations")]
pub(crate) async fn jwks(state: web::Data<State>) -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=60")).json(state.signer.jwks())
}

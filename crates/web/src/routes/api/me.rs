//! REST endpoints for a member holding an access token.

use actix_web::{HttpResponse, web};
use natter_http::ApiError;
use natter_proto::http::{Me, WsToken};

use crate::app::State;
use crate::extract::ApiCaller;

/// `GET /api/v1/me`.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, description = "OK", body = natter_proto::http::Me), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "auth")]
pub(crate) async fn api_me(ApiCaller(member): ApiCaller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(Me {
        id: member.id,
        username: member.username,
        display_name: member.display_name,
    }))
}

/// `GET /api/v1/ws-token`: a message-host token for an API client.
#[utoipa::path(get, path = "/api/v1/ws-token", responses((status = 200, description = "OK", body = natter_proto::http::WsToken), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "auth")]
pub(crate) async fn api_ws_token(
    state: web::Data<State>,
    ApiCaller(member): ApiCaller,
) -> Result<HttpResponse, ApiError> {
    let token = state.signer.issue(member.id, &member.display_name);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(WsToken { token, expires_in: state.signer.ttl().as_secs() }))
}

//! Calls for a member holding an access token.

use actix_web::{HttpResponse, web};
use natter_http::ApiError;

use crate::app::State;
use crate::extract::ApiCaller;

/// `GET /api/v1/calls/ice`: the STUN and TURN servers for the caller's calls, TURN ones with
/// credentials of their own that expire (see `crate::calls::ice`).
#[utoipa::path(get, path = "/api/v1/calls/ice", responses((status = 200, description = "OK", body = natter_proto::http::IceServers), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "calls")]
pub(crate) async fn ice_servers(
    state: web::Data<State>,
    ApiCaller(member): ApiCaller,
) -> Result<HttpResponse, ApiError> {
    let now = chrono::Utc::now().timestamp();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(state.ice.servers_for(member.id, now)))
}

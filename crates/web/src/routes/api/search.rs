//! `GET /api/v1/search`: messages the caller may read now, found by their words.

use actix_web::{HttpResponse, web};
use natter_http::ApiError;
use serde::Deserialize;

use crate::app::State;
use crate::extract::ApiCaller;
use crate::search::messages;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MessageQuery {
    /// Words to look for, "quoted words" side by side, and filters: `from:@name`, `in:#room`,
    /// `has:file`, `is:dm`, `before:YYYY-MM-DD`, `after:YYYY-MM-DD`.
    #[serde(default)]
    q: String,
    /// 0 for the first page.
    #[serde(default)]
    page: u32,
}

/// `GET /api/v1/search?q=&page=`: only rooms the caller is a member of now are searched, so a member
/// who left or was kicked or banned stops finding a room's messages at once.
#[utoipa::path(get, path = "/api/v1/search", params(MessageQuery), responses((status = 200, description = "OK", body = natter_proto::http::MessageSearchPage), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "search")]
pub(crate) async fn search_messages(
    state: web::Data<State>,
    query: web::Query<MessageQuery>,
    ApiCaller(member): ApiCaller,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(messages::find(&state, member.id, &query.q, query.page).await?))
}

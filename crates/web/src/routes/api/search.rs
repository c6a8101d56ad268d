//! `GET /api/v1/search`: messages the caller may read now, found by their words.

use actix_web::{HttpResponse, web};
use natter_db::{rooms, search};
use natter_http::ApiError;
use natter_proto::http::{MessageHit, MessageSearchPage};
use serde::Deserialize;

use crate::app::State;
use crate::extract::ApiCaller;
use crate::rooms::RoomError;

/// Hits per page.
const PAGE_SIZE: i64 = 20;
/// Longest query read (longer ones are cut).
const MAX_QUERY_CHARS: usize = 200;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MessageQuery {
    /// The words to look for.
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
    Ok(HttpResponse::Ok().json(find(&state, member.id, &query.q, query.page).await?))
}

/// A page of what `caller` may read now matching `q`.
async fn find(state: &State, caller: i64, q: &str, page: u32) -> Result<MessageSearchPage, RoomError> {
    let text: String = q.chars().take(MAX_QUERY_CHARS).collect();
    let readable: Vec<i64> = rooms::of_member(&mut state.db.conn().await?, caller)
        .await?
        .into_iter()
        .map(|(room, _)| room.id)
        .collect();
    let offset = i64::from(page) * PAGE_SIZE;
    // One more than a page, to tell whether another follows.
    let mut found =
        search::find(&mut state.db.conn().await?, &readable, &text, PAGE_SIZE + 1, offset).await?;
    let has_more = found.len() as i64 > PAGE_SIZE;
    found.truncate(PAGE_SIZE as usize);
    let hits = found
        .into_iter()
        .map(|f| MessageHit {
            message_id: f.message_id,
            room_id: f.room_id,
            sender_id: f.sender_id,
            position: f.position,
            sent_at_ms: f.sent_at_ms,
            text: f.text,
        })
        .collect();
    Ok(MessageSearchPage { hits, page, has_more })
}

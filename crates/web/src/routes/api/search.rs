//! `GET /api/v1/search`: messages the caller may read now, found by their words.

use actix_web::{HttpResponse, web};
use natter_db::search::{self, Filters};
use natter_db::search_terms;
use natter_db::{RoomKind, members, rooms};
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
    /// Words to look for, and filters: `from:@name`, `in:#room`, `has:file`, `is:dm`,
    /// `before:YYYY-MM-DD`, `after:YYYY-MM-DD`.
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

/// A page of what `caller` may read now matching `q` (see `crate::search::query` for the syntax).
async fn find(state: &State, caller: i64, q: &str, page: u32) -> Result<MessageSearchPage, RoomError> {
    let text: String = q.chars().take(MAX_QUERY_CHARS).collect();
    let query = crate::search::query::parse(&text);
    let none = || MessageSearchPage { hits: Vec::new(), page, has_more: false };
    // Only rooms the caller is a member of now; `in:` and `is:dm` narrow them further.
    let rooms = rooms::of_member(&mut state.db.conn().await?, caller).await?;
    let readable: Vec<i64> = rooms
        .into_iter()
        .map(|(room, _)| room)
        .filter(|room| !query.is_dm || room.kind() == RoomKind::Direct)
        .filter(|room| query.in_room.as_ref().is_none_or(|name| room.name.to_lowercase() == *name))
        .map(|room| room.id)
        .collect();
    let sender_id = match &query.from {
        Some(name) => match members::by_username(&mut state.db.conn().await?, name).await? {
            Some(member) => Some(member.id),
            None => return Ok(none()),
        },
        None => None,
    };
    let filters = Filters {
        sender_id,
        has_file: query.has_file,
        sent_from_ms: query.sent_from_ms,
        sent_before_ms: query.sent_before_ms,
    };
    let offset = i64::from(page) * PAGE_SIZE;
    // One more than a page, to tell whether another follows.
    let mut found =
        search::find(&mut state.db.conn().await?, &readable, &query.words, &filters, PAGE_SIZE + 1, offset)
            .await?;
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
            highlights: search_terms::highlights(&f.text, &query.words)
                .into_iter()
                .map(|(a, b)| [a, b])
                .collect(),
            text: f.text,
        })
        .collect();
    Ok(MessageSearchPage { hits, page, has_more })
}

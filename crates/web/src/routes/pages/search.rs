//! `GET /search?q=&page=`: the search box's results. Each hit names its room and sender, shows the
//! message with the matching words marked, and links to the room at that message (`#m{position}`).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use natter_db::{members, rooms};
use serde::Deserialize;

use crate::app::State;
use crate::auth;
use crate::error::PageError;
use crate::extract::SignedIn;
use crate::page_format::{marked_snippet, query_value, time_text};
use crate::rooms::views::room_view;
use crate::routes::pages::rooms::sidebar;
use crate::search::messages;
use crate::templates::{SearchHitItem, SearchPage};
use actix_web::web;

/// Characters of a message shown in a hit, around its first match.
const SNIPPET_CHARS: usize = 280;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchForm {
    /// What was typed in the search box (see `GET /api/v1/search` for the syntax).
    #[serde(default)]
    q: String,
    /// 0 for the first page.
    #[serde(default)]
    page: u32,
}

impl SearchForm {
    fn link(&self, page: u32) -> String {
        format!("/search?q={}&page={page}", query_value(self.q.trim()))
    }
}

/// `GET /search?q=&page=`: messages the member may read now, found by their words.
#[utoipa::path(get, path = "/search", params(SearchForm), responses((status = 200, description = "the page", content_type = "text/html"), (status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn search_page(
    state: web::Data<State>,
    form: web::Query<SearchForm>,
    SignedIn { member_id, session }: SignedIn,
) -> Result<SearchPage, PageError> {
    let member =
        members::by_id(&mut state.db.conn().await?, member_id).await?.ok_or(PageError::LoginRequired)?;
    let query = form.q.trim();
    let (mut hits, mut has_more) = (Vec::new(), false);
    if !query.is_empty() {
        let found = messages::find(&state, member_id, query, form.page).await?;
        has_more = found.has_more;
        let mut room_names: HashMap<i64, (String, bool)> = HashMap::new();
        let mut sender_names: HashMap<i64, String> = HashMap::new();
        for hit in found.hits {
            if let Entry::Vacant(slot) = room_names.entry(hit.room_id) {
                slot.insert(room_name(&state, hit.room_id, member_id).await?);
            }
            if let Entry::Vacant(slot) = sender_names.entry(hit.sender_id) {
                let sender = members::by_id(&mut state.db.conn().await?, hit.sender_id).await?;
                slot.insert(sender.map_or_else(|| "someone".to_owned(), |m| m.display_name));
            }
            let (room, direct) = room_names[&hit.room_id].clone();
            hits.push(SearchHitItem {
                href: format!("/rooms/{}#m{}", hit.room_id, hit.position),
                room,
                direct,
                sender: sender_names[&hit.sender_id].clone(),
                mine: hit.sender_id == member_id,
                sent_at: time_text(hit.sent_at_ms),
                sent_at_iso: chrono::DateTime::from_timestamp_millis(hit.sent_at_ms)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                    .unwrap_or_default(),
                sent_at_ms: hit.sent_at_ms,
                segments: marked_snippet(&hit.text, &hit.highlights, SNIPPET_CHARS),
            });
        }
    }
    Ok(SearchPage {
        csrf: auth::csrf_token(&session)?,
        member_name: member.display_name,
        sidebar: sidebar(&state, member_id, 0).await?,
        query: query.to_owned(),
        first: form.page as usize * messages::PAGE_SIZE as usize + 1,
        hits,
        prev: form.page.checked_sub(1).map(|p| form.link(p)),
        next: has_more.then(|| form.link(form.page + 1)),
    })
}

/// A room's name as the member sees it (the other member's for a direct chat), and whether it is
/// a direct chat.
async fn room_name(state: &State, room_id: i64, member_id: i64) -> Result<(String, bool), PageError> {
    Ok(match rooms::by_id(&mut state.db.conn().await?, room_id).await? {
        Some(room) => {
            let view = room_view(state, &room, member_id, None).await?;
            (view.name, room.direct_pair().is_some())
        }
        None => (String::new(), false),
    })
}

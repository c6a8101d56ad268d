//! Finding the messages a member may read now: the search box's page and `GET /api/v1/search` share
//! this.

use natter_db::search::{self, Filters};
use natter_db::search_terms;
use natter_db::{RoomKind, members, rooms};
use natter_proto::http::{MessageHit, MessageSearchPage};

use crate::app::State;
use crate::rooms::RoomError;

/// Hits per page.
pub(crate) const PAGE_SIZE: i64 = 20;
/// Longest query read (longer ones are cut).
const MAX_QUERY_CHARS: usize = 200;

/// A page of what `caller` may read now matching `q` (see `crate::search::query` for the syntax).
pub(crate) async fn find(
    state: &State,
    caller: i64,
    q: &str,
    page: u32,
) -> Result<MessageSearchPage, RoomError> {
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

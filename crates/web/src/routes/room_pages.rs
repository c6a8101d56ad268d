//! The live room page and the server-rendered history page; both for members only.

use actix_session::Session;
use actix_web::web;

use crate::app::State;
use crate::auth;
use crate::pages::{HistoryItem, HistoryPage, PageError, RoomItem, RoomPage};

/// Messages shown on the history page.
const HISTORY_PAGE_SIZE: u32 = 100;

/// The room, if the member belongs to it (404 for no room, 403 for not a member).
async fn room_of_member(state: &State, room_id: i64, member_id: i64) -> Result<RoomItem, PageError> {
    let room = state.directory.room(room_id).await?.ok_or_else(|| PageError::not_found("No such room."))?;
    if state.directory.role_in_room(room_id, member_id).await?.is_none() {
        return Err(PageError::forbidden("You are not a member of this room."));
    }
    Ok(RoomItem { id: room.id, name: room.name })
}

async fn member_name(state: &State, member_id: i64) -> Result<String, PageError> {
    let member = state.directory.member_by_id(member_id).await?.ok_or(PageError::LoginRequired)?;
    Ok(member.display_name)
}

/// `GET /rooms/{room}`: the live room (its script connects to the message host).
pub(crate) async fn room_page(
    state: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
) -> Result<RoomPage, PageError> {
    let member_id = auth::require_member(&session)?;
    let room = room_of_member(&state, path.into_inner(), member_id).await?;
    Ok(RoomPage {
        csrf: auth::csrf_token(&session)?,
        member_name: member_name(&state, member_id).await?,
        room,
        ws_url: state.message_public_url.clone(),
    })
}

/// `GET /rooms/{room}/history`: the newest messages, rendered on the server.
pub(crate) async fn history_page(
    state: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
) -> Result<HistoryPage, PageError> {
    let member_id = auth::require_member(&session)?;
    let room = room_of_member(&state, path.into_inner(), member_id).await?;
    let stored =
        state.history.recent(room.id, None, HISTORY_PAGE_SIZE).await.map_err(PageError::unavailable)?;
    let messages = stored
        .into_iter()
        .map(|m| HistoryItem {
            position: m.position,
            sender: m.posted.sender_name,
            sent_at: chrono::DateTime::from_timestamp_millis(m.posted.sent_at_ms)
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default(),
            text: m.posted.text,
        })
        .collect();
    Ok(HistoryPage {
        csrf: auth::csrf_token(&session)?,
        member_name: member_name(&state, member_id).await?,
        room,
        messages,
    })
}

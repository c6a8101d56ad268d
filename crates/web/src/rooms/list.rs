//! A member's room list: their rooms by latest activity, each with its last message and unread count.
//!
//! Unread counts come from read positions, not timestamps: the number of stored messages above the
//! member's read position. Positions are bus offsets shared by the rooms of a partition, so they
//! are counted, never subtracted. The last message of every room comes from one history query
//! (`HistoryStore::latest`); counts are only asked for rooms with something unread.

use std::collections::HashMap;

use natter_db::{memberships, rooms};
use natter_proto::rooms::{MessagePreview, RoomListItem, RoomListPage, RoomSearchPage};

use super::RoomError;
use super::views::{millis, room_view};
use crate::app::State;

pub(crate) const PAGE_SIZE: usize = 20;
/// Unread counts stop here ("99+" style), so a long-unread room costs one bounded count.
const UNREAD_CAP: u32 = 100;
const PREVIEW_CHARS: usize = 120;

fn unavailable(e: impl std::fmt::Display) -> RoomError {
    tracing::warn!(error = %e, "history unavailable");
    RoomError::Unavailable("Message history is unavailable; try again soon.".to_owned())
}

pub(crate) async fn room_list(state: &State, caller: i64, page: u32) -> Result<RoomListPage, RoomError> {
    room_list_sized(state, caller, page, PAGE_SIZE).await
}

/// [`room_list`] in pages of `page_size` (the app's sidebar shows many rooms at once).
pub(crate) async fn room_list_sized(
    state: &State,
    caller: i64,
    page: u32,
    page_size: usize,
) -> Result<RoomListPage, RoomError> {
    let mine = rooms::of_member(&mut state.db.conn().await?, caller).await?;
    let ids: Vec<i64> = mine.iter().map(|(room, _)| room.id).collect();
    let mut latest: HashMap<i64, _> = state.history.latest(&ids).await.map_err(unavailable)?;
    let mut entries: Vec<_> = mine
        .into_iter()
        .map(|(room, membership)| {
            let last = latest.remove(&room.id);
            let activity = last.as_ref().map_or(millis(membership.joined_at), |m| m.posted.sent_at_ms);
            (activity, room, membership, last)
        })
        .collect();
    entries.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.id.cmp(&a.1.id)));
    let start = page as usize * page_size;
    let next_page = (entries.len() > start + page_size).then_some(page + 1);
    let mut rooms = Vec::new();
    for (activity, room, membership, last) in entries.into_iter().skip(start).take(page_size) {
        let read = membership.read_position;
        let unread = match &last {
            Some(last) if read.is_none_or(|read| last.position > read) => {
                state.history.count_after(room.id, read, UNREAD_CAP + 1).await.map_err(unavailable)?
            }
            _ => 0,
        };
        let mentions = if unread > 0 {
            state
                .history
                .count_mentions_after(room.id, read, caller, UNREAD_CAP)
                .await
                .map_err(unavailable)?
        } else {
            0
        };
        rooms.push(RoomListItem {
            room: room_view(state, &room, caller, Some(membership.role())).await?,
            last_message: last.map(|m| MessagePreview {
                position: m.position,
                sender_id: m.posted.sender_id,
                sender_name: m.posted.sender_name,
                text: m.posted.text.chars().take(PREVIEW_CHARS).collect(),
                sent_at_ms: m.posted.sent_at_ms,
            }),
            unread: unread.min(UNREAD_CAP),
            unread_more: unread > UNREAD_CAP,
            mentions,
            last_activity_ms: activity,
        });
    }
    Ok(RoomListPage { rooms, next_page })
}

/// Listed rooms whose name contains `query`.
pub(crate) async fn search(
    state: &State,
    caller: i64,
    query: &str,
    page: u32,
) -> Result<RoomSearchPage, RoomError> {
    if query.chars().count() > 80 {
        return Err(RoomError::bad_request("Search for at most 80 characters."));
    }
    let offset = i64::from(page) * PAGE_SIZE as i64;
    let found =
        rooms::search(&mut state.db.conn().await?, query.trim(), PAGE_SIZE as i64 + 1, offset).await?;
    let next_page = (found.len() > PAGE_SIZE).then_some(page + 1);
    let mut rooms = Vec::new();
    for room in found.iter().take(PAGE_SIZE) {
        let role = memberships::role(&mut state.db.conn().await?, room.id, caller).await?;
        rooms.push(room_view(state, room, caller, role).await?);
    }
    Ok(RoomSearchPage { rooms, next_page })
}

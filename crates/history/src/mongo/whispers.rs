//! Whispers: one document per whisper in `whispers` (`_id` the message id), with `parties` (sender
//! and recipient) so one query finds a member's whispers of a room; an index on
//! `(room_id, parties, after)` serves it.

use futures_util::TryStreamExt;
use mongodb::bson::doc;
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};
use natter_proto::events::WhisperPosted;
use natter_proto::{MemberId, RoomId};
use serde::{Deserialize, Serialize};

use super::{is_duplicate_key, unavailable};
use crate::HistoryError;

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct WhisperDoc {
    #[serde(rename = "_id")]
    id: String,
    room_id: i64,
    parties: [i64; 2],
    after: i64,
    sent_at_ms: i64,
    whisper: WhisperPosted,
}

pub(super) async fn create_index(whispers: &Collection<WhisperDoc>) -> Result<(), HistoryError> {
    let index = IndexModel::builder()
        .keys(doc! { "room_id": 1, "parties": 1, "after": 1 })
        .options(IndexOptions::builder().name("room_parties_after".to_owned()).build())
        .build();
    whispers.create_index(index).await.map_err(unavailable)?;
    Ok(())
}

pub(super) async fn store(
    whispers: &Collection<WhisperDoc>,
    whisper: &WhisperPosted,
) -> Result<bool, HistoryError> {
    let doc = WhisperDoc {
        id: whisper.message_id.to_string(),
        room_id: whisper.room_id,
        parties: [whisper.sender_id, whisper.to_id],
        after: whisper.after,
        sent_at_ms: whisper.sent_at_ms,
        whisper: whisper.clone(),
    };
    match whispers.insert_one(doc).await {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate_key(&e) => Ok(false),
        Err(e) => Err(unavailable(e)),
    }
}

pub(super) async fn read(
    whispers: &Collection<WhisperDoc>,
    room: RoomId,
    member: MemberId,
    from: i64,
    to: Option<i64>,
    limit: u32,
) -> Result<Vec<WhisperPosted>, HistoryError> {
    let mut after = doc! { "$gte": from };
    if let Some(to) = to {
        after.insert("$lte", to);
    }
    let found: Vec<WhisperDoc> = whispers
        .find(doc! { "room_id": room, "parties": member, "after": after })
        .sort(doc! { "after": 1, "sent_at_ms": 1, "_id": 1 })
        .limit(i64::from(limit))
        .await
        .map_err(unavailable)?
        .try_collect()
        .await
        .map_err(unavailable)?;
    let mut found: Vec<WhisperPosted> = found.into_iter().map(|d| d.whisper).collect();
    // The same order as the memory store (ids are UUIDv7, so `_id` order is time order anyway).
    found.sort_by(crate::whisper_order);
    Ok(found)
}

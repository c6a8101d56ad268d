//! The production adapter: MongoDB through the official driver.
//!
//! One document per message in `messages`, `_id` = message id (so a replayed store is a duplicate-key
//! no-op), and a unique index on `(room_id, position)` that serves the history query and the unread
//! count. The newest message per room is kept in `room_latest` (see [`room_latest`]). Edits and
//! deletions change the message document in place (see [`changes`]).

mod changes;
mod reactions;
mod room_latest;
mod whispers;

use std::collections::HashMap;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use mongodb::bson::{DateTime, doc};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};
use natter_proto::events::{
    FileRef, MessagePosted, MessageReacted, ReplyTo, StoredMessage, Thumbnail, WhisperPosted,
};
use natter_proto::reactions::Reaction;
use natter_proto::{MemberId, RoomId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use self::reactions::ReactionDoc;
use self::room_latest::LatestDoc;
use crate::{HistoryError, HistoryStore, ReactionTally, Sequenced};

const DUPLICATE_KEY: i32 = 11000;

#[derive(Debug, Serialize, Deserialize)]
struct MessageDoc {
    /// The message id as a string (UUIDv7).
    #[serde(rename = "_id")]
    id: String,
    room_id: i64,
    position: i64,
    sender_id: i64,
    sender_name: String,
    text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_msg_id: Option<String>,
    sent_at: DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    edited_at: Option<DateTime>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply_to: Option<ReplyDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<FileDoc>,
    /// The publish-log offset the sequencer read the message at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    log_offset: Option<i64>,
    /// Mentioned members (indexed with the room for the mention counts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    mentions: Vec<i64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    mentions_room: bool,
}

/// `FileRef` with the file id as a string, for the same reason as [`ReplyDoc`].
#[derive(Debug, Serialize, Deserialize)]
struct FileDoc {
    file_id: String,
    name: String,
    size: i64,
    content_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thumbnail: Option<Thumbnail>,
}

impl From<&FileRef> for FileDoc {
    fn from(f: &FileRef) -> Self {
        Self {
            file_id: f.file_id.to_string(),
            name: f.name.clone(),
            size: f.size,
            content_type: f.content_type.clone(),
            thumbnail: f.thumbnail,
        }
    }
}

impl FileDoc {
    fn into_file(self) -> Option<FileRef> {
        Some(FileRef {
            file_id: self.file_id.parse().ok()?,
            name: self.name,
            size: self.size,
            content_type: self.content_type,
            thumbnail: self.thumbnail,
        })
    }
}

/// `ReplyTo` with the message id as a string, like `_id` (BSON encodes a `Uuid` as binary or as a
/// string depending on the serializer, and the room summary goes through both).
#[derive(Debug, Serialize, Deserialize)]
struct ReplyDoc {
    message_id: String,
    position: i64,
    sender_id: i64,
    sender_name: String,
}

impl From<&ReplyTo> for ReplyDoc {
    fn from(r: &ReplyTo) -> Self {
        Self {
            message_id: r.message_id.to_string(),
            position: r.position,
            sender_id: r.sender_id,
            sender_name: r.sender_name.clone(),
        }
    }
}

impl ReplyDoc {
    fn into_reply(self) -> Option<ReplyTo> {
        Some(ReplyTo {
            message_id: self.message_id.parse().ok()?,
            position: self.position,
            sender_id: self.sender_id,
            sender_name: self.sender_name,
        })
    }
}

impl From<&StoredMessage> for MessageDoc {
    fn from(m: &StoredMessage) -> Self {
        Self {
            id: m.posted.message_id.to_string(),
            room_id: m.posted.room_id,
            position: m.position,
            sender_id: m.posted.sender_id,
            sender_name: m.posted.sender_name.clone(),
            text: m.posted.text.clone(),
            client_msg_id: m.posted.client_msg_id.clone(),
            sent_at: DateTime::from_millis(m.posted.sent_at_ms),
            edited_at: m.edited_at_ms.map(DateTime::from_millis),
            deleted: m.deleted,
            reply_to: m.posted.reply_to.as_ref().map(ReplyDoc::from),
            file: m.posted.file.as_ref().map(FileDoc::from),
            log_offset: None,
            mentions: m.posted.mentions.clone(),
            mentions_room: m.posted.mentions_room,
        }
    }
}

impl MessageDoc {
    fn into_message(self) -> Option<StoredMessage> {
        Some(StoredMessage {
            posted: MessagePosted {
                message_id: self.id.parse().ok()?,
                room_id: self.room_id,
                sender_id: self.sender_id,
                sender_name: self.sender_name,
                text: self.text,
                client_msg_id: self.client_msg_id,
                sent_at_ms: self.sent_at.timestamp_millis(),
                reply_to: self.reply_to.and_then(ReplyDoc::into_reply),
                file: self.file.and_then(FileDoc::into_file),
                mentions: self.mentions,
                mentions_room: self.mentions_room,
            },
            position: self.position,
            edited_at_ms: self.edited_at.map(|at| at.timestamp_millis()),
            deleted: self.deleted,
            reactions: Vec::new(),
        })
    }
}

fn unavailable(e: mongodb::error::Error) -> HistoryError {
    HistoryError::Unavailable(e.to_string())
}

fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    matches!(*e.kind, ErrorKind::Write(WriteFailure::WriteError(ref w)) if w.code == DUPLICATE_KEY)
}

/// Where an ordered `insert_many` stopped, if it stopped at a duplicate key.
fn duplicate_at(e: &mongodb::error::Error) -> Option<usize> {
    match *e.kind {
        ErrorKind::InsertMany(ref failure) if failure.write_concern_error.is_none() => {
            match failure.write_errors.as_deref() {
                Some([only]) if only.code == DUPLICATE_KEY => Some(only.index),
                _ => None,
            }
        }
        _ => None,
    }
}

/// History in MongoDB.
pub struct MongoHistory {
    db: Database,
    messages: Collection<MessageDoc>,
    latest: Collection<LatestDoc>,
    reactions: Collection<ReactionDoc>,
    whispers: Collection<whispers::WhisperDoc>,
}

impl MongoHistory {
    /// Connects to `url`, uses database `database`, and makes sure the indexes exist.
    pub async fn connect(url: &str, database: &str) -> Result<Self, HistoryError> {
        let mut options = ClientOptions::parse(url).await.map_err(unavailable)?;
        options.app_name = Some("natter".to_owned());
        let client = Client::with_options(options).map_err(unavailable)?;
        let db = client.database(database);
        let messages = db.collection::<MessageDoc>("messages");
        messages
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "room_id": 1, "position": -1 })
                    .options(IndexOptions::builder().unique(true).name("room_position".to_owned()).build())
                    .build(),
            )
            .await
            .map_err(unavailable)?;
        let latest = db.collection::<LatestDoc>("room_latest");
        let reactions = db.collection::<ReactionDoc>("reactions");
        reactions
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "message_id": 1, "emoji": 1 })
                    .options(IndexOptions::builder().name("message_emoji".to_owned()).build())
                    .build(),
            )
            .await
            .map_err(unavailable)?;
        let whispers = db.collection::<whispers::WhisperDoc>("whispers");
        whispers::create_index(&whispers).await?;
        Ok(Self { db, messages, latest, reactions, whispers })
    }
}

impl MongoHistory {
    /// Inserts `docs` (made from `messages`) in order, skipping duplicates (or stopping at the first
    /// one, with `stop_at_duplicate`); then moves the room summaries forward. Returns how many were new.
    async fn insert_in_order(
        &self,
        docs: Vec<MessageDoc>,
        messages: &[StoredMessage],
        stop_at_duplicate: bool,
    ) -> Result<usize, HistoryError> {
        if docs.is_empty() {
            return Ok(0);
        }
        let mut new = 0;
        let mut rest = &docs[..];
        while !rest.is_empty() {
            match self.messages.insert_many(rest).ordered(true).await {
                Ok(result) => {
                    new += result.inserted_ids.len();
                    break;
                }
                // An ordered insert stops at the first duplicate: the ones before it went in.
                Err(e) => {
                    let at = duplicate_at(&e).ok_or_else(|| unavailable(e))?;
                    new += at;
                    if stop_at_duplicate {
                        break;
                    }
                    rest = &rest[at + 1..];
                }
            }
        }
        // Only what went in moves the summaries (with `stop_at_duplicate`, a prefix).
        let messages = if stop_at_duplicate { &messages[..new] } else { messages };
        let mut newest: HashMap<RoomId, &StoredMessage> = HashMap::new();
        for message in messages {
            let entry = newest.entry(message.posted.room_id).or_insert(message);
            if message.position > entry.position {
                *entry = message;
            }
        }
        for message in newest.into_values() {
            room_latest::advance(&self.latest, message).await?;
        }
        Ok(new)
    }
}

#[async_trait]
impl HistoryStore for MongoHistory {
    async fn store(&self, message: &StoredMessage) -> Result<bool, HistoryError> {
        let new = match self.messages.insert_one(MessageDoc::from(message)).await {
            Ok(_) => true,
            Err(e) if is_duplicate_key(&e) => false,
            Err(e) => return Err(unavailable(e)),
        };
        // Also after a duplicate: the first attempt may have failed between the two writes.
        room_latest::advance(&self.latest, message).await?;
        Ok(new)
    }

    /// Ordered `insert_many`s (so a reader never sees a message before those ahead of it in the
    /// batch: resuming clients rely on it), continuing after a duplicate; then one summary update
    /// per room with the batch's newest message of that room.
    async fn store_batch(&self, messages: &[StoredMessage]) -> Result<usize, HistoryError> {
        self.insert_in_order(messages.iter().map(MessageDoc::from).collect(), messages, false).await
    }

    async fn store_sequenced(&self, batch: &[Sequenced]) -> Result<usize, HistoryError> {
        let docs = batch
            .iter()
            .map(|s| MessageDoc { log_offset: Some(s.log_offset), ..MessageDoc::from(&s.message) })
            .collect();
        let messages: Vec<StoredMessage> = batch.iter().map(|s| s.message.clone()).collect();
        // Stops at a taken id or position, so the room's stored messages stay a prefix of its
        // sequence (the sequencer then places the rest again).
        self.insert_in_order(docs, &messages, true).await
    }

    async fn stored(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Sequenced>, HistoryError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let docs: Vec<MessageDoc> = self
            .messages
            .find(doc! { "_id": { "$in": ids } })
            .await
            .map_err(unavailable)?
            .try_collect()
            .await
            .map_err(unavailable)?;
        Ok(docs
            .into_iter()
            .filter_map(|doc| {
                let log_offset = doc.log_offset.unwrap_or(-1);
                let message = doc.into_message()?;
                Some((message.posted.message_id, Sequenced { message, log_offset }))
            })
            .collect())
    }

    async fn recent(
        &self,
        room: RoomId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, HistoryError> {
        let filter = match before {
            Some(before) => doc! { "room_id": room, "position": { "$lt": before } },
            None => doc! { "room_id": room },
        };
        let docs: Vec<MessageDoc> = self
            .messages
            .find(filter)
            .sort(doc! { "position": -1 })
            .limit(i64::from(limit))
            .await
            .map_err(unavailable)?
            .try_collect()
            .await
            .map_err(unavailable)?;
        let mut messages: Vec<StoredMessage> =
            docs.into_iter().filter_map(MessageDoc::into_message).collect();
        messages.reverse();
        Ok(messages)
    }

    async fn after(&self, room: RoomId, after: i64, limit: u32) -> Result<Vec<StoredMessage>, HistoryError> {
        let docs: Vec<MessageDoc> = self
            .messages
            .find(doc! { "room_id": room, "position": { "$gt": after } })
            .sort(doc! { "position": 1 })
            .limit(i64::from(limit))
            .await
            .map_err(unavailable)?
            .try_collect()
            .await
            .map_err(unavailable)?;
        Ok(docs.into_iter().filter_map(MessageDoc::into_message).collect())
    }

    async fn latest(&self, rooms: &[RoomId]) -> Result<HashMap<RoomId, StoredMessage>, HistoryError> {
        if rooms.is_empty() {
            return Ok(HashMap::new());
        }
        let docs: Vec<LatestDoc> = self
            .latest
            .find(doc! { "_id": { "$in": rooms.to_vec() } })
            .await
            .map_err(unavailable)?
            .try_collect()
            .await
            .map_err(unavailable)?;
        Ok(docs.into_iter().filter_map(LatestDoc::into_entry).collect())
    }

    async fn count_after(&self, room: RoomId, after: Option<i64>, cap: u32) -> Result<u32, HistoryError> {
        if cap == 0 {
            // `$limit: 0` is rejected by the server, and there is nothing to count anyway.
            return Ok(0);
        }
        let filter = match after {
            Some(after) => doc! { "room_id": room, "position": { "$gt": after } },
            None => doc! { "room_id": room },
        };
        let counted =
            self.messages.count_documents(filter).limit(u64::from(cap)).await.map_err(unavailable)?;
        Ok(u32::try_from(counted).unwrap_or(cap).min(cap))
    }

    async fn count_mentions_after(
        &self,
        room: RoomId,
        after: Option<i64>,
        member: MemberId,
        cap: u32,
    ) -> Result<u32, HistoryError> {
        if cap == 0 {
            return Ok(0);
        }
        let mut filter = doc! {
            "room_id": room,
            "deleted": { "$ne": true },
            "sender_id": { "$ne": member },
            "$or": [{ "mentions": member }, { "mentions_room": true }],
        };
        if let Some(after) = after {
            filter.insert("position", doc! { "$gt": after });
        }
        let counted =
            self.messages.count_documents(filter).limit(u64::from(cap)).await.map_err(unavailable)?;
        Ok(u32::try_from(counted).unwrap_or(cap).min(cap))
    }

    async fn message(&self, room: RoomId, message_id: Uuid) -> Result<Option<StoredMessage>, HistoryError> {
        let found = self.messages.find_one(changes::by_id(room, message_id)).await.map_err(unavailable)?;
        Ok(found.and_then(MessageDoc::into_message))
    }

    async fn edit(
        &self,
        room: RoomId,
        message_id: Uuid,
        text: &str,
        edited_at_ms: i64,
    ) -> Result<bool, HistoryError> {
        changes::edit(self, room, message_id, text, edited_at_ms).await
    }

    async fn delete(&self, room: RoomId, message_id: Uuid) -> Result<bool, HistoryError> {
        changes::delete(self, room, message_id).await
    }

    async fn react(&self, change: &MessageReacted) -> Result<Option<ReactionTally>, HistoryError> {
        reactions::react(&self.reactions, change).await
    }

    async fn reactions(
        &self,
        message_ids: &[Uuid],
        reader: MemberId,
    ) -> Result<HashMap<Uuid, Vec<Reaction>>, HistoryError> {
        reactions::of_messages(&self.reactions, message_ids, reader).await
    }

    async fn store_whisper(&self, whisper: &WhisperPosted) -> Result<bool, HistoryError> {
        whispers::store(&self.whispers, whisper).await
    }

    async fn whispers(
        &self,
        room: RoomId,
        member: MemberId,
        from: i64,
        to: Option<i64>,
        limit: u32,
    ) -> Result<Vec<WhisperPosted>, HistoryError> {
        whispers::read(&self.whispers, room, member, from, to, limit).await
    }

    async fn ping(&self) -> Result<(), HistoryError> {
        self.db.run_command(doc! { "ping": 1 }).await.map(|_| ()).map_err(unavailable)
    }
}

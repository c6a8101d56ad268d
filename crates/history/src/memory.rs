//! The embedded adapter: history in process memory (standalone mode; gone when the process ends).

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Mutex;

use async_trait::async_trait;
use natter_proto::events::{MessageReacted, StoredMessage, WhisperPosted};
use natter_proto::reactions::{REACTORS_SHOWN, Reaction};
use natter_proto::{MemberId, RoomId};
use uuid::Uuid;

use crate::{HistoryError, HistoryStore, ReactionState, ReactionTally, Sequenced, summarise};

#[derive(Default)]
struct Rooms {
    by_room: HashMap<RoomId, BTreeMap<i64, StoredMessage>>,
    ids: HashMap<Uuid, (RoomId, i64)>,
    /// Log offsets of sequenced messages.
    log_offsets: HashMap<Uuid, i64>,
}

impl Rooms {
    fn find(&self, room: RoomId, message_id: Uuid) -> Option<&StoredMessage> {
        let (stored_in, position) = self.ids.get(&message_id)?;
        if *stored_in != room {
            return None;
        }
        self.by_room.get(&room)?.get(position)
    }

    fn find_mut(&mut self, room: RoomId, message_id: Uuid) -> Option<&mut StoredMessage> {
        let (stored_in, position) = self.ids.get(&message_id)?;
        if *stored_in != room {
            return None;
        }
        self.by_room.get_mut(&room)?.get_mut(position)
    }
}

/// Each member's latest reaction change per message and emoji.
type Reactions = HashMap<Uuid, HashMap<(String, MemberId), ReactionState>>;

/// History in memory.
#[derive(Default)]
pub struct MemoryHistory {
    rooms: Mutex<Rooms>,
    reactions: Mutex<Reactions>,
    whispers: Mutex<HashMap<Uuid, WhisperPosted>>,
}

impl MemoryHistory {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl HistoryStore for MemoryHistory {
    async fn store(&self, message: &StoredMessage) -> Result<bool, HistoryError> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let room = message.posted.room_id;
        if rooms.ids.contains_key(&message.posted.message_id)
            || rooms.by_room.get(&room).is_some_and(|m| m.contains_key(&message.position))
        {
            return Ok(false);
        }
        rooms.ids.insert(message.posted.message_id, (room, message.position));
        rooms.by_room.entry(room).or_default().insert(message.position, message.clone());
        Ok(true)
    }

    async fn store_sequenced(&self, batch: &[Sequenced]) -> Result<usize, HistoryError> {
        let mut new = 0;
        for sequenced in batch {
            // Stops at the first taken id or position, so what is stored stays a prefix.
            if !self.store(&sequenced.message).await? {
                break;
            }
            let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
            rooms.log_offsets.insert(sequenced.message.posted.message_id, sequenced.log_offset);
            new += 1;
        }
        Ok(new)
    }

    async fn stored(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Sequenced>, HistoryError> {
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        Ok(ids
            .iter()
            .filter_map(|id| {
                let (room, _) = rooms.ids.get(id)?;
                let message = rooms.find(*room, *id)?.clone();
                let log_offset = rooms.log_offsets.get(id).copied().unwrap_or(-1);
                Some((*id, Sequenced { message, log_offset }))
            })
            .collect())
    }

    async fn recent(
        &self,
        room: RoomId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, HistoryError> {
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let Some(messages) = rooms.by_room.get(&room) else {
            return Ok(Vec::new());
        };
        let mut newest: Vec<StoredMessage> = messages
            .range(..before.unwrap_or(i64::MAX))
            .rev()
            .take(limit as usize)
            .map(|(_, m)| m.clone())
            .collect();
        newest.reverse();
        Ok(newest)
    }

    async fn after(&self, room: RoomId, after: i64, limit: u32) -> Result<Vec<StoredMessage>, HistoryError> {
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let Some(messages) = rooms.by_room.get(&room) else {
            return Ok(Vec::new());
        };
        let start = after.saturating_add(1);
        Ok(messages.range(start..).take(limit as usize).map(|(_, m)| m.clone()).collect())
    }

    async fn latest(&self, rooms: &[RoomId]) -> Result<HashMap<RoomId, StoredMessage>, HistoryError> {
        let state = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        // Derived from the messages themselves (ordered by position), so it cannot go backwards.
        Ok(rooms
            .iter()
            .filter_map(|room| {
                let (_, newest) = state.by_room.get(room)?.last_key_value()?;
                Some((*room, newest.clone()))
            })
            .collect())
    }

    async fn count_after(&self, room: RoomId, after: Option<i64>, cap: u32) -> Result<u32, HistoryError> {
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let Some(messages) = rooms.by_room.get(&room) else {
            return Ok(0);
        };
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        let counted = messages.range((from, Bound::Unbounded)).take(cap as usize).count();
        Ok(u32::try_from(counted).unwrap_or(cap))
    }

    async fn count_mentions_after(
        &self,
        room: RoomId,
        after: Option<i64>,
        member: MemberId,
        cap: u32,
    ) -> Result<u32, HistoryError> {
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let Some(messages) = rooms.by_room.get(&room) else {
            return Ok(0);
        };
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        let counted = messages
            .range((from, Bound::Unbounded))
            .filter(|(_, m)| !m.deleted && m.posted.mentions(member))
            .take(cap as usize)
            .count();
        Ok(u32::try_from(counted).unwrap_or(cap))
    }

    async fn message(&self, room: RoomId, message_id: Uuid) -> Result<Option<StoredMessage>, HistoryError> {
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        Ok(rooms.find(room, message_id).cloned())
    }

    async fn edit(
        &self,
        room: RoomId,
        message_id: Uuid,
        text: &str,
        edited_at_ms: i64,
    ) -> Result<bool, HistoryError> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let Some(message) = rooms.find_mut(room, message_id) else {
            return Ok(false);
        };
        if !message.deleted && message.edited_at_ms.is_none_or(|at| at < edited_at_ms) {
            message.posted.text = text.to_owned();
            message.edited_at_ms = Some(edited_at_ms);
        }
        Ok(true)
    }

    async fn delete(&self, room: RoomId, message_id: Uuid) -> Result<bool, HistoryError> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let Some(message) = rooms.find_mut(room, message_id) else {
            return Ok(false);
        };
        message.posted.text.clear();
        message.posted.file = None;
        message.deleted = true;
        Ok(true)
    }

    async fn react(&self, change: &MessageReacted) -> Result<Option<ReactionTally>, HistoryError> {
        let mut reactions = self.reactions.lock().unwrap_or_else(|e| e.into_inner());
        let message = reactions.entry(change.message_id).or_default();
        let key = (change.emoji.clone(), change.member_id);
        let before = message.get(&key).copied();
        if before.is_some_and(|b| b.at_ms >= change.at_ms) {
            return Ok(None);
        }
        message.insert(key, ReactionState::after(before, change.added, change.at_ms));
        if before.is_some_and(|b| b.present == change.added) || (before.is_none() && !change.added) {
            return Ok(None);
        }
        let mut reactors: Vec<(i64, MemberId)> = message
            .iter()
            .filter(|((emoji, _), state)| *emoji == change.emoji && state.present)
            .map(|((_, member), state)| (state.since_ms, *member))
            .collect();
        reactors.sort_unstable_by(|a, b| b.cmp(a));
        Ok(Some(ReactionTally {
            count: reactors.len() as u32,
            reactors: reactors.into_iter().take(REACTORS_SHOWN).map(|(_, m)| m).collect(),
        }))
    }

    async fn reactions(
        &self,
        message_ids: &[Uuid],
        reader: MemberId,
    ) -> Result<HashMap<Uuid, Vec<Reaction>>, HistoryError> {
        let reactions = self.reactions.lock().unwrap_or_else(|e| e.into_inner());
        Ok(message_ids
            .iter()
            .filter_map(|id| {
                let states = reactions
                    .get(id)?
                    .iter()
                    .map(|((emoji, member), state)| (emoji.as_str(), *member, *state));
                let summary = summarise(states, reader);
                (!summary.is_empty()).then_some((*id, summary))
            })
            .collect())
    }

    async fn store_whisper(&self, whisper: &WhisperPosted) -> Result<bool, HistoryError> {
        let mut whispers = self.whispers.lock().unwrap_or_else(|e| e.into_inner());
        if whispers.contains_key(&whisper.message_id) {
            return Ok(false);
        }
        whispers.insert(whisper.message_id, whisper.clone());
        Ok(true)
    }

    async fn whispers(
        &self,
        room: RoomId,
        member: MemberId,
        from: i64,
        to: Option<i64>,
        limit: u32,
    ) -> Result<Vec<WhisperPosted>, HistoryError> {
        let whispers = self.whispers.lock().unwrap_or_else(|e| e.into_inner());
        let mut found: Vec<WhisperPosted> = whispers
            .values()
            .filter(|w| w.room_id == room && w.involves(member))
            .filter(|w| w.after >= from && to.is_none_or(|to| w.after <= to))
            .cloned()
            .collect();
        found.sort_by(crate::whisper_order);
        found.truncate(limit as usize);
        Ok(found)
    }

    async fn ping(&self) -> Result<(), HistoryError> {
        Ok(())
    }
}

//! Message history, written by the history consumer of the bus and read by web's history pages.
//!
//! [`HistoryStore`] is the interface; [`MongoHistory`] is the production adapter (official `mongodb`
//! driver) and [`MemoryHistory`] the embedded one. Both pass `tests/history_contract.rs`.
//! Storing is idempotent by message id, because the bus delivers at least once; so are edits and
//! deletions, which change a stored message in place (it keeps its position).
//!
//! Reactions are kept per member, message and emoji (the latest change wins by its time), and read
//! with [`HistoryStore::reactions`] for a page of messages.
//!
//! Whispers (`WhisperPosted`) are kept apart from the room's messages: they hold no position, and
//! only [`HistoryStore::whispers`] reads them, for one of their two parties.
//!
//! The room list reads [`HistoryStore::latest`] (preview and sort key per room) and
//! [`HistoryStore::count_after`] (unread badge).
//!
//! Positions are each room's sequence (1, 2, 3, ... with no holes), assigned by the sequencer (the
//! message pods' history writers, see `natter-message`'s `sequencer.rs`), which stores every message
//! here *before* anyone is told about it: so a room's history is always a whole prefix of its
//! sequence, and anything a client has seen can be read again. [`HistoryStore::store_sequenced`]
//! remembers the publish-log offset each message came from, which tells the sequencer a replay of
//! the same record (publish it again) from a second record with the same id (a duplicate: drop it).

mod memory;
mod mongo;

use std::collections::HashMap;

use async_trait::async_trait;
use natter_proto::events::{MessageReacted, StoredMessage, WhisperPosted};
use natter_proto::reactions::{REACTORS_SHOWN, Reaction};
use natter_proto::{MemberId, RoomId};
use uuid::Uuid;

pub use memory::MemoryHistory;
pub use mongo::MongoHistory;

/// Failures of the history store.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("history store unavailable: {0}")]
    Unavailable(String),
}

/// A message as the sequencer stored it: in its room's order, with the publish-log offset it was
/// read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequenced {
    pub message: StoredMessage,
    /// Offset of the record in the publish log (the room's message topic) it was sequenced from.
    pub log_offset: i64,
}

/// Stored messages per room, ordered by position.
#[async_trait]
pub trait HistoryStore: Send + Sync + 'static {
    /// Stores a message. Storing a message id again changes nothing and returns `false`.
    async fn store(&self, message: &StoredMessage) -> Result<bool, HistoryError>;
    /// Stores several messages at once, as [`Self::store`] would one by one, in order: a reader never
    /// sees a message before those ahead of it in `messages` (resume waits for a room's position to
    /// be stored and then reads everything up to it). The history writer drains what the bus has
    /// ready into one call. Returns how many were new.
    async fn store_batch(&self, messages: &[StoredMessage]) -> Result<usize, HistoryError> {
        let mut new = 0;
        for message in messages {
            new += usize::from(self.store(message).await?);
        }
        Ok(new)
    }
    /// Stores what the sequencer ordered, in order, as [`Self::store_batch`] does, remembering each
    /// message's log offset. A message whose id or whose room position is already taken is not
    /// stored. Returns how many were new: fewer than given means another writer got there first.
    async fn store_sequenced(&self, batch: &[Sequenced]) -> Result<usize, HistoryError>;
    /// Which of `ids` are stored: each with its message (current state) and log offset.
    async fn stored(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Sequenced>, HistoryError>;
    /// The position of the room's newest message; 0 when it has none.
    async fn last_position(&self, room: RoomId) -> Result<i64, HistoryError> {
        Ok(self.recent(room, None, 1).await?.first().map_or(0, |m| m.position))
    }
    /// Up to `limit` of the room's newest messages with a position below `before` (all when `None`),
    /// oldest first.
    async fn recent(
        &self,
        room: RoomId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, HistoryError>;
    /// Up to `limit` of the room's messages with a position above `after`, oldest first (resuming).
    async fn after(&self, room: RoomId, after: i64, limit: u32) -> Result<Vec<StoredMessage>, HistoryError>;
    /// The newest message of each of `rooms` that has any (rooms without messages are absent).
    async fn latest(&self, rooms: &[RoomId]) -> Result<HashMap<RoomId, StoredMessage>, HistoryError>;
    /// How many messages of `room` have a position above `after` (all when `None`), counting at most `cap`.
    /// The cap bounds the work for a room with a long unread backlog (a badge shows "99+", not the total).
    async fn count_after(&self, room: RoomId, after: Option<i64>, cap: u32) -> Result<u32, HistoryError>;
    /// How many messages of `room` above `after` (all when `None`) mention `member` (by name or with
    /// `@room`, not their own, not deleted), counting at most `cap`: the mention badge.
    async fn count_mentions_after(
        &self,
        room: RoomId,
        after: Option<i64>,
        member: MemberId,
        cap: u32,
    ) -> Result<u32, HistoryError>;
    /// The message `message_id` of `room`, in its current state (who wrote it, whether it was deleted).
    async fn message(&self, room: RoomId, message_id: Uuid) -> Result<Option<StoredMessage>, HistoryError>;
    /// Replaces the text of a stored message and sets its `edited_at_ms`, unless it is deleted or
    /// already carries an edit at least as new (so a replayed, older edit changes nothing). `false`
    /// when the message is not stored (yet): history writers retry, since edits may overtake messages.
    async fn edit(
        &self,
        room: RoomId,
        message_id: Uuid,
        text: &str,
        edited_at_ms: i64,
    ) -> Result<bool, HistoryError>;
    /// Empties the text of a stored message and marks it deleted; it keeps its position. Doing it
    /// again changes nothing. `false` when the message is not stored (yet), as for [`Self::edit`].
    async fn delete(&self, room: RoomId, message_id: Uuid) -> Result<bool, HistoryError>;
    /// Applies a reaction change. Of two changes by one member to one message and emoji, the one
    /// with the later `at_ms` wins whichever is applied first (on a tie, the first stays), so
    /// replays and reordering converge. The message's tally for the emoji when the member's state
    /// changed; `None` when it did not (a repeat, or an older change).
    async fn react(&self, change: &MessageReacted) -> Result<Option<ReactionTally>, HistoryError>;
    /// The reactions on each of `message_ids` as `reader` sees them (messages without any are
    /// absent), most common first, then by emoji.
    async fn reactions(
        &self,
        message_ids: &[Uuid],
        reader: MemberId,
    ) -> Result<HashMap<Uuid, Vec<Reaction>>, HistoryError>;
    /// Stores a whisper (see `WhisperPosted`); storing its id again changes nothing and returns
    /// `false`.
    async fn store_whisper(&self, whisper: &WhisperPosted) -> Result<bool, HistoryError>;
    /// The whispers of `room` that `member` sent or received, shown after positions `from..=to`
    /// (`to`: none, no end), oldest first (by `after`, then time), at most `limit`. Nobody else's.
    async fn whispers(
        &self,
        room: RoomId,
        member: MemberId,
        from: i64,
        to: Option<i64>,
        limit: u32,
    ) -> Result<Vec<WhisperPosted>, HistoryError>;
    /// Whether the store answers (readiness checks).
    async fn ping(&self) -> Result<(), HistoryError>;
}

/// The order whispers are read in.
fn whisper_order(a: &WhisperPosted, b: &WhisperPosted) -> std::cmp::Ordering {
    (a.after, a.sent_at_ms, a.message_id).cmp(&(b.after, b.sent_at_ms, b.message_id))
}

/// How many members react to a message with one emoji, and the newest of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionTally {
    pub count: u32,
    /// At most `natter_proto::reactions::REACTORS_SHOWN`, newest first.
    pub reactors: Vec<MemberId>,
}

/// One member's latest reaction change, as both adapters keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReactionState {
    present: bool,
    /// The latest change, which a later one overrides.
    at_ms: i64,
    /// When the member started reacting (a repeat keeps it): reactors are listed by it.
    since_ms: i64,
}

impl ReactionState {
    /// The state after a change at `at_ms` (which must be later than `before`'s).
    fn after(before: Option<ReactionState>, present: bool, at_ms: i64) -> Self {
        let since_ms = match before {
            Some(b) if b.present && present => b.since_ms,
            _ => at_ms,
        };
        Self { present, at_ms, since_ms }
    }
}

/// The reactions of one message from each member's state per emoji: counts, the newest reactors,
/// whether `reader` is one of them; most common first, then by emoji.
fn summarise<'a>(
    states: impl IntoIterator<Item = (&'a str, MemberId, ReactionState)>,
    reader: MemberId,
) -> Vec<Reaction> {
    let mut by_emoji: std::collections::BTreeMap<&str, Vec<(i64, MemberId)>> = Default::default();
    for (emoji, member, state) in states {
        if state.present {
            by_emoji.entry(emoji).or_default().push((state.since_ms, member));
        }
    }
    let mut reactions: Vec<Reaction> = by_emoji
        .into_iter()
        .map(|(emoji, mut members)| {
            members.sort_unstable_by(|a, b| b.cmp(a));
            Reaction {
                emoji: emoji.to_owned(),
                count: members.len() as u32,
                mine: members.iter().any(|(_, m)| *m == reader),
                reactors: members.iter().take(REACTORS_SHOWN).map(|(_, m)| *m).collect(),
            }
        })
        .collect();
    reactions.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.emoji.cmp(&b.emoji)));
    reactions
}

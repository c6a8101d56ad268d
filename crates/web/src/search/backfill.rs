//! Indexing the history that is already stored: for a deployment that ran before search existed, or
//! to rebuild the index (`natter search-backfill`). It walks every room's history in order, a page at
//! a time, and applies it as the live indexer would: new messages added, edits by their time,
//! deletions as tombstones. The index takes every write in any order and repeats (see
//! `natter_db::search`), so the backfill can run while pods are up and the indexer is live, and can
//! be stopped and run again.

use natter_db::search::{self, Indexed};
use natter_db::{Db, DbError, rooms};
use natter_history::{HistoryError, HistoryStore};

/// Rooms read from the database at a time.
const ROOM_PAGE: i64 = 500;
/// Messages read from history (and indexed in one statement) at a time.
const MESSAGE_PAGE: u32 = 500;

/// What a backfill did so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Backfilled {
    pub rooms: u64,
    /// Messages read from history (deleted ones included).
    pub messages: u64,
    /// Messages the index did not have before.
    pub added: u64,
    /// Deleted messages, kept out of the index.
    pub deleted: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error("history: {0}")]
    History(#[from] HistoryError),
}

/// Indexes every stored message of every room; `progress` is told after each room.
pub async fn backfill(
    db: &Db,
    history: &dyn HistoryStore,
    mut progress: impl FnMut(&Backfilled),
) -> Result<Backfilled, BackfillError> {
    let mut done = Backfilled::default();
    let mut last_room = 0;
    loop {
        let ids = rooms::ids_after(&mut db.conn().await?, last_room, ROOM_PAGE).await?;
        let Some(&last) = ids.last() else { return Ok(done) };
        last_room = last;
        for room in ids {
            backfill_room(db, history, room, &mut done).await?;
            done.rooms += 1;
            progress(&done);
        }
    }
}

async fn backfill_room(
    db: &Db,
    history: &dyn HistoryStore,
    room: i64,
    done: &mut Backfilled,
) -> Result<(), BackfillError> {
    let mut after = 0;
    loop {
        let page = history.after(room, after, MESSAGE_PAGE).await?;
        let Some(last) = page.last() else { return Ok(()) };
        after = last.position;
        done.messages += page.len() as u64;
        let ids: Vec<String> = page.iter().map(|m| m.posted.message_id.to_string()).collect();
        let kept: Vec<Indexed> = page
            .iter()
            .zip(&ids)
            .filter(|(m, _)| !m.deleted)
            .map(|(m, id)| Indexed {
                message_id: id,
                room_id: m.posted.room_id,
                sender_id: m.posted.sender_id,
                position: m.position,
                sent_at_ms: m.posted.sent_at_ms,
                has_file: m.posted.file.is_some(),
                text: &m.posted.text,
            })
            .collect();
        let conn = &mut db.conn().await?;
        done.added += search::index_all(conn, &kept).await? as u64;
        for (message, id) in page.iter().zip(&ids) {
            if message.deleted {
                // Deleted messages carry no deletion time; their own time orders nothing here.
                search::remove(conn, id, message.posted.sent_at_ms).await?;
                done.deleted += 1;
            } else if let Some(edited_at_ms) = message.edited_at_ms {
                // Indexed above with the edited text; this makes an older edit arriving later lose.
                search::edit(conn, id, &message.posted.text, edited_at_ms).await?;
            }
        }
    }
}

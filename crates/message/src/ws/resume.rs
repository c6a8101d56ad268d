//! Resuming a room after a reconnect: the messages after the client's last position, from history,
//! then live ones, with no gap and no duplicate.
//!
//! When a connection joins a room, the hub says which position of the room this pod delivered last
//! (`delivered_before`). Everything up to it was delivered before the join and must come from
//! history; everything after it arrives live through the connection's queue. History is written
//! asynchronously by the history writers, so the replay first waits (briefly) until history holds
//! `delivered_before`. The replay is sent before the connection's queue is read again, so the order
//! holds; the connection also skips queued live messages at or below the last replayed position, in
//! case one overlaps. A client that missed more than [`MAX_REPLAY`] messages, or whose replay cannot
//! be read in time, is told to reload the history instead (`reload_history`).

use std::time::{Duration, Instant};

use natter_history::HistoryStore;
use natter_proto::RoomId;
use natter_proto::events::StoredMessage;

/// Most messages replayed on one subscribe.
pub(crate) const MAX_REPLAY: u32 = 1000;
/// How long a replay waits for the history writers to catch up.
const CATCH_UP: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(20);

/// What a resuming client gets.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Replay {
    /// These messages, oldest first (possibly none).
    Messages(Vec<StoredMessage>),
    /// Too many, or history could not provide them: reload.
    Reload,
}

/// The messages of `room` after `since` and up to `delivered_before` (when known).
pub(super) async fn replay(
    history: &dyn HistoryStore,
    room: RoomId,
    since: i64,
    delivered_before: Option<i64>,
) -> Replay {
    if let Some(up_to) = delivered_before
        && up_to > since
        && !caught_up(history, room, up_to).await
    {
        tracing::warn!(room.id = room, position = up_to, "history did not catch up; client told to reload");
        return Replay::Reload;
    }
    match history.after(room, since, MAX_REPLAY + 1).await {
        Ok(messages) if messages.len() > MAX_REPLAY as usize => Replay::Reload,
        Ok(messages) => Replay::Messages(
            messages
                .into_iter()
                .filter(|m| delivered_before.is_none_or(|up_to| m.position <= up_to))
                .collect(),
        ),
        Err(e) => {
            tracing::warn!(error = %e, room.id = room, "history unavailable for a resume");
            Replay::Reload
        }
    }
}

/// Waits until history holds the room's message at `position` (or a later one).
async fn caught_up(history: &dyn HistoryStore, room: RoomId, position: i64) -> bool {
    let deadline = Instant::now() + CATCH_UP;
    loop {
        if let Ok(latest) = history.latest(&[room]).await
            && latest.get(&room).is_some_and(|m| m.position >= position)
        {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use natter_history::MemoryHistory;
    use natter_proto::events::MessagePosted;

    use super::*;

    fn message(room: RoomId, position: i64) -> StoredMessage {
        StoredMessage::new(
            MessagePosted {
                message_id: uuid::Uuid::now_v7(),
                room_id: room,
                sender_id: 1,
                sender_name: "a".into(),
                text: format!("m{position}"),
                client_msg_id: None,
                sent_at_ms: 0,
                reply_to: None,
                file: None,
            },
            position,
        )
    }

    fn positions(replay: Replay) -> Vec<i64> {
        match replay {
            Replay::Messages(messages) => messages.iter().map(|m| m.position).collect(),
            Replay::Reload => panic!("expected messages"),
        }
    }

    #[tokio::test]
    async fn replays_after_since_up_to_what_was_delivered_live() {
        let history = MemoryHistory::new();
        for position in [3, 5, 8, 13] {
            history.store(&message(1, position)).await.unwrap();
        }
        assert_eq!(positions(replay(&history, 1, 3, Some(8)).await), [5, 8], "13 comes live");
        assert_eq!(positions(replay(&history, 1, 0, None).await), [3, 5, 8, 13]);
        assert!(positions(replay(&history, 1, 13, Some(13)).await).is_empty());
    }

    #[tokio::test]
    async fn waits_for_the_history_writers_to_catch_up() {
        let history = Arc::new(MemoryHistory::new());
        history.store(&message(1, 5)).await.unwrap();
        let writer = Arc::clone(&history);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            writer.store(&message(1, 9)).await.unwrap();
        });
        assert_eq!(positions(replay(history.as_ref(), 1, 0, Some(9)).await), [5, 9]);
    }

    #[tokio::test]
    async fn a_history_that_never_catches_up_means_reload() {
        let history = MemoryHistory::new();
        history.store(&message(1, 5)).await.unwrap();
        assert_eq!(replay(&history, 1, 0, Some(9)).await, Replay::Reload);
    }

    #[tokio::test]
    async fn too_much_to_replay_means_reload() {
        let history = MemoryHistory::new();
        for position in 0..=i64::from(MAX_REPLAY) + 1 {
            history.store(&message(1, position)).await.unwrap();
        }
        assert_eq!(replay(&history, 1, 0, None).await, Replay::Reload);
    }
}

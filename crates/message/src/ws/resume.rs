//! Resuming a room after a reconnect: the messages after the client's last position, from history,
//! then live ones, with no gap and no duplicate.
//!
//! The sequencer stores every message in history before any pod delivers it, so history always holds
//! everything this pod delivered before the connection joined the room: the replay reads history after
//! `since` at once, without waiting for anyone. Live messages of the room queued meanwhile are held
//! by the connection until the replay is sent (so a replay never stalls the connection, its other
//! rooms or its publishes), then those at or below the last replayed position are skipped. A client
//! that missed more than [`MAX_REPLAY`] messages, or whose replay cannot be read, is told to fetch
//! the range `after..=up_to` from the REST history instead (`reload_history`); live messages after
//! `up_to` follow.

use natter_history::HistoryStore;
use natter_proto::{MemberId, RoomId};

use crate::outbox::Replay;

/// Most messages replayed on one subscribe.
pub(crate) const MAX_REPLAY: u32 = 1000;

/// The messages of `room` after `since`. `delivered_before` is the room's last position this pod
/// delivered before the connection joined (when it knows one): live messages start after it.
pub(super) async fn replay(
    history: &dyn HistoryStore,
    room: RoomId,
    since: i64,
    delivered_before: Option<i64>,
) -> Replay {
    let delivered = delivered_before.unwrap_or(since).max(since);
    match history.after(room, since, MAX_REPLAY + 1).await {
        Ok(messages) if messages.len() <= MAX_REPLAY as usize => Replay::Messages(messages),
        Ok(_) => match history.last_position(room).await {
            Ok(last) => Replay::Reload { after: since, up_to: last.max(delivered) },
            Err(e) => {
                tracing::warn!(error = %e, room.id = room, "history unavailable for a resume");
                Replay::Reload { after: since, up_to: delivered }
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, room.id = room, "history unavailable for a resume");
            // Everything up to what this pod delivered before the join must be fetched; what came
            // after arrives live. (A pod that delivered nothing of the room yet cannot say more:
            // the client sees the gap in positions and fetches it.)
            Replay::Reload { after: since, up_to: delivered }
        }
    }
}

/// `replay` with each message's reactions as `reader` sees them (when they cannot be read, the
/// messages go without: the client still gets every message, and later changes arrive live).
pub(super) async fn with_reactions(history: &dyn HistoryStore, replay: Replay, reader: MemberId) -> Replay {
    let Replay::Messages(mut messages) = replay else { return replay };
    let ids: Vec<_> = messages.iter().filter(|m| !m.deleted).map(|m| m.posted.message_id).collect();
    if ids.is_empty() {
        return Replay::Messages(messages);
    }
    match history.reactions(&ids, reader).await {
        Ok(mut reactions) => {
            for message in &mut messages {
                message.reactions = reactions.remove(&message.posted.message_id).unwrap_or_default();
            }
        }
        Err(e) => tracing::warn!(error = %e, "reactions unavailable for a resume; replayed without"),
    }
    Replay::Messages(messages)
}

#[cfg(test)]
mod tests {
    use natter_history::MemoryHistory;
    use natter_proto::events::{MessagePosted, StoredMessage};

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
                mentions: Vec::new(),
                mentions_room: false,
            },
            position,
        )
    }

    fn positions(replay: Replay) -> Vec<i64> {
        match replay {
            Replay::Messages(messages) => messages.iter().map(|m| m.position).collect(),
            Replay::Reload { .. } => panic!("expected messages"),
        }
    }

    #[tokio::test]
    async fn replays_everything_history_holds_after_since() {
        let history = MemoryHistory::new();
        for position in 1..=4 {
            history.store(&message(1, position)).await.unwrap();
        }
        assert_eq!(
            positions(replay(&history, 1, 2, Some(3)).await),
            [3, 4],
            "4 is skipped when it comes live"
        );
        assert_eq!(positions(replay(&history, 1, 0, None).await), [1, 2, 3, 4]);
        assert!(positions(replay(&history, 1, 4, Some(4)).await).is_empty());
    }

    #[tokio::test]
    async fn too_much_to_replay_names_the_range_to_fetch() {
        let history = MemoryHistory::new();
        let last = i64::from(MAX_REPLAY) + 5;
        for position in 1..=last {
            history.store(&message(1, position)).await.unwrap();
        }
        assert_eq!(replay(&history, 1, 2, Some(last - 1)).await, Replay::Reload { after: 2, up_to: last });
    }

    #[tokio::test]
    async fn a_replay_carries_the_reactions_as_the_reader_sees_them() {
        let history = MemoryHistory::new();
        let (first, second) = (message(1, 1), message(1, 2));
        for m in [&first, &second] {
            history.store(m).await.unwrap();
        }
        let reacted = natter_proto::events::MessageReacted {
            room_id: 1,
            message_id: second.posted.message_id,
            position: 2,
            member_id: 7,
            emoji: "🎉".into(),
            added: true,
            at_ms: 5,
        };
        history.react(&reacted).await.unwrap();
        let Replay::Messages(messages) =
            with_reactions(&history, replay(&history, 1, 0, None).await, 7).await
        else {
            panic!("a replay of messages");
        };
        assert!(messages[0].reactions.is_empty());
        let summary: Vec<_> =
            messages[1].reactions.iter().map(|r| (r.emoji.as_str(), r.count, r.mine)).collect();
        assert_eq!(summary, [("🎉", 1, true)]);
    }
}

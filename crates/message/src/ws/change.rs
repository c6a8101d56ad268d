//! `edit`, `delete`, `react` and `unreact` frames, off the connection's task (the history lookup may wait): find the
//! message, check who asks, publish the change to the edits topic and queue the answer, an `ack`
//! naming the message's original position. Every pod's edits fan-out then tells the subscribers.
//!
//! The message comes from history, which the history writers fill asynchronously: a message acked a
//! moment ago may not be there yet, so a missing message is looked up again for [`LOOKUP_PATIENCE`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use natter_history::{HistoryError, HistoryStore};
use natter_proto::events::{
    FileEvent, FileRemoved, MessageChanged, MessageDeleted, MessageEdited, MessageReacted, StoredMessage,
};
use natter_proto::frames::ServerFrame;
use natter_proto::http::{ReadOnlyReason, RoomAccess};
use natter_proto::topics::{Topic, room_key};
use natter_proto::{MemberId, RoomId};
use tokio::time::Instant;
use uuid::Uuid;

use super::ctx::Ctx;
use super::refusal::Refusal;

/// How long a message not (yet) in history is looked for.
pub(super) const LOOKUP_PATIENCE: Duration = Duration::from_secs(3);
/// A message id minted less than this long ago may only be missing because history lags.
const RECENT: Duration = Duration::from_secs(60);
const LOOKUP_INTERVAL: Duration = Duration::from_millis(100);

/// What the member asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Change {
    Edit {
        text: String,
    },
    Delete,
    /// React with `emoji` (normalised), or take it back; `at_ms` orders it among the member's
    /// changes to that reaction (the later wins), given when the frame is read.
    React {
        emoji: String,
        added: bool,
        at_ms: i64,
    },
}

/// One `edit` or `delete` request.
#[derive(Debug)]
pub(super) struct ChangeRequest {
    pub(super) id: String,
    pub(super) room: RoomId,
    pub(super) message_id: Uuid,
    pub(super) change: Change,
}

/// Makes the change; the `ack` naming the message's original position.
pub(super) async fn handle(ctx: &Ctx, request: ChangeRequest) -> Result<ServerFrame, Refusal> {
    let (node, member) = (&ctx.node, ctx.member);
    let ChangeRequest { id, room, message_id, change } = request;
    let unavailable = |what: &str, e: &dyn std::fmt::Display| {
        tracing::warn!(error = %e, room.id = room, "{what} failed");
        Refusal::unavailable(format!("cannot {what} right now; retry"))
    };
    let access = node
        .upstream
        .access
        .check(room, member)
        .await
        .map_err(|e| unavailable("check room access", &e))?
        .access;
    let message = find(node.backends.history.as_ref(), room, message_id, LOOKUP_PATIENCE)
        .await
        .map_err(|e| unavailable("read history", &e))?
        .ok_or_else(|| missing(message_id, room))?;
    let event = decide(&access, &message, member, change, now_ms())?;
    if let (MessageChanged::Deleted(_), Some(file)) = (&event, &message.posted.file) {
        // Before the deletion itself: if that then fails, the client's retry finds the message
        // still there and removes both again (removal is idempotent), so no file outlives its
        // message. Meanwhile the file may be gone while the message still shows it.
        let removed = FileEvent::Removed(FileRemoved { room_id: room, file_id: file.file_id, message_id });
        let payload = serde_json::to_vec(&removed).expect("events serialise");
        let topic = Topic::Files.name(&node.settings.topic_prefix);
        node.backends
            .bus
            .publish(&topic, &room_key(room), payload)
            .await
            .map_err(|e| unavailable("remove the file", &e))?;
    }
    let payload = serde_json::to_vec(&event).expect("events serialise");
    let topic = Topic::Edits.name(&node.settings.topic_prefix);
    node.backends
        .bus
        .publish(&topic, &room_key(room), payload)
        .await
        .map_err(|e| unavailable("store the change", &e))?;
    Ok(ServerFrame::Ack { id, room, message_id, position: message.position })
}

/// The answer when history does not hold `message_id`: a recent id (UUIDv7 carries its creation
/// time) is probably not stored yet, so "retry"; an older one does not exist in the room.
pub(super) fn missing(message_id: Uuid, room: RoomId) -> Refusal {
    if minted_recently(message_id, now_ms()) {
        return Refusal::unavailable(format!("message {message_id} is not stored yet; retry"));
    }
    Refusal::invalid(format!("unknown message {message_id} in room {room}"))
}

fn minted_recently(id: Uuid, now_ms: i64) -> bool {
    let Some(timestamp) = id.get_timestamp() else { return false };
    let (secs, nanos) = timestamp.to_unix();
    let minted_ms =
        i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(1000) + i64::from(nanos / 1_000_000);
    (now_ms - minted_ms) < RECENT.as_millis() as i64
}

/// The message, looked up again while it is missing, for up to `patience`.
pub(super) async fn find(
    history: &dyn HistoryStore,
    room: RoomId,
    message_id: Uuid,
    patience: Duration,
) -> Result<Option<StoredMessage>, HistoryError> {
    let deadline = Instant::now() + patience;
    loop {
        let found = history.message(room, message_id).await?;
        if found.is_some() || Instant::now() >= deadline {
            return Ok(found);
        }
        tokio::time::sleep(LOOKUP_INTERVAL).await;
    }
}

/// Whether `member` (with `access` to the room) may make `change` to `message` at `now_ms`, and the
/// event that makes it. Edits: the author only, while they may post. Deletions: the author or a
/// moderator (owner, admin), while the room is not archived. Reactions: see `RoomAccess::may_react`.
fn decide(
    access: &RoomAccess,
    message: &StoredMessage,
    member: MemberId,
    change: Change,
    now_ms: i64,
) -> Result<MessageChanged, Refusal> {
    let Some(role) = access.role else {
        return Err(Refusal::forbidden(format!("you are not a member of room {}", access.room_id)));
    };
    if message.deleted {
        return Err(Refusal::invalid(format!("message {} was deleted", message.posted.message_id)));
    }
    let (room_id, message_id, position) =
        (message.posted.room_id, message.posted.message_id, message.position);
    let own = message.posted.sender_id == member;
    match change {
        Change::Edit { text } => {
            if !own {
                return Err(Refusal::forbidden("only its author may edit a message"));
            }
            access.may_post(now_ms).map_err(Refusal::forbidden)?;
            // Edits of one message keep their order in history even when pods' clocks disagree.
            let edited_at_ms = message.edited_at_ms.map_or(now_ms, |before| now_ms.max(before + 1));
            Ok(MessageChanged::Edited(MessageEdited {
                room_id,
                message_id,
                editor_id: member,
                text,
                edited_at_ms,
                position,
            }))
        }
        Change::Delete => {
            if !own && !role.moderates() {
                return Err(Refusal::forbidden(
                    "only its author or a room owner or admin may delete a message",
                ));
            }
            if access.read_only == Some(ReadOnlyReason::Archived) {
                return Err(Refusal::forbidden(ReadOnlyReason::Archived.explain()));
            }
            Ok(MessageChanged::Deleted(MessageDeleted { room_id, message_id, deleted_by: member, position }))
        }
        Change::React { emoji, added, at_ms } => {
            access.may_react(now_ms).map_err(Refusal::forbidden)?;
            Ok(MessageChanged::Reacted(MessageReacted {
                room_id,
                message_id,
                position,
                member_id: member,
                emoji,
                added,
                at_ms,
            }))
        }
    }
}

pub(super) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use natter_history::MemoryHistory;
    use natter_proto::events::MessagePosted;
    use natter_proto::frames::ErrorCode;
    use natter_proto::http::RoomRole;

    use super::*;

    #[test]
    fn a_missing_recent_message_is_worth_a_retry_an_old_one_is_unknown() {
        let now = now_ms();
        assert!(minted_recently(Uuid::now_v7(), now));
        let old = Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, 1_600_000_000, 0));
        assert!(!minted_recently(old, now));
        assert!(!minted_recently(Uuid::from_u128(7), now), "not a v7 id: no time in it");
        assert_eq!(missing(Uuid::now_v7(), 5).code, ErrorCode::Unavailable);
        assert_eq!(missing(old, 5).code, ErrorCode::InvalidRequest);
    }

    const AUTHOR: MemberId = 7;
    const OTHER: MemberId = 8;

    fn message() -> StoredMessage {
        StoredMessage::new(
            MessagePosted {
                message_id: Uuid::now_v7(),
                room_id: 5,
                sender_id: AUTHOR,
                sender_name: "ann".into(),
                text: "typo".into(),
                client_msg_id: None,
                sent_at_ms: 0,
                reply_to: None,
                file: None,
                mentions: Vec::new(),
                mentions_room: false,
            },
            12,
        )
    }

    fn access(member: MemberId, role: Option<RoomRole>) -> RoomAccess {
        RoomAccess {
            room_id: 5,
            member_id: member,
            role,
            direct: false,
            read_only: None,
            muted_until_ms: None,
        }
    }

    fn edit() -> Change {
        Change::Edit { text: "fixed".into() }
    }

    fn code(result: Result<MessageChanged, Refusal>) -> ErrorCode {
        result.expect_err("refused").code
    }

    #[test]
    fn only_the_author_edits_and_only_while_they_may_post() {
        let m = message();
        let Ok(MessageChanged::Edited(e)) =
            decide(&access(AUTHOR, Some(RoomRole::Member)), &m, AUTHOR, edit(), 50)
        else {
            panic!("the author may edit");
        };
        assert_eq!((e.text.as_str(), e.position, e.edited_at_ms, e.editor_id), ("fixed", 12, 50, AUTHOR));
        let admin = access(OTHER, Some(RoomRole::Owner));
        assert_eq!(code(decide(&admin, &m, OTHER, edit(), 50)), ErrorCode::Forbidden, "not even the owner");
        let muted = RoomAccess { muted_until_ms: Some(100), ..access(AUTHOR, Some(RoomRole::Member)) };
        assert_eq!(code(decide(&muted, &m, AUTHOR, edit(), 50)), ErrorCode::Forbidden);
        let observer = RoomAccess {
            read_only: Some(ReadOnlyReason::Observer),
            ..access(AUTHOR, Some(RoomRole::Observer))
        };
        assert_eq!(code(decide(&observer, &m, AUTHOR, edit(), 50)), ErrorCode::Forbidden);
        let gone = access(AUTHOR, None);
        assert_eq!(code(decide(&gone, &m, AUTHOR, edit(), 50)), ErrorCode::Forbidden);
    }

    #[test]
    fn a_later_edit_is_newer_even_when_the_clock_is_behind() {
        let m = StoredMessage { edited_at_ms: Some(1_000), ..message() };
        let Ok(MessageChanged::Edited(e)) =
            decide(&access(AUTHOR, Some(RoomRole::Member)), &m, AUTHOR, edit(), 900)
        else {
            panic!("the author may edit");
        };
        assert_eq!(e.edited_at_ms, 1_001);
    }

    #[test]
    fn the_author_and_moderators_delete() {
        let m = message();
        let deletes = |member, role| decide(&access(member, Some(role)), &m, member, Change::Delete, 50);
        assert!(
            matches!(deletes(AUTHOR, RoomRole::Member), Ok(MessageChanged::Deleted(d)) if d.deleted_by == AUTHOR)
        );
        assert!(deletes(OTHER, RoomRole::Admin).is_ok());
        assert!(deletes(OTHER, RoomRole::Owner).is_ok());
        assert_eq!(code(deletes(OTHER, RoomRole::Member)), ErrorCode::Forbidden);
        let archived =
            RoomAccess { read_only: Some(ReadOnlyReason::Archived), ..access(OTHER, Some(RoomRole::Owner)) };
        assert_eq!(code(decide(&archived, &m, OTHER, Change::Delete, 50)), ErrorCode::Forbidden);
        let deleted = StoredMessage { deleted: true, ..message() };
        let again = decide(&access(AUTHOR, Some(RoomRole::Member)), &deleted, AUTHOR, Change::Delete, 50);
        assert_eq!(code(again), ErrorCode::InvalidRequest);
    }

    #[test]
    fn members_and_observers_react_but_not_muted_nor_in_archived_rooms() {
        let m = message();
        let react = || Change::React { emoji: "👍".into(), added: true, at_ms: 40 };
        let Ok(MessageChanged::Reacted(r)) =
            decide(&access(OTHER, Some(RoomRole::Member)), &m, OTHER, react(), 50)
        else {
            panic!("a member may react");
        };
        assert_eq!(
            (r.member_id, r.emoji.as_str(), r.added, r.at_ms, r.position),
            (OTHER, "👍", true, 40, 12)
        );
        let observer = RoomAccess {
            read_only: Some(ReadOnlyReason::Observer),
            ..access(OTHER, Some(RoomRole::Observer))
        };
        assert!(decide(&observer, &m, OTHER, react(), 50).is_ok(), "observers may react");
        let muted = RoomAccess { muted_until_ms: Some(100), ..access(OTHER, Some(RoomRole::Member)) };
        assert_eq!(code(decide(&muted, &m, OTHER, react(), 50)), ErrorCode::Forbidden);
        let archived =
            RoomAccess { read_only: Some(ReadOnlyReason::Archived), ..access(OTHER, Some(RoomRole::Owner)) };
        assert_eq!(code(decide(&archived, &m, OTHER, react(), 50)), ErrorCode::Forbidden);
        assert_eq!(
            code(decide(&access(OTHER, None), &m, OTHER, react(), 50)),
            ErrorCode::Forbidden,
            "not a member"
        );
        let deleted = StoredMessage { deleted: true, ..message() };
        assert_eq!(
            code(decide(&access(OTHER, Some(RoomRole::Member)), &deleted, OTHER, react(), 50)),
            ErrorCode::InvalidRequest
        );
    }

    #[tokio::test]
    async fn a_message_stored_a_moment_later_is_found() {
        let history = Arc::new(MemoryHistory::new());
        let m = message();
        assert_eq!(find(history.as_ref(), 5, m.posted.message_id, Duration::ZERO).await.unwrap(), None);
        let writer = {
            let (history, m) = (Arc::clone(&history), m.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                history.store(&m).await.unwrap();
            })
        };
        let found = find(history.as_ref(), 5, m.posted.message_id, Duration::from_secs(5)).await.unwrap();
        assert_eq!(found, Some(m));
        writer.await.unwrap();
    }
}

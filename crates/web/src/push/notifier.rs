//! The notifier: reads every stored message (the sequenced topic, group `natter-notifier`) and tells
//! the room's members who are away and want to know, through a [`Channel`] (see `crate::push`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use natter_bus::{BusRecord, EventBus};
use natter_db::{Db, DbError, NotifyLevel, memberships, rooms};
use natter_kv::KeyValue;
use natter_proto::events::StoredMessage;
use natter_proto::http::PresenceState;
use natter_proto::topics::Topic;

use super::{BODY_CHARS, Channel, Notification};
use crate::presence::{MAX_LISTED, PresenceClient};

/// Wait after a failure to read the room before trying again.
const BACK_OFF: Duration = Duration::from_secs(1);

pub(crate) struct Notifier {
    pub(crate) db: Db,
    pub(crate) kv: Arc<dyn KeyValue>,
    pub(crate) presence: PresenceClient,
    pub(crate) channel: Arc<dyn Channel>,
    /// At most one notification per member and room in this long.
    pub(crate) collapse: Duration,
}

/// Notifies until the bus fails for good.
pub(crate) async fn consume(bus: Arc<dyn EventBus>, notifier: Notifier, topic_prefix: String) {
    let topics = [Topic::Sequenced.name(&topic_prefix)];
    let group = format!("{topic_prefix}natter-notifier");
    let notifier = Arc::new(notifier);
    crate::shared_consumer::run(bus, &topics, &group, "notifier", |record| {
        let notifier = Arc::clone(&notifier);
        async move { notifier.handle(&record).await }
    })
    .await;
}

/// Whether a member who chose `level` wants a notification for `message` (of a direct chat or not).
pub(crate) fn wanted(level: NotifyLevel, direct: bool, message: &StoredMessage, member: i64) -> bool {
    match level {
        NotifyLevel::All => true,
        NotifyLevel::Mentions => direct || message.posted.mentions(member),
        NotifyLevel::Nothing => false,
    }
}

impl Notifier {
    async fn handle(self: &Arc<Self>, record: &BusRecord) {
        let Ok(message) = serde_json::from_slice::<StoredMessage>(&record.payload) else {
            tracing::error!(offset = record.offset, "unreadable sequenced message skipped");
            return;
        };
        if message.deleted {
            return;
        }
        let recipients = loop {
            match self.recipients(&message).await {
                Ok(found) => break found,
                Err(e) => {
                    tracing::warn!(error = %e, "room members unreadable; retrying");
                    tokio::time::sleep(BACK_OFF).await;
                }
            }
        };
        for (member, title) in self.away(recipients).await {
            let latest = notification(&message, title);
            match self.collapsed(member, message.posted.room_id).await {
                Collapse::Send(count) => self.channel.deliver(member, &counted(latest, count)).await,
                Collapse::Held { first } => {
                    self.keep_latest(member, &latest).await;
                    if first {
                        let notifier = Arc::clone(self);
                        tokio::spawn(async move { notifier.flush(member, latest.room).await });
                    }
                }
            }
        }
    }

    /// Remembers the newest held-back notification, for the flush.
    async fn keep_latest(&self, member: i64, latest: &Notification) {
        let key = format!("push:last:{member}:{}", latest.room);
        let json = serde_json::to_string(latest).expect("notifications serialise");
        if let Err(e) = self.kv.set(&key, &json, self.collapse * 10).await {
            tracing::warn!(error = %e, "held-back notification not kept");
        }
    }

    /// When the window that held messages back ends, sends one notification for them (the newest,
    /// with how many more), unless a new message got there first (its notification counted them).
    async fn flush(&self, member: i64, room: i64) {
        tokio::time::sleep(self.collapse).await;
        let (gate, held, last) = keys(member, room);
        if !matches!(self.kv.set_if_absent(&gate, "1", self.collapse).await, Ok(true)) {
            return;
        }
        let count = self.kv.peek(&held).await.map(|w| w.count).unwrap_or(0);
        let _ = self.kv.delete(&held).await;
        let latest =
            self.kv.get(&last).await.ok().flatten().and_then(|json| serde_json::from_str(&json).ok());
        if let (true, Some(latest)) = (count > 0, latest) {
            self.channel.deliver(member, &counted(latest, count)).await;
        }
    }

    /// Members who want to hear of `message`, each with the room's name as they see it.
    async fn recipients(&self, message: &StoredMessage) -> Result<Vec<(i64, String)>, DbError> {
        let room_id = message.posted.room_id;
        let conn = &mut self.db.conn().await?;
        let Some(room) = rooms::by_id(conn, room_id).await? else { return Ok(Vec::new()) };
        let direct = room.direct_pair().is_some();
        let sender = message.posted.sender_id;
        Ok(memberships::members_of(conn, room_id)
            .await?
            .into_iter()
            .filter(|(member, membership)| {
                member.id != sender && wanted(membership.notify(), direct, message, member.id)
            })
            // In a direct chat the room is the other person, who sent it.
            .map(|(member, _)| {
                (member.id, if direct { message.posted.sender_name.clone() } else { room.name.clone() })
            })
            .collect())
    }

    /// Those of `recipients` who are not online (offline, or idle): nobody is notified of a room
    /// they may be looking at. When presence cannot say, everyone is (a missed notification is
    /// worse than an extra one).
    async fn away(&self, recipients: Vec<(i64, String)>) -> Vec<(i64, String)> {
        let mut away = Vec::with_capacity(recipients.len());
        for chunk in recipients.chunks(MAX_LISTED) {
            let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
            let presence: HashMap<_, _> = self.presence.of(&ids).await;
            away.extend(
                chunk
                    .iter()
                    .filter(|(id, _)| presence.get(id).is_none_or(|p| p.state != PresenceState::Online))
                    .cloned(),
            );
        }
        away
    }

    /// Whether a notification to `member` about `room` goes now, and for how many messages (this one
    /// and those held back since the last), or is held back because one went within the collapse
    /// window (`first`: the first held back in it, which schedules the flush). When the store is
    /// down, every message notifies.
    async fn collapsed(&self, member: i64, room: i64) -> Collapse {
        let (gate, held, _) = keys(member, room);
        match self.kv.set_if_absent(&gate, "1", self.collapse).await {
            Ok(true) => {
                let earlier = self.kv.peek(&held).await.map(|w| w.count).unwrap_or(0);
                let _ = self.kv.delete(&held).await;
                Collapse::Send(earlier + 1)
            }
            // Counted for the flush (or the next notification); kept a while past the window.
            Ok(false) => match self.kv.hit(&held, self.collapse * 10).await {
                Ok(window) => Collapse::Held { first: window.count == 1 },
                Err(_) => Collapse::Held { first: false },
            },
            Err(e) => {
                tracing::warn!(error = %e, "collapse state unavailable; notifying");
                Collapse::Send(1)
            }
        }
    }
}

/// See [`Notifier::collapsed`].
enum Collapse {
    Send(u64),
    Held { first: bool },
}

/// The store's keys for `member` and `room`: the window's gate, the held-back count, the newest
/// held-back notification.
fn keys(member: i64, room: i64) -> (String, String, String) {
    (
        format!("push:gate:{member}:{room}"),
        format!("push:held:{member}:{room}"),
        format!("push:last:{member}:{room}"),
    )
}

/// The notification for `message` alone, titled `title`.
fn notification(message: &StoredMessage, title: String) -> Notification {
    let posted = &message.posted;
    let text = if posted.text.is_empty() && posted.file.is_some() { "sent a file" } else { &posted.text };
    let mut body: String =
        format!("{}: {}", posted.sender_name, text.split_whitespace().collect::<Vec<_>>().join(" "));
    if body.chars().count() > BODY_CHARS {
        body = body.chars().take(BODY_CHARS - 1).collect::<String>() + "…";
    }
    Notification {
        room: posted.room_id,
        title,
        body,
        count: 1,
        url: format!("/rooms/{}#m{}", posted.room_id, message.position),
        tag: format!("natter-room-{}", posted.room_id),
    }
}

/// `latest` standing for `count` messages (the others held back before it).
fn counted(mut latest: Notification, count: u64) -> Notification {
    if count > 1 {
        latest.body = format!("{} (+{} more)", latest.body, count - 1);
    }
    latest.count = count;
    latest
}

#[cfg(test)]
mod tests {
    use natter_proto::events::MessagePosted;

    use super::*;

    fn message(text: &str, mentions: Vec<i64>, room_wide: bool) -> StoredMessage {
        StoredMessage::new(
            MessagePosted {
                message_id: uuid::Uuid::now_v7(),
                room_id: 4,
                sender_id: 1,
                sender_name: "ann".into(),
                text: text.into(),
                client_msg_id: None,
                sent_at_ms: 0,
                reply_to: None,
                file: None,
                mentions,
                mentions_room: room_wide,
            },
            9,
        )
    }

    #[test]
    fn the_choice_per_room_decides() {
        let plain = message("hi", vec![], false);
        let named = message("@bob hi", vec![2], false);
        let everyone = message("@room hi", vec![], true);
        assert!(wanted(NotifyLevel::All, false, &plain, 2));
        assert!(!wanted(NotifyLevel::Mentions, false, &plain, 2), "not mentioned");
        assert!(wanted(NotifyLevel::Mentions, true, &plain, 2), "a direct message");
        assert!(wanted(NotifyLevel::Mentions, false, &named, 2));
        assert!(!wanted(NotifyLevel::Mentions, false, &named, 3), "someone else mentioned");
        assert!(wanted(NotifyLevel::Mentions, false, &everyone, 3));
        assert!(!wanted(NotifyLevel::Nothing, true, &named, 2), "muted: nothing");
    }

    #[test]
    fn the_body_names_the_sender_cuts_long_text_and_counts_the_rest() {
        let short = notification(&message("lunch\n  at noon", vec![], false), "lunch club".into());
        assert_eq!(
            (short.title.as_str(), short.body.as_str()),
            ("lunch club", "ann: lunch at noon"),
            "spaces and lines folded"
        );
        assert_eq!((short.url.as_str(), short.tag.as_str()), ("/rooms/4#m9", "natter-room-4"));
        let long = counted(notification(&message(&"word ".repeat(100), vec![], false), "x".into()), 3);
        assert!(long.body.ends_with("… (+2 more)"), "{}", long.body);
        assert_eq!(long.body.chars().count(), BODY_CHARS + " (+2 more)".len());
    }
}

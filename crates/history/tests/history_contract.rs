//! The contract every `HistoryStore` adapter meets, against a MongoDB-protocol server and in memory.

use std::sync::Arc;
use std::time::Duration;

use natter_history::{HistoryStore, MemoryHistory, MongoHistory, Sequenced};
use natter_proto::events::{MessagePosted, MessageReacted, StoredMessage, WhisperPosted};

async fn mongo() -> Arc<dyn HistoryStore> {
    let url = natter_test_support::mongodb_url();
    let addr = natter_test_support::host_port(&url);
    natter_test_support::require_listening("MongoDB-protocol server", &addr, Duration::from_secs(5)).await;
    let database = format!("natter_t_{}", natter_test_support::unique_suffix());
    Arc::new(MongoHistory::connect(&url, &database).await.expect("connect"))
}

fn memory() -> Arc<dyn HistoryStore> {
    Arc::new(MemoryHistory::new())
}

fn message(room: i64, position: i64, text: &str) -> StoredMessage {
    StoredMessage::new(
        MessagePosted {
            message_id: uuid::Uuid::now_v7(),
            room_id: room,
            sender_id: 1,
            sender_name: "alice".into(),
            text: text.into(),
            client_msg_id: Some(format!("c-{position}")),
            sent_at_ms: 1_700_000_000_000 + position,
            reply_to: None,
            file: None,
            mentions: Vec::new(),
            mentions_room: false,
        },
        position,
    )
}

async fn storing_twice_keeps_one(store: Arc<dyn HistoryStore>) {
    let m = message(1, 10, "hello");
    assert!(store.store(&m).await.unwrap(), "first store is new");
    assert!(!store.store(&m).await.unwrap(), "replay is not new");
    let stored = store.recent(1, None, 10).await.unwrap();
    assert_eq!(stored, vec![m], "one copy, every field kept");
}

async fn a_batch_stores_each_message_once(store: Arc<dyn HistoryStore>) {
    let first = message(1, 10, "one");
    assert!(store.store(&first).await.unwrap());
    let batch = vec![first.clone(), message(2, 11, "two"), message(1, 12, "three"), message(1, 13, "four")];
    assert_eq!(store.store_batch(&batch).await.unwrap(), 3, "the replayed first message is not new");
    assert_eq!(store.store_batch(&batch).await.unwrap(), 0, "a replayed batch adds nothing");
    let texts =
        |messages: Vec<StoredMessage>| messages.into_iter().map(|m| m.posted.text).collect::<Vec<_>>();
    assert_eq!(texts(store.recent(1, None, 10).await.unwrap()), ["one", "three", "four"]);
    assert_eq!(texts(store.recent(2, None, 10).await.unwrap()), ["two"]);
    let latest = store.latest(&[1, 2]).await.unwrap();
    assert_eq!(latest[&1].posted.text, "four", "the summary holds the batch's newest message");
    assert_eq!(latest[&2].posted.text, "two");
    assert_eq!(store.store_batch(&[]).await.unwrap(), 0);
}

/// While batches are stored, a reader only ever sees a gap-free start of the room: resume relies
/// on "position N is stored" meaning "everything before N is too".
async fn batches_become_visible_in_order(store: Arc<dyn HistoryStore>) {
    let messages: Vec<StoredMessage> = (1..=600).map(|p| message(15, p, &format!("m{p}"))).collect();
    let writer = {
        let (store, messages) = (Arc::clone(&store), messages.clone());
        tokio::spawn(async move {
            for batch in messages.chunks(150) {
                store.store_batch(batch).await.unwrap();
            }
        })
    };
    loop {
        let seen: Vec<i64> = store.after(15, 0, 1000).await.unwrap().iter().map(|m| m.position).collect();
        let expected: Vec<i64> = (1..=seen.len() as i64).collect();
        assert_eq!(seen, expected, "a reader saw a message before one stored ahead of it");
        if seen.len() == messages.len() {
            break;
        }
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();
}

async fn recent_is_ordered_paged_and_per_room(store: Arc<dyn HistoryStore>) {
    // Stored out of order, as partitions may interleave.
    for position in [5, 1, 9, 3, 7] {
        store.store(&message(2, position, &format!("p{position}"))).await.unwrap();
    }
    store.store(&message(3, 2, "other room")).await.unwrap();
    let texts = |v: Vec<StoredMessage>| v.into_iter().map(|m| m.posted.text).collect::<Vec<_>>();
    assert_eq!(texts(store.recent(2, None, 3).await.unwrap()), ["p5", "p7", "p9"]);
    assert_eq!(texts(store.recent(2, Some(5), 10).await.unwrap()), ["p1", "p3"]);
    assert_eq!(texts(store.recent(3, None, 10).await.unwrap()), ["other room"]);
    assert!(store.recent(4, None, 10).await.unwrap().is_empty());
    store.ping().await.unwrap();
}

async fn after_reads_forward_from_a_position(store: Arc<dyn HistoryStore>) {
    for position in [50, 10, 40, 20, 30] {
        store.store(&message(6, position, &format!("p{position}"))).await.unwrap();
    }
    store.store(&message(7, 25, "other room")).await.unwrap();
    let texts = |v: Vec<StoredMessage>| v.into_iter().map(|m| m.posted.text).collect::<Vec<_>>();
    assert_eq!(texts(store.after(6, 20, 2).await.unwrap()), ["p30", "p40"], "oldest first, above 20");
    assert_eq!(texts(store.after(6, 0, 10).await.unwrap()), ["p10", "p20", "p30", "p40", "p50"]);
    assert!(store.after(6, 50, 10).await.unwrap().is_empty());
    assert!(store.after(8, 0, 10).await.unwrap().is_empty());
}

async fn text_is_stored_verbatim(store: Arc<dyn HistoryStore>) {
    let m = message(5, 1, "<script>alert('x')</script> ünïcödé 🎉 \"quotes\"");
    store.store(&m).await.unwrap();
    assert_eq!(store.recent(5, None, 1).await.unwrap()[0].posted.text, m.posted.text);
}

async fn latest_covers_several_rooms(store: Arc<dyn HistoryStore>) {
    let (a3, a8, b5) = (message(11, 3, "a3"), message(11, 8, "a8"), message(12, 5, "b5"));
    for m in [&a8, &b5, &a3] {
        store.store(m).await.unwrap();
    }
    let latest = store.latest(&[11, 12, 13]).await.unwrap();
    assert_eq!(latest.len(), 2, "room 13 has no messages: {latest:?}");
    assert_eq!(latest.get(&11), Some(&a8), "newest by position, every field kept");
    assert_eq!(latest.get(&12), Some(&b5));
    let only_b = store.latest(&[12]).await.unwrap();
    assert_eq!(only_b.keys().collect::<Vec<_>>(), [&12], "only the rooms asked for");
    assert!(store.latest(&[]).await.unwrap().is_empty());
}

/// A reply keeps whom it answers everywhere history hands it out, the room summary included.
async fn replies_keep_what_they_answer(store: Arc<dyn HistoryStore>) {
    let original = message(14, 1, "question");
    let mut reply = message(14, 2, "answer");
    reply.posted.reply_to = Some(natter_proto::events::ReplyTo {
        message_id: original.posted.message_id,
        position: 1,
        sender_id: 1,
        sender_name: "alice".into(),
    });
    store.store(&original).await.unwrap();
    store.store_batch(std::slice::from_ref(&reply)).await.unwrap();
    assert_eq!(store.recent(14, None, 10).await.unwrap()[1], reply);
    assert_eq!(store.message(14, reply.posted.message_id).await.unwrap(), Some(reply.clone()));
    assert_eq!(store.latest(&[14]).await.unwrap().get(&14), Some(&reply), "the room summary too");
    let mut again = message(14, 3, "newer");
    again.posted.reply_to = reply.posted.reply_to.clone();
    store.store(&again).await.unwrap();
    assert_eq!(store.latest(&[14]).await.unwrap().get(&14), Some(&again), "a summary moved forward");
}

async fn latest_never_goes_backwards(store: Arc<dyn HistoryStore>) {
    let (old, new) = (message(21, 10, "old"), message(21, 20, "new"));
    store.store(&new).await.unwrap();
    // A replay: an older message arrives after a newer one, then both again.
    store.store(&old).await.unwrap();
    assert_eq!(store.latest(&[21]).await.unwrap().get(&21), Some(&new), "older store after newer");
    assert!(!store.store(&new).await.unwrap());
    assert!(!store.store(&old).await.unwrap());
    assert_eq!(store.latest(&[21]).await.unwrap().get(&21), Some(&new), "after duplicate stores");
    let newer = message(21, 25, "newer");
    store.store(&newer).await.unwrap();
    assert_eq!(store.latest(&[21]).await.unwrap().get(&21), Some(&newer), "still moves forward");
}

async fn concurrent_stores_keep_the_newest(store: Arc<dyn HistoryStore>) {
    // Several pods' writers racing on rooms that have no summary yet (many rooms: races are luck).
    let rooms = 50..70;
    let writers: Vec<_> = rooms
        .clone()
        .flat_map(|room| [7, 3, 12, 5, 9, 1, 11, 2].map(|position| (room, position)))
        .map(|(room, position)| {
            let store = store.clone();
            tokio::spawn(async move { store.store(&message(room, position, &format!("p{position}"))).await })
        })
        .collect();
    for writer in writers {
        assert!(writer.await.unwrap().unwrap());
    }
    let rooms: Vec<i64> = rooms.collect();
    let latest = store.latest(&rooms).await.unwrap();
    for room in rooms {
        assert_eq!(latest.get(&room).map(|m| m.position), Some(12), "room {room}: {latest:?}");
    }
}

async fn count_after_counts_messages_not_positions(store: Arc<dyn HistoryStore>) {
    // Positions are partition offsets shared with other rooms: gaps, and other rooms in between.
    for position in [22, 4, 40, 9, 15] {
        store.store(&message(31, position, &format!("p{position}"))).await.unwrap();
    }
    for position in [10, 20, 30] {
        store.store(&message(32, position, "other room")).await.unwrap();
    }
    assert_eq!(store.count_after(31, None, 100).await.unwrap(), 5, "all when never read");
    assert_eq!(store.count_after(31, Some(9), 100).await.unwrap(), 3, "15, 22, 40 (not 40 - 9)");
    assert_eq!(store.count_after(31, Some(10), 100).await.unwrap(), 3, "after a position of another room");
    assert_eq!(store.count_after(31, Some(40), 100).await.unwrap(), 0, "read up to the newest");
    assert_eq!(store.count_after(31, Some(3), 100).await.unwrap(), 5);
    assert_eq!(store.count_after(32, Some(10), 100).await.unwrap(), 2);
    assert_eq!(store.count_after(33, None, 100).await.unwrap(), 0, "room without messages");
}

async fn count_after_is_capped(store: Arc<dyn HistoryStore>) {
    for position in [2, 4, 6, 8, 10, 12] {
        store.store(&message(34, position, &format!("p{position}"))).await.unwrap();
    }
    assert_eq!(store.count_after(34, None, 4).await.unwrap(), 4);
    assert_eq!(store.count_after(34, Some(4), 3).await.unwrap(), 3);
    assert_eq!(store.count_after(34, Some(4), 5).await.unwrap(), 4, "fewer than the cap");
    assert_eq!(store.count_after(34, Some(4), 4).await.unwrap(), 4, "exactly the cap");
    assert_eq!(store.count_after(34, None, 0).await.unwrap(), 0);
}

async fn message_finds_one_message_of_one_room(store: Arc<dyn HistoryStore>) {
    let m = message(40, 3, "find me");
    store.store(&m).await.unwrap();
    let id = m.posted.message_id;
    assert_eq!(store.message(40, id).await.unwrap(), Some(m));
    assert_eq!(store.message(41, id).await.unwrap(), None, "not another room's");
    assert_eq!(store.message(40, uuid::Uuid::now_v7()).await.unwrap(), None);
}

async fn edits_replace_the_text_and_keep_the_position(store: Arc<dyn HistoryStore>) {
    let (first, second) = (message(42, 5, "frist"), message(42, 9, "later"));
    store.store(&first).await.unwrap();
    store.store(&second).await.unwrap();
    let id = first.posted.message_id;
    assert!(store.edit(42, id, "first", 1_000).await.unwrap());
    assert!(store.edit(42, id, "first", 1_000).await.unwrap(), "applying it again is harmless");
    assert!(store.edit(42, id, "FIRST", 2_000).await.unwrap());
    assert!(store.edit(42, id, "first", 1_000).await.unwrap(), "a replayed older edit is not new");
    let edited = store.message(42, id).await.unwrap().unwrap();
    assert_eq!(
        (edited.posted.text.as_str(), edited.edited_at_ms, edited.deleted),
        ("FIRST", Some(2_000), false)
    );
    let page = store.recent(42, None, 10).await.unwrap();
    assert_eq!(page.iter().map(|m| m.position).collect::<Vec<_>>(), [5, 9], "positions stay");
    assert_eq!(page[0], edited, "history pages show the edit");
    assert!(!store.edit(42, uuid::Uuid::now_v7(), "x", 3_000).await.unwrap(), "unknown message");
    assert!(!store.edit(43, id, "x", 3_000).await.unwrap(), "another room's message");
    assert!(!store.store(&first).await.unwrap(), "storing it again is a no-op...");
    assert_eq!(store.message(42, id).await.unwrap().unwrap().posted.text, "FIRST", "...keeping the edit");
}

async fn deletes_empty_the_text_and_keep_the_position(store: Arc<dyn HistoryStore>) {
    let m = message(44, 7, "oops");
    store.store(&m).await.unwrap();
    let id = m.posted.message_id;
    assert!(store.delete(44, id).await.unwrap());
    assert!(store.delete(44, id).await.unwrap(), "deleting again is harmless");
    assert!(store.edit(44, id, "revived", 5_000).await.unwrap());
    let deleted = store.message(44, id).await.unwrap().unwrap();
    assert_eq!((deleted.posted.text.as_str(), deleted.deleted), ("", true), "an edit never revives it");
    assert_eq!(deleted.position, 7);
    assert_eq!(store.recent(44, None, 10).await.unwrap(), vec![deleted.clone()]);
    assert_eq!(store.count_after(44, None, 10).await.unwrap(), 1, "it still counts");
    assert!(!store.delete(44, uuid::Uuid::now_v7()).await.unwrap(), "unknown message");
}

async fn latest_shows_the_change_of_the_newest_message(store: Arc<dyn HistoryStore>) {
    let (older, newest) = (message(46, 1, "older"), message(46, 2, "newest"));
    store.store(&older).await.unwrap();
    store.store(&newest).await.unwrap();
    store.edit(46, older.posted.message_id, "older, edited", 1_000).await.unwrap();
    store.edit(46, newest.posted.message_id, "newest, edited", 1_000).await.unwrap();
    let latest = store.latest(&[46]).await.unwrap();
    assert_eq!(latest[&46].posted.text, "newest, edited");
    assert_eq!(latest[&46].edited_at_ms, Some(1_000));
    store.delete(46, newest.posted.message_id).await.unwrap();
    let latest = store.latest(&[46]).await.unwrap();
    assert_eq!((latest[&46].posted.text.as_str(), latest[&46].deleted), ("", true));
}

fn reacted(message_id: uuid::Uuid, member: i64, emoji: &str, added: bool, at_ms: i64) -> MessageReacted {
    MessageReacted {
        room_id: 1,
        message_id,
        position: 1,
        member_id: member,
        emoji: emoji.into(),
        added,
        at_ms,
    }
}

async fn reactions_count_members_once_and_say_whose(store: Arc<dyn HistoryStore>) {
    let (m, other) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let tally = store.react(&reacted(m, 7, "👍", true, 10)).await.unwrap().expect("a change");
    assert_eq!((tally.count, tally.reactors), (1, vec![7]));
    assert_eq!(
        store.react(&reacted(m, 7, "👍", true, 11)).await.unwrap(),
        None,
        "reacting again is no change"
    );
    let tally = store.react(&reacted(m, 8, "👍", true, 12)).await.unwrap().expect("a change");
    assert_eq!((tally.count, tally.reactors), (2, vec![8, 7]), "newest first");
    store.react(&reacted(m, 8, "🎉", true, 13)).await.unwrap();
    assert_eq!(store.react(&reacted(m, 7, "👍", true, 13)).await.unwrap(), None);
    store.react(&reacted(other, 9, ":party_parrot:", true, 14)).await.unwrap();
    assert_eq!(store.react(&reacted(m, 9, "🎉", false, 15)).await.unwrap(), None, "taking back nothing");

    let seen_by_7 = store.reactions(&[m, other, uuid::Uuid::now_v7()], 7).await.unwrap();
    assert_eq!(seen_by_7.len(), 2, "messages without reactions are absent");
    let summary: Vec<_> = seen_by_7[&m].iter().map(|r| (r.emoji.as_str(), r.count, r.mine)).collect();
    assert_eq!(summary, [("👍", 2, true), ("🎉", 1, false)], "most common first; the reader's marked");
    assert_eq!(seen_by_7[&other][0].reactors, [9]);
    assert_eq!(seen_by_7[&m][0].reactors, [8, 7], "a repeat keeps when the member started reacting");
    assert!(store.reactions(&[], 7).await.unwrap().is_empty());

    let tally = store.react(&reacted(m, 7, "👍", false, 16)).await.unwrap().expect("a change");
    assert_eq!((tally.count, tally.reactors), (1, vec![8]));
    assert!(!store.reactions(&[m], 7).await.unwrap()[&m].iter().any(|r| r.mine));
}

async fn reaction_changes_converge_in_any_order(store: Arc<dyn HistoryStore>) {
    // Added at 10 and taken back at 20: applied in either order, the member does not react.
    let (m, n) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let (add, remove) = (reacted(m, 7, "🔥", true, 10), reacted(m, 7, "🔥", false, 20));
    assert!(store.react(&add).await.unwrap().is_some());
    assert_eq!(store.react(&remove).await.unwrap().map(|t| t.count), Some(0));
    let (add, remove) = (reacted(n, 7, "🔥", true, 10), reacted(n, 7, "🔥", false, 20));
    assert_eq!(store.react(&remove).await.unwrap(), None, "nothing to take back yet");
    assert_eq!(store.react(&add).await.unwrap(), None, "the older change loses");
    let both = store.reactions(&[m, n], 7).await.unwrap();
    assert!(both.is_empty(), "{both:?}");
    // Replays of either change stay harmless.
    assert_eq!(store.react(&add).await.unwrap(), None);
    assert_eq!(store.react(&remove).await.unwrap(), None);
}

async fn mentions_are_stored_and_counted_per_member(store: Arc<dyn HistoryStore>) {
    let mut by_name = message(3, 1, "@bob look");
    by_name.posted.mentions = vec![2];
    let mut everyone = message(3, 2, "@room lunch");
    everyone.posted.mentions_room = true;
    let mut own = message(3, 3, "@room from bob");
    own.posted.sender_id = 2;
    own.posted.mentions_room = true;
    let mut deleted = message(3, 4, "");
    deleted.posted.mentions = vec![2];
    deleted.deleted = true;
    let plain = message(3, 5, "no one");
    for m in [&by_name, &everyone, &own, &deleted, &plain] {
        store.store(m).await.unwrap();
    }
    assert_eq!(store.recent(3, None, 10).await.unwrap()[0].posted.mentions, [2], "kept");
    assert!(store.recent(3, None, 10).await.unwrap()[1].posted.mentions_room);
    assert_eq!(
        store.count_mentions_after(3, None, 2, 10).await.unwrap(),
        2,
        "by name and @room; not own, not deleted"
    );
    assert_eq!(store.count_mentions_after(3, Some(1), 2, 10).await.unwrap(), 1, "above the read position");
    assert_eq!(store.count_mentions_after(3, None, 2, 1).await.unwrap(), 1, "capped");
    assert_eq!(
        store.count_mentions_after(3, None, 9, 10).await.unwrap(),
        2,
        "@room mentions everyone, own by bob too"
    );
    assert_eq!(store.count_mentions_after(4, None, 2, 10).await.unwrap(), 0);
}

fn whisper(room: i64, from: i64, to: i64, after: i64, text: &str) -> WhisperPosted {
    WhisperPosted {
        message_id: uuid::Uuid::now_v7(),
        room_id: room,
        sender_id: from,
        sender_name: format!("m{from}"),
        to_id: to,
        to_name: format!("m{to}"),
        text: text.into(),
        client_msg_id: None,
        sent_at_ms: 1_700_000_000_000 + after,
        after,
    }
}

async fn whispers_are_read_by_their_two_parties_only(store: Arc<dyn HistoryStore>) {
    let room_message = message(1, 1, "hello all");
    store.store(&room_message).await.unwrap();
    let first = whisper(1, 7, 8, 1, "psst");
    let second = whisper(1, 8, 7, 3, "what?");
    let elsewhere = whisper(2, 7, 8, 1, "other room");
    let others = whisper(1, 9, 10, 2, "not yours");
    for w in [&first, &second, &elsewhere, &others] {
        assert!(store.store_whisper(w).await.unwrap());
    }
    assert!(!store.store_whisper(&first).await.unwrap(), "stored once");
    let texts = |ws: Vec<WhisperPosted>| ws.into_iter().map(|w| w.text).collect::<Vec<_>>();
    assert_eq!(texts(store.whispers(1, 7, 0, None, 10).await.unwrap()), ["psst", "what?"]);
    assert_eq!(texts(store.whispers(1, 8, 0, None, 10).await.unwrap()), ["psst", "what?"]);
    assert_eq!(texts(store.whispers(1, 9, 0, None, 10).await.unwrap()), ["not yours"]);
    assert!(store.whispers(1, 11, 0, None, 10).await.unwrap().is_empty(), "a third member sees none");
    assert_eq!(texts(store.whispers(1, 7, 2, None, 10).await.unwrap()), ["what?"], "after position 2 on");
    assert_eq!(texts(store.whispers(1, 7, 0, Some(2), 10).await.unwrap()), ["psst"], "up to position 2");
    assert_eq!(texts(store.whispers(1, 7, 0, None, 1).await.unwrap()), ["psst"], "the limit");
    assert_eq!(store.whispers(1, 7, 0, None, 10).await.unwrap()[0], first, "every field kept");
    // Whispers hold no position: the room's history, count and preview do not see them.
    assert_eq!(store.recent(1, None, 10).await.unwrap(), vec![room_message.clone()]);
    assert_eq!(store.count_after(1, Some(0), 100).await.unwrap(), 1);
    assert_eq!(store.latest(&[1]).await.unwrap()[&1], room_message);
}

macro_rules! contract {
    ($($case:ident),*) => {
        mod on_mongodb {
            $(#[tokio::test]
            async fn $case() { super::$case(super::mongo().await).await })*
        }
        mod in_memory {
            $(#[tokio::test]
            async fn $case() { super::$case(super::memory()).await })*
        }
    };
}

/// What the sequencer relies on: a taken id or a taken room position is not stored again (a second
/// writer loses), the count says so, and `stored` tells each id's position and log offset.
async fn sequenced_messages_keep_their_place_and_log_offset(store: Arc<dyn HistoryStore>) {
    let sequenced = |position, log_offset| Sequenced { message: message(7, position, "m"), log_offset };
    assert_eq!(store.last_position(7).await.unwrap(), 0, "an empty room");
    let batch = vec![sequenced(1, 40), sequenced(2, 41), sequenced(3, 45)];
    assert_eq!(store.store_sequenced(&batch).await.unwrap(), 3);
    assert_eq!(store.last_position(7).await.unwrap(), 3);
    assert_eq!(store.store_sequenced(&batch).await.unwrap(), 0, "a replay stores nothing");
    let rival = sequenced(3, 46);
    assert_eq!(store.store_sequenced(std::slice::from_ref(&rival)).await.unwrap(), 0, "position 3 is taken");
    let ids: Vec<uuid::Uuid> = batch.iter().chain([&rival]).map(|s| s.message.posted.message_id).collect();
    let found = store.stored(&ids).await.unwrap();
    assert_eq!(found.len(), 3, "the rival is not stored");
    for expected in &batch {
        let got = &found[&expected.message.posted.message_id];
        assert_eq!(got, expected, "message, position and log offset");
    }
    assert!(store.stored(&[]).await.unwrap().is_empty());
}

contract!(
    whispers_are_read_by_their_two_parties_only,
    mentions_are_stored_and_counted_per_member,
    reactions_count_members_once_and_say_whose,
    reaction_changes_converge_in_any_order,
    sequenced_messages_keep_their_place_and_log_offset,
    storing_twice_keeps_one,
    a_batch_stores_each_message_once,
    batches_become_visible_in_order,
    recent_is_ordered_paged_and_per_room,
    text_is_stored_verbatim,
    after_reads_forward_from_a_position,
    latest_covers_several_rooms,
    replies_keep_what_they_answer,
    latest_never_goes_backwards,
    concurrent_stores_keep_the_newest,
    count_after_counts_messages_not_positions,
    count_after_is_capped,
    message_finds_one_message_of_one_room,
    edits_replace_the_text_and_keep_the_position,
    deletes_empty_the_text_and_keep_the_position,
    latest_shows_the_change_of_the_newest_message
);

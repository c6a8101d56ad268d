//! Message search end to end: what a member publishes is found by the words of its text (Korean
//! words by their stem) within seconds, by members of the room only; an edit is found by its new text
//! only, a deleted message disappears, and a kicked member stops finding the room's messages.

use std::time::Duration;

use natter_proto::frames::{ErrorCode, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::json;

use natter_history::{HistoryStore, MongoHistory};
use natter_proto::events::{MessagePosted, StoredMessage};

use crate::api::{Api, Member};
use crate::client::{Ws, answer_to, open};
use crate::stack::{Stack, natter};

/// Message ids `who` finds for `q`.
async fn found(api: &Api, who: &Member, q: &str) -> Vec<String> {
    let path = format!("/api/v1/search?q={}", urlencode(q));
    let page = api.expect(StatusCode::OK, Method::GET, &path, who, None).await;
    page["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["message_id"].as_str().unwrap().to_owned())
        .collect()
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Waits (up to 10 s: the indexer follows the bus) until `who` finds exactly `expected` for `q`, in
/// any order (the ranking is the contract tests' business).
async fn eventually(api: &Api, who: &Member, q: &str, expected: &[&str]) {
    let started = tokio::time::Instant::now();
    let deadline = started + Duration::from_secs(10);
    let mut expected: Vec<&str> = expected.to_vec();
    expected.sort_unstable();
    loop {
        let mut ids = found(api, who, q).await;
        ids.sort_unstable();
        if ids == expected {
            // How long the index took to follow (the issue asks for under a second; a figure, not
            // a timed assertion).
            println!("search {q:?} for {} settled after {} ms", who.username, started.elapsed().as_millis());
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} searching {q:?} found {ids:?}, not {expected:?}",
            who.username
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn publish(ws: &mut Ws, room: i64, text: &str) -> String {
    match ws.publish(room, text).await {
        ServerFrame::Ack { message_id, .. } => message_id.to_string(),
        other => panic!("expected an ack, got {other:?}"),
    }
}

/// Sends the edit or delete made by `frame(id)` until it is acked (history may not have the message
/// yet a moment after its ack, as for any client: `unavailable`, retry).
async fn change(ws: &mut Ws, frame: impl Fn(&str) -> serde_json::Value) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let id = ws.next_id();
        ws.send_json(frame(&id)).await;
        match ws.recv_until(|f| answer_to(f, &id)).await {
            ServerFrame::Ack { .. } => return,
            ServerFrame::Error { code: ErrorCode::Unavailable, .. }
                if tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => panic!("change refused: {other:?}"),
        }
    }
}

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let (ann, ben, cat) = (api.member("ann").await, api.member("ben").await, api.member("cat").await);
    let room = api.create_room(&ann, "lunch club", "public", None).await;
    api.join(room, &ben).await;
    let cats = api.create_room(&cat, "cats", "public", None).await;
    let url = &stack.message_urls[0];

    let mut ws = open(url, &api.ws_token(&ann).await, &stack.web_url).await;
    assert!(matches!(ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
    let lunch = publish(&mut ws, room, "회의는 내일 점심에 해요, lunch at noon").await;
    let mut cat_ws = open(url, &api.ws_token(&cat).await, &stack.web_url).await;
    assert!(matches!(cat_ws.subscribe(cats).await, ServerFrame::Subscribed { .. }));
    let cat_lunch = publish(&mut cat_ws, cats, "lunch for cats").await;

    // Members find it (a Korean word by its stem); others only what they may read.
    eventually(&api, &ben, "회의", &[&lunch]).await;
    eventually(&api, &ann, "LUNCH noon", &[&lunch]).await;
    eventually(&api, &cat, "lunch", &[&cat_lunch]).await;
    assert_eq!(found(&api, &ben, "' OR 1=1 --").await, Vec::<String>::new(), "operators are text");
    let page = api.expect(StatusCode::OK, Method::GET, "/api/v1/search?q=noon", &ben, None).await;
    assert_eq!(page["hits"][0]["highlights"], json!([[24, 28]]), "UTF-16 range of the word: {page}");

    // A direct chat, and a private room cat is not in: only its two members / its members find them.
    let dm = api
        .expect(StatusCode::OK, Method::PUT, &format!("/api/v1/direct/{}", cat.username), &ann, None)
        .await;
    let dm = dm["id"].as_i64().unwrap();
    assert!(matches!(ws.subscribe(dm).await, ServerFrame::Subscribed { .. }));
    let dm_lunch = publish(&mut ws, dm, "lunch tomorrow, just us?").await;
    let private = api.create_room(&ann, "secret plans", "private", None).await;
    assert!(matches!(ws.subscribe(private).await, ServerFrame::Subscribed { .. }));
    let secret = publish(&mut ws, private, "the lunch surprise").await;
    eventually(&api, &cat, "lunch", &[&dm_lunch, &cat_lunch]).await;
    eventually(&api, &ben, "surprise", &[]).await;
    eventually(&api, &ann, "surprise", &[&secret]).await;

    // Filters, with and without words.
    let cat_name = cat.username.clone();
    eventually(&api, &cat, "is:dm lunch", &[&dm_lunch]).await;
    eventually(&api, &cat, "in:#cats lunch", &[&cat_lunch]).await;
    eventually(&api, &cat, &format!("from:@{cat_name}"), &[&cat_lunch]).await;
    eventually(&api, &ann, &format!("lunch from:@{}", ann.username), &[&secret, &dm_lunch, &lunch]).await;
    eventually(&api, &ann, "from:@nobody_at_all lunch", &[]).await;
    eventually(&api, &ann, "lunch before:2000-01-01", &[]).await;
    eventually(&api, &ann, "has:file lunch", &[]).await;

    // Edited: found by the new text only.
    change(
        &mut ws,
        |id| json!({"type": "edit", "id": id, "room": room, "message_id": lunch, "text": "dinner instead"}),
    )
    .await;
    eventually(&api, &ben, "dinner", &[&lunch]).await;
    eventually(&api, &ben, "lunch", &[]).await;

    // Kicked: nothing of the room any more.
    let kick = format!("/api/v1/rooms/{room}/members/{}/kick", ben.id);
    api.expect(StatusCode::NO_CONTENT, Method::POST, &kick, &ann, None).await;
    assert_eq!(found(&api, &ben, "dinner").await, Vec::<String>::new(), "at once");

    // Joined again: found again (access is decided at each search); banned: gone again.
    api.join(room, &ben).await;
    eventually(&api, &ben, "dinner", &[&lunch]).await;
    let ban = format!("/api/v1/rooms/{room}/bans/{}", ben.id);
    api.expect(StatusCode::NO_CONTENT, Method::PUT, &ban, &ann, Some(json!({}))).await;
    assert_eq!(found(&api, &ben, "dinner").await, Vec::<String>::new(), "banned");

    // Deleted: gone for everyone.
    change(&mut ws, |id| json!({"type": "delete", "id": id, "room": room, "message_id": lunch})).await;
    eventually(&api, &ann, "dinner", &[]).await;
}

/// A message as an older deployment stored it, straight into history (no bus, so no live indexing).
fn old_message(room: i64, by: &Member, position: i64, text: &str) -> StoredMessage {
    let posted = MessagePosted {
        message_id: uuid::Uuid::new_v4(),
        room_id: room,
        sender_id: by.id,
        sender_name: by.username.clone(),
        text: text.to_owned(),
        client_msg_id: None,
        sent_at_ms: 1_780_000_000_000 + position * 60_000,
        reply_to: None,
        file: None,
        mentions: Vec::new(),
        mentions_room: false,
    };
    StoredMessage::new(posted, position)
}

/// Runs `natter search-backfill` against the stack's stores; what it printed.
async fn run_backfill(stack: &Stack) -> String {
    let out = natter().arg("search-backfill").envs(stack.stores_env.clone()).output().await.unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "backfill failed: {printed}{}", String::from_utf8_lossy(&out.stderr));
    printed
}

pub async fn backfill(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let (ann, ben) = (api.member("ann").await, api.member("ben").await);
    let room = api.create_room(&ann, "old times", "public", None).await;
    api.join(room, &ben).await;
    let env = |name: &str| stack.stores_env.iter().find(|(k, _)| k == name).unwrap().1.clone();
    let history =
        MongoHistory::connect(&env("NATTER_MONGODB_URL"), &env("NATTER_MONGODB_DATABASE")).await.unwrap();
    let kept = old_message(room, &ann, 1, "the ancient 회의록 is here");
    let mut edited = old_message(room, &ben, 2, "an ancient typo, fixed later");
    edited.edited_at_ms = Some(edited.posted.sent_at_ms + 5_000);
    let mut deleted = old_message(room, &ann, 3, "");
    deleted.deleted = true;
    for message in [&kept, &edited, &deleted] {
        assert!(history.store(message).await.unwrap());
    }
    let (kept_id, edited_id) = (kept.posted.message_id.to_string(), edited.posted.message_id.to_string());
    assert_eq!(found(&api, &ben, "ancient").await, Vec::<String>::new(), "not indexed before the backfill");

    let printed = run_backfill(&stack).await;
    assert!(printed.contains("3 messages read, 2 added to the index, 1 deleted kept out"), "{printed}");
    eventually(&api, &ben, "ancient", &[&kept_id, &edited_id]).await;
    eventually(&api, &ben, "회의", &[&kept_id]).await;
    eventually(&api, &ben, "\"typo fixed\"", &[&edited_id]).await;
    // Kept to members: a stranger finds none of it.
    let cat = api.member("cat").await;
    eventually(&api, &cat, "ancient", &[]).await;

    // Run again (as after an interrupted run): nothing added twice.
    let printed = run_backfill(&stack).await;
    assert!(printed.contains("3 messages read, 0 added"), "{printed}");
    eventually(&api, &ben, "ancient", &[&kept_id, &edited_id]).await;
}

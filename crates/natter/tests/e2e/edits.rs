//! Editing, deleting and replying to messages: only the author edits, the author or a room owner or
//! admin deletes; every subscriber on every pod hears of it, and history keeps the change (a deleted
//! message keeps its position, its text is gone). A reply names the message it answers (id, position,
//! author), which must be a live message of the same room.

use std::time::Duration;

use futures_util::future::join_all;
use natter_proto::frames::{ErrorCode, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api::{Api, Member};
use crate::client::{Ws, answer_to, open};
use crate::stack::Stack;

async fn socket(stack: &Stack, api: &Api, who: &Member, pod: usize) -> Ws {
    open(&stack.message_urls[pod], &api.ws_token(who).await, &stack.web_url).await
}

/// Publishes; the ack's (message id, position).
async fn publish(ws: &mut Ws, room: i64, text: &str) -> (Uuid, i64) {
    match ws.publish(room, text).await {
        ServerFrame::Ack { message_id, position, .. } => (message_id, position),
        other => panic!("expected an ack, got {other:?}"),
    }
}

/// Sends a request made by `frame(id)` until it is not answered `unavailable` (history may lag behind a
/// message acked a moment ago, as a client retries); the answer.
async fn retrying(ws: &mut Ws, frame: impl Fn(&str) -> serde_json::Value) -> ServerFrame {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let id = ws.next_id();
        ws.send_json(frame(&id)).await;
        let answer = ws.recv_until(|f| answer_to(f, &id)).await;
        if !matches!(answer, ServerFrame::Error { code: ErrorCode::Unavailable, .. }) {
            return answer;
        }
        assert!(tokio::time::Instant::now() < deadline, "still unavailable: {answer:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Sends an edit (`Some(text)`) or a delete (`None`) and returns the answer.
async fn change(ws: &mut Ws, room: i64, message_id: Uuid, text: Option<&str>) -> ServerFrame {
    retrying(ws, |id| match text {
        Some(text) => {
            json!({"type": "edit", "id": id, "room": room, "message_id": message_id, "text": text})
        }
        None => json!({"type": "delete", "id": id, "room": room, "message_id": message_id}),
    })
    .await
}

/// A message id of long ago: history would hold it if it existed.
fn old_id() -> Uuid {
    Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, 1_600_000_000, 0))
}

/// Publishes `text` as a reply to `reply_to`; the answer.
async fn reply(ws: &mut Ws, room: i64, reply_to: Uuid, text: &str) -> ServerFrame {
    retrying(ws, |id| json!({"type": "publish", "id": id, "room": room, "text": text, "reply_to": reply_to}))
        .await
}

fn refused_with(answer: ServerFrame, expected: ErrorCode) {
    assert!(matches!(answer, ServerFrame::Error { code, .. } if code == expected), "{answer:?}");
}

async fn expect_edited(ws: &mut Ws, message_id: Uuid) -> (i64, String) {
    ws.recv_until(|f| match f {
        ServerFrame::Edited { message_id: m, position, text, .. } if *m == message_id => {
            Some((*position, text.clone()))
        }
        _ => None,
    })
    .await
}

async fn expect_deleted(ws: &mut Ws, message_id: Uuid) -> i64 {
    ws.recv_until(|f| match f {
        ServerFrame::Deleted { message_id: m, position, .. } if *m == message_id => Some(*position),
        _ => None,
    })
    .await
}

/// The room's history, polled until `done` holds (the history writers are asynchronous).
async fn history_until(api: &Api, room: i64, who: &Member, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let path = format!("/api/v1/rooms/{room}/messages");
        let body = api.expect(StatusCode::OK, Method::GET, &path, who, None).await;
        let messages = body.as_array().cloned().unwrap_or_default();
        if done(&messages) {
            return messages;
        }
        assert!(tokio::time::Instant::now() < deadline, "history never showed the changes: {messages:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let [ann, ben, cat] =
        <[Member; 3]>::try_from(join_all(["ann", "ben", "cat"].map(|n| api.member(n))).await).ok().unwrap();
    let room = api.create_room(&ann, "edits", "public", None).await;
    api.join(room, &ben).await;
    api.join(room, &cat).await;
    let mut ben_ws = socket(&stack, &api, &ben, 0).await;
    let mut cat_ws = socket(&stack, &api, &cat, 1).await;
    let mut ann_ws = socket(&stack, &api, &ann, 1).await;
    for ws in [&mut ben_ws, &mut cat_ws, &mut ann_ws] {
        assert!(matches!(ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
    }

    // The author edits at once, before history may hold the message: the pod waits for it.
    let (typo, typo_position) = publish(&mut ben_ws, room, "helo").await;
    let answer = change(&mut ben_ws, room, typo, Some("hello")).await;
    assert!(
        matches!(answer, ServerFrame::Ack { message_id, position, .. } if message_id == typo && position == typo_position),
        "the ack names the original position: {answer:?}"
    );
    assert_eq!(
        expect_edited(&mut cat_ws, typo).await,
        (typo_position, "hello".to_owned()),
        "on the other pod"
    );
    assert_eq!(expect_edited(&mut ben_ws, typo).await.1, "hello", "the editor hears it too");

    // A reply at once, from the other pod: it names the message it answers, for every subscriber.
    let answer = reply(&mut cat_ws, room, typo, "hi ben").await;
    let ServerFrame::Ack { message_id: answer_id, .. } = answer else { panic!("reply refused: {answer:?}") };
    let delivered = ben_ws
        .recv_until(|f| match f {
            ServerFrame::Message { message } if message.posted.message_id == answer_id => {
                Some(message.clone())
            }
            _ => None,
        })
        .await;
    let named = delivered.posted.reply_to.expect("the reply names the message it answers");
    assert_eq!((named.message_id, named.position, named.sender_id), (typo, typo_position, ben.id));
    assert_eq!(named.sender_name, ben.username);
    refused_with(reply(&mut cat_ws, room, old_id(), "to nothing").await, ErrorCode::InvalidRequest);

    // Only the author edits, even an owner may not; a plain member deletes only their own.
    refused_with(change(&mut cat_ws, room, typo, Some("mine now")).await, ErrorCode::Forbidden);
    refused_with(change(&mut ann_ws, room, typo, Some("owner's")).await, ErrorCode::Forbidden);
    let (doomed, doomed_position) = publish(&mut ben_ws, room, "regrettable").await;
    refused_with(change(&mut cat_ws, room, doomed, None).await, ErrorCode::Forbidden);
    refused_with(change(&mut cat_ws, room, old_id(), None).await, ErrorCode::InvalidRequest);
    let unsubscribed = change(&mut cat_ws, room + 1_000_000, doomed, None).await;
    refused_with(unsubscribed, ErrorCode::NotSubscribed);

    // The room owner deletes someone else's message; everyone hears of it.
    let answer = change(&mut ann_ws, room, doomed, None).await;
    assert!(matches!(answer, ServerFrame::Ack { position, .. } if position == doomed_position), "{answer:?}");
    for ws in [&mut ben_ws, &mut cat_ws, &mut ann_ws] {
        assert_eq!(expect_deleted(ws, doomed).await, doomed_position);
    }

    let field = |m: &Value, name: &str| m.get(name).cloned().unwrap_or(Value::Null);
    let find = |messages: &[Value], id: Uuid| {
        messages.iter().find(|m| m["message_id"] == json!(id.to_string())).cloned().unwrap_or(Value::Null)
    };
    let messages = history_until(&api, room, &cat, |messages| {
        find(messages, typo)["text"] == "hello" && find(messages, doomed)["deleted"] == json!(true)
    })
    .await;
    let (edited, deleted) = (find(&messages, typo), find(&messages, doomed));
    assert_eq!(field(&edited, "position"), json!(typo_position));
    assert!(field(&edited, "edited_at_ms").is_i64(), "{edited}");
    assert_eq!(field(&deleted, "text"), json!(""), "the text is gone: {deleted}");
    assert_eq!(field(&deleted, "position"), json!(doomed_position), "the place stays");
    // Once history has the deletion, the message cannot be edited back. (An edit racing the delete
    // before history applied it may be acked, but history never brings a deleted message back.)
    refused_with(change(&mut ben_ws, room, doomed, Some("back")).await, ErrorCode::InvalidRequest);
    refused_with(reply(&mut ben_ws, room, doomed, "to a ghost").await, ErrorCode::InvalidRequest);
    let replied = history_until(&api, room, &cat, |messages| find(messages, answer_id).is_object()).await;
    let stored = find(&replied, answer_id);
    assert_eq!(
        stored["reply_to"]["message_id"],
        json!(typo.to_string()),
        "history keeps the reference: {stored}"
    );
    assert_eq!(stored["reply_to"]["position"], json!(typo_position));
    for ws in [ben_ws, cat_ws, ann_ws] {
        ws.close().await;
    }
}

//! Typing indicators and publish rate limits, as chatting clients see them on two message pods:
//! typing reaches the others in the room on every pod but never the typist's own sockets, needs a
//! subscription and is rate-limited; publishing faster than the connection's limit is refused with
//! `rate_limited` and `retry_after_ms`, and refused messages reach nobody; the member's limit holds
//! across sockets on different pods.
//!
//! The stacks run with low limits ([`settings`]) so each case takes moments.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::future::join_all;
use natter_proto::frames::{ErrorCode, ServerFrame};
use serde_json::json;

use crate::api::{Api, Member};
use crate::client::{Ws, answer_to, open};
use crate::stack::Stack;

/// Messages a second per connection in these stacks.
const PER_CONNECTION: usize = 3;
/// Messages per member per window in these stacks.
const PER_MEMBER: usize = 5;
/// Long enough that the member's window (it starts at the first publish) cannot end during the case,
/// even on a loaded CI machine.
const WINDOW_SECS: u64 = 120;

/// The message pods' settings for this case.
pub fn settings() -> Vec<(String, String)> {
    [
        ("NATTER_PUBLISH_RATE_PER_CONNECTION", PER_CONNECTION.to_string()),
        ("NATTER_PUBLISH_RATE_PER_MEMBER", PER_MEMBER.to_string()),
        ("NATTER_PUBLISH_RATE_WINDOW_SECS", WINDOW_SECS.to_string()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    // Separate members and rooms: the cases run side by side.
    tokio::join!(
        typing_reaches_others_only(&stack, &api),
        publishing_too_fast_on_one_connection(&stack, &api),
        the_member_limit_holds_across_pods(&stack, &api),
    );
}

async fn members<const N: usize>(api: &Api, names: [&str; N]) -> [Member; N] {
    <[Member; N]>::try_from(join_all(names.map(|n| api.member(n))).await).ok().unwrap()
}

/// A subscribed socket of `who` on message pod `pod`.
async fn subscribed(stack: &Stack, api: &Api, who: &Member, pod: usize, room: i64) -> Ws {
    let mut ws = open(&stack.message_urls[pod], &api.ws_token(who).await, &stack.web_url).await;
    let answer = ws.subscribe(room).await;
    assert!(matches!(answer, ServerFrame::Subscribed { .. }), "{answer:?}");
    ws
}

/// Sends a `typing` frame; returns its request id (accepted frames get no answer).
async fn typing(ws: &mut Ws, room: i64, typing: bool) -> String {
    let id = ws.next_id();
    ws.send_json(json!({"type": "typing", "id": id, "room": room, "typing": typing})).await;
    id
}

/// The next `typing` frame from `member`: whether they are typing.
async fn typing_of(ws: &mut Ws, room: i64, member: i64) -> bool {
    ws.recv_until(|f| match f {
        ServerFrame::Typing { room: r, member_id, typing, .. } if *r == room && *member_id == member => {
            Some(*typing)
        }
        _ => None,
    })
    .await
}

/// Publishes `text` with a client message id of its own and waits for the answer. ([`Ws::publish`]
/// derives the client message id from the request id, which two sockets of one member share: the
/// second would be taken for a retry of the first.)
async fn publish(ws: &mut Ws, room: i64, text: &str) -> ServerFrame {
    let id = ws.next_id();
    let client_msg_id = text.replace(' ', "-");
    ws.send_json(
        json!({"type": "publish", "id": id, "room": room, "text": text, "client_msg_id": client_msg_id}),
    )
    .await;
    ws.recv_until(|f| answer_to(f, &id)).await
}

/// The `retry_after_ms` of a `rate_limited` refusal whose detail mentions `words`.
fn rate_limited(frame: &ServerFrame, words: &str) -> u64 {
    match frame {
        ServerFrame::Error { code: ErrorCode::RateLimited, detail, retry_after_ms: Some(ms), .. }
            if detail.contains(words) =>
        {
            *ms
        }
        other => panic!("expected rate_limited mentioning {words:?}, got {other:?}"),
    }
}

fn texts_seen(ws: &mut Ws, room: i64) -> HashSet<String> {
    ws.drain_backlog()
        .into_iter()
        .filter_map(|f| match f {
            ServerFrame::Message { message } if message.posted.room_id == room => Some(message.posted.text),
            _ => None,
        })
        .collect()
}

async fn typing_reaches_others_only(stack: &Stack, api: &Api) {
    let [ann, ben] = members(api, ["typist", "reader"]).await;
    let room = api.create_room(&ann, "typing", "public", None).await;
    let elsewhere = api.create_room(&ann, "not subscribed", "public", None).await;
    api.join(room, &ben).await;
    let mut ann_ws = subscribed(stack, api, &ann, 0, room).await;
    // Ann's second socket, on the other pod: her own, so it gets no indicator of her either.
    let mut ann_other = subscribed(stack, api, &ann, 1, room).await;
    let mut ben_ws = subscribed(stack, api, &ben, 1, room).await;

    typing(&mut ann_ws, room, true).await;
    let frame = ben_ws.recv_until(|f| matches!(f, ServerFrame::Typing { .. }).then(|| f.clone())).await;
    let expected =
        ServerFrame::Typing { room, member_id: ann.id, member_name: ann.username.clone(), typing: true };
    assert_eq!(frame, expected, "ben sees ann typing, with her name");
    // Ben's indicator travels after Ann's on the room's partition: once Ann's sockets have it, they
    // would have had hers.
    typing(&mut ben_ws, room, true).await;
    for ws in [&mut ann_ws, &mut ann_other] {
        assert!(typing_of(ws, room, ben.id).await);
        let echoed = ws.drain_backlog().iter().any(|f| matches!(f, ServerFrame::Typing { .. }));
        assert!(!echoed, "the typist's own sockets get no indicator of her");
    }
    typing(&mut ann_ws, room, false).await;
    assert!(!typing_of(&mut ben_ws, room, ann.id).await, "stopping is delivered too");

    // Not subscribed: refused, naming the room.
    let id = typing(&mut ann_ws, elsewhere, true).await;
    match ann_ws.recv_until(|f| answer_to(f, &id)).await {
        ServerFrame::Error { code: ErrorCode::NotSubscribed, detail, .. } => {
            assert!(detail.contains(&elsewhere.to_string()), "{detail}")
        }
        other => panic!("expected not_subscribed, got {other:?}"),
    }

    // Flooding from a socket that has not typed yet: at most 2 a second per connection; the rest are
    // refused with a time to retry. Refusals are answered in order, so they all precede the pong.
    let mut flood = Vec::new();
    for i in 0..6 {
        flood.push(typing(&mut ann_other, room, i % 2 == 0).await);
    }
    let ping = ann_other.next_id();
    ann_other.send_json(json!({"type": "ping", "id": ping})).await;
    ann_other.recv_until(|f| answer_to(f, &ping)).await;
    let answers: Vec<ServerFrame> = ann_other.drain_backlog();
    let refused: Vec<u64> = flood
        .iter()
        .filter_map(|id| answers.iter().find_map(|f| answer_to(f, id)))
        .map(|frame| rate_limited(&frame, "typing"))
        .collect();
    // Two pass at once, a third only if sending took half a second.
    assert!(refused.len() >= 3, "{} of 6 typing frames refused: {answers:?}", refused.len());
    assert!(refused.iter().all(|ms| (1..=500).contains(ms)), "retry after {refused:?} ms");
}

async fn publishing_too_fast_on_one_connection(stack: &Stack, api: &Api) {
    let [flooder, reader] = members(api, ["flooder", "watcher"]).await;
    let room = api.create_room(&flooder, "flood", "public", None).await;
    api.join(room, &reader).await;
    let mut flood_ws = subscribed(stack, api, &flooder, 0, room).await;
    let mut reader_ws = subscribed(stack, api, &reader, 1, room).await;

    // Sent at once, answered later: the connection's bucket holds PER_CONNECTION.
    let sent = 2 * PER_CONNECTION + 2;
    let mut ids = Vec::new();
    for i in 0..sent {
        let id = flood_ws.next_id();
        flood_ws
            .send_json(json!({"type": "publish", "id": id, "room": room, "text": format!("flood {i}")}))
            .await;
        ids.push(id);
    }
    let (mut acked, mut refused, mut longest_wait) = (HashSet::new(), HashSet::new(), 0);
    for (i, id) in ids.iter().enumerate() {
        match flood_ws.recv_until(|f| answer_to(f, id)).await {
            ServerFrame::Ack { .. } => acked.insert(format!("flood {i}")),
            frame => {
                let ms = rate_limited(&frame, "per connection");
                assert!(ms <= 1000 / PER_CONNECTION as u64 + 1, "retry after {ms} ms");
                longest_wait = longest_wait.max(ms);
                refused.insert(format!("flood {i}"))
            }
        };
    }
    assert!(acked.len() >= PER_CONNECTION && acked.len() < sent, "{} of {sent} acked", acked.len());
    assert_eq!(acked.len() + refused.len(), sent);

    // After the wait it names, the connection may publish again; the room's order puts this message
    // after every accepted one, so the reader has seen all it will see of the flood.
    tokio::time::sleep(Duration::from_millis(longest_wait)).await;
    let answer = flood_ws.publish(room, "after the wait").await;
    assert!(matches!(answer, ServerFrame::Ack { .. }), "{answer:?}");
    reader_ws.expect_message(room, "after the wait").await;
    let seen = texts_seen(&mut reader_ws, room);
    assert_eq!(seen, acked, "exactly the accepted messages reach the other subscriber");
}

async fn the_member_limit_holds_across_pods(stack: &Stack, api: &Api) {
    let [chatty, reader] = members(api, ["chatty", "observer"]).await;
    let room = api.create_room(&chatty, "member limit", "public", None).await;
    api.join(room, &reader).await;
    let mut first = subscribed(stack, api, &chatty, 0, room).await;
    let mut second = subscribed(stack, api, &chatty, 1, room).await;
    let mut reader_ws = subscribed(stack, api, &reader, 1, room).await;

    // Each socket stays within its own bucket (the first uses all of it, the second one token less);
    // together they use up the member's window.
    let mut acked = HashSet::new();
    for i in 0..PER_MEMBER {
        let ws = if i < PER_CONNECTION { &mut first } else { &mut second };
        let text = format!("chat {i}");
        let answer = publish(ws, room, &text).await;
        assert!(matches!(answer, ServerFrame::Ack { .. }), "message {i}: {answer:?}");
        acked.insert(text);
    }
    let over = publish(&mut second, room, "one too many").await;
    let ms = rate_limited(&over, "per member");
    assert!(ms > 0 && ms <= WINDOW_SECS * 1000, "retry after {ms} ms");
    // Once the first socket's bucket has a token again, the member's window still refuses it.
    tokio::time::sleep(Duration::from_millis(1000 / PER_CONNECTION as u64 + 50)).await;
    let again = publish(&mut first, room, "from the first pod too").await;
    rate_limited(&again, "per member");

    // Someone else may still talk, and the refused messages reach nobody.
    let answer = reader_ws.publish(room, "sentinel").await;
    assert!(matches!(answer, ServerFrame::Ack { .. }), "{answer:?}");
    reader_ws.expect_message(room, "sentinel").await;
    let mut seen = texts_seen(&mut reader_ws, room);
    seen.remove("sentinel");
    assert_eq!(seen, acked, "exactly the accepted messages reach the room");
}

//! Resuming after a reconnect, as a client sees it: it comes back (to the other pod) with its last
//! position and gets every message it missed, once each and in order, then live ones, while the room
//! keeps getting messages during the reconnect.

use futures_util::future::join_all;
use natter_proto::frames::ServerFrame;

use crate::api::{Api, Member};
use crate::client::{Ws, open};
use crate::stack::Stack;

async fn socket(stack: &Stack, api: &Api, who: &Member, pod: usize) -> Ws {
    open(&stack.message_urls[pod], &api.ws_token(who).await, &stack.web_url).await
}

fn acked(frame: ServerFrame) -> i64 {
    match frame {
        ServerFrame::Ack { position, .. } => position,
        other => panic!("expected an ack, got {other:?}"),
    }
}

async fn subscribe_since(ws: &mut Ws, room: i64, since: i64) {
    let id = ws.next_id();
    ws.send_json(serde_json::json!({"type": "subscribe", "id": id, "room": room, "since": since})).await;
    let answer = ws.recv_until(|f| crate::client::answer_to(f, &id)).await;
    assert!(matches!(answer, ServerFrame::Subscribed { .. }), "{answer:?}");
}

/// Waits (up to 60 s) until the room's history holds a message with this text.
async fn wait_for_history(api: &Api, who: &Member, room: i64, text: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let path = format!("/api/v1/rooms/{room}/messages?limit=200");
    loop {
        let (_, body) = api.call(reqwest::Method::GET, &path, Some(&who.token), None).await;
        if body.0.as_array().is_some_and(|m| m.iter().any(|m| m["text"] == text)) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "history never held {text}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The room's messages the socket receives until (and including) `last`: (position, text).
async fn messages_until(ws: &mut Ws, room: i64, last: &str) -> Vec<(i64, String)> {
    let mut got = Vec::new();
    loop {
        let frame = ws.recv().await;
        if let ServerFrame::ReloadHistory { room: r, after, .. } = &frame {
            assert_ne!(*r, room, "told to reload history after {after} instead of a replay");
        }
        if let ServerFrame::Message { message } = frame
            && message.posted.room_id == room
        {
            let done = message.posted.text == last;
            got.push((message.position, message.posted.text));
            if done {
                return got;
            }
        }
    }
}

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let [ann, ben] =
        <[Member; 2]>::try_from(join_all(["ann", "ben"].map(|n| api.member(n))).await).ok().unwrap();
    let room = api.create_room(&ann, "resume", "public", None).await;
    api.join(room, &ben).await;
    let mut writer = socket(&stack, &api, &ann, 0).await;
    assert!(matches!(writer.subscribe(room).await, ServerFrame::Subscribed { .. }));

    let mut reader = socket(&stack, &api, &ben, 1).await;
    assert!(matches!(reader.subscribe(room).await, ServerFrame::Subscribed { .. }));
    let mut sent = Vec::new();
    for i in 0..3 {
        let text = format!("m{i}");
        sent.push((acked(writer.publish(room, &text).await), text));
    }
    let seen = messages_until(&mut reader, room, "m2").await;
    assert_eq!(seen, sent);
    let last_seen = seen.last().unwrap().0;
    reader.close().await;

    // Missed while away.
    for i in 3..20 {
        let text = format!("m{i}");
        sent.push((acked(writer.publish(room, &text).await), text));
    }
    // History is written asynchronously (and slowly while the history writers' group rebalances);
    // the replay waits for it only briefly, so come back once history holds what was missed.
    wait_for_history(&api, &ben, room, "m19").await;
    // Back on the other pod while the room keeps going.
    let publishing = tokio::spawn(async move {
        let mut more = Vec::new();
        for i in 20..60 {
            let text = format!("m{i}");
            more.push((acked(writer.publish(room, &text).await), text));
        }
        (writer, more)
    });
    let mut reader = socket(&stack, &api, &ben, 0).await;
    subscribe_since(&mut reader, room, last_seen).await;
    let (mut writer, more) = publishing.await.unwrap();
    sent.extend(more);
    let got = messages_until(&mut reader, room, "m59").await;
    assert_eq!(got, sent[3..].to_vec(), "every missed and live message once, in order");

    // Nothing more than that: the next live message is the next thing the reader gets.
    let position = acked(writer.publish(room, "after").await);
    assert_eq!(messages_until(&mut reader, room, "after").await, [(position, "after".to_owned())]);

    // Resuming from the newest position replays nothing; from before the start, everything.
    let mut fresh = socket(&stack, &api, &ben, 1).await;
    subscribe_since(&mut fresh, room, -1).await;
    let everything = messages_until(&mut fresh, room, "after").await;
    assert_eq!(everything.len(), sent.len() + 1);
    assert!(everything.windows(2).all(|w| w[0].0 < w[1].0), "positions only grow");
    for ws in [writer, reader, fresh] {
        ws.close().await;
    }
}

//! Retrying a publish (same sender, same `client_msg_id`), on the same pod or the other one, even at
//! the same moment, creates one message and gets the same ack.

use futures_util::future::join_all;
use natter_proto::frames::ServerFrame;

use crate::api::{Api, Member};
use crate::client::{Ws, answer_to, open};
use crate::stack::Stack;

async fn socket(stack: &Stack, api: &Api, who: &Member, pod: usize) -> Ws {
    open(&stack.message_urls[pod], &api.ws_token(who).await, &stack.web_url).await
}

/// Publishes with an explicit client message id; the ack's (message id, position).
async fn publish(ws: &mut Ws, room: i64, text: &str, client_msg_id: &str) -> (String, i64) {
    let id = ws.next_id();
    ws.send_json(serde_json::json!({
        "type": "publish", "id": id, "room": room, "text": text, "client_msg_id": client_msg_id,
    }))
    .await;
    match ws.recv_until(|f| answer_to(f, &id)).await {
        ServerFrame::Ack { message_id, position, .. } => (message_id.to_string(), position),
        other => panic!("expected an ack, got {other:?}"),
    }
}

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let [ann, ben] =
        <[Member; 2]>::try_from(join_all(["ann", "ben"].map(|n| api.member(n))).await).ok().unwrap();
    let room = api.create_room(&ann, "retries", "public", None).await;
    api.join(room, &ben).await;
    let mut first = socket(&stack, &api, &ann, 0).await;
    let mut second = socket(&stack, &api, &ann, 1).await;
    let mut ben_ws = socket(&stack, &api, &ben, 1).await;
    for ws in [&mut first, &mut second, &mut ben_ws] {
        assert!(matches!(ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
    }

    let ack = publish(&mut first, room, "once", "c-once").await;
    assert_eq!(publish(&mut first, room, "once", "c-once").await, ack, "a retry on the same pod");
    assert_eq!(publish(&mut second, room, "once", "c-once").await, ack, "a retry on the other pod");
    // Another sender may use the same client message id.
    let bens = publish(&mut ben_ws, room, "ben's", "c-once").await;
    assert_ne!(bens, ack);

    // Two attempts at the same moment on two pods.
    let (a, b) = tokio::join!(
        publish(&mut first, room, "racing", "c-race"),
        publish(&mut second, room, "racing", "c-race")
    );
    assert_eq!(a, b, "both attempts get the one message's ack");
    publish(&mut first, room, "end", "c-end").await;

    let mut texts = Vec::new();
    loop {
        if let ServerFrame::Message { message } = ben_ws.recv().await
            && message.posted.room_id == room
        {
            texts.push(message.posted.text.clone());
            if message.posted.text == "end" {
                break;
            }
        }
    }
    assert_eq!(texts, ["once", "ben's", "racing", "end"], "one message per client message id");
    for ws in [first, second, ben_ws] {
        ws.close().await;
    }
}

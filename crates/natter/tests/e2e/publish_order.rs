//! Messages one connection publishes without waiting for their acks get positions in the order they
//! were sent, and a room's positions are 1, 2, 3, ... with no holes: a second member on the other
//! pod sees exactly that sequence.

use std::collections::HashMap;

use natter_proto::frames::ServerFrame;

use crate::api::Api;
use crate::client::open;
use crate::stack::Stack;

const MESSAGES: usize = 120;

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let (ann, ben) = (api.member("ann").await, api.member("ben").await);
    let room = api.create_room(&ann, "in order", "public", None).await;
    api.join(room, &ben).await;
    let mut writer = open(&stack.message_urls[0], &api.ws_token(&ann).await, &stack.web_url).await;
    let mut reader = open(&stack.message_urls[1], &api.ws_token(&ben).await, &stack.web_url).await;
    for ws in [&mut writer, &mut reader] {
        assert!(matches!(ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
    }

    // All sent at once: the pod works on up to 32 of them at a time.
    for i in 0..MESSAGES {
        writer
            .send_json(serde_json::json!({
                "type": "publish", "id": format!("p{i}"), "room": room,
                "text": format!("m{i}"), "client_msg_id": format!("order-{i}"),
            }))
            .await;
    }
    let mut acked: HashMap<String, i64> = HashMap::new();
    while acked.len() < MESSAGES {
        match writer.recv().await {
            ServerFrame::Ack { id, position, .. } => {
                acked.insert(id, position);
            }
            ServerFrame::Error { id, code, detail, .. } => {
                panic!("publish {id:?} refused: {code:?} {detail}")
            }
            _ => {}
        }
    }
    let positions: Vec<i64> = (0..MESSAGES).map(|i| acked[&format!("p{i}")]).collect();
    let expected: Vec<i64> = (1..=MESSAGES as i64).collect();
    assert_eq!(positions, expected, "acked positions follow the order sent, with no hole");

    let mut seen = Vec::new();
    while seen.len() < MESSAGES {
        if let ServerFrame::Message { message } = reader.recv().await {
            seen.push((message.position, message.posted.text));
        }
    }
    let expected: Vec<(i64, String)> = (0..MESSAGES).map(|i| (i as i64 + 1, format!("m{i}"))).collect();
    assert_eq!(seen, expected, "the other pod delivers the same sequence");
    writer.close().await;
    reader.close().await;
}

//! Steps 1–7 of the walking skeleton, as two people and an outsider experience them.

use std::time::Duration;

use natter_proto::frames::ServerFrame;
use reqwest::StatusCode;

use crate::client::{Browser, open};
use crate::stack::Stack;

const PASSWORD: &str = "correct horse battery";

async fn wait_for_presence(stack: &Stack, member: i64, online: bool) {
    for _ in 0..300 {
        if stack.presence(&[member]).await[0].online() == online {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("member {member} did not become {} in 30 s", if online { "online" } else { "offline" });
}

/// Publishes an already-delivered message event again, as a broker redelivery would.
async fn replay_through_kafka(brokers: &str, prefix: &str, message: &natter_proto::events::StoredMessage) {
    use natter_bus::{EventBus, KafkaBus, KafkaSettings};
    let bus = KafkaBus::connect(KafkaSettings {
        brokers: brokers.to_owned(),
        partitions: 3,
        replication: 1,
        fetch_wait_max_ms: Some(10),
        max_in_flight: Some(1),
        session_timeout_ms: 10_000,
    })
    .unwrap();
    let topic = natter_proto::topics::Topic::CommunityMessages.name(prefix);
    let key = natter_proto::topics::room_key(message.posted.room_id);
    bus.publish(&topic, &key, serde_json::to_vec(&message.posted).unwrap()).await.unwrap();
}

pub async fn run(stack: Stack) {
    let suffix = natter_test_support::unique_suffix();
    let (alice_name, bob_name, carol_name) =
        (format!("alice_{suffix}"), format!("bob_{suffix}"), format!("carol_{suffix}"));

    // 1. Sign up and log in with the form.
    let alice = Browser::new(&stack.web_url);
    alice.sign_up(&alice_name, PASSWORD).await;
    let out = alice.post_form("/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(alice.get("/rooms").await.status(), StatusCode::SEE_OTHER, "logged out: sent to login");
    let login = alice.log_in(&alice_name.to_uppercase(), PASSWORD).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER, "usernames are case-insensitive at login");
    let bob = Browser::new(&stack.web_url);
    bob.sign_up(&bob_name, PASSWORD).await;
    let carol = Browser::new(&stack.web_url);
    carol.sign_up(&carol_name, PASSWORD).await;

    // 2. Alice creates a community room; Bob finds it and joins.
    let room_name = format!("general {suffix}");
    let room = alice.create_room(&room_name).await;
    let (status, rooms) = bob.page("/rooms").await;
    assert_eq!(status, StatusCode::OK);
    assert!(rooms.contains(&format!("/rooms/{room}/join")), "Bob can join the room from his list");
    bob.join_room(room).await;

    // 3. The room page loads the script that connects to the message host.
    let (status, page) = alice.page(&format!("/rooms/{room}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<script src="/static/room.js" defer></script>"#));
    assert!(page.contains(&format!(r#"data-ws-url="{}""#, stack.message_urls[0])));
    let (status, script) = alice.page("/static/room.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(script.contains("natter.token."), "the script hands its token over as a subprotocol");

    // 4 + 5. Both subscribe, on different pods; each sees the other's message live.
    let mut alice_ws = open(&stack.message_urls[0], &alice.ws_token().await, &stack.web_url).await;
    let mut bob_ws = open(&stack.message_urls[1], &bob.ws_token().await, &stack.web_url).await;
    assert!(matches!(alice_ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
    assert!(matches!(bob_ws.subscribe(room).await, ServerFrame::Subscribed { .. }));

    let ServerFrame::Ack { message_id, position, .. } = alice_ws.publish(room, "hello bob").await else {
        panic!("alice's publish was not acknowledged")
    };
    let seen_by_bob = bob_ws.expect_message(room, "hello bob").await;
    assert_eq!((seen_by_bob.posted.message_id, seen_by_bob.position), (message_id, position));
    assert_eq!(seen_by_bob.posted.sender_name, alice_name);
    let alice_id = seen_by_bob.posted.sender_id;

    let script_text = "<script>alert('owned')</script> & hi";
    assert!(matches!(bob_ws.publish(room, script_text).await, ServerFrame::Ack { .. }));
    let seen_by_alice = alice_ws.expect_message(room, script_text).await;
    let bob_id = seen_by_alice.posted.sender_id;

    // One order per room: a burst from both pods arrives in the same order everywhere, positions grow.
    // Nine each: with the message before, a socket's ten is the default per-connection publish limit.
    for i in 0..9 {
        alice_ws
            .send_json(
                serde_json::json!({"type":"publish","id":format!("a{i}"),"room":room,"text":format!("a{i}")}),
            )
            .await;
        bob_ws
            .send_json(
                serde_json::json!({"type":"publish","id":format!("b{i}"),"room":room,"text":format!("b{i}")}),
            )
            .await;
    }
    let mut orders = Vec::new();
    for ws in [&mut alice_ws, &mut bob_ws] {
        let mut order = Vec::new();
        while order.len() < 18 {
            if let ServerFrame::Message { message } = ws.recv().await
                && message.posted.text.len() <= 3
            {
                order.push((message.position, message.posted.text));
            }
        }
        assert!(order.windows(2).all(|w| w[0].0 < w[1].0), "positions grow: {order:?}");
        orders.push(order);
    }
    assert_eq!(orders[0], orders[1], "both pods deliver the room in one order");

    // 6. History is stored (once) and rendered with the script shown as text.
    let mut history = String::new();
    for _ in 0..300 {
        let (status, page) = alice.page(&format!("/rooms/{room}/history")).await;
        assert_eq!(status, StatusCode::OK);
        history = page;
        if history.contains("b8") && history.contains("a8") && history.contains("hello bob") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(history.contains("hello bob"), "history holds the message: {history}");
    assert!(
        history.contains("&lt;script&gt;") || history.contains("&#60;script&#62;"),
        "script is shown as text: {history}"
    );
    assert!(!history.contains("<script>alert"), "no live script in history");
    assert_eq!(history.matches("hello bob").count(), 1, "stored once");
    assert_eq!(history.matches("data-position=").count(), 20, "every message stored exactly once");

    // A redelivered event (the bus delivers at least once) does not duplicate history.
    if let Some((brokers, prefix)) = &stack.kafka {
        replay_through_kafka(brokers, prefix, &seen_by_bob).await;
        // Same room, same partition, same writer group: once the sentinel is stored, so was the replay.
        assert!(matches!(bob_ws.publish(room, "sentinel").await, ServerFrame::Ack { .. }));
        let mut after = String::new();
        for _ in 0..300 {
            after = alice.page(&format!("/rooms/{room}/history")).await.1;
            if after.contains("sentinel") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(after.contains("sentinel"), "{after}");
        assert_eq!(after.matches("hello bob").count(), 1, "the replayed message is stored once");
    }

    // 7. Presence: online while connected, offline after.
    wait_for_presence(&stack, alice_id, true).await;
    wait_for_presence(&stack, bob_id, true).await;
    alice_ws.close().await;
    wait_for_presence(&stack, alice_id, false).await;
    assert!(stack.presence(&[bob_id]).await[0].online(), "bob is still connected");

    // An outsider cannot read or subscribe.
    let (status, _) = carol.page(&format!("/rooms/{room}/history")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = carol.page(&format!("/rooms/{room}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut carol_ws = open(&stack.message_urls[0], &carol.ws_token().await, &stack.web_url).await;
    let ServerFrame::Error { code, .. } = carol_ws.subscribe(room).await else { panic!("carol subscribed") };
    assert_eq!(code, natter_proto::frames::ErrorCode::Forbidden);
    bob_ws.close().await;
    wait_for_presence(&stack, bob_id, false).await;
}

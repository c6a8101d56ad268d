//! Mentions end to end: the server finds `@username` of current members and `@room` when a message
//! is published (a client cannot send its own list: such a frame is refused), every reader gets them with the
//! message, live and in history; outsiders' names stay text; `@room` in a room of more than 20
//! members needs an owner or admin; the room list counts unread mentions apart from unread messages.

use natter_proto::frames::ServerFrame;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{Api, Member};
use crate::client::{Ws, answer_to, open};
use crate::stack::Stack;

/// Publishes `frame` (with `id` filled in); the message as the subscriber `reader` receives it.
async fn publish_seen(ws: &mut Ws, reader: &mut Ws, mut frame: Value) -> natter_proto::events::StoredMessage {
    let id = ws.next_id();
    frame["id"] = json!(id);
    frame["client_msg_id"] = json!(format!("c-{id}"));
    ws.send_json(frame.clone()).await;
    let answer = ws.recv_until(|f| answer_to(f, &id)).await;
    let ServerFrame::Ack { message_id, .. } = answer else { panic!("expected an ack, got {answer:?}") };
    reader
        .recv_until(|f| match f {
            ServerFrame::Message { message } if message.posted.message_id == message_id => {
                Some(message.clone())
            }
            _ => None,
        })
        .await
}

/// The room's entry in `who`'s room list.
async fn listed(api: &Api, who: &Member, room: i64) -> Value {
    let list = api.expect(StatusCode::OK, Method::GET, "/api/v1/me/rooms", who, None).await;
    list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["room"]["id"] == json!(room))
        .cloned()
        .expect("listed")
}

/// The stack's settings: this test signs up 24 people from one address.
pub fn crowd() -> Vec<(String, String)> {
    vec![("NATTER_SIGNUP_MAX_PER_ADDRESS".to_owned(), "100".to_owned())]
}

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let (ann, ben, cat) = (api.member("ann").await, api.member("ben").await, api.member("cat").await);
    let outsider = api.member("out").await;
    let room = api.create_room(&ann, "standup", "public", None).await;
    api.join(room, &ben).await;
    api.join(room, &cat).await;
    let url = &stack.message_urls[0];
    let mut a = open(url, &api.ws_token(&ann).await, &stack.web_url).await;
    let mut b = open(&stack.message_urls[1], &api.ws_token(&ben).await, &stack.web_url).await;
    for ws in [&mut a, &mut b] {
        assert!(matches!(ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
    }

    // A client cannot say who it mentions: a publish with its own list is refused as malformed.
    let id = a.next_id();
    a.send_json(json!({"type": "publish", "id": id, "room": room, "text": "hi", "mentions": [outsider.id]}))
        .await;
    let refused = a.recv_until(|f| answer_to(f, &id)).await;
    assert!(
        matches!(&refused, ServerFrame::Error { code: natter_proto::frames::ErrorCode::InvalidRequest, .. }),
        "{refused:?}"
    );

    // By name, any case, members only.
    let text = format!(
        "@{} and @{} please review; cc @{} (not here) and mail {}@example.org",
        ben.username.to_uppercase(),
        cat.username,
        outsider.username,
        ann.username
    );
    let frame = json!({"type": "publish", "room": room, "text": text});
    let seen = publish_seen(&mut a, &mut b, frame).await;
    assert_eq!(seen.posted.mentions, [ben.id, cat.id], "found by the server: {seen:?}");
    assert!(!seen.posted.mentions_room);
    let history =
        api.expect(StatusCode::OK, Method::GET, &format!("/api/v1/rooms/{room}/messages"), &cat, None).await;
    assert_eq!(history[0]["mentions"], json!([ben.id, cat.id]), "history keeps them: {history}");

    // @room in a small room: anyone; plain text mentions no one.
    let everyone =
        publish_seen(&mut b, &mut a, json!({"type": "publish", "room": room, "text": "@room standup in 5"}))
            .await;
    assert!(everyone.posted.mentions_room);
    let plain = publish_seen(
        &mut b,
        &mut a,
        json!({"type": "publish", "room": room, "text": "no one in particular"}),
    )
    .await;
    assert!(plain.posted.mentions.is_empty() && !plain.posted.mentions_room);

    // The room list counts Cat's unread mentions (the first message and @room) apart from unread.
    let entry = listed(&api, &cat, room).await;
    assert_eq!((entry["unread"].clone(), entry["mentions"].clone()), (json!(3), json!(2)), "{entry}");
    let entry = listed(&api, &ben, room).await;
    assert_eq!(entry["mentions"], json!(1), "his own @room does not count for him: {entry}");
    // Reading up to the newest clears them.
    let newest = plain.position;
    api.expect(
        StatusCode::OK,
        Method::PUT,
        &format!("/api/v1/rooms/{room}/read"),
        &cat,
        Some(json!({"position": newest})),
    )
    .await;
    let entry = listed(&api, &cat, room).await;
    assert!(entry.get("mentions").is_none(), "no unread mentions: {entry}");

    // In a room of more than 20, @room needs an owner or admin.
    let big = api.create_room(&ann, "town hall", "public", None).await;
    api.join(big, &ben).await;
    for _ in 0..19 {
        let extra = api.member("crowd").await;
        api.join(big, &extra).await;
    }
    for ws in [&mut a, &mut b] {
        assert!(matches!(ws.subscribe(big).await, ServerFrame::Subscribed { .. }));
    }
    let by_member =
        publish_seen(&mut b, &mut a, json!({"type": "publish", "room": big, "text": "@room hi all"})).await;
    assert!(!by_member.posted.mentions_room, "a member's @room in a big room is text");
    let by_owner =
        publish_seen(&mut a, &mut b, json!({"type": "publish", "room": big, "text": "@room hi all"})).await;
    assert!(by_owner.posted.mentions_room, "the owner's is a mention");
}

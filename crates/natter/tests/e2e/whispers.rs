//! Whispers end to end (two message pods on the distributed stack): a whisper reaches its recipient
//! and the sender's devices, on any pod, and nobody else: not a bystander (an admin, even) live,
//! nor in the room's history, its positions, search, the room list's preview or unread counts; both
//! parties read it back over REST and on resume. Whispers to non-members, to oneself, in a direct
//! chat, with a reply or from someone blocked are refused.

use natter_proto::events::WhisperPosted;
use natter_proto::frames::{ErrorCode, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{Api, Member};
use crate::client::{Ws, answer_to, open};
use crate::stack::Stack;

async fn connect(api: &Api, stack: &Stack, who: &Member, pod: usize, room: i64) -> Ws {
    let mut ws = open(&stack.message_urls[pod], &api.ws_token(who).await, &stack.web_url).await;
    let answer = ws.subscribe(room).await;
    assert!(matches!(answer, ServerFrame::Subscribed { .. }), "{answer:?}");
    ws
}

/// Sends a whisper frame (`extra` fields added); its answer.
async fn whisper(ws: &mut Ws, room: i64, to: i64, text: &str, extra: Value) -> ServerFrame {
    let id = ws.next_id();
    let mut frame = json!({"type": "publish", "id": id, "room": room, "text": text, "whisper_to": to,
        "client_msg_id": format!("w-{id}")});
    for (k, v) in extra.as_object().unwrap() {
        frame[k] = v.clone();
    }
    ws.send_json(frame).await;
    ws.recv_until(|f| match f {
        ServerFrame::Whispered { id: i, .. } if *i == id => Some(f.clone()),
        _ => answer_to(f, &id),
    })
    .await
}

fn refused(frame: &ServerFrame) -> ErrorCode {
    match frame {
        ServerFrame::Error { code, .. } => *code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn whisper_arrives(ws: &mut Ws, text: &str) -> WhisperPosted {
    ws.recv_until(|f| match f {
        ServerFrame::Whisper { whisper } if whisper.text == text => Some(whisper.clone()),
        _ => None,
    })
    .await
}

async fn rest_whispers(api: &Api, who: &Member, room: i64) -> Vec<String> {
    let path = format!("/api/v1/rooms/{room}/whispers");
    let list = api.expect(StatusCode::OK, Method::GET, &path, who, None).await;
    list.as_array().unwrap().iter().map(|w| w["text"].as_str().unwrap().to_owned()).collect()
}

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let (ann, ben, cat, eve) =
        (api.member("ann").await, api.member("ben").await, api.member("cat").await, api.member("eve").await);
    let room = api.create_room(&ann, "whisper corner", "public", None).await;
    for who in [&ben, &cat] {
        api.join(room, who).await;
    }
    api.set_role(room, &ann, &cat, "admin").await;

    let mut ann_ws = connect(&api, &stack, &ann, 0, room).await;
    let mut ann_phone = connect(&api, &stack, &ann, 1, room).await;
    let mut ben_ws = connect(&api, &stack, &ben, 1, room).await;
    let mut cat_ws = connect(&api, &stack, &cat, 0, room).await;
    let first = ann_ws.publish(room, "hello all").await;
    assert!(matches!(first, ServerFrame::Ack { position: 1, .. }), "{first:?}");

    // Ann whispers to Ben: he and Ann's devices get it, on both pods.
    let answer = whisper(&mut ann_ws, room, ben.id, "psst, the demo is at 3", json!({})).await;
    let ServerFrame::Whispered { message_id, after, .. } = answer else {
        panic!("not whispered: {answer:?}")
    };
    assert_eq!(after, 1, "shown after the room's last message");
    for ws in [&mut ben_ws, &mut ann_ws, &mut ann_phone] {
        let seen = whisper_arrives(ws, "psst, the demo is at 3").await;
        assert_eq!((seen.message_id, seen.sender_id, seen.to_id), (message_id, ann.id, ben.id));
        assert_eq!(seen.to_name, ben.username);
    }
    // Ben answers.
    let reply = whisper(&mut ben_ws, room, ann.id, "see you there", json!({})).await;
    assert!(matches!(reply, ServerFrame::Whispered { .. }), "{reply:?}");
    whisper_arrives(&mut ann_phone, "see you there").await;

    // Cat (an admin) sees nothing: the next room message is position 2, with nothing before it.
    let next = ben_ws.publish(room, "lunch?").await;
    assert!(matches!(next, ServerFrame::Ack { position: 2, .. }), "positions have no hole: {next:?}");
    cat_ws.expect_message(room, "lunch?").await;
    let seen_by_cat = cat_ws.drain_backlog();
    assert!(
        !seen_by_cat
            .iter()
            .any(|f| matches!(f, ServerFrame::Whisper { .. }) || format!("{f:?}").contains("psst")),
        "a bystander hears nothing: {seen_by_cat:?}"
    );

    // REST: the two read their whispers back; Cat, Eve and the room's history do not.
    assert_eq!(rest_whispers(&api, &ben, room).await, ["psst, the demo is at 3", "see you there"]);
    assert_eq!(rest_whispers(&api, &ann, room).await, ["psst, the demo is at 3", "see you there"]);
    assert!(rest_whispers(&api, &cat, room).await.is_empty(), "moderators cannot read others' whispers");
    let path = format!("/api/v1/rooms/{room}/whispers");
    api.expect(StatusCode::FORBIDDEN, Method::GET, &path, &eve, None).await;
    let history =
        api.expect(StatusCode::OK, Method::GET, &format!("/api/v1/rooms/{room}/messages"), &cat, None).await;
    let texts: Vec<&str> =
        history.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap_or("")).collect();
    assert!(!history.to_string().contains("psst") && !history.to_string().contains("see you"), "{history}");
    assert_eq!(history.as_array().unwrap().len(), 2, "two room messages: {texts:?}");
    // The room list: the preview is the last room message, and the unread count has no whisper.
    let list = api.expect(StatusCode::OK, Method::GET, "/api/v1/me/rooms", &cat, None).await;
    let entry =
        list["rooms"].as_array().unwrap().iter().find(|r| r["room"]["id"] == json!(room)).unwrap().clone();
    assert!(entry.to_string().contains("lunch?") && !entry.to_string().contains("psst"), "{entry}");
    assert_eq!(entry["unread"], json!(2), "{entry}");
    // The history page shows Ben his whispers in place, and Cat none.
    for (who, sees) in [(&ben, true), (&cat, false)] {
        let browser = crate::client::Browser::new(&stack.web_url);
        assert_eq!(
            browser.log_in(&who.username, "correct horse battery").await.status(),
            StatusCode::SEE_OTHER
        );
        let (status, page) = browser.page(&format!("/rooms/{room}/history")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page.contains("psst, the demo is at 3"), sees, "{}'s history page", who.username);
        if sees {
            let (hello, whisper, lunch) =
                (page.find("hello all").unwrap(), page.find("psst").unwrap(), page.find("lunch?").unwrap());
            assert!(hello < whisper && whisper < lunch, "in place, between the room messages");
            assert!(page.contains("whispers to you"));
        }
    }
    // Search never finds a whisper, for anyone.
    for who in [&ann, &ben, &cat] {
        let hits = api.expect(StatusCode::OK, Method::GET, "/api/v1/search?q=demo", who, None).await;
        assert!(!hits.to_string().contains("psst"), "{hits}");
    }

    // Resume: Ben comes back on pod 0 from position 1 and gets the whispers since.
    let mut ben_again = open(&stack.message_urls[0], &api.ws_token(&ben).await, &stack.web_url).await;
    let id = ben_again.next_id();
    ben_again.send_json(json!({"type": "subscribe", "id": id, "room": room, "since": 1})).await;
    ben_again.expect_message(room, "lunch?").await;
    whisper_arrives(&mut ben_again, "psst, the demo is at 3").await;

    // Refusals.
    let to_outsider = whisper(&mut ann_ws, room, eve.id, "hi eve", json!({})).await;
    assert_eq!(refused(&to_outsider), ErrorCode::Forbidden, "only to a member of the room");
    assert_eq!(
        refused(&whisper(&mut ann_ws, room, ann.id, "me", json!({})).await),
        ErrorCode::InvalidRequest
    );
    let first_id = match first {
        ServerFrame::Ack { message_id, .. } => message_id,
        _ => unreachable!(),
    };
    let with_reply = whisper(&mut ann_ws, room, ben.id, "re", json!({"reply_to": first_id})).await;
    assert_eq!(refused(&with_reply), ErrorCode::InvalidRequest);
    api.expect(StatusCode::NO_CONTENT, Method::PUT, &format!("/api/v1/blocks/{}", ann.username), &ben, None)
        .await;
    let blocked = whisper(&mut ann_ws, room, ben.id, "are you there?", json!({})).await;
    assert_eq!(refused(&blocked), ErrorCode::Forbidden, "not to someone who blocked you");
    let direct = api
        .expect(StatusCode::OK, Method::PUT, &format!("/api/v1/direct/{}", cat.username), &ann, None)
        .await["id"]
        .as_i64()
        .unwrap();
    let mut ann_direct = connect(&api, &stack, &ann, 0, direct).await;
    let in_direct = whisper(&mut ann_direct, direct, cat.id, "hm", json!({})).await;
    assert_eq!(refused(&in_direct), ErrorCode::InvalidRequest, "a direct chat is private already");
}

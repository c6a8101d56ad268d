//! Reactions end to end across two pods: a member reacts (a shortcode of the set is its emoji) and
//! every subscriber, on either pod, gets the new count and who reacted; reacting twice is one
//! reaction; concurrent toggles by two members on two pods converge to the stored state, which
//! history shows with the reader's own reactions marked; observers may react, muted members, people
//! outside the room and bad emoji may not; reactions are rate-limited.

use std::time::Duration;

use natter_proto::frames::{ErrorCode, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api::{Api, Member};
use crate::client::{Ws, answer_to, open};
use crate::stack::Stack;

async fn socket(stack: &Stack, api: &Api, who: &Member, pod: usize, room: i64) -> Ws {
    let mut ws = open(&stack.message_urls[pod], &api.ws_token(who).await, &stack.web_url).await;
    assert!(matches!(ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
    ws
}

/// Sends `react`/`unreact` until history has the message (a moment after its ack); the answer.
async fn react(ws: &mut Ws, room: i64, message_id: Uuid, emoji: &str, added: bool) -> ServerFrame {
    let kind = if added { "react" } else { "unreact" };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let id = ws.next_id();
        ws.send_json(json!({"type": kind, "id": id, "room": room, "message_id": message_id, "emoji": emoji}))
            .await;
        let answer = ws.recv_until(|f| answer_to(f, &id)).await;
        if !matches!(answer, ServerFrame::Error { code: ErrorCode::Unavailable, .. }) {
            return answer;
        }
        assert!(tokio::time::Instant::now() < deadline, "still unavailable: {answer:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The next `reaction_changed` for `emoji`: (count, reactors, member, added).
async fn changed(ws: &mut Ws, emoji: &str) -> (u32, Vec<i64>, i64, bool) {
    ws.recv_until(|f| match f {
        ServerFrame::ReactionChanged { emoji: e, count, reactors, member_id, added, .. } if e == emoji => {
            Some((*count, reactors.clone(), *member_id, *added))
        }
        _ => None,
    })
    .await
}

/// The last `reaction_changed` for `emoji` that arrives before things go quiet for `quiet`.
async fn settled(ws: &mut Ws, emoji: &str, quiet: Duration) -> Option<(u32, Vec<i64>)> {
    ws.frames_within(quiet).await.into_iter().rev().find_map(|f| match f {
        ServerFrame::ReactionChanged { emoji: e, count, reactors, .. } if e == emoji => {
            Some((count, reactors))
        }
        _ => None,
    })
}

/// The reactions of the room's message `message_id` in history as `who` reads it.
async fn history_reactions(api: &Api, who: &Member, room: i64, message_id: Uuid) -> Value {
    let page =
        api.expect(StatusCode::OK, Method::GET, &format!("/api/v1/rooms/{room}/messages"), who, None).await;
    let message = page.as_array().unwrap().iter().find(|m| m["message_id"] == json!(message_id)).cloned();
    message.expect("the message in history")["reactions"].clone()
}

fn refused(answer: &ServerFrame) -> Option<ErrorCode> {
    match answer {
        ServerFrame::Error { code, .. } => Some(*code),
        _ => None,
    }
}

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let (ann, ben, dan) = (api.member("ann").await, api.member("ben").await, api.member("dan").await);
    let room = api.create_room(&ann, "polls", "public", None).await;
    api.join(room, &ben).await;
    api.join(room, &dan).await;
    let mut a = socket(&stack, &api, &ann, 0, room).await;
    let mut b = socket(&stack, &api, &ben, 1, room).await;
    let message_id = match a.publish(room, "lunch at noon?").await {
        ServerFrame::Ack { message_id, .. } => message_id,
        other => panic!("expected an ack, got {other:?}"),
    };

    // Ben reacts on his pod with the set's shortcode: both pods' subscribers get the count.
    assert!(matches!(react(&mut b, room, message_id, ":+1:", true).await, ServerFrame::Ack { .. }));
    assert_eq!(changed(&mut a, "👍").await, (1, vec![ben.id], ben.id, true), "on the other pod");
    assert_eq!(changed(&mut b, "👍").await, (1, vec![ben.id], ben.id, true), "the reacting member too");
    assert!(matches!(react(&mut a, room, message_id, "👍", true).await, ServerFrame::Ack { .. }));
    assert_eq!(changed(&mut b, "👍").await, (2, vec![ann.id, ben.id], ann.id, true), "newest first");
    // Again: one reaction per member, so nothing changes and nobody is told.
    assert!(matches!(react(&mut b, room, message_id, "👍", true).await, ServerFrame::Ack { .. }));
    assert_eq!(settled(&mut a, "👍", Duration::from_millis(1500)).await, Some((2, vec![ann.id, ben.id])));
    assert_eq!(settled(&mut a, "👍", Duration::from_millis(500)).await, None, "no news for a repeat");

    // Concurrent toggles on two pods: Ann ends reacting, Ben ends not; both pods converge on that.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Eight toggles each, alternating, the last one `last`.
    let toggles = |last: bool| -> Vec<Value> {
        (0..8)
            .map(|i| {
                let added = if i % 2 == 0 { !last } else { last };
                let kind = if added { "react" } else { "unreact" };
                json!({"type": kind, "id": format!("t{i}"), "room": room, "message_id": message_id, "emoji": "🎉"})
            })
            .collect()
    };
    let (a_frames, b_frames) = (toggles(true), toggles(false));
    for (fa, fb) in a_frames.into_iter().zip(b_frames) {
        a.send_json(fa).await;
        b.send_json(fb).await;
    }
    for ws in [&mut a, &mut b] {
        for i in 0..8 {
            let answer = ws.recv_until(|f| answer_to(f, &format!("t{i}"))).await;
            assert!(matches!(answer, ServerFrame::Ack { .. }), "{answer:?}");
        }
    }
    let a_sees = settled(&mut a, "🎉", Duration::from_secs(2)).await;
    let b_sees = settled(&mut b, "🎉", Duration::from_millis(500)).await;
    assert_eq!(a_sees, Some((1, vec![ann.id])), "Ann's pod");
    assert_eq!(b_sees, Some((1, vec![ann.id])), "Ben's pod");
    let seen_by_ann = history_reactions(&api, &ann, room, message_id).await;
    assert_eq!(
        seen_by_ann,
        json!([
            {"emoji": "👍", "count": 2, "reactors": [ann.id, ben.id], "mine": true},
            {"emoji": "🎉", "count": 1, "reactors": [ann.id], "mine": true},
        ]),
        "history, most common first"
    );
    let seen_by_ben = history_reactions(&api, &ben, room, message_id).await;
    assert_eq!(seen_by_ben[1]["mine"], json!(false), "{seen_by_ben}");

    // Taking the last one back removes the emoji from the message.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(matches!(react(&mut a, room, message_id, "🎉", false).await, ServerFrame::Ack { .. }));
    assert_eq!(changed(&mut b, "🎉").await, (0, vec![], ann.id, false));

    // Observers may react; muted members may not; bad emoji are refused with the reason.
    api.set_role(room, &ann, &dan, "observer").await;
    let mut d = socket(&stack, &api, &dan, 1, room).await;
    assert!(matches!(react(&mut d, room, message_id, "👀", true).await, ServerFrame::Ack { .. }));
    assert_eq!(changed(&mut a, "👀").await.0, 1);
    let mute = format!("/api/v1/rooms/{room}/members/{}/mute", ben.id);
    let later = now_ms() + 600_000;
    api.expect(StatusCode::NO_CONTENT, Method::PUT, &mute, &ann, Some(json!({"until_ms": later}))).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answer = react(&mut b, room, message_id, "🔥", true).await;
    assert_eq!(refused(&answer), Some(ErrorCode::Forbidden), "muted: {answer:?}");
    for bad in ["🦄", ":Not Valid:", "<b>x</b>", ""] {
        let answer = react(&mut a, room, message_id, bad, true).await;
        assert_eq!(refused(&answer), Some(ErrorCode::InvalidRequest), "{bad:?}: {answer:?}");
    }

    // Rate-limited per connection: a burst beyond ten a second is refused, with a wait.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for i in 0..14 {
        let added = i % 2 == 0;
        let kind = if added { "react" } else { "unreact" };
        a.send_json(json!({"type": kind, "id": format!("burst{i}"), "room": room, "message_id": message_id, "emoji": "🚀"}))
            .await;
    }
    let mut limited = 0;
    for i in 0..14 {
        let answer = a.recv_until(|f| answer_to(f, &format!("burst{i}"))).await;
        limited += usize::from(refused(&answer) == Some(ErrorCode::RateLimited));
    }
    assert!(limited >= 3, "{limited} of 14 refused");
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

//! Calls over the WebSocket protocol, with two message pods on the distributed stack: who is in a
//! room's call reaches every subscriber (and a new subscriber at once, before joining); signals reach
//! only the addressed participant, in order, across pods; non-participants, observers sending media,
//! oversized or misaddressed signals are refused; a kicked member leaves the call at once, a closed
//! connection and (distributed) a killed pod within the presence lease.

use std::time::{Duration, Instant};

use natter_proto::calls::{CallMedia, CallParticipant};
use natter_proto::frames::{ErrorCode, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{Api, Member};
use crate::client::{Ws, open};
use crate::stack::Stack;

const HEARTBEAT_MS: u64 = 300;

/// Short presence heartbeats and sweeps, so a dead pod's lease (three heartbeats) ends quickly.
pub fn settings() -> Vec<(String, String)> {
    [
        ("NATTER_PRESENCE_HEARTBEAT_MS", HEARTBEAT_MS.to_string()),
        ("NATTER_PRESENCE_SWEEP_MS", "100".to_owned()),
    ]
    .map(|(k, v)| (k.to_owned(), v))
    .into()
}

const TALKING: CallMedia = CallMedia { audio: true, video: true, screen: false, muted: false };
const LISTENING: CallMedia = CallMedia { audio: false, video: false, screen: false, muted: false };

async fn connect(api: &Api, stack: &Stack, who: &Member, pod: usize) -> Ws {
    open(&stack.message_urls[pod], &api.ws_token(who).await, &stack.web_url).await
}

async fn subscribed(ws: &mut Ws, room: i64) {
    let answer = ws.subscribe(room).await;
    assert!(matches!(answer, ServerFrame::Subscribed { .. }), "{answer:?}");
}

/// Sends `frame` (with a fresh id) and returns its answer.
async fn request(ws: &mut Ws, mut frame: Value) -> ServerFrame {
    let id = ws.next_id();
    frame["id"] = json!(id);
    ws.send_json(frame).await;
    ws.recv_until(|f| match f {
        ServerFrame::CallJoined { id: i, .. } | ServerFrame::CallLeft { id: i, .. } if *i == id => {
            Some(f.clone())
        }
        ServerFrame::Error { id: Some(i), .. } if *i == id => Some(f.clone()),
        _ => None,
    })
    .await
}

async fn join(ws: &mut Ws, room: i64, media: CallMedia) -> String {
    match request(ws, json!({"type": "call_join", "room": room, "media": media})).await {
        ServerFrame::CallJoined { session, room: r, .. } if r == room => session,
        other => panic!("call_join not answered: {other:?}"),
    }
}

fn refused(frame: &ServerFrame) -> ErrorCode {
    match frame {
        ServerFrame::Error { code, .. } => *code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The first `call_state` of `room` whose sessions are `sessions` (in joining order); the ones
/// before it are passed over, and so is one older than the newest seen (as a client does: the
/// state read for a new subscriber may cross a newer change).
async fn call_state(ws: &mut Ws, room: i64, sessions: &[&str]) -> Vec<CallParticipant> {
    let mut newest = 0;
    ws.recv_until(|f| match f {
        // `recv_until` asks again about a frame it picked from its backlog: the answer must not change.
        ServerFrame::CallState { room: r, version, participants } if *r == room && *version >= newest => {
            let seen: Vec<&str> = participants.iter().map(|p| p.session.as_str()).collect();
            if seen == sessions {
                return Some(participants.clone());
            }
            newest = *version;
            None
        }
        _ => None,
    })
    .await
}

/// Sends a signal; `Some(refusal)` when refused within a moment (accepted ones are not answered).
async fn signal(ws: &mut Ws, room: i64, to: &str, data: Value) -> Option<ErrorCode> {
    let id = ws.next_id();
    ws.send_json(json!({"type": "signal", "id": id, "room": room, "to": to, "data": data})).await;
    // A ping after it: the pod serves one connection's frames in order, so its pong means the signal
    // was served.
    let ping = ws.next_id();
    ws.send_json(json!({"type": "ping", "id": ping})).await;
    ws.recv_until(|f| match f {
        ServerFrame::Error { id: Some(i), code, .. } if *i == id => Some(Some(*code)),
        ServerFrame::Pong { id: i } if *i == ping => Some(None),
        _ => None,
    })
    .await
}

async fn next_signal(ws: &mut Ws, room: i64) -> (String, i64, Value) {
    ws.recv_until(|f| match f {
        ServerFrame::Signal { room: r, from, from_member, data } if *r == room => {
            Some((from.clone(), *from_member, data.clone()))
        }
        _ => None,
    })
    .await
}

pub async fn run(mut stack: Stack) {
    let distributed = stack.kafka.is_some();
    let api = Api::new(&stack.web_url);
    let (ann, ben, cat, obs) =
        (api.member("ann").await, api.member("ben").await, api.member("cat").await, api.member("obs").await);
    let room = api.create_room(&ann, "standup", "public", None).await;
    for who in [&ben, &cat, &obs] {
        api.join(room, who).await;
    }
    api.set_role(room, &ann, &obs, "observer").await;

    // Ann on pod 0, Ben on pod 1.
    let mut ann_ws = connect(&api, &stack, &ann, 0).await;
    let mut ben_ws = connect(&api, &stack, &ben, 1).await;
    subscribed(&mut ann_ws, room).await;
    subscribed(&mut ben_ws, room).await;

    // A call needs a subscription first.
    let mut cat_ws = connect(&api, &stack, &cat, 1).await;
    let early = request(&mut cat_ws, json!({"type": "call_join", "room": room})).await;
    assert_eq!(refused(&early), ErrorCode::NotSubscribed);

    let started = Instant::now();
    let a = join(&mut ann_ws, room, TALKING).await;
    let seen = call_state(&mut ben_ws, room, &[&a]).await;
    println!("calls: a join reached the other pod's subscriber after {:?}", started.elapsed());
    assert_eq!((seen[0].member_id, seen[0].media), (ann.id, TALKING));
    assert_eq!(seen[0].name, ann.username);

    // Cat subscribes afterwards: she is told about the call before joining it.
    subscribed(&mut cat_ws, room).await;
    call_state(&mut cat_ws, room, &[&a]).await;

    let b = join(&mut ben_ws, room, LISTENING).await;
    for ws in [&mut ann_ws, &mut ben_ws, &mut cat_ws] {
        call_state(ws, room, &[&a, &b]).await;
    }

    // Signals cross pods to the addressed participant only, in the order sent.
    for n in 0..20 {
        assert_eq!(signal(&mut ann_ws, room, &b, json!({"n": n})).await, None);
    }
    for n in 0..20 {
        let (from, from_member, data) = next_signal(&mut ben_ws, room).await;
        assert_eq!((from.as_str(), from_member, data), (a.as_str(), ann.id, json!({"n": n})));
    }
    let offer = json!({"description": {"type": "answer", "sdp": "v=0\r\n"}});
    assert_eq!(signal(&mut ben_ws, room, &a, offer.clone()).await, None);
    assert_eq!(next_signal(&mut ann_ws, room).await, (b.clone(), ben.id, offer));

    // Refusals: not in the call, to oneself, too large, too many, observers sending media.
    assert_eq!(signal(&mut cat_ws, room, &a, json!({})).await, Some(ErrorCode::Forbidden));
    assert_eq!(signal(&mut ann_ws, room, &a, json!({})).await, Some(ErrorCode::InvalidRequest));
    let huge = json!({"sdp": "x".repeat(natter_proto::calls::MAX_SIGNAL_BYTES)});
    assert_eq!(signal(&mut ann_ws, room, &b, huge).await, Some(ErrorCode::InvalidRequest));
    // A burst of 100 at once from Cat (refused as not in the call: quick, and each takes a token):
    // beyond the bucket's 50, refused as rate-limited instead.
    let ids: Vec<String> = (0..100).map(|_| cat_ws.next_id()).collect();
    for (n, id) in ids.iter().enumerate() {
        cat_ws
            .send_json(json!({"type": "signal", "id": id, "room": room, "to": a, "data": {"burst": n}}))
            .await;
    }
    let ping = cat_ws.next_id();
    cat_ws.send_json(json!({"type": "ping", "id": ping})).await;
    cat_ws.recv_until(|f| matches!(f, ServerFrame::Pong { id } if *id == ping).then_some(())).await;
    let limited = cat_ws
        .drain_backlog()
        .into_iter()
        .filter(|f| matches!(f, ServerFrame::Error { code: ErrorCode::RateLimited, .. }))
        .count();
    assert!(limited >= 30, "a burst beyond the limit is refused: {limited} of 100");
    let mut obs_ws = connect(&api, &stack, &obs, 0).await;
    subscribed(&mut obs_ws, room).await;
    let talking = request(&mut obs_ws, json!({"type": "call_join", "room": room, "media": TALKING})).await;
    assert_eq!(refused(&talking), ErrorCode::Forbidden, "observers do not send media");
    let o = join(&mut obs_ws, room, LISTENING).await;
    call_state(&mut cat_ws, room, &[&a, &b, &o]).await;
    // Leaving is answered; the others see it.
    let left = request(&mut obs_ws, json!({"type": "call_leave", "room": room})).await;
    assert!(matches!(left, ServerFrame::CallLeft { .. }), "{left:?}");
    call_state(&mut cat_ws, room, &[&a, &b]).await;
    assert_eq!(signal(&mut obs_ws, room, &a, json!({})).await, Some(ErrorCode::Forbidden), "left the call");

    // Ben is kicked: he leaves the call at once, and cannot signal any more.
    let kicked = Instant::now();
    let path = format!("/api/v1/rooms/{room}/members/{}/kick", ben.id);
    api.expect(StatusCode::NO_CONTENT, Method::POST, &path, &ann, None).await;
    call_state(&mut ann_ws, room, &[&a]).await;
    ben_ws
        .recv_until(|f| matches!(f, ServerFrame::Removed { room: r, .. } if *r == room).then_some(()))
        .await;
    println!("calls: a kicked participant left the call after {:?}", kicked.elapsed());
    let after = signal(&mut ben_ws, room, &a, json!({})).await;
    assert_eq!(after, Some(ErrorCode::NotSubscribed), "a kicked member cannot signal");

    // Cat joins on pod 1; Ann's device closes: Cat sees the call without her.
    let c = join(&mut cat_ws, room, TALKING).await;
    call_state(&mut cat_ws, room, &[&a, &c]).await;
    ann_ws.close().await;
    call_state(&mut cat_ws, room, &[&c]).await;

    if !distributed {
        return;
    }
    // Pod 1 dies with Cat's seat: Ann, back on pod 0, sees her leave within the lease.
    let mut ann_ws = connect(&api, &stack, &ann, 0).await;
    subscribed(&mut ann_ws, room).await;
    call_state(&mut ann_ws, room, &[&c]).await;
    let killed = Instant::now();
    stack.kill_message_pod(1).await;
    call_state(&mut ann_ws, room, &[]).await;
    let took = killed.elapsed();
    println!(
        "calls: a killed pod's participant left the call after {took:?} (lease {} ms)",
        3 * HEARTBEAT_MS
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
}

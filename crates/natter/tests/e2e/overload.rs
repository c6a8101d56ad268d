//! A room busier than its subscribers' queues (a burst of large messages, each connection allowed a
//! queue of one frame): a subscriber that reads promptly is never closed. It may skip ahead, and is
//! then told exactly which positions to fetch from history (`reload_history`); live messages and
//! those ranges together cover every message once. A subscriber that stops reading altogether is
//! cut off by the write deadline, so memory stays bounded.
//!
//! Bounded and deterministic in what it asserts (a burst, not a timed benchmark): nothing depends on
//! how often the prompt reader had to skip.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::future::join_all;
use natter_proto::frames::ServerFrame;
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::api::Api;
use crate::client::{Ws, answer_to, open};
use crate::stack::Stack;

/// Publishing connections and messages each: 1,600 messages of 12 KB (19 MB), several times what
/// the stalled reader's socket buffers hold (up to 4 MB for the server's send buffer on loopback, 4 KB
/// to receive), even though it skips most of them too.
const PUBLISHERS: usize = 4;
const EACH: usize = 400;
/// Three bytes each in UTF-8: 12 KB per message, within the 4,000-character limit.
const TEXT_CHARS: usize = 4000;
/// Further bursts (of this many messages) at most while waiting for the stalled reader's cut-off.
const MORE_ROUNDS: usize = 20;
const MORE_EACH: usize = 100;

pub fn settings() -> Vec<(String, String)> {
    [
        ("NATTER_OUTBOUND_QUEUE", "1"),
        ("NATTER_WRITE_STALL_MS", "1000"),
        ("NATTER_MAX_FRAME_BYTES", "65536"),
        ("NATTER_PUBLISH_RATE_PER_CONNECTION", "0"),
        ("NATTER_PUBLISH_RATE_PER_MEMBER", "0"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect()
}

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let ann = api.member("ann").await;
    let (ben, cat) = (api.member("ben").await, api.member("cat").await);
    let room = api.create_room(&ann, "busy", "public", None).await;
    api.join(room, &ben).await;
    api.join(room, &cat).await;
    let url = &stack.message_urls[0];

    let mut prompt = open(url, &api.ws_token(&ben).await, &stack.web_url).await;
    assert!(matches!(prompt.subscribe(room).await, ServerFrame::Subscribed { .. }));
    let _stalled = stalled_reader(url, &api.ws_token(&cat).await, &stack.web_url, room).await;

    let mut publishers = Vec::new();
    for _ in 0..PUBLISHERS {
        let mut ws = open(url, &api.ws_token(&ann).await, &stack.web_url).await;
        assert!(matches!(ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
        publishers.push(ws);
    }
    let reading = tokio::spawn(read_until_quiet(prompt));
    let started = std::time::Instant::now();
    let positions: Vec<i64> = join_all(publishers.iter_mut().map(|ws| burst(ws, room, EACH))).await.concat();
    let burst_took = started.elapsed();
    // One publisher stays to keep the room busy later; the others go (unread, they would stall).
    let mut pusher = publishers.pop().expect("a publisher");
    for ws in publishers {
        ws.close().await;
    }
    let last = *positions.iter().max().expect("acked");
    let (mut prompt, live, reloads) = reading.await.unwrap();

    // Every message once: live, or in a range the server named.
    let mut covered = BTreeSet::new();
    for position in &live {
        assert!(covered.insert(*position), "position {position} delivered twice");
    }
    for &(after, up_to) in &reloads {
        for position in after + 1..=up_to {
            assert!(covered.insert(position), "position {position} both live and skipped");
        }
    }
    let expected: BTreeSet<i64> = positions.iter().copied().collect();
    assert_eq!(covered.range(..=last).copied().collect::<BTreeSet<_>>(), expected, "every message once");
    eprintln!(
        "overload: {} messages acked in {burst_took:.1?}; the prompt reader got {} live and skipped {} in {} \
         reload_history notices",
        positions.len(),
        live.len(),
        covered.len() - live.len(),
        reloads.len()
    );
    // Still open: it answers, and the room's next message arrives live.
    let id = prompt.next_id();
    prompt.send_json(json!({"type": "ping", "id": id})).await;
    prompt.recv_until(|f| answer_to(f, &id)).await;

    drop(prompt);

    // The reader that stopped reading is cut off by the write deadline once the buffers between it
    // and the pod are full. How much that takes depends on how much of the burst it skipped (timing),
    // so the room stays busy, a bounded number of rounds, until it is.
    for round in 0..=MORE_ROUNDS {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while tokio::time::Instant::now() < deadline {
            if stalled_closed(&stack, url).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(round < MORE_ROUNDS, "the stalled reader is still connected after {MORE_ROUNDS} more bursts");
        burst(&mut pusher, room, MORE_EACH).await;
    }
}

/// Whether the pod has cut a connection off for not reading.
async fn stalled_closed(stack: &Stack, message_url: &str) -> bool {
    let metrics_url = format!("{}/internal/metrics", message_url.replace("ws://", "http://"));
    let text = reqwest::Client::new()
        .get(&metrics_url)
        .bearer_auth(&stack.internal_token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    counter(&text, "natter_stalled_connections_closed_total") >= 1.0
}

fn counter(exposition: &str, name: &str) -> f64 {
    exposition
        .lines()
        .filter(|line| line.starts_with(name))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

/// Publishes `count` large messages without waiting in between, then collects their positions.
async fn burst(ws: &mut Ws, room: i64, count: usize) -> Vec<i64> {
    let text = "한".repeat(TEXT_CHARS);
    let mut ids = Vec::new();
    for _ in 0..count {
        let id = ws.next_id();
        ws.send_json(json!({"type": "publish", "id": id, "room": room, "text": text})).await;
        ids.push(id);
    }
    let mut positions = Vec::new();
    for id in ids {
        match ws.recv_until(|f| answer_to(f, &id)).await {
            ServerFrame::Ack { position, .. } => positions.push(position),
            other => panic!("publish refused: {other:?}"),
        }
    }
    positions
}

/// Reads every frame until the room has been quiet for two seconds: the live positions and the
/// skipped ranges (`after`, `up_to`).
async fn read_until_quiet(mut ws: Ws) -> (Ws, Vec<i64>, Vec<(i64, i64)>) {
    let (mut live, mut reloads) = (Vec::new(), Vec::new());
    let started = tokio::time::Instant::now();
    let mut last_heard = started;
    loop {
        let frames = ws.frames_within(Duration::from_millis(250)).await;
        if frames.is_empty() {
            // Generous before the first frame: the burst takes a moment to start.
            let quiet = if live.is_empty() && reloads.is_empty() { 20 } else { 2 };
            if last_heard.elapsed() > Duration::from_secs(quiet) {
                return (ws, live, reloads);
            }
            continue;
        }
        last_heard = tokio::time::Instant::now();
        for frame in frames {
            match frame {
                ServerFrame::Message { message } => live.push(message.position),
                ServerFrame::ReloadHistory { after, up_to, .. } => reloads.push((after, up_to)),
                _ => {}
            }
        }
    }
}

/// A subscriber with a 4 KB receive buffer that subscribes and then never reads again.
async fn stalled_reader(
    message_url: &str,
    token: &str,
    origin: &str,
    room: i64,
) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let address = message_url.trim_start_matches("ws://").parse().expect("host:port");
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(address).await.unwrap();
    let mut request = format!("{message_url}/ws").into_client_request().unwrap();
    let protocols = format!("natter.v1, natter.token.{token}");
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_str(&protocols).unwrap());
    request.headers_mut().insert("Origin", HeaderValue::from_str(origin).unwrap());
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream).await.expect("handshake");
    let subscribe = json!({"type": "subscribe", "id": "s1", "room": room}).to_string();
    ws.send(Message::text(subscribe)).await.unwrap();
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Text(text) = message
            && text.contains("\"subscribed\"")
        {
            return ws;
        }
    }
    panic!("the stalled reader could not subscribe");
}

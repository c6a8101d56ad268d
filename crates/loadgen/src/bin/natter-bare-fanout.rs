//! `natter-bare-fanout`: the baseline Natter's fan-out is measured against. A bare tokio WebSocket
//! broadcast server speaking just enough of Natter's protocol for `natter-loadgen --bare`: `subscribe`
//! is answered `subscribed`, `publish` gets the next position of its room, one `message` frame of the
//! same shape as Natter's (serialised once, shared by every subscriber) and an `ack`. No accounts, no
//! authorisation, no storage, no bus: what is left is the cost of the WebSocket fan-out itself.
//!
//! Each connection has a bounded queue of 256 frames (as Natter's default); a frame that finds it full
//! is dropped, so a slow reader never slows the room. One task per connection reads and writes; the
//! frames queued when it gets to write go out in one write. One thread (a current-thread runtime): the
//! benchmark pins the server to one core anyway.
//!
//! Prints `natter bare: message=ws://127.0.0.1:PORT` once listening (port 0 picks a free one).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

const QUEUE: usize = 256;

#[derive(Default)]
struct Rooms {
    subscribers: RwLock<HashMap<i64, HashMap<u64, mpsc::Sender<Utf8Bytes>>>>,
    positions: Mutex<HashMap<i64, i64>>,
    next_connection: AtomicU64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("natter bare: message=ws://{}", listener.local_addr()?);
    let rooms = Arc::new(Rooms::default());
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(stream, Arc::clone(&rooms)));
    }
}

async fn serve(stream: TcpStream, rooms: Arc<Rooms>) {
    // A small read buffer: tungstenite zeroes its whole read buffer (128 KiB by default) before each
    // read, which cost more than everything else together with a thousand idle-reading connections.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let Ok(socket) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await else { return };
    let (mut sink, mut incoming) = socket.split();
    let id = rooms.next_connection.fetch_add(1, Ordering::Relaxed);
    let (queue, mut queued) = mpsc::channel::<Utf8Bytes>(QUEUE);
    let mut joined = Vec::new();
    'serving: loop {
        tokio::select! {
            Some(frame) = queued.recv() => {
                if sink.feed(Message::Text(frame)).await.is_err() { break }
                while let Ok(frame) = queued.try_recv() {
                    if sink.feed(Message::Text(frame)).await.is_err() { break 'serving }
                }
                if sink.flush().await.is_err() { break }
            }
            message = incoming.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let Some(answer) = answer(&text, id, &queue, &rooms, &mut joined) else { continue };
                    if sink.send(Message::text(answer)).await.is_err() { break }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    let mut subscribers = rooms.subscribers.write().unwrap_or_else(|e| e.into_inner());
    for room in joined {
        if let Some(room) = subscribers.get_mut(&room) {
            room.remove(&id);
        }
    }
}

/// Serves one request; the answer to send back, if any.
fn answer(
    text: &str,
    connection: u64,
    queue: &mpsc::Sender<Utf8Bytes>,
    rooms: &Rooms,
    joined: &mut Vec<i64>,
) -> Option<String> {
    let request: serde_json::Value = serde_json::from_str(text).ok()?;
    let id = request["id"].as_str().unwrap_or_default();
    let room = request["room"].as_i64()?;
    match request["type"].as_str()? {
        "subscribe" => {
            let mut subscribers = rooms.subscribers.write().unwrap_or_else(|e| e.into_inner());
            subscribers.entry(room).or_default().insert(connection, queue.clone());
            joined.push(room);
            Some(json!({"type": "subscribed", "id": id, "room": room}).to_string())
        }
        "publish" => {
            let position = {
                let mut positions = rooms.positions.lock().unwrap_or_else(|e| e.into_inner());
                let next = positions.entry(room).or_default();
                *next += 1;
                *next
            };
            let message_id = uuid::Uuid::now_v7();
            let frame = Utf8Bytes::from(
                json!({"type": "message", "message": {
                    "message_id": message_id, "room_id": room, "sender_id": 1, "sender_name": "bare",
                    "text": request["text"], "client_msg_id": request["client_msg_id"],
                    "sent_at_ms": 0, "position": position,
                }})
                .to_string(),
            );
            let subscribers = rooms.subscribers.read().unwrap_or_else(|e| e.into_inner());
            for subscriber in subscribers.get(&room).into_iter().flat_map(HashMap::values) {
                let _ = subscriber.try_send(frame.clone());
            }
            Some(
                json!({"type": "ack", "id": id, "room": room, "message_id": message_id, "position": position})
                    .to_string(),
            )
        }
        _ => None,
    }
}

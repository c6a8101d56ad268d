//! A checker for the delivery guarantees under churn: publishers on both pods send 10,000 messages
//! (idempotently, retrying in-flight publishes on the other pod after dropping their socket) into a few
//! rooms while subscribers drop their sockets at random moments and come back to a random pod with
//! `since`. Then: every acked message reached every subscriber exactly once, in the same order
//! everywhere (positions strictly grow, the same sequence for all), nothing unacked arrived, and
//! history holds every acked message at its position.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::{join_all, select_all};
use futures_util::{SinkExt, StreamExt};
use natter_proto::frames::{ErrorCode, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{Barrier, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::api::{Api, Member};
use crate::stack::Stack;

/// How many messages, unless `NATTER_CHECKER_MESSAGES` says otherwise: 10,000 on both stacks (about
/// 30 s on the distributed one, idle; the history writers store in batches).
fn messages() -> usize {
    std::env::var("NATTER_CHECKER_MESSAGES").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000)
}
const ROOMS: usize = 3;
const PUBLISHERS: usize = 4;
const SUBSCRIBERS: usize = 4;
/// Publishes a publisher keeps in flight.
const WINDOW: usize = 16;
/// How long subscribers (and then history) may take, once everything is acked, to catch up; 180 s
/// unless `NATTER_CHECKER_CATCH_UP_SECS` says otherwise.
fn catch_up() -> Duration {
    let secs = std::env::var("NATTER_CHECKER_CATCH_UP_SECS").ok().and_then(|n| n.parse().ok());
    Duration::from_secs(secs.unwrap_or(180))
}
/// No frame at all for this long on a busy connection is a failure.
const SILENCE: Duration = Duration::from_secs(15);

/// A tiny seeded xorshift generator: reproducible churn without a new crate.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

/// A bare WebSocket to a message pod that reports a close or an error instead of failing, so the
/// checker can reconnect the way a client does.
struct Conn {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Conn {
    async fn open(message_url: &str, token: &str, origin: &str) -> Conn {
        let mut request = format!("{message_url}/ws").into_client_request().unwrap();
        let headers = request.headers_mut();
        let protocols = format!("natter.v1, natter.token.{token}");
        headers.insert("Sec-WebSocket-Protocol", HeaderValue::from_str(&protocols).unwrap());
        headers.insert("Origin", HeaderValue::from_str(origin).unwrap());
        let connected = tokio::time::timeout(SILENCE, tokio_tungstenite::connect_async(request)).await;
        let (socket, _) = connected.expect("the WebSocket handshake finishes in time").expect("connected");
        Conn { socket }
    }

    /// `false` when the connection is gone.
    async fn send(&mut self, frame: Value) -> bool {
        matches!(
            tokio::time::timeout(SILENCE, self.socket.send(Message::text(frame.to_string()))).await,
            Ok(Ok(()))
        )
    }

    /// The next frame; `None` when the connection closed or failed. Cancel-safe.
    async fn next(&mut self) -> Option<ServerFrame> {
        loop {
            match self.socket.next().await? {
                Ok(Message::Text(text)) => {
                    return Some(serde_json::from_str(&text).expect("server frames parse"));
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }
}

/// A connection of `who` to pod `pod`, subscribed to `rooms` (with `since` per room when given).
async fn connect(
    stack: &Stack,
    api: &Api,
    who: &Member,
    pod: usize,
    rooms: &[i64],
    since: impl Fn(i64) -> Option<i64>,
) -> Conn {
    let token = api.ws_token(who).await;
    let mut conn = Conn::open(&stack.message_urls[pod], &token, &stack.web_url).await;
    for (index, &room) in rooms.iter().enumerate() {
        let mut frame = json!({"type": "subscribe", "id": format!("s{index}"), "room": room});
        if let Some(since) = since(room) {
            frame["since"] = json!(since);
        }
        assert!(conn.send(frame).await, "{}: subscribe sent", who.username);
    }
    conn
}

/// What one publisher got acked: client message id → (room, position, message id).
type Acks = HashMap<String, (i64, i64, String)>;

struct Published {
    acks: Acks,
    reconnects: usize,
    retries: usize,
}

async fn publisher(
    stack: Arc<Stack>,
    api: Api,
    who: Member,
    index: usize,
    rooms: Vec<i64>,
    count: usize,
) -> Published {
    let mut rng = Rng::new(1000 + index as u64);
    let mut pending: VecDeque<(String, i64, String)> = (0..count)
        .map(|n| (format!("k{index}-{n}"), rooms[rng.next() as usize % rooms.len()], format!("p{index}-{n}")))
        .collect();
    let mut inflight: HashMap<String, (String, i64, String)> = HashMap::new();
    let mut acks = Acks::new();
    let (mut reconnects, mut retries, mut next_request) = (0, 0, 0u64);
    let mut pod = index % 2;
    let mut conn = connect(&stack, &api, &who, pod, &rooms, |_| None).await;
    let mut subscribed = 0;
    let mut drop_after = rng.between(300, 1500) as usize;
    while acks.len() < count {
        let mut alive = true;
        while subscribed == rooms.len() && inflight.len() < WINDOW && alive {
            let Some((cmid, room, text)) = pending.pop_front() else { break };
            next_request += 1;
            let id = format!("p{next_request}");
            let frame =
                json!({"type": "publish", "id": id, "room": room, "text": text, "client_msg_id": cmid});
            inflight.insert(id, (cmid, room, text));
            alive = conn.send(frame).await;
        }
        let frame = if alive {
            tokio::time::timeout(SILENCE, conn.next()).await.unwrap_or_else(|_| {
                panic!(
                    "publisher {index}: nothing from pod {pod} in {SILENCE:?} with {} in flight",
                    inflight.len()
                )
            })
        } else {
            None
        };
        match frame {
            Some(ServerFrame::Subscribed { .. }) => subscribed += 1,
            Some(ServerFrame::Ack { id, room, message_id, position }) => {
                let (cmid, sent_room, _) = inflight.remove(&id).expect("an ack answers a publish in flight");
                assert_eq!(room, sent_room, "publisher {index}: ack of {cmid} names another room");
                let ack = (room, position, message_id.to_string());
                if let Some(earlier) = acks.insert(cmid.clone(), ack.clone()) {
                    assert_eq!(earlier, ack, "publisher {index}: {cmid} acked twice, differently");
                }
                drop_after = drop_after.saturating_sub(1);
            }
            Some(ServerFrame::Error { id: Some(id), code: ErrorCode::Unavailable, .. })
                if inflight.contains_key(&id) =>
            {
                // Retry with the same client message id.
                retries += 1;
                pending.push_front(inflight.remove(&id).unwrap());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Some(ServerFrame::Error { id, code, detail, .. }) => {
                panic!("publisher {index}: error {code:?} for {id:?}: {detail}")
            }
            Some(ServerFrame::ReloadHistory { .. } | ServerFrame::Removed { .. }) => {
                panic!("publisher {index}: unexpected {frame:?}")
            }
            Some(_) => {}
            None => drop_after = 0,
        }
        if drop_after == 0 && acks.len() < count {
            // Gone, or dropped on purpose with publishes in flight: retry those on the other pod.
            let mut unanswered: Vec<_> = inflight.drain().collect();
            unanswered.sort_by_key(|(id, _)| std::cmp::Reverse(id[1..].parse::<u64>().unwrap()));
            for (_, publish) in unanswered {
                pending.push_front(publish);
            }
            drop(conn);
            reconnects += 1;
            pod = 1 - pod;
            conn = connect(&stack, &api, &who, pod, &rooms, |_| None).await;
            subscribed = 0;
            drop_after = rng.between(300, 1500) as usize;
        }
    }
    drop(conn);
    Published { acks, reconnects, retries }
}

/// What a subscriber saw, in order.
enum Seen {
    Message {
        room: i64,
        position: i64,
        message_id: String,
    },
    /// Came back on `pod` (subscribing with `since` per room).
    Reconnected {
        pod: usize,
        since: BTreeMap<i64, i64>,
        closed_by_server: bool,
    },
    /// Told to reload `room` after `since`: the messages after this came from history up to (not
    /// including) `first_live`, then from the live stream.
    Reloaded {
        room: i64,
        since: i64,
        first_live: Option<i64>,
    },
}

struct Subscribed {
    seen: Vec<Seen>,
    reconnects: usize,
    server_closes: usize,
    reloads: usize,
}

/// A room being reloaded from history after `reload_history`: live messages wait until history holds
/// the first of them.
struct Reload {
    since: i64,
    live: Vec<(i64, String)>,
}

/// The room's messages after `since` that history holds now, oldest first: (position, message id).
async fn history_after(api: &Api, room: i64, who: &Member, since: i64) -> Vec<(i64, String)> {
    let mut all = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let page = history_page(api, room, who, before, 200).await;
        let Some(first) = page.first() else { break };
        before = Some(first.0);
        let done = first.0 <= since;
        let mut chunk: Vec<(i64, String)> = page.into_iter().filter(|(p, _)| *p > since).collect();
        chunk.append(&mut all);
        all = chunk;
        if done {
            break;
        }
    }
    all
}

async fn history_page(
    api: &Api,
    room: i64,
    who: &Member,
    before: Option<i64>,
    limit: u32,
) -> Vec<(i64, String)> {
    let mut path = format!("/api/v1/rooms/{room}/messages?limit={limit}");
    if let Some(before) = before {
        path.push_str(&format!("&before={before}"));
    }
    let page = api.expect(StatusCode::OK, Method::GET, &path, who, None).await;
    let page = page.as_array().cloned().expect("history is an array");
    page.iter()
        .map(|m| (m["position"].as_i64().unwrap(), m["message_id"].as_str().unwrap().to_owned()))
        .collect()
}

type Targets = Option<(HashMap<i64, i64>, tokio::time::Instant)>;

async fn subscriber(
    stack: Arc<Stack>,
    api: Api,
    who: Member,
    index: usize,
    rooms: Vec<i64>,
    ready: Arc<Barrier>,
    mut targets: watch::Receiver<Targets>,
) -> Subscribed {
    let mut rng = Rng::new(2000 + index as u64);
    let mut last: HashMap<i64, i64> = HashMap::new();
    let mut seen = Vec::new();
    let (mut reconnects, mut server_closes, mut reloads) = (0, 0, 0);
    let mut reloading: HashMap<i64, Reload> = HashMap::new();
    let mut last_reload_try = Instant::now();
    let mut pod = index % 2;
    let mut conn = connect(&stack, &api, &who, pod, &rooms, |_| None).await;
    let mut subscribed = 0;
    while subscribed < rooms.len() {
        match tokio::time::timeout(SILENCE, conn.next()).await.expect("subscribed in time") {
            Some(ServerFrame::Subscribed { .. }) => subscribed += 1,
            // Rooms subscribed first are live while the rest are answered: others coming online
            // is news there already. No message can come yet (nobody publishes before `ready`).
            Some(ServerFrame::Presence { .. }) => {}
            other => panic!("subscriber {index}: expected subscribed, got {other:?}"),
        }
    }
    ready.wait().await;
    let mut drop_after = rng.between(300, 1500);
    let mut last_frame = Instant::now();
    loop {
        let goal = targets.borrow().clone();
        if let Some((goal, deadline)) = &goal {
            if reloading.is_empty()
                && goal.iter().all(|(room, position)| last.get(room).is_some_and(|l| l >= position))
            {
                break;
            }
            if tokio::time::Instant::now() > *deadline {
                let mut newest = BTreeMap::new();
                for room in &rooms {
                    newest.insert(
                        *room,
                        history_page(&api, *room, &who, None, 1).await.last().map(|(p, _)| *p),
                    );
                }
                eprintln!(
                    "subscriber {index}: gave up catching up: last {last:?}, goal {goal:?}, reloading {:?}, \
                     newest in history {newest:?}",
                    reloading
                        .iter()
                        .map(|(r, l)| (*r, l.since, l.live.first().map(|m| m.0)))
                        .collect::<Vec<_>>()
                );
                break;
            }
        }
        if !reloading.is_empty() && last_reload_try.elapsed() > Duration::from_secs(1) {
            // History holds a room's messages in order: once it holds the first live message (or,
            // with no live message yet, the last acked one), it holds everything before.
            let rooms_reloading: Vec<i64> = reloading.keys().copied().collect();
            for room in rooms_reloading {
                let reload = &reloading[&room];
                let first_live = reload.live.first().map(|(p, _)| *p);
                let Some(need) = first_live.or_else(|| goal.as_ref().map(|(g, _)| g[&room])) else {
                    continue;
                };
                if need > reload.since {
                    // The newest stored message at or before `need`, cheaply.
                    let newest = history_page(&api, room, &who, Some(need + 1), 1).await;
                    if newest.last().is_none_or(|(p, _)| *p < need) {
                        continue;
                    }
                }
                let stored = history_after(&api, room, &who, reload.since).await;
                let reload = reloading.remove(&room).unwrap();
                seen.push(Seen::Reloaded { room, since: reload.since, first_live });
                let from_history = stored.into_iter().filter(|(p, _)| first_live.is_none_or(|f| *p < f));
                for (position, message_id) in from_history.chain(reload.live) {
                    last.insert(room, position);
                    seen.push(Seen::Message { room, position, message_id });
                }
            }
            last_reload_try = Instant::now();
        }
        let mut closed_by_server = false;
        tokio::select! {
            frame = conn.next() => {
                last_frame = Instant::now();
                match frame {
                    Some(ServerFrame::Message { message }) => {
                        let room = message.posted.room_id;
                        assert!(rooms.contains(&room), "subscriber {index}: a message of room {room}");
                        let (position, message_id) = (message.position, message.posted.message_id.to_string());
                        if let Some(reload) = reloading.get_mut(&room) {
                            reload.live.push((position, message_id));
                        } else {
                            last.insert(room, position);
                            seen.push(Seen::Message { room, position, message_id });
                        }
                        if reloading.is_empty() {
                            drop_after = drop_after.saturating_sub(1);
                        }
                    }
                    Some(ServerFrame::Subscribed { .. }) => {}
                    Some(ServerFrame::ReloadHistory { room, after: since, .. }) => {
                        reloads += 1;
                        if let Some(reload) = reloading.get_mut(&room) {
                            // Skipped ahead again while still reloading: the new gap follows the
                            // last live message held (history will hold it all), so the reload from
                            // the first `since` covers both; live messages start after the new gap.
                            let held_last = reload.live.last().map_or(reload.since, |(p, _)| *p);
                            assert!(since >= held_last, "subscriber {index}: reload_history goes back");
                            reload.live.clear();
                        } else {
                            assert_eq!(Some(&since), last.get(&room), "subscriber {index}: reload_history since");
                            reloading.insert(room, Reload { since, live: Vec::new() });
                        }
                    }
                    // A subscribe the pod could not check right now (web busy): the protocol says
                    // retry, so reconnect and resubscribe from the last position.
                    Some(ServerFrame::Error { code: ErrorCode::Unavailable, .. }) => {
                        closed_by_server = true;
                        server_closes += 1;
                    }
                    Some(other @ (ServerFrame::Error { .. } | ServerFrame::Removed { .. })) => {
                        panic!("subscriber {index}: {other:?} on pod {pod}")
                    }
                    Some(_) => {}
                    None => {
                        closed_by_server = true;
                        server_closes += 1;
                    }
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(300)) => {
                // While publishing goes on, silence means a stuck connection.
                let publishing = goal.is_none();
                assert!(!publishing || last_frame.elapsed() < SILENCE, "subscriber {index}: nothing from pod {pod} in {SILENCE:?}");
            }
            _ = targets.changed() => {}
        }
        if drop_after == 0 || closed_by_server {
            drop(conn);
            reconnects += 1;
            // A reload in progress is dropped with the connection; the next one resumes from `last`.
            reloading.clear();
            pod = rng.next() as usize % 2;
            let since: BTreeMap<i64, i64> =
                rooms.iter().map(|r| (*r, last.get(r).copied().unwrap_or(-1))).collect();
            seen.push(Seen::Reconnected { pod, since: since.clone(), closed_by_server });
            conn = connect(&stack, &api, &who, pod, &rooms, |room| Some(since[&room])).await;
            last_frame = Instant::now();
            drop_after = rng.between(300, 1500);
        }
    }
    drop(conn);
    Subscribed { seen, reconnects, server_closes, reloads }
}

/// At most a few items, for messages.
fn some<T: std::fmt::Debug>(items: &[T]) -> String {
    format!("{} e.g. {:?}", items.len(), &items[..items.len().min(5)])
}

pub async fn run(stack: Stack) {
    let total = messages();
    let started = Instant::now();
    let stack = Arc::new(stack);
    let api = Api::new(&stack.web_url);
    let names: Vec<String> = std::iter::once("own".to_owned())
        .chain((0..PUBLISHERS).map(|i| format!("pub{i}")))
        .chain((0..SUBSCRIBERS).map(|i| format!("sub{i}")))
        .collect();
    let members = join_all(names.iter().map(|n| api.member(n))).await;
    let owner = members[0].clone();
    let mut rooms = Vec::new();
    for r in 0..ROOMS {
        rooms.push(api.create_room(&owner, &format!("checker{r}"), "public", None).await);
    }
    join_all(members[1..].iter().flat_map(|m| rooms.iter().map(|r| api.join(*r, m)))).await;
    let publishers = &members[1..=PUBLISHERS];
    let subscribers = &members[PUBLISHERS + 1..];

    let ready = Arc::new(Barrier::new(SUBSCRIBERS + 1));
    let (set_targets, targets) = watch::channel(None);
    let mut subscribing: Vec<_> = subscribers
        .iter()
        .enumerate()
        .map(|(i, who)| {
            let task = subscriber(
                stack.clone(),
                api.clone(),
                who.clone(),
                i,
                rooms.clone(),
                ready.clone(),
                targets.clone(),
            );
            tokio::spawn(task)
        })
        .collect();
    // A subscriber that fails before the barrier would leave everyone waiting at it forever.
    tokio::select! {
        _ = ready.wait() => {}
        (ended, index, _) = select_all(subscribing.iter_mut()) => match ended {
            Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
            Err(failed) => panic!("subscriber {index} ended before subscribing: {failed}"),
            Ok(_) => panic!("subscriber {index} ended before subscribing"),
        },
    }
    let publish_start = Instant::now();
    let publishing: Vec<_> = publishers
        .iter()
        .enumerate()
        .map(|(i, who)| {
            let count = total / PUBLISHERS + usize::from(i < total % PUBLISHERS);
            tokio::spawn(publisher(stack.clone(), api.clone(), who.clone(), i, rooms.clone(), count))
        })
        .collect();
    let published: Vec<Published> = join_all(publishing).await.into_iter().map(|r| r.unwrap()).collect();
    let publish_time = publish_start.elapsed();
    eprintln!("checker: all {total} acked after {publish_time:.1?}");

    // Every ack: room → position → message id.
    let mut acked: HashMap<i64, BTreeMap<i64, String>> =
        rooms.iter().map(|r| (*r, BTreeMap::new())).collect();
    for (room, position, message_id) in published.iter().flat_map(|p| p.acks.values()) {
        let earlier = acked.get_mut(room).unwrap().insert(*position, message_id.clone());
        assert!(earlier.is_none(), "two acks name position {position} of room {room}");
    }
    assert_eq!(acked.values().map(BTreeMap::len).sum::<usize>(), total, "one ack per message");
    for (room, positions) in &acked {
        let consecutive = positions.keys().copied().eq(1..=positions.len() as i64);
        assert!(consecutive, "room {room}: acked positions are not 1..={}", positions.len());
    }
    let goal: HashMap<i64, i64> =
        acked.iter().map(|(room, positions)| (*room, *positions.keys().last().unwrap())).collect();
    set_targets.send(Some((goal, tokio::time::Instant::now() + catch_up()))).unwrap();
    let subscribed: Vec<Subscribed> = join_all(subscribing).await.into_iter().map(|r| r.unwrap()).collect();

    for (index, sub) in subscribed.iter().enumerate() {
        for room in &rooms {
            let expected = &acked[room];
            let mut got: Vec<(i64, &str)> = Vec::new();
            let mut context = String::from("first connection");
            for seen in &sub.seen {
                match seen {
                    Seen::Reconnected { pod, since, closed_by_server } => {
                        context = format!(
                            "after reconnecting to pod {pod} since {} (closed by server: {closed_by_server})",
                            since[room]
                        );
                    }
                    Seen::Reloaded { room: r, since, first_live } if r == room => {
                        context =
                            format!("after reload_history since {since}, first live message {first_live:?}");
                    }
                    Seen::Reloaded { .. } => {}
                    Seen::Message { room: r, position, message_id } if r == room => {
                        if let Some((previous, _)) = got.last() {
                            assert!(
                                position > previous,
                                "subscriber {index}, room {room}: position {position} after {previous} ({}; {context})",
                                if position == previous { "duplicate" } else { "out of order" },
                            );
                        }
                        match expected.get(position) {
                            Some(id) => assert_eq!(
                                id, message_id,
                                "subscriber {index}, room {room}: another message at position {position} ({context})"
                            ),
                            None => panic!(
                                "subscriber {index}, room {room}: position {position} was never acked ({context})"
                            ),
                        }
                        got.push((*position, message_id));
                    }
                    Seen::Message { .. } => {}
                }
            }
            let delivered: std::collections::HashSet<i64> = got.iter().map(|(p, _)| *p).collect();
            let missing: Vec<i64> = expected.keys().filter(|p| !delivered.contains(p)).copied().collect();
            assert!(
                missing.is_empty(),
                "subscriber {index}, room {room}: acked but not delivered: {}",
                some(&missing)
            );
        }
    }

    let deadline = Instant::now() + catch_up();
    for room in &rooms {
        let expected: Vec<(i64, String)> = acked[room].iter().map(|(p, id)| (*p, id.clone())).collect();
        loop {
            let stored = history_after(&api, *room, &owner, -1).await;
            if stored == expected {
                break;
            }
            if Instant::now() > deadline {
                let missing: Vec<_> = expected.iter().filter(|m| !stored.contains(m)).collect();
                let extra: Vec<_> = stored.iter().filter(|m| !expected.contains(m)).collect();
                panic!("room {room}: history differs: missing {}, extra {}", some(&missing), some(&extra));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    eprintln!(
        "checker: {total} messages in {ROOMS} rooms published in {publish_time:.1?} \
         ({} publisher reconnects, {} unavailable retries), delivered to {SUBSCRIBERS} subscribers \
         ({} reconnects, {} closed by the server, {} reload_history); {:.1?} in all",
        published.iter().map(|p| p.reconnects).sum::<usize>(),
        published.iter().map(|p| p.retries).sum::<usize>(),
        subscribed.iter().map(|s| s.reconnects).sum::<usize>(),
        subscribed.iter().map(|s| s.server_closes).sum::<usize>(),
        subscribed.iter().map(|s| s.reloads).sum::<usize>(),
        started.elapsed(),
    );
}

//! Graceful drain: SIGTERM on a message pod while messages flow. Its clients get the answers to what
//! the pod read from them, a `reconnect` notice and close code 1012; they resume on the other pod
//! (publishes the pod never answered are retried with their `client_msg_id`), and the reader ends up
//! with every acked message exactly once, in order. The pod exits cleanly within the drain time.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use natter_proto::frames::ServerFrame;
use serde_json::json;
use uuid::Uuid;

use crate::api::{Api, Member};
use crate::client::{Ws, answer_to, open};
use crate::stack::{Stack, unlimited_publishing};

const BURST: usize = 40;
const DRAIN_SECS: u64 = 5;

async fn socket(stack: &Stack, api: &Api, who: &Member, pod: usize, room: i64, since: Option<i64>) -> Ws {
    let mut ws = open(&stack.message_urls[pod], &api.ws_token(who).await, &stack.web_url).await;
    let id = ws.next_id();
    let mut frame = json!({"type": "subscribe", "id": id, "room": room});
    if let Some(since) = since {
        frame["since"] = json!(since);
    }
    ws.send_json(frame).await;
    let answer = ws.recv_until(|f| answer_to(f, &id)).await;
    assert!(matches!(answer, ServerFrame::Subscribed { .. }), "{answer:?}");
    ws
}

fn publish_frame(id: &str, room: i64, n: usize) -> serde_json::Value {
    json!({"type": "publish", "id": id, "room": room, "text": format!("burst {n}"), "client_msg_id": format!("d-{n}")})
}

/// The frames a client got before the close: they end with `reconnect`, the close code is 1012.
fn ends_with_reconnect(who: &str, frames: &[ServerFrame], code: Option<u16>) {
    assert_eq!(code, Some(1012), "{who}: closed with 1012 (service restart)");
    match frames.last() {
        Some(ServerFrame::Reconnect { retry_after_ms, .. }) => assert!(*retry_after_ms < 2000),
        other => panic!("{who}: the last frame before the close is `reconnect`, not {other:?}"),
    }
}

pub async fn run_distributed() {
    let mut env = unlimited_publishing();
    env.push(("NATTER_DRAIN_SECS".to_owned(), DRAIN_SECS.to_string()));
    let mut stack = Stack::distributed_with_message_env(Vec::new(), env).await;
    let api = Api::new(&stack.web_url);
    let (ann, ben, cat) = (api.member("ann").await, api.member("ben").await, api.member("cat").await);
    let room = api.create_room(&ann, "drained", "public", None).await;
    api.join(room, &ben).await;
    api.join(room, &cat).await;
    let mut reader = socket(&stack, &api, &ben, 0, room, None).await;
    let mut writer = socket(&stack, &api, &ann, 0, room, None).await;
    let start = match writer.publish(room, "before").await {
        ServerFrame::Ack { position, .. } => position,
        other => panic!("{other:?}"),
    };
    reader.expect_message(room, "before").await;

    // Load through the other pod, before, during and after the drain.
    let stop = Arc::new(AtomicBool::new(false));
    let other = {
        let (stop, stack_url, api, cat) =
            (Arc::clone(&stop), stack.message_urls[1].clone(), api.clone(), cat.clone());
        let web_url = stack.web_url.clone();
        tokio::spawn(async move {
            let mut ws = open(&stack_url, &api.ws_token(&cat).await, &web_url).await;
            assert!(matches!(ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
            let mut acked = HashSet::new();
            while !stop.load(Ordering::Relaxed) {
                if let ServerFrame::Ack { message_id, .. } = ws.publish(room, "from the other pod").await {
                    acked.insert(message_id);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            acked
        })
    };

    // A burst in flight, then SIGTERM.
    for n in 0..BURST {
        writer.send_json(publish_frame(&format!("w{n}"), room, n)).await;
    }
    // SIGTERM while the pod works through the burst.
    let first = writer.recv_until(|f| answer_to(f, "w4")).await;
    writer.push_back(first);
    let began = Instant::now();
    let (status, (writer_frames, writer_code), (reader_frames, reader_code)) = tokio::join!(
        stack.terminate_message_pod(0),
        writer.frames_until_close(),
        reader.frames_until_close()
    );
    let drained_in = began.elapsed();
    assert!(status.success(), "the pod exits cleanly: {status}");
    assert!(drained_in < Duration::from_secs(DRAIN_SECS + 5), "drained in {drained_in:?}");
    ends_with_reconnect("writer", &writer_frames, writer_code);
    ends_with_reconnect("reader", &reader_frames, reader_code);

    // The writer resumes on the other pod and retries what was not answered, with the same ids.
    let mut acked: HashMap<usize, Uuid> = HashMap::new();
    for frame in &writer_frames {
        if let ServerFrame::Ack { id, message_id, .. } = frame {
            acked.insert(id.trim_start_matches('w').parse().unwrap(), *message_id);
        }
    }
    let answered_before = acked.len();
    let mut writer = socket(&stack, &api, &ann, 1, room, None).await;
    for n in 0..BURST {
        let id = format!("x{n}");
        writer.send_json(publish_frame(&id, room, n)).await;
        match writer.recv_until(|f| answer_to(f, &id)).await {
            ServerFrame::Ack { message_id, .. } => {
                if let Some(before) = acked.insert(n, message_id) {
                    assert_eq!(before, message_id, "a retry of burst {n} gets the first ack");
                }
            }
            other => panic!("burst {n}: {other:?}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let from_other_pod = other.await.unwrap();

    // The reader resumes from the last position it saw and ends up with everything once, in order.
    let mut seen: Vec<(i64, Uuid)> = Vec::new();
    for frame in &reader_frames {
        if let ServerFrame::Message { message } = frame {
            seen.push((message.position, message.posted.message_id));
        }
    }
    let last = seen.last().map_or(start, |(position, _)| *position);
    let mut reader = socket(&stack, &api, &ben, 1, room, Some(last)).await;
    let expected: HashSet<Uuid> = acked.values().copied().chain(from_other_pod.iter().copied()).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !expected.iter().all(|id| seen.iter().any(|(_, s)| s == id)) {
        assert!(tokio::time::Instant::now() < deadline, "the reader never got every acked message");
        let message = reader
            .recv_until(|f| match f {
                ServerFrame::Message { message } => Some(message.clone()),
                ServerFrame::ReloadHistory { .. } => panic!("resume had to reload: {f:?}"),
                _ => None,
            })
            .await;
        seen.push((message.position, message.posted.message_id));
    }
    let ids: HashSet<Uuid> = seen.iter().map(|(_, id)| *id).collect();
    assert_eq!(ids.len(), seen.len(), "no message twice");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "in position order");
    println!(
        "drain: {answered_before}/{BURST} of the burst answered before the reconnect notice, {} from the \
         other pod meanwhile, pod exited after {drained_in:?}",
        from_other_pod.len()
    );
    writer.close().await;
    reader.close().await;
}

/// SIGTERM on a web pod while a slow upload is in flight: the upload completes (201) and the pod
/// exits cleanly; the other web pod serves on. SIGTERM on presence: it exits cleanly.
pub async fn run_web_and_presence() {
    let mut stack = Stack::distributed().await;
    let api = Api::new(&stack.web_url);
    let ann = api.member("ann").await;
    let room = api.create_room(&ann, "drain", "public", None).await;

    // 24 chunks of 16 KiB, one every 100 ms: about 2.4 s in flight, to web pod 1.
    const BOUNDARY: &str = "natter-drain-boundary";
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.txt\"\r\n\
         Content-Type: text/plain\r\n\r\n"
    );
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    let chunks = std::iter::once(head.into_bytes())
        .chain((0..24).map(|_| vec![b'z'; 16 * 1024]))
        .chain(std::iter::once(tail.into_bytes()));
    let body = futures_util::stream::iter(chunks).then(|chunk| async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok::<_, std::io::Error>(chunk)
    });
    let upload = reqwest::Client::new()
        .post(format!("{}/api/v1/rooms/{room}/files", stack.web_urls[1]))
        .bearer_auth(&ann.token)
        .header("Content-Type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(reqwest::Body::wrap_stream(body))
        .send();
    let upload = tokio::spawn(upload);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let exit = stack.terminate_web_or_presence(Some(1)).await;
    let answer = upload.await.unwrap().expect("the in-flight upload is answered");
    assert_eq!(answer.status(), reqwest::StatusCode::CREATED, "the upload in flight completed");
    let file: natter_proto::events::FileRef = answer.json().await.unwrap();
    assert_eq!(file.size, 24 * 16 * 1024);
    assert!(exit.success(), "web exits cleanly after draining: {exit:?}");
    // The other web pod serves the file that was stored meanwhile.
    let got = reqwest::Client::new()
        .get(format!("{}/files/{}", stack.web_urls[0], file.file_id))
        .bearer_auth(&ann.token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), reqwest::StatusCode::OK);

    let exit = stack.terminate_web_or_presence(None).await;
    assert!(exit.success(), "presence exits cleanly: {exit:?}");
}

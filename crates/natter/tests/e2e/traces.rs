//! One trace follows a message: the publish frame on one pod, the broker (context in the record's
//! headers), the sequencer (history writer) that placed it, its announcement, the fan-out on both
//! pods, and the room-access call to web (its HTTP span continues the trace through `traceparent`). Spans go over OTLP/HTTP to a receiver in
//! the test, as they would to a collector.

use std::time::Duration;

use natter_proto::frames::ServerFrame;

use crate::api::Api;
use crate::client::open;
use crate::otlp_receiver::{OtlpReceiver, ReceivedSpan};
use crate::stack::Stack;

pub async fn run_distributed() {
    let receiver = OtlpReceiver::start();
    // Every publish asks web (no cached answers), so the web call is part of the message's trace.
    let message_env = vec![("NATTER_ACCESS_CACHE_TTL_MS".to_owned(), "0".to_owned())];
    let stack = Stack::distributed_with_envs(Vec::new(), message_env, receiver.env()).await;
    let api = Api::new(&stack.web_url);
    let (ann, ben) = (api.member("ann").await, api.member("ben").await);
    let room = api.create_room(&ann, "traced", "public", None).await;
    api.join(room, &ben).await;
    let mut ann_ws = open(&stack.message_urls[0], &api.ws_token(&ann).await, &stack.web_url).await;
    let mut ben_ws = open(&stack.message_urls[1], &api.ws_token(&ben).await, &stack.web_url).await;
    for ws in [&mut ann_ws, &mut ben_ws] {
        assert!(matches!(ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
    }
    let ServerFrame::Ack { message_id, .. } = ann_ws.publish(room, "follow me").await else {
        panic!("publish refused")
    };
    ben_ws
        .recv_until(|f| {
            matches!(f, ServerFrame::Message { message } if message.posted.message_id == message_id)
                .then_some(())
        })
        .await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let trace = loop {
        let spans = receiver.spans();
        if let Some(trace) = complete_trace(&spans) {
            break trace;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no complete trace of the message; spans received: {:#?}",
            spans.iter().map(|s| (&s.name, &s.service, &s.instance, &s.trace_id)).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Every span but the root hangs off another span of the same trace.
    let root = trace.iter().find(|s| s.name == "publish message").unwrap();
    assert!(root.parent_span_id.is_empty(), "the publish frame starts the trace: {root:?}");
    for span in &trace {
        assert!(
            span.span_id == root.span_id || trace.iter().any(|p| p.span_id == span.parent_span_id),
            "{span:?} is not linked to the trace"
        );
    }
    ann_ws.close().await;
    ben_ws.close().await;
}

/// The spans of a trace that has every expected part, if one has arrived.
fn complete_trace(spans: &[ReceivedSpan]) -> Option<Vec<ReceivedSpan>> {
    let roots = spans.iter().filter(|s| s.name == "publish message" && s.instance == "pod-0");
    roots.map(|root| spans.iter().filter(|s| s.trace_id == root.trace_id).cloned().collect::<Vec<_>>()).find(
        |trace| {
            let has = |name: &str, service: &str, instance: Option<&str>| {
                trace.iter().any(|s| {
                    s.name.contains(name) && s.service == service && instance.is_none_or(|i| s.instance == i)
                })
            };
            // Published to the publish log, placed by the sequencer (on either pod), announced on
            // the sequenced topic, fanned out on both pods.
            has("chat.community publish", "natter-message", Some("pod-0"))
                && has("chat.community process", "natter-message", None)
                && has("chat.sequenced publish", "natter-message", None)
                && has("chat.sequenced process", "natter-message", Some("pod-0"))
                && has("chat.sequenced process", "natter-message", Some("pod-1"))
                && has("GET /internal/rooms/", "natter-web", None)
        },
    )
}

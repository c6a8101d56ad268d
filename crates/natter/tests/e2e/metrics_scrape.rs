//! An operator scrapes each service's Prometheus metrics (`GET /internal/metrics`, service
//! credentials) and they count what happened: three messages published on pod 0 and delivered to a
//! subscriber on pod 1, open WebSocket connections, HTTP requests by route, presence heartbeats.

use std::time::Duration;

use natter_proto::frames::ServerFrame;

use crate::api::Api;
use crate::client::open;
use crate::stack::Stack;

/// The samples of `name` in a text exposition: (labels, value) for each line.
fn samples(text: &str, name: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, labels) = match series.split_once('{') {
                Some((metric, labels)) => (metric, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            (metric == name).then(|| (labels.to_owned(), value.parse().expect("a number")))
        })
        .collect()
}

fn total(text: &str, name: &str) -> f64 {
    samples(text, name).iter().map(|(_, v)| v).sum()
}

async fn scrape(base: &str, token: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(format!("{base}/internal/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("metrics answer");
    (response.status().as_u16(), response.text().await.unwrap())
}

pub async fn run_distributed() {
    let every = vec![("NATTER_PRESENCE_HEARTBEAT_MS".to_owned(), "300".to_owned())];
    let stack = Stack::distributed_with_envs(Vec::new(), Vec::new(), every).await;
    let api = Api::new(&stack.web_url);
    let (ann, ben) = (api.member("ann").await, api.member("ben").await);
    let room = api.create_room(&ann, "metered", "public", None).await;
    api.join(room, &ben).await;
    let pods: Vec<String> = stack.message_urls.iter().map(|u| u.replace("ws://", "http://")).collect();

    let mut writer = open(&stack.message_urls[0], &api.ws_token(&ann).await, &stack.web_url).await;
    let mut reader = open(&stack.message_urls[1], &api.ws_token(&ben).await, &stack.web_url).await;
    for ws in [&mut writer, &mut reader] {
        assert!(matches!(ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
    }
    for n in 0..3 {
        assert!(matches!(writer.publish(room, &format!("m{n}")).await, ServerFrame::Ack { .. }));
    }
    for n in 0..3 {
        reader.expect_message(room, &format!("m{n}")).await;
    }

    // Without service credentials: refused.
    assert_eq!(scrape(&pods[0], None).await.0, 401);
    let token = Some(stack.internal_token.as_str());
    let (status, pod0) = scrape(&pods[0], token).await;
    assert_eq!(status, 200);
    let (_, pod1) = scrape(&pods[1], token).await;
    assert_eq!(total(&pod0, "natter_messages_published_total"), 3.0, "{pod0}");
    assert_eq!(total(&pod1, "natter_messages_published_total"), 0.0);
    // Pod 1's only subscriber got all three (pod 0 delivered them to the writer too).
    assert_eq!(total(&pod1, "natter_messages_delivered_total"), 3.0, "{pod1}");
    assert_eq!(total(&pod1, "natter_ws_connections"), 1.0);
    assert!(total(&pod0, "natter_ws_frames_in_total") >= 4.0, "subscribe and three publishes");
    assert!(total(&pod1, "natter_ws_frames_out_total") >= 4.0, "subscribed and three messages");
    assert!(pod0.contains("http_request_duration_seconds_bucket"), "latency histogram");

    // Web counts requests by route and status; presence counts the pods' heartbeats.
    let (_, web) = scrape(&stack.web_url, token).await;
    let logins = samples(&web, "http_requests_total");
    assert!(
        logins.iter().any(|(labels, v)| labels.contains(r#"route="/api/v1/auth/login""#)
            && labels.contains(r#"status="200""#)
            && *v >= 2.0),
        "{logins:?}"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, presence) = scrape(&stack.presence_url, token).await;
    assert!(total(&presence, "natter_presence_heartbeats_total") >= 2.0, "{presence}");

    // A closed connection leaves the gauge.
    reader.close().await;
    let mut open_on_pod1 = 1.0;
    for _ in 0..50 {
        open_on_pod1 = total(&scrape(&pods[1], token).await.1, "natter_ws_connections");
        if open_on_pod1 == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(open_on_pod1, 0.0);

    // Consumer lag per partition (librdkafka's statistics, every 5 s): the pod's fan-out consumer (of
    // the sequenced topic) and the shared sequencers (of the publish log), caught up by now.
    let sequenced = format!("{}natter.chat.sequenced", stack.kafka.as_ref().unwrap().1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let lag = loop {
        let (_, pod1) = scrape(&pods[1], token).await;
        let lag: Vec<(String, f64)> = samples(&pod1, "natter_kafka_consumer_lag")
            .into_iter()
            .filter(|(labels, _)| labels.contains(&format!("topic=\"{sequenced}\"")))
            .collect();
        let fanout = lag.iter().filter(|(labels, _)| labels.contains("consumer=\"fanout\"")).count();
        if fanout == 3 || tokio::time::Instant::now() > deadline {
            break lag;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let fanout: Vec<&(String, f64)> = lag.iter().filter(|(l, _)| l.contains("consumer=\"fanout\"")).collect();
    assert_eq!(fanout.len(), 3, "one gauge per partition of the topic: {lag:?}");
    assert!(fanout.iter().all(|(_, value)| *value == 0.0), "caught up: {lag:?}");
    assert!(
        fanout.iter().any(|(labels, _)| labels.contains("partition=\"2\"")),
        "labelled by partition: {lag:?}"
    );

    // Pool usage: web's PostgreSQL pool (8 by default) has lent connections out; message pods' Redis pool.
    let (_, web) = scrape(&stack.web_url, token).await;
    let max = samples(&web, "natter_pool_max");
    assert!(max.contains(&("pool=\"postgres\"".to_owned(), 8.0)), "{max:?}");
    let open: f64 = samples(&web, "natter_pool_connections")
        .iter()
        .filter(|(labels, _)| labels.contains("pool=\"postgres\""))
        .map(|(_, v)| v)
        .sum();
    assert!(open >= 1.0, "web has opened PostgreSQL connections: {web}");
    let (_, pod0) = scrape(&pods[0], token).await;
    let pools = samples(&pod0, "natter_pool_max");
    assert!(
        pools.iter().any(|(labels, _)| labels == "pool=\"redis\""),
        "message pods report Redis: {pools:?}"
    );
    drop(writer);
}

//! The contract every `EventBus` adapter meets, run against a Kafka-protocol broker and in-process.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use natter_bus::{BusStream, EventBus, KafkaBus, KafkaSettings, MemoryBus};
use tokio::time::timeout;
use tracing::Instrument;

const WAIT: Duration = Duration::from_secs(20);

async fn kafka() -> Arc<dyn EventBus> {
    let brokers = natter_test_support::kafka_brokers();
    natter_test_support::require_listening("Kafka-protocol broker", &brokers, Duration::from_secs(5)).await;
    Arc::new(
        KafkaBus::connect(KafkaSettings {
            brokers,
            partitions: 3,
            replication: 1,
            fetch_wait_max_ms: Some(10),
            max_in_flight: Some(1),
            session_timeout_ms: 10_000,
        })
        .expect("kafka clients"),
    )
}

fn memory() -> Arc<dyn EventBus> {
    Arc::new(MemoryBus::new(10_000))
}

async fn topic(bus: &Arc<dyn EventBus>) -> String {
    let name = format!("test.bus.{}", natter_test_support::unique_suffix());
    let created = bus.ensure_topics(std::slice::from_ref(&name)).await.expect("create topic");
    assert_eq!(created, std::slice::from_ref(&name), "reported as created");
    // Creating again is fine, and creates nothing.
    let again = bus.ensure_topics(std::slice::from_ref(&name)).await.expect("create topic again");
    assert!(again.is_empty(), "an existing topic is not created again: {again:?}");
    name
}

async fn read(stream: &mut Box<dyn BusStream>, n: usize) -> Vec<(String, String, i64)> {
    let mut out = Vec::new();
    while out.len() < n {
        let record = timeout(WAIT, stream.next()).await.expect("record in time").expect("record");
        stream.commit(&record).expect("commit");
        out.push((record.key.unwrap(), String::from_utf8(record.payload).unwrap(), record.offset));
    }
    out
}

/// Every fan-out subscriber gets every record published after it subscribed, in order per key.
async fn fan_out_reaches_every_subscriber(bus: Arc<dyn EventBus>) {
    let topic = topic(&bus).await;
    bus.publish(&topic, "0", b"before".to_vec()).await.unwrap();
    let mut a = bus.subscribe_all(std::slice::from_ref(&topic)).await.unwrap();
    let mut b = bus.subscribe_all(std::slice::from_ref(&topic)).await.unwrap();
    let mut sent = Vec::new();
    for i in 0..30 {
        let key = (i % 3).to_string();
        let published = bus.publish(&topic, &key, format!("m{i}").into_bytes()).await.unwrap();
        sent.push((key, format!("m{i}"), published.offset));
    }
    for stream in [&mut a, &mut b] {
        let got = read(stream, 30).await;
        assert!(got.iter().all(|(_, p, _)| p != "before"), "a record from before subscribing arrived");
        for key in ["0", "1", "2"] {
            let want: Vec<_> = sent.iter().filter(|(k, ..)| k == key).collect();
            let have: Vec<_> = got.iter().filter(|(k, ..)| k == key).collect();
            assert_eq!(have, want, "key {key}: order and offsets as published");
        }
    }
}

/// Records enqueued one after another are stored in that order, though their acknowledgements are
/// awaited together (a connection's publishes keep their order without waiting for each other).
async fn enqueued_records_keep_their_order(bus: Arc<dyn EventBus>) {
    let topic = topic(&bus).await;
    let mut stream = bus.subscribe_all(std::slice::from_ref(&topic)).await.unwrap();
    let pending: Vec<_> =
        (0..50).map(|i| bus.enqueue(&topic, "room-9", format!("e{i}").into_bytes())).collect();
    let offsets: Vec<i64> =
        futures_util::future::join_all(pending).await.into_iter().map(|p| p.unwrap().offset).collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "acked offsets in enqueue order: {offsets:?}");
    let got: Vec<String> = read(&mut stream, 50).await.into_iter().map(|(_, payload, _)| payload).collect();
    let want: Vec<String> = (0..50).map(|i| format!("e{i}")).collect();
    assert_eq!(got, want, "read in the order enqueued");
}

/// Offsets of one key only grow: they serve as room positions.
async fn offsets_grow_per_key(bus: Arc<dyn EventBus>) {
    let topic = topic(&bus).await;
    let mut last = -1;
    for i in 0..10 {
        let published = bus.publish(&topic, "room-7", format!("{i}").into_bytes()).await.unwrap();
        assert!(published.offset > last, "offset {} after {last}", published.offset);
        last = published.offset;
    }
}

/// Subscribers of one shared group split the records: together they see each exactly once.
async fn shared_group_delivers_each_record_once(bus: Arc<dyn EventBus>) {
    let topic = topic(&bus).await;
    let group = format!("test-group-{}", natter_test_support::unique_suffix());
    for i in 0..40 {
        bus.publish(&topic, &(i % 4).to_string(), format!("m{i}").into_bytes()).await.unwrap();
    }
    let a = bus.subscribe_shared(std::slice::from_ref(&topic), &group).await.unwrap();
    let b = bus.subscribe_shared(std::slice::from_ref(&topic), &group).await.unwrap();
    let seen: Arc<tokio::sync::Mutex<HashMap<String, usize>>> = Default::default();
    let collect = |mut stream: Box<dyn BusStream>, seen: Arc<tokio::sync::Mutex<HashMap<String, usize>>>| async move {
        loop {
            let Ok(Ok(record)) = timeout(Duration::from_secs(4), stream.next()).await else {
                return;
            };
            stream.commit(&record).unwrap();
            *seen.lock().await.entry(String::from_utf8(record.payload).unwrap()).or_default() += 1;
        }
    };
    tokio::join!(collect(a, seen.clone()), collect(b, seen.clone()));
    let seen = seen.lock().await;
    let want: HashSet<String> = (0..40).map(|i| format!("m{i}")).collect();
    assert_eq!(seen.keys().cloned().collect::<HashSet<_>>(), want, "every record consumed");
    assert!(seen.values().all(|&n| n == 1), "a record was consumed twice: {seen:?}");
}

/// A group member that restarts continues after what was committed.
async fn shared_group_resumes_after_commit(bus: Arc<dyn EventBus>) {
    let topic = topic(&bus).await;
    let group = format!("test-group-{}", natter_test_support::unique_suffix());
    for i in 0..5 {
        bus.publish(&topic, "k", format!("m{i}").into_bytes()).await.unwrap();
    }
    {
        let mut first = bus.subscribe_shared(std::slice::from_ref(&topic), &group).await.unwrap();
        let got = read(&mut first, 5).await;
        assert_eq!(got.last().unwrap().1, "m4");
        // Give background offset commits time to land before leaving.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    bus.publish(&topic, "k", b"m5".to_vec()).await.unwrap();
    let mut second = bus.subscribe_shared(std::slice::from_ref(&topic), &group).await.unwrap();
    assert_eq!(read(&mut second, 1).await[0].1, "m5");
}

/// A record published inside a traced span carries the trace to its readers: the reader's span
/// becomes part of the same trace.
async fn records_carry_the_trace_context(bus: Arc<dyn EventBus>) {
    use opentelemetry::trace::{TraceContextExt, TracerProvider};
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_subscriber::layer::SubscriberExt;

    let topic = topic(&bus).await;
    let mut stream = bus.subscribe_all(std::slice::from_ref(&topic)).await.unwrap();
    bus.publish(&topic, "k", b"untraced".to_vec()).await.unwrap();

    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _traced = tracing::subscriber::set_default(subscriber);
    let sender = tracing::info_span!("sender");
    let trace_id = sender.context().span().span_context().trace_id();
    bus.publish(&topic, "k", b"traced".to_vec()).instrument(sender).await.unwrap();

    let untraced = timeout(WAIT, stream.next()).await.expect("record").unwrap();
    assert!(untraced.headers.is_empty(), "no trace, no headers: {:?}", untraced.headers);
    let traced = timeout(WAIT, stream.next()).await.expect("record").unwrap();
    let traceparent = traced.headers.iter().find(|(k, _)| k == "traceparent").map(|(_, v)| v.clone());
    assert!(
        traceparent.as_deref().is_some_and(|v| v.contains(&trace_id.to_string())),
        "headers {:?} should name trace {trace_id}",
        traced.headers
    );
    let reader = tracing::info_span!("reader");
    traced.follow(&reader);
    assert_eq!(reader.context().span().span_context().trace_id(), trace_id, "the reader joins the trace");
}

macro_rules! contract {
    ($($case:ident),*) => {
        mod on_kafka {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $case() { super::$case(super::kafka().await).await })*
        }
        mod in_process {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $case() { super::$case(super::memory()).await })*
        }
    };
}

contract!(
    enqueued_records_keep_their_order,
    fan_out_reaches_every_subscriber,
    offsets_grow_per_key,
    shared_group_delivers_each_record_once,
    shared_group_resumes_after_commit,
    records_carry_the_trace_context
);

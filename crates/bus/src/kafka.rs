//! The production adapter: Apache Kafka (or any broker speaking its protocol) through rdkafka.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tracing::Instrument;

use crate::kafka_lag::{LagReporter, STATISTICS_INTERVAL_MS};
use crate::{BusError, BusRecord, BusStream, EventBus, Published, random_id};

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
const PUBLISH_QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

/// How to reach and use the Kafka cluster.
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// `host:port,host:port`.
    pub brokers: String,
    /// Partitions of topics Natter creates.
    pub partitions: i32,
    /// Replication factor of topics Natter creates.
    pub replication: i32,
    /// Consumer `fetch.wait.max.ms`: how long the broker may hold a fetch waiting for data. Apache Kafka
    /// answers as soon as data arrives; some compatible brokers only check on this timer, so it bounds
    /// delivery latency there. `None` keeps librdkafka's default.
    pub fetch_wait_max_ms: Option<u32>,
    /// Producer `max.in.flight.requests.per.connection` (librdkafka's default, 5, when `None`). With
    /// the idempotent producer a broker must handle a connection's requests in order; one that does
    /// not answers `OutOfOrderSequenceNumber`, so against such a broker set 1.
    pub max_in_flight: Option<u32>,
    /// Consumer group `session.timeout.ms`: how long a crashed group member (a pod killed with -9)
    /// keeps its partitions before the others take them over. Shorter means a faster takeover of the
    /// sequencer's partitions after a crash; too short and a busy pod loses them needlessly.
    pub session_timeout_ms: u32,
}

/// Kafka bus: one idempotent producer (acks=all) shared by all publishers of the process.
///
/// An idempotent producer that hits a fatal error (the broker saw a gap in its sequence numbers, or
/// fenced it) fails every later send. The bus then replaces it with a new producer (a new producer
/// id), so one broker hiccup costs the publishes in flight (answered `unavailable`; clients retry
/// with the same `client_msg_id`) instead of the pod's ability to publish until it restarts.
pub struct KafkaBus {
    settings: Arc<KafkaSettings>,
    producer: Arc<RwLock<FutureProducer>>,
    admin: Arc<AdminClient<DefaultClientContext>>,
}

impl KafkaSettings {
    /// `NATTER_KAFKA_BROKERS` (required), `NATTER_KAFKA_PARTITIONS` (6), `NATTER_KAFKA_REPLICATION` (1),
    /// `NATTER_KAFKA_FETCH_WAIT_MS` and `NATTER_KAFKA_MAX_IN_FLIGHT` (librdkafka's defaults),
    /// `NATTER_KAFKA_SESSION_TIMEOUT_MS` (10000).
    pub fn from_env(env: &natter_runtime::env::Env) -> Result<Self, natter_runtime::env::EnvError> {
        Ok(Self {
            brokers: env.required("NATTER_KAFKA_BROKERS", "e.g. kafka-0:9092,kafka-1:9092")?,
            partitions: env.parse_or("NATTER_KAFKA_PARTITIONS", 6)?,
            replication: env.parse_or("NATTER_KAFKA_REPLICATION", 1)?,
            fetch_wait_max_ms: env.parse_optional("NATTER_KAFKA_FETCH_WAIT_MS")?,
            max_in_flight: env.parse_optional("NATTER_KAFKA_MAX_IN_FLIGHT")?,
            session_timeout_ms: env.parse_or("NATTER_KAFKA_SESSION_TIMEOUT_MS", 10_000)?,
        })
    }
}

impl KafkaBus {
    /// Builds the clients; connects lazily.
    pub fn connect(settings: KafkaSettings) -> Result<Self, BusError> {
        let producer = Arc::new(RwLock::new(new_producer(&settings)?));
        let admin = ClientConfig::new().set("bootstrap.servers", &settings.brokers).create()?;
        Ok(Self { settings: Arc::new(settings), producer, admin: Arc::new(admin) })
    }

    fn producer(&self) -> FutureProducer {
        self.producer.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn recover(&self, failed: &FutureProducer) {
        recover(&self.producer, &self.settings, failed);
    }

    fn consumer_config(&self, group: &str) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.settings.brokers)
            .set("group.id", group)
            .set("client.id", format!("natter-{}", random_id()))
            .set("enable.partition.eof", "false")
            .set("session.timeout.ms", self.settings.session_timeout_ms.to_string())
            // Notice a topic that was deleted and created again (see `TopicKeeper`) within seconds.
            .set("topic.metadata.refresh.interval.ms", "5000")
            .set("statistics.interval.ms", STATISTICS_INTERVAL_MS);
        if let Some(wait) = self.settings.fetch_wait_max_ms {
            config.set("fetch.wait.max.ms", wait.to_string());
        }
        config
    }
}

#[async_trait]
impl EventBus for KafkaBus {
    async fn ensure_topics(&self, topics: &[String]) -> Result<Vec<String>, BusError> {
        let new: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|t| {
                NewTopic::new(t, self.settings.partitions, TopicReplication::Fixed(self.settings.replication))
            })
            .collect();
        let results = self
            .admin
            .create_topics(&new, &AdminOptions::new().operation_timeout(Some(METADATA_TIMEOUT)))
            .await?;
        let mut created = Vec::new();
        for result in results {
            match result {
                Ok(topic) => created.push(topic),
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    return Err(BusError::Other(format!("creating topic {topic}: {code}")));
                }
            }
        }
        Ok(created)
    }

    fn enqueue(&self, topic: &str, key: &str, payload: Vec<u8>) -> crate::PendingPublish {
        let span = crate::publish_span(topic);
        let headers = span.in_scope(natter_runtime::trace_context::current_headers);
        let headers = headers.iter().fold(OwnedHeaders::new_with_capacity(headers.len()), |all, (k, v)| {
            all.insert(Header { key: k, value: Some(v.as_bytes()) })
        });
        let record = FutureRecord::to(topic).key(key).payload(&payload).headers(headers);
        let producer = self.producer();
        let delivery = match producer.send_result(record) {
            Ok(delivery) => delivery,
            Err((e, _)) => {
                self.recover(&producer);
                let failed = Err(BusError::Unavailable(format!("producer queue: {e}")));
                return Box::pin(std::future::ready(failed));
            }
        };
        let (current, settings) = (Arc::clone(&self.producer), Arc::clone(&self.settings));
        Box::pin(
            async move {
                match delivery.await {
                    Ok(Ok(delivery)) => {
                        Ok(Published { partition: delivery.partition, offset: delivery.offset })
                    }
                    Ok(Err((e, _))) => {
                        recover(&current, &settings, &producer);
                        Err(BusError::Unavailable(e.to_string()))
                    }
                    Err(_) => Err(BusError::Unavailable("the producer was dropped".to_owned())),
                }
            }
            .instrument(span),
        )
    }

    async fn publish(&self, topic: &str, key: &str, payload: Vec<u8>) -> Result<Published, BusError> {
        let span = crate::publish_span(topic);
        let headers = span.in_scope(natter_runtime::trace_context::current_headers);
        let headers = headers.iter().fold(OwnedHeaders::new_with_capacity(headers.len()), |all, (k, v)| {
            all.insert(Header { key: k, value: Some(v.as_bytes()) })
        });
        let record = FutureRecord::to(topic).key(key).payload(&payload).headers(headers);
        let producer = self.producer();
        match producer.send(record, PUBLISH_QUEUE_TIMEOUT).instrument(span).await {
            Ok(delivery) => Ok(Published { partition: delivery.partition, offset: delivery.offset }),
            Err((e, _)) => {
                self.recover(&producer);
                Err(BusError::Unavailable(e.to_string()))
            }
        }
    }

    async fn subscribe_all(&self, topics: &[String]) -> Result<Box<dyn BusStream>, BusError> {
        // No consumer group: this process assigns itself every partition, starting at the high
        // watermark read now, so it receives everything published after this call returns.
        let mut config = self.consumer_config(&format!("natter-fanout-{}", random_id()));
        config.set("enable.auto.commit", "false").set("auto.offset.reset", "earliest");
        let fresh: Fresh = Arc::new(move || {
            config.create_with_context(LagReporter {
                consumer: "fanout".to_owned(),
                rewind_next_assignment: None,
            })
        });
        let consumer = Arc::new(fresh()?);
        let topics = topics.to_vec();
        let assigned = Arc::clone(&consumer);
        let reading = ReadPositions::default();
        let starts = Arc::clone(&reading);
        tokio::task::spawn_blocking(move || -> Result<(), BusError> {
            let mut assignment = TopicPartitionList::new();
            for topic in &topics {
                let metadata = assigned.fetch_metadata(Some(topic), METADATA_TIMEOUT)?;
                let partitions = metadata
                    .topics()
                    .iter()
                    .find(|t| t.name() == topic)
                    .map(|t| t.partitions().iter().map(|p| p.id()).collect::<Vec<_>>())
                    .unwrap_or_default();
                if partitions.is_empty() {
                    return Err(BusError::Other(format!("topic {topic} has no partitions (does it exist?)")));
                }
                for partition in partitions {
                    let (_, high) = assigned.fetch_watermarks(topic, partition, METADATA_TIMEOUT)?;
                    assignment.add_partition_offset(topic, partition, Offset::Offset(high))?;
                    lock(&starts).insert((topic.clone(), partition), high);
                }
            }
            Ok(assigned.assign(&assignment)?)
        })
        .await
        .map_err(|e| BusError::Other(e.to_string()))??;
        let slot = Arc::new(RwLock::new(consumer));
        watch_for_lost_topics(Arc::downgrade(&slot), Watch::FanOut(fresh, Arc::clone(&reading)));
        Ok(Box::new(KafkaStream { slot, lost_topic: Arc::default(), shared: false, reading: Some(reading) }))
    }

    async fn subscribe_shared(&self, topics: &[String], group: &str) -> Result<Box<dyn BusStream>, BusError> {
        // At-least-once: an offset is stored only after the caller commits the record, and stored
        // offsets are committed in the background.
        let rewind = Arc::new(AtomicBool::new(false));
        let consumer: StreamConsumer<LagReporter> = self
            .consumer_config(group)
            .set("enable.auto.commit", "true")
            .set("enable.auto.offset.store", "false")
            .set("auto.commit.interval.ms", "1000")
            .set("auto.offset.reset", "earliest")
            .create_with_context(LagReporter {
                consumer: group.to_owned(),
                rewind_next_assignment: Some(Arc::clone(&rewind)),
            })?;
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer.subscribe(&names)?;
        let slot = Arc::new(RwLock::new(Arc::new(consumer)));
        let lost_topic = Arc::new(AtomicBool::new(false));
        let watch = Watch::Group(topics.to_vec(), Arc::clone(&lost_topic), rewind);
        watch_for_lost_topics(Arc::downgrade(&slot), watch);
        Ok(Box::new(KafkaStream { slot, lost_topic, shared: true, reading: None }))
    }

    async fn flush(&self, timeout: Duration) -> Result<(), BusError> {
        let producer = self.producer();
        tokio::task::spawn_blocking(move || producer.flush(timeout))
            .await
            .map_err(|e| BusError::Other(e.to_string()))??;
        Ok(())
    }

    async fn ping(&self) -> Result<(), BusError> {
        let admin = Arc::clone(&self.admin);
        tokio::task::spawn_blocking(move || {
            admin.inner().fetch_metadata(None, Duration::from_secs(3)).map(|_| ())
        })
        .await
        .map_err(|e| BusError::Other(e.to_string()))?
        .map_err(|e| BusError::Unavailable(e.to_string()))
    }
}

/// A consumer that can be replaced while it is read (see [`watch_for_lost_topics`]).
type Slot = RwLock<Arc<StreamConsumer<LagReporter>>>;
/// Makes a new consumer like the first one.
type Fresh = Arc<dyn Fn() -> Result<StreamConsumer<LagReporter>, rdkafka::error::KafkaError> + Send + Sync>;

/// Where a fan-out reader reads each partition next: the offset after the last record it returned, or
/// where it was assigned. Kept by the stream itself, because the consumer's own `position()` knows
/// nothing of a partition it has not yet read from.
type ReadPositions = Arc<std::sync::Mutex<std::collections::HashMap<(String, i32), i64>>>;

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn current(slot: &Slot) -> Arc<StreamConsumer<LagReporter>> {
    Arc::clone(&slot.read().unwrap_or_else(|e| e.into_inner()))
}

struct KafkaStream {
    slot: Arc<Slot>,
    shared: bool,
    /// A subscribed topic was reported unknown (deleted): the group is joined again once it exists.
    lost_topic: Arc<AtomicBool>,
    /// A fan-out reader's positions (see [`ReadPositions`]).
    reading: Option<ReadPositions>,
}

#[async_trait]
impl BusStream for KafkaStream {
    async fn next(&mut self) -> Result<BusRecord, BusError> {
        loop {
            // Looked up again every second, in case the consumer was replaced.
            let consumer = current(&self.slot);
            let Ok(received) = tokio::time::timeout(Duration::from_secs(1), consumer.recv()).await else {
                continue;
            };
            let message = match received {
                Ok(message) => message,
                Err(e) => {
                    if e.rdkafka_error_code() == Some(RDKafkaErrorCode::UnknownTopicOrPartition) {
                        self.lost_topic.store(true, Ordering::Relaxed);
                    }
                    return Err(e.into());
                }
            };
            if let Some(reading) = &self.reading {
                lock(reading).insert((message.topic().to_owned(), message.partition()), message.offset() + 1);
            }
            return Ok(BusRecord {
                topic: message.topic().to_owned(),
                key: message.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                payload: message.payload().unwrap_or_default().to_vec(),
                partition: message.partition(),
                offset: message.offset(),
                headers: message.headers().map_or_else(Vec::new, |headers| {
                    headers
                        .iter()
                        .map(|h| {
                            (
                                h.key.to_owned(),
                                String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                            )
                        })
                        .collect()
                }),
            });
        }
    }

    fn commit(&mut self, record: &BusRecord) -> Result<(), BusError> {
        if self.shared {
            current(&self.slot).store_offset(&record.topic, record.partition, record.offset)?;
        }
        Ok(())
    }
}

/// How often a consumer checks whether a topic it reads was lost and created again.
const START_OVER_CHECK: Duration = Duration::from_secs(5);

/// A topic deleted and created again (see `TopicKeeper`) starts its partitions at offset 0 again,
/// while its readers wait at their old offsets, past the end; a broker may answer such a fetch
/// with "no data yet" rather than "out of range", and the reader would then skip the new
/// partition's first records. Every few seconds (while the consumer lives) a partition whose end is
/// below the reader's position is read again from its start. A group member whose subscribed topic
/// was reported unknown joins the group again once every topic exists (`shared`: the topics and the
/// flag its stream raises), so the group is assigned the new partitions.
fn watch_for_lost_topics(slot: std::sync::Weak<Slot>, watch: Watch) {
    tokio::spawn(async move {
        let rewound = Arc::new(std::sync::Mutex::new(Rewound::new()));
        loop {
            tokio::time::sleep(START_OVER_CHECK).await;
            let Some(slot) = slot.upgrade() else { return };
            let (watch, rewound) = (watch.clone(), Arc::clone(&rewound));
            let _ = tokio::task::spawn_blocking(move || {
                let mut rewound = rewound.lock().unwrap_or_else(|e| e.into_inner());
                let consumer = current(&slot);
                match watch {
                    Watch::Group(topics, lost, rewind) => {
                        if rewind_started_over(&consumer, &mut rewound).is_some() {
                            lost.store(true, Ordering::Relaxed);
                        }
                        rejoin_when_topics_are_back(&consumer, &topics, &lost, &rewind);
                    }
                    Watch::FanOut(fresh, reading) => {
                        if let Some((assignment, starts)) = restart_fan_out(&consumer, &reading) {
                            replace_consumer(&slot, &fresh, &assignment, || lock(&reading).extend(starts));
                        }
                    }
                }
            })
            .await;
        }
    });
}

/// What a consumer's watch does about a topic that was lost (see [`watch_for_lost_topics`]).
#[derive(Clone)]
enum Watch {
    /// A group member of these topics: joins again once they are back (the first flag says one was
    /// lost; the second makes the assignment after joining again start from the beginning).
    Group(Vec<String>, Arc<AtomicBool>, Arc<AtomicBool>),
    /// A fan-out reader: a new consumer replaces it (the old one's client keeps stale metadata).
    FanOut(Fresh, ReadPositions),
}

/// Puts a new consumer, reading `assignment`, in place of the current one; `before` runs once the
/// new consumer exists, just before it takes over.
fn replace_consumer(slot: &Slot, fresh: &Fresh, assignment: &TopicPartitionList, before: impl FnOnce()) {
    let replaced = fresh().and_then(|consumer| consumer.assign(assignment).map(|()| consumer));
    match replaced {
        Ok(consumer) => {
            before();
            *slot.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(consumer);
        }
        Err(e) => tracing::warn!(error = %e, "cannot make a new consumer for partitions that started over"),
    }
}

fn rejoin_when_topics_are_back(
    consumer: &StreamConsumer<LagReporter>,
    topics: &[String],
    lost: &AtomicBool,
    rewind: &AtomicBool,
) {
    if !lost.load(Ordering::Relaxed) {
        return;
    }
    let all_back = topics.iter().all(|topic| {
        consumer.fetch_metadata(Some(topic), Duration::from_secs(3)).is_ok_and(|metadata| {
            metadata
                .topics()
                .iter()
                .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
        })
    });
    if !all_back {
        return;
    }
    tracing::warn!(?topics, "subscribed topics are back after being lost; joining the group again");
    consumer.unsubscribe();
    rewind.store(true, Ordering::Relaxed);
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    match consumer.subscribe(&names) {
        Ok(()) => lost.store(false, Ordering::Relaxed),
        Err(e) => tracing::warn!(error = %e, "cannot subscribe again; trying again"),
    }
}

/// A partition and the offset a new fan-out consumer reads it from.
type PartitionStart = ((String, i32), i64);

/// A fan-out reader's partitions that started over (the reader's next offset is past their end) or
/// that its topics gained: when there are some, the assignment to read from now on: those from their
/// start, every other partition from exactly where the reader is (never "from now", which would skip
/// what arrived since).
fn restart_fan_out(
    consumer: &StreamConsumer<LagReporter>,
    reading: &ReadPositions,
) -> Option<(TopicPartitionList, Vec<PartitionStart>)> {
    let positions: Vec<((String, i32), i64)> = lock(reading).iter().map(|(k, v)| (k.clone(), *v)).collect();
    let mut assignment = TopicPartitionList::new();
    let mut restarted = false;
    // Where the new consumer starts, written to `reading` only once it exists: a check or a
    // replacement that fails is simply tried again at the next check.
    let mut starts = Vec::new();
    for ((topic, partition), next) in positions {
        // Try again at the next check, with every partition known.
        let (low, high) = consumer.fetch_watermarks(&topic, partition, Duration::from_secs(3)).ok()?;
        let from = if next > high {
            tracing::warn!(
                topic,
                partition,
                position = next,
                start = low,
                end = high,
                "partition starts over (its topic was created again); reading it from the start"
            );
            restarted = true;
            starts.push(((topic.clone(), partition), low));
            Offset::Offset(low)
        } else {
            Offset::Offset(next)
        };
        let _ = assignment.add_partition_offset(&topic, partition, from);
    }
    // Partitions the topic gained (a broker that auto-created a lost topic with its own partition
    // count, or an operator who added some): read from their start, as they may already hold records.
    let topics: std::collections::BTreeSet<String> = lock(reading).keys().map(|(t, _)| t.clone()).collect();
    for topic in topics {
        let metadata = consumer.fetch_metadata(Some(&topic), Duration::from_secs(3)).ok()?;
        let Some(found) = metadata.topics().iter().find(|t| t.name() == topic && t.error().is_none()) else {
            continue;
        };
        for partition in found.partitions().iter().map(|p| p.id()) {
            if lock(reading).contains_key(&(topic.clone(), partition)) {
                continue;
            }
            let (low, _) = consumer.fetch_watermarks(&topic, partition, Duration::from_secs(3)).ok()?;
            tracing::warn!(
                topic,
                partition,
                start = low,
                "the topic has a new partition; reading it from the start"
            );
            starts.push(((topic.clone(), partition), low));
            let _ = assignment.add_partition_offset(&topic, partition, Offset::Offset(low));
            restarted = true;
        }
    }
    restarted.then_some((assignment, starts))
}

/// Partitions already rewound, with the stale position they were rewound from (the consumer reports
/// that position until it reads again; it must not be rewound twice for it).
type Rewound = std::collections::HashMap<(String, i32), i64>;

/// Finds partitions that started over; when some did, the assignment to read from now on: those
/// from their start, the others where the consumer was (or from now if it has not read from them
/// yet). A group member commits the new starts (it then joins the group again, so it fetches from
/// there: a seek does not revive a partition whose topic vanished under it).
fn rewind_started_over(
    consumer: &StreamConsumer<LagReporter>,
    rewound: &mut Rewound,
) -> Option<TopicPartitionList> {
    let Ok(assignment) = consumer.assignment() else { return None };
    if assignment.count() == 0 {
        return None;
    }
    // Where the consumer reads: its position once it consumed from a partition; before that (a
    // partition just assigned to a group member) the group's committed offset.
    let positions = consumer.position().ok();
    let committed = consumer.committed_offsets(assignment.clone(), Duration::from_secs(3)).ok();
    let offset_in = |list: &Option<TopicPartitionList>, topic: &str, partition: i32| match list
        .as_ref()?
        .find_partition(topic, partition)?
        .offset()
    {
        Offset::Offset(offset) => Some(offset),
        _ => None,
    };
    let mut reassigned = TopicPartitionList::new();
    let mut restarts = TopicPartitionList::new();
    for element in assignment.elements() {
        let (topic, partition) = (element.topic(), element.partition());
        let position =
            offset_in(&positions, topic, partition).or_else(|| offset_in(&committed, topic, partition));
        let Ok((low, high)) = consumer.fetch_watermarks(topic, partition, Duration::from_secs(3)) else {
            return None; // Try again at the next check, with every partition known.
        };
        let key = (topic.to_owned(), partition);
        let from: Offset = match position {
            Some(position) if position > high && rewound.get(&key) != Some(&position) => {
                tracing::warn!(
                    topic,
                    partition,
                    position,
                    start = low,
                    end = high,
                    "partition starts over (its topic was created again); reading it from the start"
                );
                rewound.insert(key, position);
                let _ = restarts.add_partition_offset(topic, partition, Offset::Offset(low));
                Offset::Beginning
            }
            Some(position) if rewound.get(&key) == Some(&position) => Offset::Beginning,
            Some(position) => Offset::Offset(position),
            None => Offset::Offset(high),
        };
        let _ = reassigned.add_partition_offset(topic, partition, from);
    }
    if restarts.count() == 0 {
        return None;
    }
    // Stored too, or the next automatic commit would write the old offset back. (`store_offset`
    // stores the offset after the one it is given.)
    let done = restarts
        .elements()
        .iter()
        .try_for_each(|e| match e.offset() {
            Offset::Offset(low) => consumer.store_offset(e.topic(), e.partition(), low - 1),
            _ => Ok(()),
        })
        .and_then(|()| consumer.commit(&restarts, rdkafka::consumer::CommitMode::Sync));
    if let Err(e) = done {
        tracing::warn!(error = %e, "cannot read the partitions that started over from their start; trying again");
        rewound.clear();
    }
    Some(reassigned)
}

/// After a failed send: replaces `failed` if it has a fatal error and is still the current producer.
fn recover(current: &RwLock<FutureProducer>, settings: &KafkaSettings, failed: &FutureProducer) {
    let Some((code, reason)) = failed.client().fatal_error() else { return };
    let mut current = current.write().unwrap_or_else(|e| e.into_inner());
    if !std::ptr::eq(current.client().native_ptr(), failed.client().native_ptr()) {
        return; // Another publish replaced it already.
    }
    match new_producer(settings) {
        Ok(fresh) => {
            tracing::error!(error.code = ?code, error = %reason, "Kafka producer failed fatally; replaced it");
            *current = fresh;
        }
        Err(e) => tracing::error!(error = %e, "Kafka producer failed fatally and cannot be replaced"),
    }
}

/// The idempotent producer (acks=all) with the settings' in-flight limit.
fn new_producer(settings: &KafkaSettings) -> Result<FutureProducer, BusError> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &settings.brokers)
        .set("client.id", format!("natter-{}", random_id()))
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "1")
        // Notice a topic that was deleted and created again (see `TopicKeeper`) within seconds.
        .set("topic.metadata.refresh.interval.ms", "5000")
        .set("message.timeout.ms", "10000");
    if let Some(in_flight) = settings.max_in_flight {
        config.set("max.in.flight.requests.per.connection", in_flight.to_string());
    }
    Ok(config.create()?)
}

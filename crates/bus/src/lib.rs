//! The event bus between services.
//!
//! Two ways to read, because Natter needs both (and the seeds broke fan-out by having only one):
//! - [`EventBus::subscribe_all`]: every subscriber receives every record published after it subscribed.
//!   Each message pod uses this to push room events to its own connections. On Kafka it assigns every
//!   partition to itself (no consumer group), starting at the high watermarks read at subscribe time.
//! - [`EventBus::subscribe_shared`]: subscribers with the same group split the records, each record to
//!   one of them, with committed progress. The history writer uses this.
//!
//! Records of one key (a room) stay in one partition, so they keep their order, and a record's
//! `offset` is the room's message position: it only grows and is the same for every reader.

mod error;
mod kafka;
mod kafka_lag;
mod kafka_rebalance;
mod memory;
mod topic_keeper;

use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;

pub use error::BusError;
pub use kafka::{KafkaBus, KafkaSettings};
pub use memory::MemoryBus;
pub use topic_keeper::TopicKeeper;

/// A publish that is queued and waits for the broker's acknowledgement.
pub type PendingPublish = Pin<Box<dyn Future<Output = Result<Published, BusError>> + Send>>;

/// A record as read from the bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusRecord {
    pub topic: String,
    pub key: Option<String>,
    pub payload: Vec<u8>,
    pub partition: i32,
    pub offset: i64,
    /// Record headers: the publisher's trace context (`traceparent`), when it had one.
    pub headers: Vec<(String, String)>,
}

impl BusRecord {
    /// Makes `span` (handling this record) a child of the publisher's trace, if the record names one.
    pub fn follow(&self, span: &tracing::Span) {
        natter_runtime::trace_context::follow(
            span,
            self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
    }

    /// A span for `consumer` handling this record, in the publisher's trace; none when the record
    /// carries no trace (an untraced record does not start a trace of its own).
    pub fn consumer_span(&self, consumer: &str) -> tracing::Span {
        if self.headers.is_empty() {
            return tracing::Span::none();
        }
        let span = tracing::info_span!(
            "process",
            otel.name = format!("{} process", self.topic),
            otel.kind = "consumer",
            consumer,
            messaging.destination.name = %self.topic,
            messaging.kafka.offset = self.offset,
            trace_id = tracing::field::Empty,
        );
        self.follow(&span);
        natter_runtime::trace_context::record_trace_id(&span);
        span
    }
}

/// The span of publishing a record; the record carries its context to the consumers.
fn publish_span(topic: &str) -> tracing::Span {
    tracing::info_span!(
        "publish",
        otel.name = format!("{topic} publish"),
        otel.kind = "producer",
        messaging.system = "kafka",
        messaging.destination.name = topic,
    )
}

/// Where the broker stored a published record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub partition: i32,
    pub offset: i64,
}

/// The bus interface; see the crate docs for the two ways to read.
#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Creates the topics that do not exist yet; returns the ones it created.
    async fn ensure_topics(&self, topics: &[String]) -> Result<Vec<String>, BusError>;
    /// Publishes a record and returns once the broker has stored it durably (acks from all in-sync
    /// replicas on Kafka).
    async fn publish(&self, topic: &str, key: &str, payload: Vec<u8>) -> Result<Published, BusError>;
    /// Publishes as [`Self::publish`] does, but the record is in the producer's queue when this
    /// returns: records one caller enqueues one after another are stored in that order (per key),
    /// while their acknowledgements are awaited together.
    fn enqueue(&self, topic: &str, key: &str, payload: Vec<u8>) -> PendingPublish;
    /// Every record published to `topics` from now on (fan-out: every subscriber gets all).
    async fn subscribe_all(&self, topics: &[String]) -> Result<Box<dyn BusStream>, BusError>;
    /// Records of `topics` shared with the other subscribers of `group`, from the group's committed
    /// position (or the beginning for a new group).
    async fn subscribe_shared(&self, topics: &[String], group: &str) -> Result<Box<dyn BusStream>, BusError>;
    /// Whether the bus answers (readiness checks).
    async fn ping(&self) -> Result<(), BusError>;
    /// Waits up to `timeout` for records handed over but not yet delivered (fire-and-forget events
    /// such as typing), before a process exits. Nothing to wait for by default.
    async fn flush(&self, _timeout: std::time::Duration) -> Result<(), BusError> {
        Ok(())
    }
}

/// A subscription.
#[async_trait]
pub trait BusStream: Send {
    /// The next record; waits until there is one. Cancellation safe: dropping the future before it
    /// completes loses no record (so a reader may poll it with a timeout).
    async fn next(&mut self) -> Result<BusRecord, BusError>;
    /// Marks `record` as processed so a restarted group member continues after it. A no-op for
    /// fan-out subscriptions.
    fn commit(&mut self, record: &BusRecord) -> Result<(), BusError>;
}

/// A random id for names that must be unique per process (client ids, throw-away group ids).
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).expect("OS randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

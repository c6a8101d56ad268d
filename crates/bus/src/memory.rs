//! The embedded adapter: an in-process log per topic with the same read semantics as Kafka (one
//! partition per topic), for standalone mode. Each topic keeps its newest `retention` records; a
//! subscriber that falls further behind skips ahead and logs it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::{BusError, BusRecord, BusStream, EventBus, Published};

#[derive(Default)]
struct TopicLog {
    records: VecDeque<BusRecord>,
    /// Offset of `records[0]`.
    first_offset: i64,
    /// Next offset to hand out per shared group.
    groups: HashMap<String, i64>,
}

impl TopicLog {
    fn end_offset(&self) -> i64 {
        self.first_offset + self.records.len() as i64
    }
}

struct Inner {
    topics: Mutex<HashMap<String, TopicLog>>,
    appended: Notify,
    retention: usize,
}

/// In-process bus. Cloning shares the log.
#[derive(Clone)]
pub struct MemoryBus {
    inner: Arc<Inner>,
}

impl MemoryBus {
    /// A bus that keeps the newest `retention` records per topic.
    pub fn new(retention: usize) -> Self {
        Self {
            inner: Arc::new(Inner { topics: Mutex::new(HashMap::new()), appended: Notify::new(), retention }),
        }
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, TopicLog>> {
        self.topics.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl MemoryBus {
    /// Appends a record to `topic`'s log; its place.
    fn append(&self, topic: &str, key: &str, payload: Vec<u8>) -> Result<Published, BusError> {
        let span = crate::publish_span(topic);
        let headers = span.in_scope(natter_runtime::trace_context::current_headers);
        let offset = {
            let mut logs = self.inner.lock();
            let log = logs.get_mut(topic).ok_or_else(|| BusError::Other(format!("unknown topic {topic}")))?;
            let offset = log.end_offset();
            log.records.push_back(BusRecord {
                topic: topic.to_owned(),
                key: Some(key.to_owned()),
                payload,
                partition: 0,
                offset,
                headers,
            });
            if log.records.len() > self.inner.retention {
                log.records.pop_front();
                log.first_offset += 1;
            }
            offset
        };
        self.inner.appended.notify_waiters();
        Ok(Published { partition: 0, offset })
    }
}

#[async_trait]
impl EventBus for MemoryBus {
    async fn ensure_topics(&self, topics: &[String]) -> Result<Vec<String>, BusError> {
        let mut logs = self.inner.lock();
        let mut created = Vec::new();
        for topic in topics {
            if !logs.contains_key(topic) {
                logs.insert(topic.clone(), TopicLog::default());
                created.push(topic.clone());
            }
        }
        Ok(created)
    }

    fn enqueue(&self, topic: &str, key: &str, payload: Vec<u8>) -> crate::PendingPublish {
        // Appending never waits here, so the record is in the log once this returns.
        let published = self.append(topic, key, payload);
        Box::pin(std::future::ready(published))
    }

    async fn publish(&self, topic: &str, key: &str, payload: Vec<u8>) -> Result<Published, BusError> {
        self.append(topic, key, payload)
    }
    async fn subscribe_all(&self, topics: &[String]) -> Result<Box<dyn BusStream>, BusError> {
        let logs = self.inner.lock();
        let mut cursors = Vec::with_capacity(topics.len());
        for topic in topics {
            let log = logs.get(topic).ok_or_else(|| BusError::Other(format!("unknown topic {topic}")))?;
            cursors.push((topic.clone(), log.end_offset()));
        }
        Ok(Box::new(MemoryStream {
            inner: Arc::clone(&self.inner),
            reader: Reader::All(cursors),
            topics: topics.to_vec(),
        }))
    }

    async fn subscribe_shared(&self, topics: &[String], group: &str) -> Result<Box<dyn BusStream>, BusError> {
        let mut logs = self.inner.lock();
        for topic in topics {
            let log = logs.get_mut(topic).ok_or_else(|| BusError::Other(format!("unknown topic {topic}")))?;
            let start = log.first_offset;
            log.groups.entry(group.to_owned()).or_insert(start);
        }
        Ok(Box::new(MemoryStream {
            inner: Arc::clone(&self.inner),
            reader: Reader::Shared(group.to_owned()),
            topics: topics.to_vec(),
        }))
    }

    async fn ping(&self) -> Result<(), BusError> {
        Ok(())
    }
}

enum Reader {
    /// Own cursor per topic.
    All(Vec<(String, i64)>),
    /// The group's shared cursor, kept in the topic log.
    Shared(String),
}

struct MemoryStream {
    inner: Arc<Inner>,
    reader: Reader,
    topics: Vec<String>,
}

impl MemoryStream {
    fn try_take(&mut self) -> Option<BusRecord> {
        let mut logs = self.inner.lock();
        for (index, topic) in self.topics.iter().enumerate() {
            let Some(log) = logs.get_mut(topic) else {
                continue;
            };
            let (first, end) = (log.first_offset, log.end_offset());
            let cursor = match &mut self.reader {
                Reader::All(cursors) => &mut cursors[index].1,
                Reader::Shared(group) => log.groups.entry(group.clone()).or_insert(first),
            };
            if *cursor < first {
                tracing::warn!(
                    topic,
                    skipped = first - *cursor,
                    "in-process bus reader fell behind retention"
                );
                *cursor = first;
            }
            if *cursor < end {
                let record = log.records[(*cursor - first) as usize].clone();
                *cursor += 1;
                return Some(record);
            }
        }
        None
    }
}

#[async_trait]
impl BusStream for MemoryStream {
    async fn next(&mut self) -> Result<BusRecord, BusError> {
        loop {
            // Register for the wake-up before looking, so an append in between is not missed.
            let inner = Arc::clone(&self.inner);
            let appended = inner.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            if let Some(record) = self.try_take() {
                return Ok(record);
            }
            appended.await;
        }
    }

    fn commit(&mut self, _record: &BusRecord) -> Result<(), BusError> {
        Ok(())
    }
}

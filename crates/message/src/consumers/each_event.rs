//! The loop every fan-out consumer of a pod runs: read the next record (waiting and retrying when
//! the bus fails), decode it as the topic's event, hand it on; an undecodable record is logged and
//! skipped, never retried, so one bad event cannot stop a topic.

use std::time::Duration;

use natter_bus::{BusRecord, BusStream};
use serde::de::DeserializeOwned;

/// Reads `stream` forever, calling `handle` with each decoded event and its record. `what` names the
/// consumer in logs.
pub(crate) async fn each_event<T: DeserializeOwned>(
    mut stream: Box<dyn BusStream>,
    what: &'static str,
    mut handle: impl FnMut(T, &BusRecord),
) {
    loop {
        let record = match stream.next().await {
            Ok(record) => record,
            Err(e) => {
                tracing::warn!(error = %e, consumer = what, "consumer error; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        match serde_json::from_slice::<T>(&record.payload) {
            Ok(event) => record.consumer_span(what).in_scope(|| handle(event, &record)),
            Err(e) => {
                tracing::error!(
                    error = %e, consumer = what, topic = %record.topic, offset = record.offset,
                    "undecodable event skipped"
                );
            }
        }
    }
}

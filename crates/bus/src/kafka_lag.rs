//! Consumer lag per partition as Prometheus gauges, from librdkafka's own statistics (emitted every
//! [`STATISTICS_INTERVAL_MS`]): `natter_kafka_consumer_lag{consumer, topic, partition}` is how many
//! records of the partition this consumer has not yet handed to the application.

use rdkafka::ClientContext;
use rdkafka::statistics::Statistics;

/// How often librdkafka reports statistics (and so how fresh the lag gauges are).
pub(crate) const STATISTICS_INTERVAL_MS: &str = "5000";

/// Reports the lag of one consumer, labelled `consumer` (`fanout`, or the shared group's name); a
/// group member's context also rewinds its partitions after a lost topic (`kafka_rebalance`).
pub(crate) struct LagReporter {
    pub(crate) consumer: String,
    /// Set when a group member joins again after its topics were lost: its next assignment starts
    /// every partition from the beginning. `None` for fan-out readers (they assign themselves).
    pub(crate) rewind_next_assignment: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl ClientContext for LagReporter {
    fn stats(&self, statistics: Statistics) {
        for (topic, stats) in &statistics.topics {
            for (partition, p) in &stats.partitions {
                // -1 is librdkafka's internal "unassigned" partition.
                if *partition < 0 || p.hi_offset < 0 {
                    continue;
                }
                // librdkafka's own `consumer_lag` counts from the committed offset, which fan-out
                // consumers never have: count from what the application received, else where the
                // consumer will fetch next (a partition nothing was read from yet).
                let Some(position) =
                    [p.app_offset, p.committed_offset, p.next_offset].into_iter().find(|offset| *offset >= 0)
                else {
                    continue;
                };
                let lag = (p.hi_offset - position).max(0);
                metrics::gauge!(
                    "natter_kafka_consumer_lag",
                    "consumer" => self.consumer.clone(),
                    "topic" => topic.clone(),
                    "partition" => partition.to_string()
                )
                .set(lag as f64);
            }
        }
    }
}

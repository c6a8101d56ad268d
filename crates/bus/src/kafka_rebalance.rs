//! A group member's first assignment after its topics were lost starts every partition from the
//! beginning.
//!
//! A topic deleted and created again keeps nothing but its name: its partitions start at offset 0,
//! while the group still holds the offsets it committed in the old topic. A member that joins again
//! would resume at those offsets, and when the new partition has already grown past them (a busy
//! room, a slow check) it silently skips the records before them: publishes the sequencer never
//! places, answered only when their clients give up and retry. So after a loss, the next assignment
//! reads each partition from its start; the consumers are idempotent (the sequencer recognises a
//! record it placed by its message id and offset), so reading a record twice costs only time.

use std::sync::atomic::Ordering;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaRespErr;

use crate::kafka_lag::LagReporter;

impl ConsumerContext for LagReporter {
    fn rebalance(&self, consumer: &BaseConsumer<Self>, err: RDKafkaRespErr, tpl: &mut TopicPartitionList) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let rewind =
                    self.rewind_next_assignment.as_ref().is_some_and(|r| r.swap(false, Ordering::Relaxed));
                if rewind {
                    let assigned: Vec<(String, i32)> =
                        tpl.elements().iter().map(|e| (e.topic().to_owned(), e.partition())).collect();
                    for (topic, partition) in &assigned {
                        let _ = tpl.set_partition_offset(topic, *partition, Offset::Beginning);
                    }
                    tracing::warn!(
                        consumer = %self.consumer,
                        partitions = assigned.len(),
                        "joined again after a lost topic; reading the assigned partitions from their start"
                    );
                }
                if let Err(e) = consumer.assign(tpl) {
                    tracing::error!(error = %e, consumer = %self.consumer, "cannot take the assigned partitions");
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                if let Err(e) = consumer.unassign() {
                    tracing::error!(error = %e, consumer = %self.consumer, "cannot give up the revoked partitions");
                }
            }
            other => tracing::error!(consumer = %self.consumer, error = ?other, "rebalance failed"),
        }
    }
}

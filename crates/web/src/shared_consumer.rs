//! The loop of web's bus consumers that share work between pods (the file janitor, the search
//! indexer): subscribe in a shared group (retrying until the bus answers), then hand each record to
//! the consumer and commit it once handled, so each record is handled once across pods and a pod that
//! crashes leaves the rest to whoever takes its partitions over.

use std::sync::Arc;
use std::time::Duration;

use natter_bus::{BusRecord, EventBus};
use tracing::Instrument;

/// Wait after a bus failure before trying again.
const BACK_OFF: Duration = Duration::from_secs(1);

/// Reads `topics` in the shared `group` until the bus fails for good; the future `handle` makes of a
/// record ends once the record is done (retrying its own failures). `what` names the consumer in logs
/// and traces.
pub(crate) async fn run<F, Done>(
    bus: Arc<dyn EventBus>,
    topics: &[String],
    group: &str,
    what: &'static str,
    mut handle: F,
) where
    F: FnMut(BusRecord) -> Done,
    Done: Future<Output = ()>,
{
    let mut stream = loop {
        match bus.subscribe_shared(topics, group).await {
            Ok(stream) => break stream,
            Err(e) => {
                tracing::warn!(error = %e, consumer = what, "cannot subscribe; retrying");
                tokio::time::sleep(BACK_OFF).await;
            }
        }
    };
    loop {
        let record = match stream.next().await {
            Ok(record) => record,
            Err(e) => {
                tracing::warn!(error = %e, consumer = what, "cannot read; retrying");
                tokio::time::sleep(BACK_OFF).await;
                continue;
            }
        };
        let span = record.consumer_span(what);
        handle(record.clone()).instrument(span).await;
        if let Err(e) = stream.commit(&record) {
            tracing::warn!(error = %e, consumer = what, "could not commit progress");
        }
    }
}

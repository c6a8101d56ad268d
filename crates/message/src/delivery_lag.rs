//! Publish admission control: how far behind this pod's fan-out runs.
//!
//! Under overload the backlog does not build in the connections' queues (they skip ahead, see
//! `outbox.rs`) but before them, in the bus and the pod's fan-out consumer: every message waits its
//! turn, and without a bound the latency of everyone in every room grows for as long as the overload
//! lasts (seconds of delay measured at 1.5x the sustainable rate). So the fan-out records, for each
//! message it delivers, how long ago it was published, and a publish that arrives while that lag is
//! over `NATTER_PUBLISH_ADMISSION_LAG_MS` is refused with `unavailable` and a `retry_after_ms`: the
//! flow into the pod is held near what it can deliver, latency stays bounded, and clients retry
//! (their outbox keeps the message). A lag not measured for a second counts as none (an idle pod is
//! not behind). Publish times come from the publishing pod's clock: pods need synchronised clocks
//! (NTP), as they do for `sent_at_ms` anyway.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A lag older than this is stale: the pod delivered nothing since.
const FRESH_MS: i64 = 1000;
/// The longest wait a refused publish is told to take.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

#[derive(Default)]
pub(crate) struct DeliveryLag {
    lag_ms: AtomicI64,
    measured_at_ms: AtomicI64,
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64
}

impl DeliveryLag {
    /// A message published at `sent_at_ms` is being delivered now.
    pub(crate) fn delivering(&self, sent_at_ms: i64) {
        let now = now_ms();
        metrics::histogram!("natter_fanout_age_seconds").record((now - sent_at_ms).max(0) as f64 / 1000.0);
        self.record(sent_at_ms, now);
    }

    fn record(&self, sent_at_ms: i64, now: i64) {
        self.lag_ms.store((now - sent_at_ms).max(0), Ordering::Relaxed);
        self.measured_at_ms.store(now, Ordering::Relaxed);
    }

    fn lag_at(&self, now: i64) -> Duration {
        if now - self.measured_at_ms.load(Ordering::Relaxed) > FRESH_MS {
            return Duration::ZERO;
        }
        Duration::from_millis(self.lag_ms.load(Ordering::Relaxed).max(0) as u64)
    }

    /// `Some(wait before retrying)` when the fan-out is further behind than `bound` (zero: never).
    pub(crate) fn refuse(&self, bound: Duration) -> Option<Duration> {
        self.refuse_at(bound, now_ms())
    }

    fn refuse_at(&self, bound: Duration, now: i64) -> Option<Duration> {
        let lag = self.lag_at(now);
        (!bound.is_zero() && lag > bound).then(|| (lag - bound).min(MAX_RETRY_AFTER))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUND: Duration = Duration::from_millis(500);

    #[test]
    fn publishes_are_refused_only_while_the_fan_out_is_behind() {
        let lag = DeliveryLag::default();
        assert_eq!(lag.refuse_at(BOUND, 10_000), None, "nothing measured yet");
        lag.record(10_000, 10_100);
        assert_eq!(lag.refuse_at(BOUND, 10_100), None, "100 ms behind is fine");
        lag.record(10_000, 11_500);
        assert_eq!(lag.refuse_at(BOUND, 11_500), Some(Duration::from_millis(1000)));
        assert_eq!(lag.refuse_at(Duration::ZERO, 11_500), None, "a zero bound turns it off");
        lag.record(0, 60_000);
        assert_eq!(lag.refuse_at(BOUND, 60_000), Some(MAX_RETRY_AFTER), "the wait is bounded");
        assert_eq!(lag.refuse_at(BOUND, 61_001), None, "a stale lag counts as none");
    }
}

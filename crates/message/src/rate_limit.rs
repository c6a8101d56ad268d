//! Publish and typing rate limits, so one client (or one member with many clients) cannot flood rooms.
//!
//! Two kinds, on purpose:
//!
//! - [`Bucket`]: a token bucket in the connection's memory (`governor`, GCRA). It costs nothing,
//!   needs no network and always holds, so it is the first line.
//! - [`MemberLimit`]: a fixed-window counter in the shared key-value store (Redis), so a member's
//!   limit holds across every connection and every pod. When the store does not answer, publishing
//!   goes on (fail open, with a warning): chat must not stop because counters are unreachable, and
//!   the per-connection bucket still bounds each client.
//!
//! A refusal ([`Limited`]) becomes an error frame `rate_limited` with `retry_after_ms`, so clients
//! learn when to retry.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use natter_kv::KeyValue;
use natter_proto::MemberId;

use crate::settings::MessageSettings;

/// Typing frames a connection may send a second (and in a burst): enough to start and stop typing in
/// two rooms at once, far below anything that loads the bus.
pub(crate) const TYPING_PER_SECOND: u32 = 2;

/// Reaction frames a connection may send a second (and in a burst): a person clicking reactions
/// quickly, not a script flooding every subscriber with `reaction_changed`.
pub(crate) const REACTIONS_PER_SECOND: u32 = 10;

/// How long a counter hit may take before the limit is skipped: a hanging store must not stall the
/// connection, which waits for the answer before reading its next frame.
const KV_TIMEOUT: Duration = Duration::from_millis(250);

type Limiter<C> = RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// A token bucket of `rate` tokens a second holding at most `rate`; `None` inside when unlimited.
pub(crate) struct Bucket<C: Clock = DefaultClock> {
    rate: u32,
    limiter: Option<Limiter<C>>,
    clock: C,
}

impl Bucket {
    /// `rate` per second, bursts of `rate`; 0 = unlimited.
    pub(crate) fn per_second(rate: u32) -> Self {
        Self::with_clock(rate, DefaultClock::default())
    }
}

impl<C: Clock + Clone> Bucket<C> {
    pub(crate) fn with_clock(rate: u32, clock: C) -> Self {
        let limiter = NonZeroU32::new(rate)
            .map(|rate| RateLimiter::direct_with_clock(Quota::per_second(rate), clock.clone()));
        Self { rate, limiter, clock }
    }

    /// Tokens a second; 0 = unlimited.
    pub(crate) fn rate(&self) -> u32 {
        self.rate
    }

    /// Takes a token, or says how long until one is there.
    pub(crate) fn take(&self) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check().map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// A connection's own buckets.
pub(crate) struct ConnectionLimits {
    pub(crate) publish: Bucket,
    pub(crate) typing: Bucket,
    pub(crate) reactions: Bucket,
    pub(crate) signals: Bucket,
}

impl ConnectionLimits {
    pub(crate) fn new(settings: &MessageSettings) -> Self {
        Self {
            publish: Bucket::per_second(settings.publish_rate_per_connection),
            typing: Bucket::per_second(TYPING_PER_SECOND),
            reactions: Bucket::per_second(REACTIONS_PER_SECOND),
            signals: Bucket::per_second(natter_proto::calls::SIGNALS_PER_SECOND),
        }
    }
}

/// The cluster-wide publish limit of each member: `limit` messages per fixed `window`.
pub(crate) struct MemberLimit {
    kv: Arc<dyn KeyValue>,
    /// 0 = unlimited.
    limit: u64,
    window: Duration,
}

impl MemberLimit {
    pub(crate) fn new(kv: Arc<dyn KeyValue>, limit: u64, window: Duration) -> Self {
        Self { kv, limit, window }
    }

    /// Counts one publish of `member`; `Err` with the time until the window ends when it is one too
    /// many. Refused publishes count too: a client that keeps hammering gains nothing.
    pub(crate) async fn hit(&self, member: MemberId) -> Result<(), Duration> {
        if self.limit == 0 {
            return Ok(());
        }
        let key = format!("publish-rate:member:{member}");
        match tokio::time::timeout(KV_TIMEOUT, self.kv.hit(&key, self.window)).await {
            Ok(Ok(window)) if window.count > self.limit => Err(window.resets_in),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, member.id = member, "per-member publish limit skipped");
                Ok(())
            }
            Err(_) => {
                tracing::warn!(member.id = member, "per-member publish limit skipped: the store is slow");
                Ok(())
            }
        }
    }
}

/// A refused publish or typing frame: why, and when the client may try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Limited {
    pub(crate) detail: String,
    pub(crate) retry_after: Duration,
}

/// Checks a publish of `member` against the connection's bucket, then the member's cluster-wide
/// window. The bucket goes first: it is free, and a flooding client then never reaches the store.
pub(crate) async fn check_publish<C: Clock + Clone>(
    bucket: &Bucket<C>,
    members: &MemberLimit,
    member: MemberId,
) -> Result<(), Limited> {
    if let Err(retry_after) = bucket.take() {
        let detail = format!("at most {} messages a second per connection; retry later", bucket.rate());
        return Err(Limited { detail, retry_after });
    }
    if let Err(retry_after) = members.hit(member).await {
        let detail = format!(
            "at most {} messages per {} s per member, over all your connections; retry later",
            members.limit,
            members.window.as_secs()
        );
        return Err(Limited { detail, retry_after });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;
    use natter_kv::{KvError, MemoryKeyValue, Window};

    use super::*;

    #[test]
    fn a_bucket_allows_a_burst_of_its_rate_then_one_token_per_interval() {
        let clock = FakeRelativeClock::default();
        let bucket = Bucket::with_clock(4, clock.clone());
        for _ in 0..4 {
            assert_eq!(bucket.take(), Ok(()));
        }
        assert_eq!(bucket.take(), Err(Duration::from_millis(250)));
        clock.advance(Duration::from_millis(100));
        assert_eq!(bucket.take(), Err(Duration::from_millis(150)), "the wait shrinks as time passes");
        clock.advance(Duration::from_millis(150));
        assert_eq!(bucket.take(), Ok(()));
        assert!(bucket.take().is_err());
    }

    #[test]
    fn a_zero_rate_is_unlimited() {
        let bucket = Bucket::with_clock(0, FakeRelativeClock::default());
        assert!((0..10_000).all(|_| bucket.take().is_ok()));
    }

    #[tokio::test]
    async fn the_member_limit_is_shared_by_everyone_using_the_store() {
        let kv: Arc<dyn KeyValue> = Arc::new(MemoryKeyValue::new());
        // Two pods, one store.
        let pods = [
            MemberLimit::new(kv.clone(), 3, Duration::from_secs(10)),
            MemberLimit::new(kv, 3, Duration::from_secs(10)),
        ];
        assert!(pods[0].hit(7).await.is_ok());
        assert!(pods[1].hit(7).await.is_ok());
        assert!(pods[0].hit(7).await.is_ok());
        let wait = pods[1].hit(7).await.unwrap_err();
        assert!(wait > Duration::from_secs(9) && wait <= Duration::from_secs(10), "{wait:?}");
        assert!(pods[0].hit(8).await.is_ok(), "other members have their own count");
    }

    struct Down;

    #[async_trait::async_trait]
    impl KeyValue for Down {
        async fn get(&self, _: &str) -> Result<Option<String>, KvError> {
            Err(KvError::Unavailable("down".into()))
        }
        async fn set(&self, _: &str, _: &str, _: Duration) -> Result<(), KvError> {
            Err(KvError::Unavailable("down".into()))
        }
        async fn set_if_absent(&self, _: &str, _: &str, _: Duration) -> Result<bool, KvError> {
            Err(KvError::Unavailable("down".into()))
        }
        async fn expire(&self, _: &str, _: Duration) -> Result<bool, KvError> {
            Err(KvError::Unavailable("down".into()))
        }
        async fn delete(&self, _: &str) -> Result<(), KvError> {
            Err(KvError::Unavailable("down".into()))
        }
        async fn hit(&self, _: &str, _: Duration) -> Result<Window, KvError> {
            Err(KvError::Unavailable("down".into()))
        }
        async fn peek(&self, _: &str) -> Result<Window, KvError> {
            Err(KvError::Unavailable("down".into()))
        }
        async fn ping(&self) -> Result<(), KvError> {
            Err(KvError::Unavailable("down".into()))
        }
    }

    #[tokio::test]
    async fn an_unreachable_store_fails_open() {
        let limit = MemberLimit::new(Arc::new(Down), 1, Duration::from_secs(10));
        for _ in 0..3 {
            assert!(limit.hit(7).await.is_ok());
        }
    }

    #[tokio::test]
    async fn a_publish_is_refused_by_either_limit_with_its_own_reason() {
        let kv: Arc<dyn KeyValue> = Arc::new(MemoryKeyValue::new());
        let members = MemberLimit::new(kv, 3, Duration::from_secs(10));
        let clock = FakeRelativeClock::default();
        let (first, second) = (Bucket::with_clock(2, clock.clone()), Bucket::with_clock(2, clock.clone()));
        assert!(check_publish(&first, &members, 7).await.is_ok());
        assert!(check_publish(&first, &members, 7).await.is_ok());
        let Err(Limited { detail, retry_after }) = check_publish(&first, &members, 7).await else {
            panic!("the connection's bucket is empty")
        };
        assert!(detail.contains("per connection"), "{detail}");
        assert_eq!(retry_after, Duration::from_millis(500));
        assert!(check_publish(&second, &members, 7).await.is_ok(), "third of the member's window");
        let Err(Limited { detail, .. }) = check_publish(&second, &members, 7).await else {
            panic!("the member's window is full")
        };
        assert!(detail.contains("per member"), "{detail}");
    }

    #[tokio::test]
    async fn a_zero_member_limit_never_asks_the_store() {
        let limit = MemberLimit::new(Arc::new(Down), 0, Duration::from_secs(10));
        assert!(limit.hit(7).await.is_ok());
    }
}

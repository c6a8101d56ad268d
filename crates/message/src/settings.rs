//! Message-pod settings, from the environment:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `NATTER_MESSAGE_BIND` | `127.0.0.1:8081` | address to listen on |
//! | `NATTER_POD_ID` | random | this pod's name in presence and logs |
//! | `NATTER_WEB_INTERNAL_URL` | `http://127.0.0.1:8080` | web, for JWKS and room access |
//! | `NATTER_PRESENCE_URL` | `http://127.0.0.1:8082` | presence service |
//! | `NATTER_ALLOWED_ORIGINS` | `http://127.0.0.1:8080` | comma-separated browser origins allowed to connect |
//! | `NATTER_INTERNAL_TOKEN` | — (required) | shared secret of internal endpoints |
//! | `NATTER_KAFKA_BROKERS` | — (required) | Kafka bootstrap servers (binary `natter-message`) |
//! | `NATTER_KAFKA_TOPIC_PREFIX` | empty | prefix of every topic name |
//! | `NATTER_KAFKA_PARTITIONS` | `6` | partitions of topics Natter creates |
//! | `NATTER_KAFKA_REPLICATION` | `1` | replication factor of topics Natter creates (3 in production) |
//! | `NATTER_KAFKA_FETCH_WAIT_MS` | librdkafka default | consumer `fetch.wait.max.ms` |
//! | `NATTER_KAFKA_MAX_IN_FLIGHT` | librdkafka default | producer `max.in.flight.requests.per.connection` |
//! | `NATTER_MONGODB_URL`, `NATTER_MONGODB_DATABASE` | —, `natter` | history store |
//! | `NATTER_MAX_FRAME_BYTES` | `16384` | largest client frame served; larger ones get an error frame |
//! | `NATTER_OUTBOUND_QUEUE` | `256` | frames buffered per connection; beyond it a connection skips ahead (see `outbox.rs`) |
//! | `NATTER_PUBLISH_ADMISSION_LAG_MS` | `2000` | publishes are refused (`unavailable`, `retry_after_ms`) while the pod's fan-out runs further behind than this; 0 = never; at most 60000 (see `delivery_lag.rs`) |
//! | `NATTER_WRITE_STALL_MS` | `10000` | a write to a client that takes longer closes it (it stopped reading); 100 to 300000 |
//! | `NATTER_ACCESS_CACHE_TTL_MS` | `5000` | how long web's room-access answers are reused; 0 asks web |
//! | | | every time; at most 60000 (membership events drop answers sooner; this bounds a lost event) |
//! | `NATTER_REDIS_URL`, `NATTER_REDIS_KEY_PREFIX` | —, `natter:` | shared counters of the per-member limit |
//! | `NATTER_PUBLISH_RATE_PER_CONNECTION` | `10` | messages a second one connection may publish (bursts of |
//! | | | as many); 0 = unlimited |
//! | `NATTER_PUBLISH_RATE_PER_MEMBER` | `60` | messages one member may publish per window, over every pod |
//! | | | and connection; 0 = unlimited; not enforced while Redis is unreachable |
//! | `NATTER_PUBLISH_RATE_WINDOW_SECS` | `10` | the per-member window, 1 to 3600 |
//! | `NATTER_PRESENCE_HEARTBEAT_MS` | `5000` | heartbeat interval to presence (100 to 60000); the pod's lease is three intervals |
//! | `NATTER_DRAIN_SECS` | `10` | on SIGTERM: how long to wait for pending answers and closing clients, 0 to 300 |

use std::time::Duration;

use natter_runtime::env::{Env, EnvError};
use secrecy::SecretString;

#[derive(Debug, Clone)]
pub struct MessageSettings {
    pub bind: String,
    pub pod_id: String,
    pub web_internal_url: String,
    pub presence_url: String,
    pub allowed_origins: Vec<String>,
    pub internal_token: SecretString,
    pub topic_prefix: String,
    pub max_frame_bytes: usize,
    pub outbound_queue: usize,
    /// A write to a client that waits longer means it stopped reading; the connection is closed.
    pub write_stall: Duration,
    /// Publishes are refused while the fan-out runs further behind than this (zero: never).
    pub publish_admission_lag: Duration,
    pub access_cache_ttl: Duration,
    /// Publishes a second per connection; 0 = unlimited.
    pub publish_rate_per_connection: u32,
    /// Publishes per member per `publish_rate_window`, cluster-wide; 0 = unlimited.
    pub publish_rate_per_member: u64,
    pub publish_rate_window: Duration,
    /// How often the pod's connections are reported to presence.
    pub presence_heartbeat: Duration,
    /// How long a terminating pod waits for its connections' pending answers and for them to close.
    pub drain_timeout: Duration,
    /// How often the pod checks that its bus topics exist (and creates lost ones again).
    pub topic_check: Duration,
}

/// Largest frame the WebSocket codec accepts at all; a larger one closes the connection (1009).
/// Frames between the configured `max_frame_bytes` and this get an error frame and the connection
/// stays open. Also the upper bound of `NATTER_MAX_FRAME_BYTES`.
pub(crate) const HARD_FRAME_LIMIT: usize = 1024 * 1024;

/// Longest `NATTER_ACCESS_CACHE_TTL_MS`: a mute or role change must not wait longer on a lost event.
const MAX_ACCESS_CACHE_TTL_MS: u64 = 60_000;

impl MessageSettings {
    /// Every setting from the environment (the service's binary).
    pub fn from_env(env: &Env) -> Result<Self, EnvError> {
        Self::with_internal_token(
            env,
            env.secret("NATTER_INTERNAL_TOKEN", "a long random shared secret of the services")?,
        )
    }

    /// The settings from the environment, with the services' shared secret given (standalone mode
    /// makes one).
    pub fn with_internal_token(env: &Env, internal_token: SecretString) -> Result<Self, EnvError> {
        let pod_id = env
            .optional("NATTER_POD_ID")
            .unwrap_or_else(|| format!("message-{}", uuid::Uuid::now_v7().simple()));
        let max_frame_bytes = env.parse_or("NATTER_MAX_FRAME_BYTES", 16 * 1024usize)?;
        if !(256..=HARD_FRAME_LIMIT).contains(&max_frame_bytes) {
            return Err(EnvError::Invalid {
                name: "NATTER_MAX_FRAME_BYTES".into(),
                reason: format!("must be between 256 and {}", HARD_FRAME_LIMIT),
            });
        }
        let outbound_queue = env.parse_or("NATTER_OUTBOUND_QUEUE", 256usize)?;
        if outbound_queue == 0 {
            return Err(EnvError::Invalid {
                name: "NATTER_OUTBOUND_QUEUE".into(),
                reason: "must be at least 1".into(),
            });
        }
        let write_stall_ms = env.parse_range_or("NATTER_WRITE_STALL_MS", 10_000u64, 100..=300_000)?;
        let admission_lag_ms = env.parse_range_or("NATTER_PUBLISH_ADMISSION_LAG_MS", 2000u64, 0..=60_000)?;
        let access_cache_ttl_ms = env.parse_or("NATTER_ACCESS_CACHE_TTL_MS", 5000u64)?;
        if access_cache_ttl_ms > MAX_ACCESS_CACHE_TTL_MS {
            return Err(EnvError::Invalid {
                name: "NATTER_ACCESS_CACHE_TTL_MS".into(),
                reason: format!("must be at most {MAX_ACCESS_CACHE_TTL_MS} (0 turns the cache off)"),
            });
        }
        let publish_rate_window_secs = env.parse_or("NATTER_PUBLISH_RATE_WINDOW_SECS", 10u64)?;
        if !(1..=3600).contains(&publish_rate_window_secs) {
            return Err(EnvError::Invalid {
                name: "NATTER_PUBLISH_RATE_WINDOW_SECS".into(),
                reason: "must be between 1 and 3600".into(),
            });
        }
        let drain_secs = env.parse_or("NATTER_DRAIN_SECS", 10u64)?;
        if drain_secs > 300 {
            return Err(EnvError::Invalid {
                name: "NATTER_DRAIN_SECS".into(),
                reason: "must be at most 300".into(),
            });
        }
        let heartbeat_ms = env.parse_or("NATTER_PRESENCE_HEARTBEAT_MS", 5000u64)?;
        if !(100..=60_000).contains(&heartbeat_ms) {
            return Err(EnvError::Invalid {
                name: "NATTER_PRESENCE_HEARTBEAT_MS".into(),
                reason: "must be between 100 and 60000".into(),
            });
        }
        let topic_check_ms = env.parse_or("NATTER_KAFKA_TOPIC_CHECK_MS", 5000u64)?;
        if !(100..=600_000).contains(&topic_check_ms) {
            return Err(EnvError::Invalid {
                name: "NATTER_KAFKA_TOPIC_CHECK_MS".into(),
                reason: "must be between 100 and 600000".into(),
            });
        }
        Ok(Self {
            topic_check: Duration::from_millis(topic_check_ms),
            presence_heartbeat: Duration::from_millis(heartbeat_ms),
            drain_timeout: Duration::from_secs(drain_secs),
            bind: env.or("NATTER_MESSAGE_BIND", "127.0.0.1:8081"),
            pod_id,
            web_internal_url: env.or("NATTER_WEB_INTERNAL_URL", "http://127.0.0.1:8080"),
            presence_url: env.or("NATTER_PRESENCE_URL", "http://127.0.0.1:8082"),
            allowed_origins: env
                .or("NATTER_ALLOWED_ORIGINS", "http://127.0.0.1:8080")
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            internal_token,
            topic_prefix: env.or("NATTER_KAFKA_TOPIC_PREFIX", ""),
            max_frame_bytes,
            outbound_queue,
            write_stall: Duration::from_millis(write_stall_ms),
            publish_admission_lag: Duration::from_millis(admission_lag_ms),
            access_cache_ttl: Duration::from_millis(access_cache_ttl_ms),
            publish_rate_per_connection: env.parse_or("NATTER_PUBLISH_RATE_PER_CONNECTION", 10u32)?,
            publish_rate_per_member: env.parse_or("NATTER_PUBLISH_RATE_PER_MEMBER", 60u64)?,
            publish_rate_window: Duration::from_secs(publish_rate_window_secs),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&'static str, &'static str)]) -> Result<MessageSettings, EnvError> {
        let token = [("NATTER_INTERNAL_TOKEN", "a-secret-long-enough-for-tests")];
        MessageSettings::from_env(&Env::from_pairs(token.iter().chain(pairs).copied()))
    }

    #[test]
    fn the_access_cache_ttl_defaults_to_five_seconds_and_is_bounded() {
        assert_eq!(settings(&[]).unwrap().access_cache_ttl, Duration::from_secs(5));
        let off = settings(&[("NATTER_ACCESS_CACHE_TTL_MS", "0")]).unwrap();
        assert!(off.access_cache_ttl.is_zero());
        let error = settings(&[("NATTER_ACCESS_CACHE_TTL_MS", "60001")]).unwrap_err().to_string();
        assert!(error.contains("NATTER_ACCESS_CACHE_TTL_MS"), "{error}");
        assert!(settings(&[("NATTER_ACCESS_CACHE_TTL_MS", "soon")]).is_err());
    }

    #[test]
    fn publish_rates_default_to_ten_a_second_and_sixty_per_ten_seconds() {
        let defaults = settings(&[]).unwrap();
        assert_eq!(defaults.publish_rate_per_connection, 10);
        assert_eq!(defaults.publish_rate_per_member, 60);
        assert_eq!(defaults.publish_rate_window, Duration::from_secs(10));
        let off =
            settings(&[("NATTER_PUBLISH_RATE_PER_CONNECTION", "0"), ("NATTER_PUBLISH_RATE_PER_MEMBER", "0")])
                .unwrap();
        assert_eq!((off.publish_rate_per_connection, off.publish_rate_per_member), (0, 0));
        for window in ["0", "3601", "soon"] {
            let error = settings(&[("NATTER_PUBLISH_RATE_WINDOW_SECS", window)]).unwrap_err().to_string();
            assert!(error.contains("NATTER_PUBLISH_RATE_WINDOW_SECS"), "{error}");
        }
        assert!(settings(&[("NATTER_PUBLISH_RATE_PER_CONNECTION", "-1")]).is_err());
    }
}

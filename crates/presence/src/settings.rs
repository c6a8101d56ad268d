//! Presence settings, from the environment:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `NATTER_PRESENCE_BIND` | `127.0.0.1:8082` | address to listen on |
//! | `NATTER_REDIS_URL` | — (required) | Redis holding presence |
//! | `NATTER_REDIS_KEY_PREFIX` | `natter:` | prefix of every Redis key |
//! | `NATTER_INTERNAL_TOKEN` | — (required) | shared secret of internal endpoints |
//! | `NATTER_PRESENCE_AWAY_SECS` | `300` | idle time after which a connected member shows as away |
//! | `NATTER_PRESENCE_SWEEP_MS` | `1000` | how often expired pod leases are looked for |
//! | `NATTER_PRESENCE_PUSH_MS` | `1000` | online/offline changes wait this long before co-members are told; a change back within it tells nobody |
//! | `NATTER_WEB_INTERNAL_URL` | `http://127.0.0.1:8080` | web, asked which rooms a member is in |
//! | `NATTER_KAFKA_BROKERS` | — (required) | Kafka bootstrap servers (binary `natter-presence`): presence changes |
//! | `NATTER_KAFKA_TOPIC_PREFIX` | empty | prefix of every topic name |

use std::time::Duration;

use natter_runtime::env::{Env, EnvError};
use secrecy::SecretString;

#[derive(Debug, Clone)]
pub struct PresenceSettings {
    pub bind: String,
    pub internal_token: SecretString,
    pub away_after: Duration,
    pub sweep_every: Duration,
    pub push_debounce: Duration,
    pub web_internal_url: String,
    pub topic_prefix: String,
}

impl PresenceSettings {
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
        let sweep_ms = env.parse_range_or("NATTER_PRESENCE_SWEEP_MS", 1000u64, 50..=60_000)?;
        let push_ms = env.parse_range_or("NATTER_PRESENCE_PUSH_MS", 1000u64, 10..=60_000)?;
        Ok(Self {
            away_after: Duration::from_secs(env.parse_or("NATTER_PRESENCE_AWAY_SECS", 300u64)?),
            sweep_every: Duration::from_millis(sweep_ms),
            push_debounce: Duration::from_millis(push_ms),
            web_internal_url: env
                .or("NATTER_WEB_INTERNAL_URL", "http://127.0.0.1:8080")
                .trim_end_matches('/')
                .to_owned(),
            topic_prefix: env.or("NATTER_KAFKA_TOPIC_PREFIX", ""),
            bind: env.or("NATTER_PRESENCE_BIND", "127.0.0.1:8082"),
            internal_token,
        })
    }
}
